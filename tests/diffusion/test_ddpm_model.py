"""DDPM construction, shapes, input errors, determinism and the Pyro program."""

import pyro
import pyro.poutine as poutine
import pytest
import torch

from probgen.diffusion import DDPM, DDPMConfig, UNet, sinusoidal_embedding
from probgen.errors import CheckpointError

TINY = {"base_channels": 8, "channel_mults": (1, 2), "timesteps": 20}


@pytest.mark.parametrize("x_shape,mults", [((1, 8, 8), (1, 2)), ((1, 28, 28), (1, 2, 2)), ((3, 8, 8), (1,))])
def test_shapes(x_shape, mults):
    ddpm = DDPM(x_shape=x_shape, timesteps=20, base_channels=8, channel_mults=mults)
    x = torch.rand(4, *x_shape)
    eps = ddpm(x * 2 - 1, torch.tensor([0, 5, 10, 19]))
    assert eps.shape == (4, *x_shape)
    loss = ddpm.loss(x)
    assert loss.shape == () and torch.isfinite(loss)
    s = ddpm.sample(3, steps=4)
    assert s.shape == (3, *x_shape) and s.dtype == torch.float32
    assert float(s.min()) >= 0 and float(s.max()) <= 1


def test_gradients_reach_every_parameter():
    ddpm = DDPM(x_shape=(1, 8, 8), **TINY)
    ddpm.loss(torch.rand(4, 1, 8, 8)).backward()
    for name, p in ddpm.net.named_parameters():
        assert p.grad is not None, name
    # the output conv and each block's last conv start at zero (each block the identity), so gradients
    # reach the earlier layers only once those have moved: after a few steps every layer gets one
    opt = torch.optim.SGD(ddpm.parameters(), lr=0.1)
    for _ in range(3):
        opt.step()
        opt.zero_grad()
        ddpm.loss(torch.rand(4, 1, 8, 8)).backward()
    zero = [n for n, p in ddpm.net.named_parameters() if float(p.grad.abs().sum()) == 0]
    assert not zero


def test_sinusoidal_embedding():
    e = sinusoidal_embedding(torch.tensor([0, 3, 999]), 16)
    assert e.shape == (3, 16)
    assert torch.allclose(e[0], torch.cat([torch.zeros(8), torch.ones(8)]))  # sin 0, cos 0
    assert torch.allclose(e[1, 0], torch.sin(torch.tensor(3.0)))  # the first frequency is 1
    assert sinusoidal_embedding(torch.tensor([1]), 7).shape == (1, 7)


def test_config_unknown_key_and_bad_values_raise():
    with pytest.raises(ValueError, match="unknown DDPMConfig key 'timestep'.*'timesteps'"):
        DDPM(timestep=100)
    with pytest.raises(ValueError, match="`x_shape`"):
        DDPM(x_shape=(28, 28))
    with pytest.raises(ValueError, match="`schedule`='sigmoid'"):
        DDPMConfig(schedule="sigmoid")
    with pytest.raises(ValueError, match=r"not divisible by 4.*`channel_mults`"):
        DDPM(x_shape=(1, 6, 6), channel_mults=(1, 2, 2))
    with pytest.raises(TypeError, match="`config`"):
        DDPM(config=42)
    with pytest.raises(ValueError, match="`num_classes`=0: in probgen an unconditional model has"):
        DDPM(num_classes=0)
    with pytest.raises(ValueError, match=r"`dropout` must be a finite number in \[0, 1\)"):
        DDPMConfig(dropout=float("nan"))
    cfg = DDPMConfig(x_shape=(1, 8, 8), **TINY)
    assert DDPM(cfg, timesteps=30).config.timesteps == 30  # keywords override the config
    assert DDPMConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "x,error,match",
    [
        (torch.rand(4, 1, 28, 28), ValueError, r"`x` has shape \(4, 1, 28, 28\).*\(B, 1, 8, 8\)"),
        (torch.rand(4, 8, 8), ValueError, r"`x` has shape \(4, 8, 8\).*unsqueeze"),
        (torch.rand(4, 1, 8, 8) * 255, ValueError, r"`x` must hold values in \[0, 1\].*x / 255"),
        (torch.rand(4, 1, 8, 8) * 2 - 1, ValueError, r"`x` must hold values in \[0, 1\].*\(x \+ 1\) / 2"),
        (torch.full((2, 1, 8, 8), float("nan")), ValueError, r"`x` contains 128 NaN or infinite value"),
        (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), TypeError, r"`x` must be a floating-point tensor"),
        (torch.zeros(0, 1, 8, 8), ValueError, r"`x` is an empty batch"),
        ([[0.5]], TypeError, r"`x` must be a torch.Tensor"),
    ],
)
def test_bad_images_name_the_argument(x, error, match):
    ddpm = DDPM(x_shape=(1, 8, 8), **TINY)
    with pytest.raises(error, match=match):
        ddpm.loss(x)


