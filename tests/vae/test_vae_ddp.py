"""Multi-process training: torchrun with 2 gloo processes on the CPU ends with the same weights on both."""

import os
from pathlib import Path

import torch

import probgen
from probgen.vae import VAE

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_two_gloo_processes_end_with_same_weights(tmp_path, torchrun):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    torchrun(WORKER, tmp_path, env=env)
    w0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    probgen.seed(0)  # train_vae seeds before building the model: this is its initial state
    init = VAE(x_shape=(1, 8, 8), z_dim=2, hidden=(32,)).state_dict()
    for name in w0:
        assert torch.equal(w0[name], w1[name]), name
        assert not torch.equal(w0[name], init[name]), f"{name} did not train"
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3  # header + 2 epochs, written by rank 0 only
