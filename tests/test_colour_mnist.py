"""The embedded coloured mnist-5k: shape, determinism, its split and labels, and every trainer on it."""

import torch

from probgen.colour_mnist import LUMA, MIN_CONTRAST, colour_pairs
from probgen.data import dataset_info, load_dataset


def test_shape_range_labels_and_split_are_mnist5k():
    for split, n in (("train", 4000), ("test", 1000)):
        x, y = load_dataset("mnist-5k-colour", split)
        grey = load_dataset("mnist-5k", split)
        assert x.shape == (n, 3, 28, 28) and x.dtype == torch.float32
        assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
        assert torch.equal(y, grey.labels)
    assert dataset_info("mnist-5k-colour").shape == (3, 28, 28)


def test_deterministic_and_the_grey_level_is_recoverable():
    a, b = load_dataset("mnist-5k-colour", "test"), load_dataset("mnist-5k-colour", "test")
    assert torch.equal(a.images, b.images)
    grey = load_dataset("mnist-5k", "test").images  # (N, 1, 28, 28)
    luma = (a.images * torch.tensor(LUMA)[:, None, None]).sum(1, keepdim=True)  # (N, 1, 28, 28)
    lo, hi = luma.amin((2, 3), keepdim=True), luma.amax((2, 3), keepdim=True)  # (N, 1, 1, 1)
    slope = (hi - lo) / grey.amax((2, 3), keepdim=True)  # grey levels start at 0 in every digit
    # luminance is affine in the grey level, with slope luminance(fg) - luminance(bg) >= MIN_CONTRAST
    assert torch.allclose(lo + slope * grey, luma, atol=1e-4)
    assert float(slope.min()) >= MIN_CONTRAST - 1e-5


def test_colour_pairs_vary_and_keep_the_contrast():
    fg, bg = colour_pairs(2000, seed=3)
    luma = torch.tensor(LUMA).double().numpy()
    assert ((fg - bg) @ luma >= MIN_CONTRAST - 1e-6).all()
    assert fg.std(0).min() > 0.15 and bg.std(0).min() > 0.1  # colours spread over every channel
    assert (colour_pairs(5, seed=3)[0] != colour_pairs(5, seed=4)[0]).any()


def test_vae_and_gan_train_on_it_from_the_command_line(tmp_path):
    from probgen.cli import main

    assert main(["train", "vae", "--data", "mnist-5k-colour", "--likelihood", "gaussian", "--z-dim", "2",
                 "--hidden", "16", "--epochs", "1", "--batch-size", "500", "--iwae-samples", "0",
                 "--no-figures", "--quiet", "--out", str(tmp_path / "vae")]) == 0
    assert main(["train", "gan", "--data", "mnist-5k-colour", "--steps", "2", "--batch-size", "8", "--ngf",
                 "8", "--ndf", "8", "--eval-every", "0", "--quiet", "--out", str(tmp_path / "gan")]) == 0
    from probgen.gan import GAN
    from probgen.vae import VAE

    assert VAE.load(tmp_path / "vae" / "model.pt").sample(2).shape == (2, 3, 28, 28)
    assert GAN.load(tmp_path / "gan" / "checkpoints" / "last.pt").sample(2).shape == (2, 3, 28, 28)


def test_ddpm_trains_on_it(tmp_path):
    from probgen.diffusion import train_ddpm

    model = {"timesteps": 20, "base_channels": 8, "channel_mults": [1], "attention": False}
    ddpm = train_ddpm({"data": "mnist-5k-colour", "steps": 2, "batch_size": 8, "model": model,
                       "device": "cpu", "num_samples": 2, "sample_steps": 2}, tmp_path / "ddpm")
    assert ddpm.x_shape == (3, 28, 28) and ddpm.sample(2, steps=2).shape == (2, 3, 28, 28)
