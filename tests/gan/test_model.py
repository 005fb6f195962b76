"""The GAN as a Pyro implicit model: trace, Predictive, condition; sampling."""

import pyro
import pyro.poutine as poutine
import pytest
import torch
from pyro.infer import Predictive

import probgen
from probgen.gan.model import GAN


def tiny_gan(num_classes=None, **kw) -> GAN:
    probgen.seed(0)
    return GAN.build("dcgan", "dcgan", latent_dim=6, num_classes=num_classes, g_cfg={"ngf": 4},
                     d_cfg={"ndf": 4}, **kw)


def test_trace_has_latent_and_deterministic_image_sites():
    gan = tiny_gan()
    tr = poutine.trace(gan.model).get_trace(5)
    z, x = tr.nodes["z"], tr.nodes["x"]
    assert z["type"] == "sample" and not z["is_observed"] and z["value"].shape == (5, 6)
    assert isinstance(z["fn"].base_dist, pyro.distributions.Normal) and z["fn"].event_shape == (6,)
    assert x["value"].shape == (5, 1, 28, 28) and x["infer"].get("_deterministic")
    assert 0 <= x["value"].min() and x["value"].max() <= 1
    assert "y" not in tr.nodes
    tr.compute_log_prob()  # z has a density; the image is a deterministic function of it
    assert tr.nodes["z"]["log_prob"].shape == (5,)


def test_condition_on_z_gives_the_generator_output():
    gan = tiny_gan()
    z = torch.randn(4, 6)
    x = poutine.condition(gan.model, {"z": z})(4)
    gan.generator.eval()
    torch.testing.assert_close(x, (gan.generator(z) + 1) / 2)
    assert gan.generator.training is False  # model() restores the mode it found
    torch.testing.assert_close(gan.sample(4, z=z), x.detach())


def test_predictive_draws_images():
    gan = tiny_gan(num_classes=10)
    samples = Predictive(gan.model, num_samples=3)(7)
    assert samples["z"].shape == (3, 7, 6) and samples["x"].shape == (3, 7, 1, 28, 28)
    assert samples["y"].shape == (3, 7) and samples["y"].max() < 10
    fixed = Predictive(gan.model, num_samples=2, return_sites=["x"])(4, y=torch.tensor([1, 2, 3, 4]))
    assert fixed["x"].shape == (2, 4, 1, 28, 28)


def test_sample_shapes_range_labels_and_ema():
    gan = tiny_gan(num_classes=10, ema=True)
    assert gan.sampler is gan.generator_ema
    x = gan.sample(12, y=torch.arange(12) % 10, batch_size=5)
    assert x.shape == (12, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    with pytest.raises(ValueError, match=r"`y` has shape \(3,\) but the batch has 12"):
        gan.sample(12, y=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"`n` must be an int >= 1, got 0"):
        gan.sample(0)
    with pytest.raises(ValueError, match=r"`z` has shape \(3, 6\) but this GAN takes latent codes of shape "
                                         r"\(2, 6\)"):
        gan.sample(2, y=torch.tensor([0, 1]), z=torch.randn(3, 6))
    uncond = tiny_gan()
    with pytest.raises(ValueError, match="unconditional"):
        uncond.sample(2, y=torch.tensor([0, 1]))
    assert "arch='dcgan'" in repr(uncond)


def test_mismatched_players_are_rejected():
    from probgen.gan import get_model

    G = get_model("dcgan", "generator", ngf=2)
    with pytest.raises(ValueError, match=r"discriminator takes \(3, 32, 32\) images"):
        GAN(G, get_model("dcgan", "discriminator", ndf=2, channels=3, image_size=32))
    with pytest.raises(ValueError, match=r"num_classes=None but the discriminator 10"):
        GAN(G, get_model("dcgan", "discriminator", ndf=2, num_classes=10))
    with pytest.raises(ValueError, match=r"`num_classes`=0: in probgen an unconditional model"):
        tiny_gan(num_classes=0)


def test_checkpoints_written_with_num_classes_0_still_load():
    """Checkpoints from before num_classes=None stored 0 for an unconditional GAN."""
    gan = tiny_gan()
    state = {"spec": {**gan.spec, "num_classes": 0}, "gan": gan.state_dict()}
    assert GAN.from_state(state).num_classes is None