def test_labels_are_checked():
    uncond = DDPM(x_shape=(1, 8, 8), **TINY)
    with pytest.raises(ValueError, match=r"`y` \(labels\) was given but this DDPM is unconditional"):
        uncond.loss(torch.rand(2, 1, 8, 8), torch.tensor([0, 1]))
    cond = DDPM(x_shape=(1, 8, 8), num_classes=10, **TINY)
    with pytest.raises(ValueError, match="class-conditional.*pass `y`"):
        cond.loss(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"labels in \[3, 10\]"):
        cond.loss(torch.rand(2, 1, 8, 8), torch.tensor([3, 10]))
    with pytest.raises(ValueError, match=r"`y` has shape \(3,\)"):
        cond.sample(2, 2, y=torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="integer class labels"):
        cond.loss(torch.rand(2, 1, 8, 8), torch.tensor([0.0, 1.0]))
    assert cond.sample(4, 2, y=torch.tensor([0, 1, 2, 9])).shape == (4, 1, 8, 8)
    assert cond.sample(4, 2).shape == (4, 1, 8, 8)  # uniform labels


def test_label_changes_the_prediction():
    cond = DDPM(x_shape=(1, 8, 8), num_classes=3, **TINY)
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([5, 5])
    for p in cond.net.parameters():  # leave the zero initialisation, which hides the labels
        torch.nn.init.normal_(p, 0, 0.1)
    a, b = cond(x, t, torch.tensor([0, 0])), cond(x, t, torch.tensor([1, 2]))
    assert not torch.allclose(a, b)


def test_sampling_is_deterministic_under_a_seed():
    ddpm = DDPM(x_shape=(1, 8, 8), **TINY)
    torch.manual_seed(7)
    a = ddpm.sample(4, 5)
    torch.manual_seed(7)
    b = ddpm.sample(4, 5)
    torch.manual_seed(8)
    c = ddpm.sample(4, 5)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_pyro_model_is_the_ancestral_sampler():
    """Same seed: the Pyro program's x equals sample(method="ddpm"); its sites are x_T..x_1 and x."""
    ddpm = DDPM(x_shape=(1, 8, 8), **TINY)
    for p in ddpm.net.parameters():  # a non-trivial noise predictor
        torch.nn.init.normal_(p, 0, 0.05)
    pyro.set_rng_seed(5)
    tr = poutine.trace(ddpm.model).get_trace(3)
    pyro.set_rng_seed(5)
    direct = ddpm.sample(3, method="ddpm")
    sites = [n for n, s in tr.nodes.items() if s["type"] == "sample" and n.startswith("x")]
    assert sites[0] == "x_20" and sites[-2] == "x_1" and sites[-1] == "x"
    assert len(sites) == 20 + 1  # x_20..x_1 and the deterministic x
    assert tr.nodes["x_20"]["fn"].event_dim == 3
    assert tr.nodes["x"]["value"].shape == (3, 1, 8, 8)
    assert torch.allclose(tr.nodes["x"]["value"], direct, atol=1e-5)
    assert torch.isfinite(tr.log_prob_sum())


def test_repr_and_from_state():
    ddpm = DDPM(x_shape=(1, 8, 8), **TINY).enable_ema()
    assert "timesteps=20" in repr(ddpm) and "ema=True" in repr(ddpm)
    for p in ddpm.net_ema.parameters():
        p.data.add_(1.0)  # ema differs from net: both must round-trip
    copy = DDPM.from_state(ddpm.checkpoint_state())
    assert copy.net_ema is not None
    for a, b in zip(ddpm.state_dict().values(), copy.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointError, match=r"this checkpoint is not a checkpoint of a DDPM: its entries "
                                              r"\('weights'\) are not those of any probgen model"):
        DDPM.from_state({"weights": 1})
    old = ddpm.checkpoint_state()  # written before num_classes=None meant unconditional
    old["ddpm_config"]["num_classes"] = 0
    assert DDPM.from_state(old).num_classes is None


def test_unet_standalone():
    net = UNet(channels=1, image_size=(8, 8), base_channels=8, channel_mults=(1, 2))
    assert net(torch.randn(2, 1, 8, 8), torch.tensor([1, 2])).shape == (2, 1, 8, 8)
