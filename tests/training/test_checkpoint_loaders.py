"""Every loader of a checkpoint file turns every failure into one CheckpointError naming the file and what
is wrong: VAE.load, GAN.load, DDPM.load, RunDir.load, load_classifier, and the trainers' resume."""

import re

import pytest
import torch

from probgen.checkpoint import load_checkpoint, save_checkpoint
from probgen.diffusion import DDPM
from probgen.errors import CheckpointError
from probgen.gan import GAN
from probgen.metrics import load_classifier
from probgen.metrics.classifier import weights_path
from probgen.runs import RunDir
from probgen.vae import VAE


def _vae_file(path):
    return VAE((1, 8, 8), z_dim=2, hidden=8).save(path)


def _gan_file(path):
    gan = GAN.build(channels=1, image_size=28, latent_dim=4, g_cfg={"ngf": 2}, d_cfg={"ndf": 2})
    return save_checkpoint(path, {"kind": "probgen.gan.GAN", "spec": gan.spec, "gan": gan.state_dict()})


def _ddpm_file(path):
    ddpm = DDPM(x_shape=(1, 8, 8), timesteps=10, base_channels=8, channel_mults=(1,), attention=False)
    return save_checkpoint(path, ddpm.checkpoint_state())


def _classifier_file(path):
    return save_checkpoint(path, load_checkpoint(weights_path("digits")))


# loader, a valid file of its kind, the config entry to change, the new value, what it is called
LOADERS = {
    "VAE.load": (VAE.load, _vae_file, ("config", "z_dim"), 3, "a VAE"),
    "GAN.load": (GAN.load, _gan_file, ("spec", "latent_dim"), 5, "a GAN"),
    "DDPM.load": (DDPM.load, _ddpm_file, ("ddpm_config", "base_channels"), 16, "a DDPM"),
    "load_classifier": (lambda p: load_classifier("digits", p), _classifier_file,
                        ("info", "config", "hidden"), 17, "a metrics classifier"),
}
OTHER = {"VAE.load": _gan_file, "GAN.load": _ddpm_file, "DDPM.load": _vae_file, "load_classifier": _vae_file}


def _named(path) -> str:
    return re.escape(repr(str(path)))


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("content, what", [(b"epoch,loss\n1,0.5\n", "is not a probgen checkpoint: it is a "
                                                                     "text file"),
                                           (b"PK\x03", "is truncated or damaged")])
def test_a_file_that_is_not_a_checkpoint(tmp_path, loader, content, what):
    load = LOADERS[loader][0]
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"{_named(path)} {what}"):
        load(path)


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_truncated_checkpoint_of_the_right_kind(tmp_path, loader):
    load, write = LOADERS[loader][:2]
    path = write(tmp_path / "model.pt")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=f"{_named(path)} is truncated or damaged"):
        load(path)


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_checkpoint_of_another_kind(tmp_path, loader):
    load, *_, name = LOADERS[loader]
    path = OTHER[loader](tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=f"{_named(path)} is a probgen checkpoint of a .*, not of "
                                              f"{name}"):
        load(path)


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_config_that_does_not_match_the_weights(tmp_path, loader):
    """Was a torch size-mismatch RuntimeError: now the file, "mismatched weights" and an entry at fault."""
    load, write, keys, value, _ = LOADERS[loader]
    path = write(tmp_path / "model.pt")
    state = load_checkpoint(path)
    entry = state
    for k in keys[:-1]:
        entry = entry[k]
    entry[keys[-1]] = value
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=f"{_named(path)} has mismatched weights for the .* its config "
                                              r"describes: `.*` has shape \(.*\) in the checkpoint but"):
        load(path)


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_missing_entry_and_an_invalid_config(tmp_path, loader):
    load, write, keys, _, name = LOADERS[loader]
    path = write(tmp_path / "model.pt")
    state = load_checkpoint(path)
    entry = state
    for k in keys[:-1]:
        entry = entry[k]
    entry[keys[-1]] = -1
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=f"{_named(path)} cannot be loaded as {name}: .*`{keys[-1]}`"):
        load(path)
    del state[keys[0]]
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=f"{_named(path)} "):
        load(path)


def test_from_state_without_a_file_names_the_state():
    with pytest.raises(CheckpointError, match=r"^this checkpoint must be a checkpoint dict, got list$"):
        GAN.from_state([1, 2])
    gan = GAN.build(channels=1, image_size=28, latent_dim=4, g_cfg={"ngf": 2}, d_cfg={"ndf": 2})
    state = {"spec": {**gan.spec, "latent_dim": 6}, "gan": gan.state_dict()}  # an older checkpoint: no kind
    with pytest.raises(CheckpointError, match=r"^best.pt has mismatched weights for the GAN"):
        GAN.from_state(state, source="best.pt")
    state["spec"]["latent_dim"] = 4
    assert GAN.from_state(state).latent_dim == 4


def test_run_dir_load_names_the_file(tmp_path):
    run = RunDir(tmp_path / "run")
    (run.checkpoints / "last.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=rf"{_named(run.checkpoints / 'last.pt')} is not a probgen "
                                              "checkpoint: it is a text file"):
        run.load("last")
    with pytest.raises(CheckpointError, match=r"best.pt' does not exist"):
        run.load("best")
    assert torch.equal(VAE.load(_vae_file(run.checkpoints / "m.pt")).decode(torch.zeros(1, 2)),
                       VAE.load(run.checkpoints / "m.pt").decode(torch.zeros(1, 2)))
