"""What ``probgen edit`` and ``bench/editing.py`` share: a model from a run folder, seeded test images,
and the edit itself (observe, complete, one image grid).

A run folder is what ``probgen train vae|gan`` or ``probgen.diffusion.train_ddpm(config, out)`` writes:
``config.json`` (whose ``data`` names the data set) and a checkpoint, ``model.pt`` (the VAE's final model)
or else ``checkpoints/last.pt``; the checkpoint's ``kind`` says which family rebuilds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import torch

from probgen.checkpoint import load_checkpoint
from probgen.data import dataset_info, load_dataset
from probgen.errors import ProbgenError

__all__ = ["CHECKPOINTS", "LoadedRun", "load_run", "test_images"]

CHECKPOINTS = ("model.pt", "checkpoints/last.pt")  # tried in this order
_FAMILIES = {"probgen.vae.VAE": "vae", "probgen.gan.GAN": "gan", "probgen.diffusion.DDPM": "ddpm"}


class LoadedRun(NamedTuple):
    """A trained model, its family (``"vae"``, ``"gan"``, ``"ddpm"``), the run's data set name and the
    checkpoint file it came from."""

    model: torch.nn.Module
    family: str
    data: str | None
    checkpoint: Path


def load_run(path: str | os.PathLike, name: str = "model") -> LoadedRun:
    """The model of run folder ``path`` (``name`` is the argument named in errors, e.g. ``--model``).

    Raises:
        ProbgenError: no such folder, no checkpoint in it, or a checkpoint of no editable family
            (``CheckpointError``, a ProbgenError, for one that cannot be read).
    """
    run = Path(path)
    if not run.is_dir():
        what = "is a file, not a run folder" if run.exists() else "does not exist"
        raise ProbgenError(f"`{name}` {str(run)!r} {what}; give the --out folder of `probgen train vae` or "
                           "`probgen train gan` (or of probgen.diffusion.train_ddpm)")
    file = next((run / c for c in CHECKPOINTS if (run / c).is_file()), None)
    if file is None:
        raise ProbgenError(f"`{name}` {str(run)!r} holds no checkpoint ({' or '.join(CHECKPOINTS)}); is it "
                           "a finished training run?")
    state = load_checkpoint(file)
    kind = state.get("kind") if isinstance(state, dict) else None
    family = _FAMILIES.get(kind)
    if family is None:
        raise ProbgenError(f"`{name}` {str(run)!r}: its checkpoint {str(file)!r} is of kind {kind!r}, not a "
                           f"VAE, GAN or DDPM ({', '.join(_FAMILIES)})")
    model = _rebuild(family, state, file).eval()
    return LoadedRun(model, family, _run_data(run), file)


def _rebuild(family: str, state: dict, file: Path) -> torch.nn.Module:
    if family == "vae":
        from probgen.vae import VAE

        return VAE.load(file)
    if family == "gan":
        from probgen.gan import GAN

        return GAN.from_state(state, source=repr(str(file)))
    from probgen.diffusion import DDPM

    return DDPM.from_state(state, source=repr(str(file)))


def _run_data(run: Path) -> str | None:
    """The ``data`` entry of the run's config.json (None when it has none)."""
    try:
        data = json.loads((run / "config.json").read_text()).get("data")
    except (OSError, ValueError, AttributeError):
        return None
    return data if isinstance(data, str) else None


def test_images(data: str, n: int, seed: int, shape: tuple[int, int, int] | None = None,
                name: str = "data") -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` seeded random test images of data set ``data`` (never the first n: mnist-5k is sorted by
    label): images (n, C, H, W) in [0, 1] and labels (n,). ``shape``: the model's (C, H, W), checked."""
    info = dataset_info(data)
    if shape is not None and tuple(info.shape) != tuple(shape):
        raise ProbgenError(f"`{name}` {data!r} has images of shape {info.shape} but the model makes "
                           f"{tuple(shape)}; use the data set the model was trained on")
    test = load_dataset(data, "test")
    if not 1 <= n <= len(test.images):
        raise ProbgenError(f"`images`={n} must lie in [1, {len(test.images)}] (the {data!r} test split)")
    idx = torch.randperm(len(test.images), generator=torch.Generator().manual_seed(seed))[:n]
    return test.images[idx], test.labels[idx]


def run_edit(model: str | os.PathLike, task: str, out: str | os.PathLike, *, n: int = 8, images: int = 6,
             method: str | None = None, sigma_y: float | None = None, seed: int = 0, data: str | None = None,
             device: str | None = None, steps: int | None = None) -> Path:
    """``probgen edit``: observe ``images`` seeded test images through ``task``, draw ``n`` completions of
    each with the run's model (``probgen.editing.complete``), write the grid to ``out``; returns its path.

    A class-conditional model is given the test images' labels. ``method``/``sigma_y`` None: the sampler's
    defaults; ``steps``: the sampler's ``steps`` option (DDPM reverse steps, SVI steps), None: its default.
    The observation is noiseless, y = A(x).
    """
    from probgen.device import get_device
    from probgen.editing import task_operator
    from probgen.editing.grid import save_edit_grid
    from probgen.editing.posterior import image_shape

    run = load_run(model, "--model")
    shape = image_shape(run.model)
    if task == "colorize" and shape[0] != 3:
        raise ProbgenError(f"`--task` 'colorize' needs a model of colour (3-channel) images, but "
                           f"{str(model)!r} makes {shape}; train one on colour data, e.g. "
                           "`--data mnist-5k-colour`")
    data = data or run.data
    if data is None:
        raise ProbgenError(f"`--data`: {str(model)!r} has no config.json naming its data set; pass --data")
    op = task_operator(task, shape)
    dev = get_device(device or "auto")
    x, labels = test_images(data, images, seed, shape, name="--data")
    x, labels = x.to(dev), labels.to(dev)
    y = op.apply(x)  # (B, *shape_out)
    from probgen.editing.posterior import complete

    kwargs = {k: v for k, v in (("method", method), ("sigma_y", sigma_y), ("steps", steps)) if v is not None}
    if getattr(run.model, "num_classes", None):
        kwargs["labels"] = labels
    samples = complete(run.model.to(dev), y, op, num_samples=n, seed=seed, **kwargs)  # (n, B, C, H, W)
    return save_edit_grid(y, op, samples, x, out)
