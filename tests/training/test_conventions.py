"""One set of conventions across the families: num_classes=None means unconditional everywhere (0 refused),
the torch-free lists of choices match the registries, and `probgen train vae|gan --help` imports no torch."""

import subprocess
import sys

import pytest

from probgen.checks import check_num_classes

ZERO_MESSAGE = r"`num_classes`=0: in probgen an unconditional model has `num_classes`=None"


def _builders():
    from probgen.diffusion import DDPM, DDPMConfig, TrainConfig, UNet
    from probgen.gan import GAN, get_model, list_models
    from probgen.vae import VAE, Autoencoder, VAEConfig

    out = {"VAE": lambda: VAE(num_classes=0), "Autoencoder": lambda: Autoencoder(num_classes=0),
           "VAEConfig": lambda: VAEConfig(num_classes=0), "GAN.build": lambda: GAN.build(num_classes=0),
           "DDPM": lambda: DDPM(num_classes=0), "DDPMConfig": lambda: DDPMConfig(num_classes=0),
           "TrainConfig.model": lambda: TrainConfig(model={"num_classes": 0}),
           "UNet": lambda: UNet(num_classes=0)}
    for role in ("generator", "discriminator"):
        for name in list_models(role):
            out[f"{role} {name}"] = lambda name=name, role=role: get_model(name, role, num_classes=0)
    return out


@pytest.mark.parametrize("what", sorted(_builders()))
def test_num_classes_zero_is_refused_everywhere(what):
    with pytest.raises(ValueError, match=ZERO_MESSAGE):
        _builders()[what]()


def test_num_classes_none_is_unconditional_everywhere():
    from probgen.compare import is_conditional
    from probgen.diffusion import DDPM
    from probgen.gan import GAN
    from probgen.vae import VAE

    for model in (VAE(x_shape=(1, 8, 8), z_dim=2, hidden=8), GAN.build(g_cfg={"ngf": 2}, d_cfg={"ndf": 2}),
                  DDPM(x_shape=(1, 8, 8), timesteps=4, base_channels=8, channel_mults=(1, 2))):
        assert model.num_classes is None and not is_conditional(model)
    assert check_num_classes(None) is None and check_num_classes(3) == 3


def test_choice_lists_without_torch_match_the_registries():
    from probgen.diffusion import config as dcfg
    from probgen.diffusion.sampling import METHODS
    from probgen.diffusion.schedule import SCHEDULES
    from probgen.gan import config as gcfg
    from probgen.gan.diffaugment import POLICIES
    from probgen.gan.losses import LOSSES
    from probgen.gan.registry import list_models
    from probgen.vae import config as vcfg
    from probgen.vae.likelihoods import list_likelihoods
    from probgen.vae.nets import list_archs

    assert list(gcfg.GENERATORS) == list_models("generator")
    assert list(gcfg.DISCRIMINATORS) == list_models("discriminator")
    assert gcfg.LOSSES is LOSSES and list(gcfg.DIFFAUG_POLICIES) == list(POLICIES)
    assert list(vcfg.LIKELIHOODS) == list_likelihoods() and list(vcfg.ARCHS) == list_archs()
    assert dcfg.SCHEDULES is SCHEDULES and dcfg.METHODS is METHODS


HELP_SCRIPT = """
import argparse, sys
from probgen.vae import cli as vae_cli
from probgen.gan import cli as gan_cli
import probgen.diffusion.config, probgen.training, probgen.training.config, probgen.vae, probgen.gan
parser = argparse.ArgumentParser(prog="probgen train")
sub = parser.add_subparsers()
vae_cli.register(sub, None)
gan_cli.register(sub, None)
for family in ("vae", "gan"):
    try:
        parser.parse_args([family, "--help"])
    except SystemExit:
        pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "pyro", "torchvision"))
print("HEAVY", heavy[:5])
"""


def test_train_help_imports_no_torch_and_every_option_has_help():
    res = subprocess.run([sys.executable, "-c", HELP_SCRIPT], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout
    assert "Train a GAN (Algorithm 1" in res.stdout and "``" not in res.stdout  # not the module docstring
    import argparse

    from probgen.gan import cli as gan_cli
    from probgen.vae import cli as vae_cli

    sub = argparse.ArgumentParser().add_subparsers()
    for mod in (vae_cli, gan_cli):
        mod.register(sub, None)
    for name, parser in sub.choices.items():
        for action in parser._actions:
            assert action.help, f"probgen train {name} {action.option_strings} has no help"
            if action.default is None and action.option_strings:
                assert "(default:" in action.help, f"{name} {action.option_strings}: no effective default"
