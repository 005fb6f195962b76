"""Run under torchrun by test_vae_ddp.py: train briefly, then save this rank's final weights."""

import sys

import torch

from probgen.distributed import setup_distributed
from probgen.vae.train import train_vae

CONFIG = dict(data="digits", z_dim=2, hidden=(32,), epochs=2, batch_size=64, iwae_samples=0, figures=False,
              device="cpu")

if __name__ == "__main__":
    torch.set_num_threads(1)
    out = sys.argv[1]
    ctx = setup_distributed("cpu")
    result = train_vae(CONFIG, out, ctx=ctx, quiet=True)
    torch.save(result.vae.state_dict(), f"{out}/rank{ctx.rank}.pt")
    ctx.close()
