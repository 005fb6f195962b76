"""Every field of every config class is checked when the config is built: a bad value is one
ValueError/TypeError naming the field, never a silent default, a truthy string or a crash in the trainer."""

import dataclasses
import math

import pytest

from probgen.checks import check_bool, check_device_name
from probgen.diffusion.config import DDPMConfig, TrainConfig
from probgen.gan.config import GANConfig
from probgen.vae.config import VAEConfig

CONFIGS = [VAEConfig, GANConfig, DDPMConfig, TrainConfig]

# bad values by the type of the field's default
BAD = {
    bool: ["yes", "false", 1, 0, None],
    int: [-10**9, 2.5, "3", True, None, math.inf],
    float: [math.inf, -math.inf, math.nan, -1e9, "0.1", True, None],
    str: [123, None, ["a"]],
    tuple: [("x",), "abc", (), (0,)],
    dict: ["a=1", [("a", 1)]],
}
# fields where a value listed above is fine, or that a type of their own describes
SKIP = {(VAEConfig, "x_shape"), (VAEConfig, "hidden"), (VAEConfig, "ae_epochs"), (VAEConfig, "num_classes"),
        (DDPMConfig, "num_classes"), (GANConfig, "diffaug"), (GANConfig, "betas")}


def _cases():
    for cls in CONFIGS:
        default = cls()
        for f in dataclasses.fields(cls):
            value = getattr(default, f.name)
            kind = type(value)
            if (cls, f.name) in SKIP or kind not in BAD:
                continue
            for bad in BAD[kind]:
                if kind is tuple and bad == () and f.name == "hidden":
                    continue
                yield pytest.param(cls, f.name, bad, id=f"{cls.__name__}.{f.name}={bad!r}")


@pytest.mark.parametrize("cls, name, bad", list(_cases()))
def test_a_bad_field_is_refused_naming_it(cls, name, bad):
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        cls(**{name: bad})


@pytest.mark.parametrize("betas", [(0.5, 1.0), (-0.1, 0.9), (0.5, math.inf), (0.5, math.nan), 0.5,
                                   (0.5, 0.9, 0.99), ("0.5", 0.9)])
def test_gan_betas_are_a_pair_in_the_unit_interval(betas):
    with pytest.raises((ValueError, TypeError), match=r"`betas"):
        GANConfig(betas=betas)


@pytest.mark.parametrize("cls, name, bad", [
    (VAEConfig, "x_shape", (1, 28)), (VAEConfig, "hidden", (0,)), (VAEConfig, "ae_epochs", -1),
    (VAEConfig, "num_classes", 0), (DDPMConfig, "num_classes", -2), (GANConfig, "diffaug", "colour"),
    (GANConfig, "ema", 1.0), (TrainConfig, "ema", 1.0), (DDPMConfig, "dropout", 1.0),
    (DDPMConfig, "timesteps", 1),
    (TrainConfig, "model", {"timesteps": 0}), (GANConfig, "lr_g", 0.0), (VAEConfig, "lr", 0.0),
])
def test_ranges_and_the_other_fields(cls, name, bad):
    with pytest.raises((ValueError, TypeError), match=f"`{name}`|timesteps"):
        cls(**{name: bad})


def test_good_values_pass_and_are_normalised():
    cfg = GANConfig(betas=[0, 0.99], lr_g=1, amp=False, device="cuda:1")
    assert cfg.betas == (0.0, 0.99) and isinstance(cfg.lr_g, float) and cfg.device == "cuda:1"
    assert VAEConfig(figures=False, device="cpu").figures is False
    assert check_bool("b", True) is True
    for name in ("auto", "cpu", "cuda", "cuda:0", "mps"):
        assert check_device_name("device", name) == name
    with pytest.raises(ValueError, match=r"`device`='gpu' is not a device; use 'auto', 'cpu', 'cuda' or "
                                         "'cuda:N'"):
        check_device_name("device", "gpu")
