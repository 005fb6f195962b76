"""Bad input: one clear ValueError/TypeError naming the argument, also when raised through Pyro's SVI."""

import pyro
import pytest
import torch
from pyro.infer import SVI, Trace_ELBO

from probgen.vae import VAE, FastTrace_ELBO, JointOptim, VAEConfig


def _vae(**kw):
    return VAE(x_shape=(1, 8, 8), z_dim=2, hidden=8, **kw)


BAD_X = [
    (torch.rand(4, 1, 8, 7), ValueError,
     r"`x` has shape \(4, 1, 8, 7\) but this VAE takes images of shape \(B, 1, 8, 8\)"),
    (torch.rand(4, 3, 8, 8), ValueError, r"shape \(B, 1, 8, 8\); this VAE was built for 1 channel"),
    (torch.rand(1, 8, 8), ValueError, r"one image without a batch dimension: pass x.unsqueeze\(0\)"),
    (torch.rand(4, 64), ValueError, r"`x` has shape \(4, 64\)"),
    ((torch.rand(4, 1, 8, 8) * 255).to(torch.uint8), TypeError, "divide by 255"),
    (torch.rand(4, 1, 8, 8) * 2, ValueError, "needs pixels in \\[0, 1\\].*binarize"),
    (torch.full((4, 1, 8, 8), float("nan")), ValueError, "NaN or infinite"),
    (torch.ones(4, 1, 8, 8).index_fill_(0, torch.tensor([1]), float("inf")), ValueError, "NaN or infinite"),
    ([[0.0]], TypeError, "must be a torch.Tensor"),
    (torch.rand(4, 1, 8, 8, dtype=torch.float64), TypeError,
     r"dtype torch.float64 but this VAE computes in torch.float32; .* pass x.float\(\)"),
]


@pytest.mark.parametrize("elbo", [Trace_ELBO, FastTrace_ELBO])
@pytest.mark.parametrize("x, exc, match", BAD_X)
def test_bad_images_through_svi(x, exc, match, elbo):
    vae = _vae()
    svi = SVI(vae.model, vae.guide, JointOptim.adam(1e-3), elbo())
    with pytest.raises(exc, match=match):
        svi.step(x)


@pytest.mark.parametrize("x, exc, match", BAD_X)
def test_bad_images_in_methods(x, exc, match):
    vae = _vae()
    for fn in (vae.encode, vae.reconstruct, vae.log_likelihood, vae.elbo):
        with pytest.raises(exc, match=match):
            fn(x)


def test_gaussian_accepts_any_finite_values():
    vae = _vae(likelihood="gaussian")
    assert torch.isfinite(vae.elbo(torch.randn(3, 1, 8, 8) * 5)).all()
    with pytest.raises(ValueError, match="NaN"):
        vae.elbo(torch.full((3, 1, 8, 8), float("nan")))


def test_labels():
    cond, plain, x = _vae(num_classes=3), _vae(), torch.bernoulli(torch.rand(4, 1, 8, 8))
    with pytest.raises(ValueError, match=r"conditional \(`num_classes`=3\) and needs labels: pass `y`"):
        SVI(cond.model, cond.guide, JointOptim.adam(1e-3), FastTrace_ELBO()).step(x)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\] but this VAE has 3 classes; .* in \[0, 3\)"):
        cond.encode(x, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"labels in \[-1, 1\]"):
        cond.sample(2, y=torch.tensor([-1, 1]))
    with pytest.raises(ValueError, match=r"`y` has shape \(3,\) but the batch has 4 entries"):
        cond.encode(x, torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class labels"):
        cond.encode(x, torch.zeros(4))
    with pytest.raises(ValueError, match="needs labels"):
        cond.sample(3)
    with pytest.raises(ValueError, match="unconditional"):
        svi = SVI(plain.model, plain.guide, pyro.optim.Adam({"lr": 1e-3}), Trace_ELBO())
        svi.step(x, torch.zeros(4).long())


def test_constructor_arguments():
    with pytest.raises(ValueError, match="Unknown likelihood 'poisson'"):
        VAE(likelihood="poisson")
    with pytest.raises(ValueError, match=r"Unknown architecture `arch`='resnet'; use one of \['mlp', "):
        VAE(arch="resnet")
    with pytest.raises(ValueError, match=r"divisible by 4, got `x_shape`=\(1, 10, 10\)"):
        VAE(x_shape=(1, 10, 10), arch="conv")
    with pytest.raises(ValueError, match="`x_shape` must be"):
        VAE(x_shape=(28, 28))
    with pytest.raises(ValueError, match="`z_dim` must be an int >= 1, got 0"):
        VAE(z_dim=0)
    with pytest.raises(ValueError, match="`hidden` must be"):
        VAE(hidden=-3)
    with pytest.raises(ValueError, match="`num_classes`=0: in probgen an unconditional model has `num_"):
        VAE(num_classes=0)
    with pytest.raises(ValueError, match=r"`min_scale` must be a finite number in \(0, inf\), got nan"):
        VAE(min_scale=float("nan"))


def test_other_arguments():
    vae = _vae()
    with pytest.raises(ValueError, match=r"`z` has shape \(3, 5\) but this VAE takes latent codes of shape "
                                         r"\(\.\.\., 2\)"):
        vae.decode(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="`n` must be an int >= 1"):
        vae.sample(0)
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(TypeError, match="dtype torch.bool"):
        vae.inpaint(x, torch.ones(2, 1, 8, 8))
    with pytest.raises(ValueError, match="does not broadcast"):
        vae.inpaint(x, torch.ones(3, 1, 8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="needs images `x`"):
        vae.guide(None, batch_size=3)
    with pytest.raises(ValueError, match="batch_size"):
        vae.model(None)


def test_config_unknown_keys_and_values():
    with pytest.raises(ValueError, match="unknown VAEConfig key 'zdim'; did you mean 'z_dim'"):
        VAEConfig.from_dict({"zdim": 3})
    with pytest.raises(ValueError, match="unknown VAEConfig key 'colour'"):
        VAEConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="`epochs` must be an int >= 1, got 0"):
        VAEConfig(epochs=0)
    with pytest.raises(ValueError, match="`lr` must be a finite number"):
        VAEConfig(lr=float("inf"))
    with pytest.raises(ValueError, match="`num_classes`=0"):
        VAEConfig(num_classes=0)
    with pytest.raises(ValueError, match=r"`arch`='resnet' is not one of \['mlp', 'conv'\]"):
        VAEConfig(arch="resnet")
    with pytest.raises(ValueError, match="`elbo`='elbo2'"):
        VAEConfig(elbo="elbo2")
    cfg = VAEConfig.from_dict({"z_dim": 3, "hidden": [16, 8], "x_shape": [1, 8, 8]})
    assert cfg.hidden == (16, 8) and VAE(**cfg.model_kwargs()).z_dim == 3
    assert VAEConfig.from_dict(cfg.to_dict()) == cfg
