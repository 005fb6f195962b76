"""One dtype rule for every tensor argument of the VAE, GAN and DDPM (``probgen.checks_torch``).

A floating input of a lower precision than the model's is converted (lossless: the result equals that of
the converted input); a higher precision (float64 on a float32 model) and integer tensors are refused with
an ArgumentTypeError naming the argument, its dtype and the model's.
"""

import pytest
import torch

from probgen.checks import ArgumentTypeError
from probgen.checks_torch import as_model_dtype
from probgen.diffusion import DDPM
from probgen.gan import GAN
from probgen.vae import VAE


def _vae():
    return VAE((1, 8, 8), z_dim=2, hidden=8)


def _gan():
    return GAN.build(channels=1, image_size=28, latent_dim=6, g_cfg={"ngf": 4}, d_cfg={"ndf": 4})


def _ddpm():
    return DDPM(x_shape=(1, 8, 8), timesteps=10, base_channels=8, channel_mults=(1,), attention=False)


def _images(dtype=torch.float32, shape=(3, 1, 8, 8)):
    return torch.bernoulli(torch.full(shape, 0.5)).to(dtype)


def _steps():
    return torch.tensor([0, 4, 9])


def _latents(n, d):
    return lambda dtype=torch.float32: torch.randn(n, d).to(dtype)


