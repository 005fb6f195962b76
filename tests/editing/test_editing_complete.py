"""complete() on tiny untrained models: shapes for every family x task x method, class labels, seeds,
consistency with the observation, and each bad input."""

import pytest
import torch
from torch import nn

from probgen.diffusion import DDPM
from probgen.editing import TASKS, Downsample, Grayscale, Mask, complete, task_operator
from probgen.editing import diffusion as ed_diffusion
from probgen.errors import ProbgenError
from probgen.gan import GAN
from probgen.vae import VAE

SHAPE = (3, 28, 28)
FAST = {"is": {"proposals": 20, "rounds": 1}, "svi": {"steps": 2},
        "nuts": {"warmup_steps": 2, "max_tree_depth": 2}}


def tiny(family, num_classes=None, shape=SHAPE):
    if family == "vae":
        return VAE(x_shape=shape, z_dim=2, hidden=8, likelihood="gaussian", num_classes=num_classes)
    if family == "gan":
        return GAN.build(channels=shape[0], image_size=shape[1], latent_dim=4, num_classes=num_classes,
                         g_cfg={"ngf": 4}, d_cfg={"ndf": 4})
    return DDPM(x_shape=shape, timesteps=3, base_channels=4, channel_mults=(1,), attention=False,
                num_classes=num_classes)


CASES = [(f, m) for f, ms in (("vae", ("is", "svi", "nuts")), ("gan", ("svi", "nuts")),
                              ("ddpm", ("dps", "ddnm", "repaint"))) for m in ms]


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {f: tiny(f) for f in ("vae", "gan", "ddpm")}


@pytest.mark.parametrize("family,method", CASES)
@pytest.mark.parametrize("task", list(TASKS))
def test_shapes_every_family_task_method(models, family, method, task):
    op = task_operator(task, SHAPE)
    if method == "repaint" and not isinstance(op, Mask):
        pytest.skip("RePaint is for masks (refusal tested below)")
    y = op.apply(torch.rand(2, *SHAPE))
    out, info = complete(models[family], y, op, num_samples=3, method=method, seed=0, return_info=True,
                         **FAST.get(method, {}))
    assert out.shape == (3, 2, *SHAPE) and out.dtype == torch.float32
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert info["method"] == method
    if method in ("ddnm", "repaint"):  # consistent by construction, before the clamp to [0, 1]
        raw = (ed_diffusion.sample_x(models[family], y, op, 0.0, None, 2, method) + 1) / 2
        assert (op.apply(raw) - y).abs().max() < 1e-5
    if method == "is":
        assert info["ess"].shape == (2,) and (info["ess"] >= 1).all()
    if isinstance(op, Mask):  # observed pixels kept
        m = op.observed(SHAPE)
        assert torch.equal(out[:, :, m], y[:, m].expand(3, -1, -1))


@pytest.mark.parametrize("family", ["vae", "gan", "ddpm"])
def test_class_conditional_generation_is_an_empty_mask(family):
    torch.manual_seed(0)
    model = tiny(family, num_classes=3, shape=(1, 28, 28))
    nothing = Mask(torch.zeros(28, 28, dtype=torch.bool))
    y = torch.zeros(2, 1, 28, 28)
    method = {"vae": "is", "gan": "svi", "ddpm": "repaint"}[family]
    out = complete(model, y, nothing, num_samples=2, method=method, labels=torch.tensor([0, 2]), seed=0,
                   **FAST.get(method, {}))
    assert out.shape == (2, 2, 1, 28, 28)
    with pytest.raises(ValueError, match="`labels`"):
        complete(model, y, nothing, num_samples=2, method=method)


