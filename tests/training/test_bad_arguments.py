"""Bad arguments of the public entry points of the VAE, GAN, DDPM and KL modules that used to end in a
traceback from inside torch or Python (AttributeError, RuntimeError, LinAlgError, ...): each is now one
ValueError/TypeError that names the argument.

Found by calling every entry point with a string, a float, None, a list, a negative, a bool, an array and
tensors of the wrong dtype or shape in turn for each argument."""

import math

import pytest
import torch
from torch.distributions import Normal

from probgen import kl
from probgen.diffusion import DDPM
from probgen.gan import GAN
from probgen.vae import VAE


@pytest.fixture(scope="module")
def models():
    return {"vae": VAE((1, 8, 8), z_dim=2, hidden=8),
            "cvae": VAE((1, 8, 8), z_dim=2, hidden=8, num_classes=3),
            "cgan": GAN.build(channels=1, image_size=28, latent_dim=4, num_classes=3, g_cfg={"ngf": 2},
                              d_cfg={"ndf": 2}),
            "ddpm": DDPM(x_shape=(1, 8, 8), timesteps=10, base_channels=8, channel_mults=(1,),
                         attention=False)}


X = torch.ones(2, 1, 8, 8)

CASES = {
    "VAE.encode(x=None)": (lambda m: m["cvae"].encode(None, torch.tensor([0, 1])), ValueError,
                           r"`x` \(images of shape \(B, C, H, W\)\) is required here"),
    "VAE.elbo(x=None)": (lambda m: m["vae"].elbo(None), ValueError, r"`x` \(images"),
    "VAE.sample(mean=tensor)": (lambda m: m["vae"].sample(2, mean=torch.ones(2)), TypeError,
                                r"`mean` must be True or False"),
    "VAE.sample(mean='no')": (lambda m: m["vae"].sample(2, mean="no"), TypeError,
                              r"`mean` must be True or False"),
    "VAE.decode(raw=1)": (lambda m: m["vae"].decode(torch.zeros(2, 2), raw=1), TypeError, "`raw`"),
    "VAE.reconstruct(mean=None)": (lambda m: m["vae"].reconstruct(X, mean=None), TypeError, "`mean`"),
    "VAE.elbo(analytic_kl=tensor)": (lambda m: m["vae"].elbo(X, analytic_kl=torch.ones(3)), TypeError,
                                     "`analytic_kl`"),
    "DDPM.sample(steps=tensor)": (lambda m: m["ddpm"].sample(2, torch.tensor([3, 4])), TypeError,
                                  r"`steps` must be an int in \[1, 10\]"),
    "DDPM.model(steps=tensor)": (lambda m: m["ddpm"].model(2, steps=torch.tensor([3])), TypeError, "`steps`"),
    "kl_monte_carlo(q=tensor)": (lambda m: kl.kl_monte_carlo(torch.zeros(2), Normal(0.0, 1.0)), TypeError,
                                 r"`q` must be a torch.distributions or Pyro distribution, got Tensor"),
    "kl_monte_carlo(p=float)": (lambda m: kl.kl_monte_carlo(Normal(0.0, 1.0), 1.0), TypeError,
                                r"`p` must be"),
    "gaussian_kl(mu_q=None)": (lambda m: kl.gaussian_kl(None, 1.0, 0.0, 1.0), TypeError,
                               r"`mu_q` must be a number or a tensor, got NoneType"),
    "gaussian_kl(mu_p=True)": (lambda m: kl.gaussian_kl(0.0, 1.0, True, 1.0), TypeError, "`mu_p`"),
    "gaussian_kl(sigma_q=-1)": (lambda m: kl.gaussian_kl(0.0, -1.0, 0.0, 1.0), ValueError,
                                r"`sigma_q` must be positive"),
    "gaussian_kl(shapes)": (lambda m: kl.gaussian_kl(torch.zeros(3), 1.0, torch.zeros(2), 1.0), ValueError,
                            r"the shapes of `mu_q` \(3,\), .* `mu_p` \(2,\), .* do not broadcast"),
    "mvn_kl(mu_q=float)": (lambda m: kl.mvn_kl(0.5, torch.eye(2), torch.zeros(2), torch.eye(2)), ValueError,
                           r"`mu_q` and `mu_p` must be means of shape \(\.\.\., D\)"),
    "mvn_kl(cov_q not PD)": (lambda m: kl.mvn_kl(torch.zeros(2), -torch.eye(2), torch.zeros(2),
                                                 torch.eye(2)),
                             ValueError, r"`cov_q` is not a covariance: not symmetric positive definite"),
    "mvn_kl(cov_p shape)": (lambda m: kl.mvn_kl(torch.zeros(2), torch.eye(2), torch.zeros(2), torch.eye(3)),
                            ValueError, r"`cov_p` must be a covariance of shape \(\.\.\., 2, 2\), got "
                                        r"\(3, 3\)"),
    "kl_term(shapes)": (lambda m: kl.kl_term(torch.ones(5, 5, 5) / 5, [0.5, 0.5]), ValueError,
                        r"`q` \(5, 5, 5\), `p` \(2,\) do not broadcast"),
    "bimodal(scales=0)": (lambda m: kl.bimodal(scales=(1.0, 0.0)), ValueError, r"`scales` must be positive"),
    "bimodal(weights=0.5)": (lambda m: kl.bimodal(weights=0.5), ValueError,
                             r"`locs`, `scales` and `weights` must be sequences of one length"),
    "bimodal(locs=nan)": (lambda m: kl.bimodal(locs=(0.0, math.nan)), ValueError, r"`locs` must be finite"),
    "bimodal(weights=-1)": (lambda m: kl.bimodal(weights=(1.0, -1.0)), ValueError, r"`weights` non-negative"),
    "fit_gaussian(p=list)": (lambda m: kl.fit_gaussian([1, 2]), TypeError,
                             r"`p` must be one 1-D distribution"),
    "fit_gaussian(lr=nan)": (lambda m: kl.fit_gaussian(kl.bimodal(), lr=math.nan), ValueError, "`lr`"),
    "fit_gaussian(lr=None)": (lambda m: kl.fit_gaussian(kl.bimodal(), lr=None), TypeError, "`lr`"),
    "fit_gaussian(init_loc=inf)": (lambda m: kl.fit_gaussian(kl.bimodal(), init_loc=math.inf), ValueError,
                                   "`init_loc`"),
    "fit_gaussian(num_samples=0)": (lambda m: kl.fit_gaussian(kl.bimodal(), num_samples=0), ValueError,
                                    "`num_samples`"),
    "fit_gaussian(seed=None)": (lambda m: kl.fit_gaussian(kl.bimodal(), seed=None), TypeError, "`seed`"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_argument_is_named(models, case):
    call, error, match = CASES[case]
    with pytest.raises(error, match=match):
        call(models)


def test_an_int_label_for_the_gan_program_means_a_whole_batch_of_that_class(models):
    """GAN.model(n, y=1) checked the int but passed it on unconverted (a TypeError inside embedding)."""
    x = models["cgan"].model(3, y=1)
    assert x.shape == (3, 1, 28, 28)


@pytest.mark.parametrize("family", ["vae", "gan", "ddpm"])
def test_the_trainers_check_their_run_folder_first(tmp_path, family):
    from probgen.diffusion.train import train_ddpm
    from probgen.gan.loop import train_gan
    from probgen.vae.train import train_vae

    train = {"vae": train_vae, "gan": train_gan, "ddpm": train_ddpm}[family]
    with pytest.raises(TypeError, match=r"`out` must be a folder path \(a str or a pathlib.Path\), got int"):
        train({}, 123)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match=r"`out` '.*file/run' cannot be created: '.*file' is a file"):
        train({}, tmp_path / "file" / "run")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
