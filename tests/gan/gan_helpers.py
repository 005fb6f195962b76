"""Small settings shared by the GAN tests (tiny widths keep the whole suite within its CPU budget)."""

import functools

import torch

from probgen.data import ImageData, load_dataset

# Tiny but complete versions of every architecture, for 28x28 grey images.
TINY = {
    ("generator", "dcgan"): {"ngf": 4, "latent_dim": 8},
    ("generator", "transformer"): {"dim": 32, "heads": 2, "depth": (1, 1), "latent_dim": 8},
    ("discriminator", "dcgan"): {"ndf": 4},
    ("discriminator", "patchgan"): {"ndf": 4},
    ("discriminator", "vit"): {"dim": 16, "depth": 1, "heads": 2, "patch_size": 7, "overlap": 1},
}


def tiny_cfg(role: str, name: str) -> dict:
    return dict(TINY[(role, name)])


@functools.cache
def small_mnist(n: int = 512) -> ImageData:
    """n random mnist-5k training images (called inside tests, so the data cache is the test session's)."""
    x, y = load_dataset("mnist-5k", "train")
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]
    return ImageData(x[idx].contiguous(), y[idx].contiguous())