@pytest.mark.parametrize("family,method", [("vae", "is"), ("gan", "svi"), ("ddpm", "dps")])
def test_seed_determines_the_draws(models, family, method):
    op = Downsample(4)
    y = op.apply(torch.rand(1, *SHAPE))
    state = torch.get_rng_state()
    a = complete(models[family], y, op, num_samples=2, method=method, seed=5, **FAST.get(method, {}))
    assert torch.equal(state, torch.get_rng_state())  # the global stream is left as it was
    b = complete(models[family], y, op, num_samples=2, method=method, seed=5, **FAST.get(method, {}))
    c = complete(models[family], y, op, num_samples=2, method=method, seed=6, **FAST.get(method, {}))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_consistency_at_the_noise_level():
    """A linear generator whose range holds the truth: SVI completions reproduce y up to about sigma_y."""
    from editing_toys import SHAPE as S
    from editing_toys import LinearGenerator, weights

    W, b = weights()
    g = LinearGenerator(W, b)
    op = Downsample(2)
    x = g(torch.randn(4, 3)).add(1).div(2).detach()
    sigma = 0.05
    y = op.apply(x) + sigma * torch.randn(4, *op.shape_out(S))
    out = complete(g, y, op, num_samples=16, sigma_y=sigma, seed=0, steps=300, lr=0.1)
    rms = (op.apply(out) - y).pow(2).mean().sqrt().item()
    assert rms < 1.5 * sigma, rms


def test_bad_inputs_name_the_argument(models):
    vae, gan, ddpm = models["vae"], models["gan"], models["ddpm"]
    y = torch.rand(2, *SHAPE)
    mask = task_operator("inpaint-center", SHAPE)
    with pytest.raises(ProbgenError, match="`y` has shape"):
        complete(vae, torch.rand(2, 3, 7, 7), mask)
    with pytest.raises(ProbgenError, match="`factor`=3"):
        complete(vae, torch.rand(2, 3, 9, 9), Downsample(3))
    with pytest.raises(ProbgenError, match="`mask` has shape"):
        complete(vae, y, Mask(torch.ones(14, 14, dtype=torch.bool)))
    gray_vae = tiny("vae", shape=(1, 28, 28))
    with pytest.raises(ProbgenError, match="3-channel"):
        complete(gray_vae, torch.rand(2, 1, 28, 28), Grayscale())
    with pytest.raises(TypeError, match="`model`"):
        complete(nn.Linear(2, 2), y, mask)
    with pytest.raises(ValueError, match="`method`='dps' is not one of"):
        complete(vae, y, mask, method="dps")
    with pytest.raises(ProbgenError, match="needs a Mask.*`operator`"):
        complete(ddpm, Downsample(4).apply(y), Downsample(4), method="repaint")
    with pytest.raises(ProbgenError, match="`sigma_y`=0.1"):
        complete(ddpm, y, mask, method="ddnm", sigma_y=0.1)
    with pytest.raises(ProbgenError, match="`sigma_y`=0 cannot condition a GAN"):
        complete(gan, y, mask, sigma_y=0)
    with pytest.raises(ValueError, match="`sigma_y`"):
        complete(vae, y, mask, sigma_y=-1.0)
    with pytest.raises(ValueError, match="`labels`"):
        complete(vae, y, mask, labels=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="`num_samples`"):
        complete(vae, y, mask, num_samples=0)
    with pytest.raises(TypeError, match="no option `step`.*did you mean 'steps'"):
        complete(vae, y, mask, method="svi", step=3)
    with pytest.raises(ValueError, match="`proposals`"):
        complete(vae, y, mask, proposals=0)
    bern = VAE(x_shape=SHAPE, z_dim=2, hidden=8)
    with pytest.raises(ProbgenError, match="`sigma_y`=0.1 is not supported for a Mask on a 'bernoulli'"):
        complete(bern, y, mask, sigma_y=0.1)


def test_complete_stays_the_function_whatever_was_imported_first():
    import probgen.editing.posterior  # noqa: F401  (the module is not named like the function)
    from probgen.editing import complete

    assert callable(complete) and complete.__module__ == "probgen.editing.posterior"