# (build the model, call the entry point with the tensor under test `v`, the argument's name, a valid v)
ENTRIES = {
    "VAE.model": (_vae, lambda m, v: m.model(v), "x", _images),
    "VAE.guide": (_vae, lambda m, v: m.guide(v), "x", _images),
    "VAE.encode": (_vae, lambda m, v: m.encode(v), "x", _images),
    "VAE.elbo": (_vae, lambda m, v: m.elbo(v), "x", _images),
    "VAE.reconstruct": (_vae, lambda m, v: m.reconstruct(v), "x", _images),
    "VAE.log_likelihood": (_vae, lambda m, v: m.log_likelihood(v, num_samples=4), "x", _images),
    "VAE.inpaint": (_vae, lambda m, v: m.inpaint(v, torch.ones(3, 1, 8, 8, dtype=torch.bool), num_samples=4,
                                                 rounds=1), "x", _images),
    "VAE.decode": (_vae, lambda m, v: m.decode(v), "z", _latents(3, 2)),
    "GAN.sample": (_gan, lambda m, v: m.sample(3, z=v), "z", _latents(3, 6)),
    "GAN.generator": (_gan, lambda m, v: m.generator(v), "z", _latents(3, 6)),
    "GAN.discriminator": (_gan, lambda m, v: m.discriminator(v), "x",
                          lambda dtype=torch.float32: _images(dtype, (3, 1, 28, 28)) * 2 - 1),
    "DDPM.loss": (_ddpm, lambda m, v: m.loss(v), "x", _images),
    "DDPM.loss(noise)": (_ddpm, lambda m, v: m.loss(_images(), noise=v), "noise",
                         lambda dtype=torch.float32: torch.randn(3, 1, 8, 8).to(dtype)),
    "DDPM.q_sample": (_ddpm, lambda m, v: m.q_sample(v, _steps()), "x", _images),
    "DDPM.forward": (_ddpm, lambda m, v: m(v, _steps()), "x_t",
                     lambda dtype=torch.float32: torch.randn(3, 1, 8, 8).to(dtype)),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_float64_on_a_float32_model_is_refused_naming_the_argument_and_both_dtypes(entry):
    build, call, name, valid = ENTRIES[entry]
    with pytest.raises(ArgumentTypeError, match=rf"`{name}` has dtype torch.float64 but .* computes in "
                                                rf"torch.float32; .*pass {name}.float\(\)"):
        call(build(), valid(torch.float64))


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_integer_tensors_are_refused(entry):
    build, call, name, valid = ENTRIES[entry]
    with pytest.raises(ArgumentTypeError, match=rf"`{name}` must be a floating-point tensor, got dtype "
                                                "torch.int(64|32)"):
        call(build(), valid().round().to(torch.int32 if name == "z" else torch.int64))


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_lower_precision_is_converted_losslessly(entry):
    """Oracle: the same call on the input converted by hand (float16 -> float32 is exact)."""
    build, call, name, valid = ENTRIES[entry]
    model, v = build(), valid(torch.float16)
    torch.manual_seed(1)
    got = _first(call(model, v))
    torch.manual_seed(1)
    expected = _first(call(model, v.float()))
    assert got.dtype == expected.dtype
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_a_float64_model_takes_float32_inputs():
    vae, gan, ddpm = _vae().double(), _gan().double(), _ddpm().double()
    assert vae.elbo(_images()).dtype == torch.float64
    assert vae.decode(torch.zeros(2, 2)).dtype == torch.float64
    assert gan.discriminator(_images(shape=(2, 1, 28, 28))).dtype == torch.float64
    assert torch.isfinite(gan.sample(2, z=torch.zeros(2, 6))).all()
    assert ddpm.loss(_images()).dtype == torch.float64
    assert ddpm.sample(2, 2).dtype == torch.float64


def test_the_rule_itself():
    x = torch.ones(2)
    assert as_model_dtype(x, torch.float32) is x  # nothing to do
    assert as_model_dtype(x.half(), torch.float32).dtype == torch.float32
    assert as_model_dtype(x.bfloat16(), torch.float32).dtype == torch.float32
    assert as_model_dtype(x, torch.float64).dtype == torch.float64
    with pytest.raises(ArgumentTypeError, match=r"`w` has dtype torch.bfloat16 but the net computes in "
                                                r"torch.float16; .*pass w.half\(\)"):
        as_model_dtype(x.bfloat16(), torch.float16, name="w", who="the net")  # not exact either way
    with pytest.raises(ArgumentTypeError, match="must be a floating-point tensor, got dtype torch.bool"):
        as_model_dtype(x.bool(), torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast chooses the dtypes
        assert as_model_dtype(x.double(), torch.float32).dtype == torch.float64


def test_other_bad_tensor_arguments_name_themselves():
    ddpm, gan, vae = _ddpm(), _gan(), _vae()
    x = _images()
    cases = [
        (lambda: ddpm.loss(x, t=torch.zeros(3)), TypeError, r"`t` must hold integer 0-based steps"),
        (lambda: ddpm.loss(x, t=torch.full((3,), 10)), ValueError, r"`t` holds steps in \[10, 10\] but this "
                                                                   r"DDPM has 10 steps"),
        (lambda: ddpm.loss(x, t=torch.zeros(2, dtype=torch.long)), ValueError, r"`t` has shape \(2,\)"),
        (lambda: ddpm.loss(x, t=[0, 1, 2]), TypeError, r"`t` must be a \(3,\) integer tensor"),
        (lambda: ddpm.loss(x, noise=torch.randn(2, 1, 8, 8)), ValueError, r"`noise` must be a tensor of the "
                                                                          r"images' shape \(3, 1, 8, 8\)"),
        (lambda: ddpm(x, 3.5), TypeError, r"`t` must be a \(3,\) integer tensor"),
        (lambda: gan.sample(3, z=[[0.0] * 6] * 3), TypeError,
         r"`z` must be a torch.Tensor of shape \(3, 6\)"),
        (lambda: gan.sample(3, z=torch.zeros(2, 6)), ValueError, r"`z` has shape \(2, 6\) but this GAN takes "
                                                                 r"latent codes of shape \(3, 6\)"),
        (lambda: gan.sample(3, batch_size=0), ValueError, r"`batch_size` must be an int >= 1, got 0"),
        (lambda: gan.generator(torch.zeros(3, 5)), ValueError, r"`z` has shape \(3, 5\) but this "
                                                               "generator"),
        (lambda: vae.decode(torch.zeros(3, 5)), ValueError,
         r"`z` has shape \(3, 5\) but this VAE takes latent codes of shape \(\.\.\., 2\)"),
        (lambda: vae.decode([0.0, 1.0]), TypeError,
         r"`z` must be a torch.Tensor of shape \(\.\.\., 2\), got list"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()
