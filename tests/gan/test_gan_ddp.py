"""Data-parallel GAN training with 2 gloo processes on the CPU, launched by torchrun as a user would."""

import textwrap
from pathlib import Path

import torch

SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from probgen.distributed import setup_distributed
    from probgen.gan.config import GANConfig
    from probgen.gan.loop import GANTrainer

    out = sys.argv[1]
    ctx = setup_distributed("cpu")
    cfg = GANConfig(g_cfg={"ngf": 4}, d_cfg={"ndf": 4}, latent_dim=8, batch_size=16, steps=4, ema=0.9,
                    conditional=True, r1=1.0, log_every=2, ckpt_every=2, sample_every=4)
    trainer = GANTrainer(cfg, out + "/run", ctx=ctx, log=lambda m: None)
    first = [trainer.batches.loader.images[i] for i in trainer.batches.loader._indices()[:16]]
    gan = trainer.fit()
    state = {k: v.detach().clone() for k, v in gan.state_dict().items()}
    torch.save({"state": state, "first": torch.stack(first), "rank": ctx.rank,
                "shard": len(trainer.batches.loader)}, f"{out}/rank{ctx.rank}.pt")
    ctx.close()
    """
)


def test_two_gloo_processes_train_identical_gans(tmp_path, torchrun):
    script = tmp_path / "train_gan.py"
    script.write_text(SCRIPT)
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PROBGEN_CACHE": str(tmp_path / "cache"),
           "MPLBACKEND": "Agg", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # this checkout
    torchrun(script, tmp_path, env=env)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["state"].keys() == r1["state"].keys()
    for k in r0["state"]:  # weights, EMA weights and (broadcast at the end) BatchNorm statistics
        assert torch.equal(r0["state"][k], r1["state"][k]), k
    assert not torch.equal(r0["first"], r1["first"])  # each rank trains on its own shard
    assert r0["shard"] == r1["shard"] == 4000 // 2 // 16
    files = {p.name for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert {"metrics.csv", "last.pt", "samples.png"} <= files  # rank 0 writes the run
