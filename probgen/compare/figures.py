"""The figures of ``probgen compare``: sample grids side by side, nearest training neighbours, training
curves and the early generator-gradient norms of the saturating and non-saturating GAN losses."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import torch

from probgen.compare.core import ModelReport
from probgen.plot import save_figure, show_images


def _panels(n: int, ncols: int, w: float, h: float):
    rows = -(-n // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(w * ncols, h * rows), squeeze=False)
    axes = list(axes.flat)
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes


def samples_figure(reports: list[ModelReport], path: Path, budget: str, n: int = 64) -> Path:
    """One 8x8 grid per row of the table (real training digits first), titled with FID and classes."""
    fig, axes = _panels(len(reports), min(3, len(reports)), 3.6, 4.0)
    for ax, r in zip(axes, reports):
        pm = f" ± {r.spread['fid']:.1f}" if "fid" in r.spread else ""
        title = f"{r.name}\nFID {r.metrics['fid']:.1f}{pm}, {r.metrics['classes_covered']:g}/10 classes"
        show_images(r.samples[:n], ax=ax, nrow=8, title=title)
    fig.suptitle(f"Samples of each model after {budget} (conditional models: column k asks for digit k)")
    return save_figure(fig, path)


def neighbours_figure(pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], nn_mean: dict[str, float],
                      test_nn: float, path: Path) -> Path:
    """Per model: random samples (top row) above their nearest training images (bottom row)."""
    fig, axes = _panels(len(pairs), min(3, len(pairs)), 4.6, 2.3)
    for ax, (name, (samples, nearest)) in zip(axes, pairs.items()):
        show_images(torch.cat([samples, nearest]), ax=ax, nrow=len(samples),
                    title=f"{name}\nmean NN distance {nn_mean[name]:.2f}")
    fig.suptitle("Memorisation check: samples (top) and their nearest training images (bottom), pixel L2;\n"
                 f"real test digits lie {test_nn:.2f} from their nearest training digit", y=1.04)
    return save_figure(fig, path)


def curves_figure(trained: list, path: Path) -> Path:
    """One panel per model: each optimised quantity against the training step."""
    fig, axes = _panels(len(trained), min(3, len(trained)), 4.4, 3.2)
    for ax, t in zip(axes, trained):
        steps = t.curves.get("step", [])
        for key, values in t.curves.items():
            if key != "step":
                ax.plot(steps, values, label=key)
        ax.set(title=f"{t.name} ({t.steps} steps, {t.seconds:.0f} s)", xlabel="training step",
               ylabel=next(iter(k for k in t.curves if k != "step")) if len(t.curves) == 2 else "loss")
        if steps:
            ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle("Training curves (each point averages the steps since the last one)")
    fig.tight_layout()
    return save_figure(fig, path)


def grad_norm_figure(trained: list, path: Path) -> Path:
    """Generator gradient L2 norm at each early step, one line per GAN loss, log scale."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for t in trained:
        if t.grad_norms:
            ax.plot(range(1, len(t.grad_norms) + 1), t.grad_norms, label=t.name)
    ax.set_yscale("log")
    ax.set(xlabel="training step", ylabel="||grad of the generator loss|| (L2, all G weights)",
           title="Generator gradient norm early in training:\n"
                 "saturating (minimax) vs non-saturating GAN loss")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)
