"""Resuming from a last.pt that cannot be resumed: one CheckpointError naming the file and what is wrong,
for every trainer and through ``probgen train vae --resume``, and nothing in the run folder changes."""

import re
import shutil

import pytest
import torch

from probgen.checkpoint import load_checkpoint, save_checkpoint
from probgen.cli import main
from probgen.data import load_dataset
from probgen.diffusion.train import train_ddpm
from probgen.errors import CheckpointError
from probgen.gan.loop import train_gan
from probgen.vae.train import train_vae

VAE_RUN = dict(data="digits", z_dim=2, hidden=(8,), epochs=1, batch_size=256, iwae_samples=0, figures=False,
               device="cpu")
GAN_RUN = {"g_cfg": {"ngf": 2}, "d_cfg": {"ndf": 2}, "latent_dim": 4, "batch_size": 16, "device": "cpu",
           "steps": 2, "ckpt_every": 2, "sample_every": 1000, "log_every": 1, "data": "digits"}
DDPM_RUN = {"model": {"timesteps": 10, "base_channels": 8, "channel_mults": [1], "attention": False},
            "data": "digits", "steps": 2, "batch_size": 16, "ckpt_every": 2, "log_every": 1,
            "sample_steps": 2, "num_samples": 4, "device": "cpu", "warmup": 0}


def _train(family, out):
    if family == "vae":
        train_vae(VAE_RUN, out, quiet=True)
    elif family == "gan":
        train_gan(GAN_RUN, out, data=load_dataset("digits", "train"), log=lambda msg: None)
    else:
        train_ddpm(DDPM_RUN, out, log=lambda msg: None)


def _resume(family, out):
    if family == "vae":
        train_vae({"epochs": 2}, out, resume=True, quiet=True)
    elif family == "gan":
        train_gan({"steps": 4}, out, resume=True, data=load_dataset("digits", "train"), log=lambda msg: None)
    else:
        train_ddpm({"steps": 4}, out, resume=True, log=lambda msg: None)


WEIGHTS = {"vae": "state_dict", "gan": "gan", "ddpm": "ddpm"}
OTHER = {"vae": "gan", "gan": "ddpm", "ddpm": "vae"}
NAME = {"vae": "a VAE", "gan": "a GAN", "ddpm": "a DDPM"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One finished tiny run per family (copied per test)."""
    base = tmp_path_factory.mktemp("runs")
    for family in WEIGHTS:
        _train(family, base / family)
    return base


def _snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _copy(runs, family, tmp_path):
    return shutil.copytree(runs / family, tmp_path / family)


def _refused(family, out, match):
    before = _snapshot(out)
    last = re.escape(repr(str(out / "checkpoints" / "last.pt")))
    with pytest.raises(CheckpointError, match=f"^{last} {match}"):
        _resume(family, out)
    assert _snapshot(out) == before  # nothing written, nothing removed


@pytest.mark.parametrize("family", list(WEIGHTS))
def test_a_text_or_cut_last_pt(runs, tmp_path, family):
    out = _copy(runs, family, tmp_path)
    last = out / "checkpoints" / "last.pt"
    data = last.read_bytes()
    last.write_text("step,loss\n")
    _refused(family, out, "is not a probgen checkpoint: it is a text file")
    last.write_bytes(data[:3])
    _refused(family, out, "is truncated or damaged")
    last.write_bytes(data[: len(data) // 2])
    _refused(family, out, "is truncated or damaged")


@pytest.mark.parametrize("family", list(WEIGHTS))
def test_another_familys_checkpoint(runs, tmp_path, family):
    out = _copy(runs, family, tmp_path)
    other = runs / OTHER[family] / "checkpoints" / "last.pt"
    (out / "checkpoints" / "last.pt").write_bytes(other.read_bytes())
    _refused(family, out, f"is a probgen checkpoint of {NAME[OTHER[family]]}, not of {NAME[family]}")


@pytest.mark.parametrize("family", list(WEIGHTS))
def test_weights_that_do_not_fit_the_runs_model(runs, tmp_path, family):
    out = _copy(runs, family, tmp_path)
    last = out / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    key = next(iter(state[WEIGHTS[family]]))
    state[WEIGHTS[family]][key] = torch.zeros(3, 1, 7)
    save_checkpoint(last, state)
    _refused(family, out, rf"cannot be loaded as a checkpoint of this .* run: .*has mismatched weights .*"
                          rf"`{re.escape(key)}` has shape \(3, 1, 7\) in the checkpoint")


@pytest.mark.parametrize("family", list(WEIGHTS))
def test_a_missing_entry(runs, tmp_path, family):
    out = _copy(runs, family, tmp_path)
    last = out / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    del state["rng"]
    save_checkpoint(last, state)
    _refused(family, out, "cannot be loaded as a checkpoint of this .* run: it has no 'rng' entry")


def test_the_vae_command_reports_it_in_one_line(runs, tmp_path, capsys):
    out = _copy(runs, "vae", tmp_path)
    last = out / "checkpoints" / "last.pt"
    last.write_bytes(b"abc")
    before = _snapshot(out)
    assert main(["train", "vae", "--out", str(out), "--resume", "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"probgen: error: {str(last)!r} is not a probgen checkpoint: it is a text file "
                          "(3 bytes")
    assert _snapshot(out) == before
