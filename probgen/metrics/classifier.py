"""A small LeNet-like digit classifier: the feature extractor behind probgen's sample-quality metrics.

There are no Inception weights offline, so FID, precision/recall, density/coverage and class coverage are
computed on the penultimate features of a classifier trained on the offline data set itself (LeCun et al.
1998, "Gradient-based learning applied to document recognition", for the architecture). Its weights ship
with the package (``probgen/metrics/classifier_<dataset>.pt``), so every user gets the same metric; they
are produced by::

    python -m probgen.metrics.classifier --train --data mnist-5k
    python -m probgen.metrics.classifier --train --data digits

which is deterministic for a given seed, machine and thread count (the script uses one thread).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from probgen.checkpoint import expect_kind, load_checkpoint, load_weights, rebuilding, save_checkpoint
from probgen.checks import check_float, check_int, check_ints
from probgen.errors import CheckpointError

WEIGHTS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ClassifierConfig:
    image_size: int = 28  # input is (N, 1, image_size, image_size)
    channels: tuple[int, int] = (32, 64)  # output channels of the two conv layers
    kernel: int = 5  # conv kernel size (no padding for 5, "same" padding for 3)
    hidden: int = 128  # width of the penultimate layer: the feature dimension of every metric
    num_classes: int = 10
    dropout: float = 0.3  # before the last layer, training only

    def __post_init__(self) -> None:
        for name in ("image_size", "kernel", "hidden", "num_classes"):
            check_int(name, getattr(self, name), 1)
        check_ints("channels", self.channels, 1, length=2)
        check_float("dropout", self.dropout, 0.0, 1.0, high_open=True)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3  # Adam, cosine-annealed to zero
    weight_decay: float = 1e-4
    max_shift: int = 2  # random translation augmentation, in pixels

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("max_shift", self.max_shift, 0)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_float("weight_decay", self.weight_decay, 0.0)


CONFIGS = {
    "mnist-5k": (ClassifierConfig(), TrainConfig()),
    "digits": (ClassifierConfig(image_size=8, channels=(16, 32), kernel=3, hidden=64),
               TrainConfig(epochs=100, lr=3e-3, max_shift=0)),  # a 1-pixel shift is 1/8 of an 8x8 digit
}


class DigitClassifier(nn.Module):
    """conv-ReLU-maxpool twice, a hidden layer (the features), then the class logits.

    Args:
        config: sizes (see :class:`ClassifierConfig`).

    Attributes:
        num_features: feature dimension D (read by torchmetrics when used as its feature extractor).
    """

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ClassifierConfig()
        pad = 0 if cfg.kernel == 5 else cfg.kernel // 2
        c1, c2 = cfg.channels
        self.conv1 = nn.Conv2d(1, c1, cfg.kernel, padding=pad)
        self.conv2 = nn.Conv2d(c1, c2, cfg.kernel, padding=pad)
        side = cfg.image_size
        for _ in range(2):  # each conv shrinks by 2 * (kernel // 2 - pad), each pool halves
            side = (side - 2 * (cfg.kernel // 2 - pad)) // 2
        if side < 1:
            raise ValueError(f"`image_size`={cfg.image_size} is too small for kernel {cfg.kernel}")
        self.fc1 = nn.Linear(c2 * side * side, cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.num_classes)
        self.num_features = cfg.hidden

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features: (N, 1, H, W) images in [0, 1] -> (N, D), D = ``num_features``."""
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, c1, H', W')
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # (N, c2, s, s)
        return F.relu(self.fc1(h.flatten(1)))  # (N, D)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits from features: (N, D) -> (N, num_classes)."""
        return self.fc2(F.dropout(features, self.config.dropout, self.training))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits: (N, 1, H, W) -> (N, num_classes)."""
        return self.head(self.features(x))

    def __repr__(self) -> str:
        c = self.config
        return (f"DigitClassifier(image_size={c.image_size}, channels={c.channels}, kernel={c.kernel}, "
                f"features={c.hidden}, classes={c.num_classes})")


# ------------------------------------------------------------------------------------------------- training


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by its own random integer offset in [-max_shift, max_shift], zero-filled.

    (N, C, H, W) -> (N, C, H, W).
    """
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)  # (N, C, H + 2s, W + 2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]  # (N, 1, 1, W)
    idx = torch.arange(n)[:, None, None, None]
    return padded[idx, torch.arange(x.shape[1])[None, :, None, None], rows, cols]


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 1000) -> float:
    """Fraction of (N, 1, H, W) ``images`` whose predicted class equals ``labels`` (N,)."""
    was_training = model.training
    model.eval()
    correct = sum(int((model(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum())
                  for i in range(0, len(images), batch_size))
    model.train(was_training)
    return correct / len(images)


def training_subset(n: int, max_train: int | None, seed: int) -> torch.Tensor:
    """Indices of the ``max_train`` training images a shrunken run uses: a seeded random sample (all n
    when ``max_train`` is None), never the first ones of a label-sorted split."""
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[:max_train].sort().values


def train_classifier(dataset: str = "mnist-5k", *, seed: int = 0, epochs: int | None = None,
                     max_train: int | None = None, verbose: bool = False) -> tuple[DigitClassifier, dict]:
    """Train the domain classifier on ``dataset``'s train split; returns ``(model, info)``.

    ``info`` holds the configs, the seed, the train/test accuracy and the training time. ``epochs`` and
    ``max_train`` (a random sample of that many training images, drawn with ``seed``) shrink the run
    for tests.
    """
    from probgen.data import load_dataset

    if dataset not in CONFIGS:
        raise ValueError(f"no classifier config for `dataset`={dataset!r}; known: {list(CONFIGS)}")
    cfg, tcfg = CONFIGS[dataset]
    tcfg = TrainConfig(**{**asdict(tcfg), **({"epochs": epochs} if epochs is not None else {})})
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    keep = training_subset(len(train.labels), max_train, seed)
    x, y = train.images[keep], train.labels[keep]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = DigitClassifier(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    steps = tcfg.epochs * math.ceil(len(x) / tcfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    t0 = time.perf_counter()
    model.train()
    for epoch in range(tcfg.epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), tcfg.batch_size):
            idx = order[i : i + tcfg.batch_size]
            loss = F.cross_entropy(model(random_shift(x[idx], tcfg.max_shift, g)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if verbose:
            print(f"epoch {epoch + 1}/{tcfg.epochs}: loss {loss.item():.4f}", file=sys.stderr)
    model.eval()
    info = {"dataset": dataset, "seed": seed, "config": asdict(cfg), "train_config": asdict(tcfg),
            "train_accuracy": accuracy(model, x, y),
            "test_accuracy": accuracy(model, test.images, test.labels),
            "train_seconds": time.perf_counter() - t0, "n_train": len(x), "n_test": len(test.images)}
    return model, info


# ----------------------------------------------------------------------------------------------- weights


def weights_path(dataset: str) -> Path:
    """Where the shipped weights of ``dataset``'s classifier live."""
    return WEIGHTS_DIR / f"classifier_{dataset}.pt"


def save_classifier(model: DigitClassifier, info: dict, path: str | os.PathLike) -> Path:
    """Write weights and ``info`` as a probgen checkpoint (tensors, numbers, strings, lists, dicts)."""
    info = {**info, "config": {**info["config"], "channels": list(info["config"]["channels"])}}
    return save_checkpoint(path, {"state_dict": model.state_dict(), "info": info})


def load_classifier(dataset: str = "mnist-5k", path: str | os.PathLike | None = None,
                    device: str | torch.device = "cpu") -> DigitClassifier:
    """The trained classifier (eval mode, frozen), from ``path`` or the weights shipped for ``dataset``.

    Its training record (test accuracy, seed, configs) is in ``model.info``.
    """
    if path is None:
        if dataset not in CONFIGS:
            raise ValueError(f"no classifier ships for `dataset`={dataset!r}; known: {list(CONFIGS)}")
        path = weights_path(dataset)
    try:
        state = load_checkpoint(path)
    except CheckpointError as e:
        raise CheckpointError(f"{e}; retrain with `python -m probgen.metrics.classifier --train "
                              f"--data {dataset}`") from e
    source = repr(str(path))
    expect_kind(state, "probgen.metrics.DigitClassifier", source)
    with rebuilding(source, "a metrics classifier"):
        saved = state["info"]["config"]
        model = DigitClassifier(ClassifierConfig(**{**saved, "channels": tuple(saved["channels"])}))
        load_weights(model, state["state_dict"], source)
    model.info = state["info"]
    model.eval().requires_grad_(False)
    return model.to(device)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Train (or inspect) probgen's metric classifier.")
    p.add_argument("--train", action="store_true", help="train and write the weights")
    p.add_argument("--data", default="mnist-5k", choices=list(CONFIGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="override the config's epoch count")
    p.add_argument("--out", default=None, help="weights file (default: the shipped location)")
    args = p.parse_args(argv)
    out = Path(args.out) if args.out else weights_path(args.data)
    if args.train:
        torch.set_num_threads(1)  # one thread: the same weights on every run of this machine
        model, info = train_classifier(args.data, seed=args.seed, epochs=args.epochs, verbose=True)
        save_classifier(model, info, out)
        print(f"wrote {out}")
    model = load_classifier(args.data, out)
    for k in ("dataset", "seed", "n_train", "n_test", "train_accuracy", "test_accuracy", "train_seconds"):
        print(f"{k}: {model.info[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
