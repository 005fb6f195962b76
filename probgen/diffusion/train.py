"""Training a DDPM: Algorithm 1 of Ho et al. (2020, arXiv 2006.11239) with Adam, an EMA of the weights,
learning-rate warm-up and gradient clipping (their training details, scaled down), on the shared training
spine (``probgen.training.StepLoop``).

``train_ddpm(config, out, resume=...)`` (or ``DDPMTrainer``) writes into the run folder ``out``:

* ``config.json``: the ``TrainConfig``, with the full model configuration;
* ``metrics.csv``: every ``log_every`` steps the mean loss since the last row, the learning rate, images/s;
* ``checkpoints/last.pt`` every ``ckpt_every`` steps and at the end: a full resumable state (weights,
  EMA, optimiser, step, data position, RNG), atomic and ``weights_only``-loadable;
* ``figures/samples_<step>.png`` every ``sample_every`` steps, ``figures/samples.png`` and
  ``figures/loss.png`` at the end (grids drawn from the same noise each time).

A non-finite loss stops training with ``TrainingDiverged`` before the bad step is
applied, naming the step and the last good checkpoint, which is left as it was.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from probgen.checkpoint import expect_kind, load_weights
from probgen.checks import ArgumentTypeError
from probgen.data import ImageData, TensorLoader, load_dataset
from probgen.device import get_device
from probgen.diffusion.config import DDPMConfig, TrainConfig
from probgen.diffusion.model import DDPM, KIND
from probgen.errors import CheckpointError, TrainingDiverged
from probgen.plot import save_curves, save_image_grid
from probgen.seeding import get_rng_state, seed, set_rng_state
from probgen.training.config import differing_keys, resolve_run_config
from probgen.training.loop import EMA, StepLoop, due, fixed_rng

DivergenceError = TrainingDiverged  # the name this error had in probgen.diffusion before the training spine

__all__ = ["DDPMTrainer", "DivergenceError", "as_image_data", "train_ddpm"]


def as_image_data(data) -> ImageData:
    """``data`` as ``ImageData``: an ImageData, an (images, labels) pair, an images tensor
    (N, C, H, W) or a data set name for ``probgen.data.load_dataset`` (train split).

    Labels may be None (an images tensor has none)."""
    if isinstance(data, str):
        return load_dataset(data, "train")
    if isinstance(data, torch.Tensor):
        return ImageData(data, None)
    if isinstance(data, tuple | list) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return ImageData(data[0], data[1])
    raise ArgumentTypeError(f"`data` must be an ImageData, an (images, labels) pair, an images tensor or a "
                            f"data set name, got {type(data).__name__}")


class DDPMTrainer(StepLoop):
    """Train a ``DDPM`` on images.

    Args:
        config: a ``TrainConfig`` or a dict of its fields (None: defaults; on resume, the run's).
        out: the run folder for metrics, figures and checkpoints (None: write nothing).
        resume: continue the run in ``out``: its ``config.json`` must agree with ``config`` except in
            ``TrainConfig.RESUMABLE`` keys, and training goes on from ``checkpoints/last.pt``.
        ddpm: the model (default: built from ``config.model`` for the data's image shape; when given,
            ``config.model`` is ignored and ``config.json`` records this model's configuration); moved to
            ``config.device``, with an EMA copy added when ``config.ema > 0``.
        data: training images (default: ``config.data``): see ``as_image_data``; images
            (N, C, H, W) in [0, 1].
        log: where messages go (default: stderr).
    """

    family = "DDPM"
    objective = "minimising the denoising loss"
    checkpoint_kind = KIND

    def __init__(self, config: TrainConfig | dict | None = None, out=None, *, resume: bool = False,
                 ddpm: DDPM | None = None, data=None, log: Callable[[str], None] | None = None) -> None:
        if ddpm is not None and not isinstance(ddpm, DDPM):
            raise ArgumentTypeError(f"`ddpm` must be a probgen.diffusion.DDPM, got {type(ddpm).__name__}")
        self.data, self.ddpm = data, ddpm
        self.config = cfg = resolve_run_config(TrainConfig, config, out, resume=resume, prepare=self._resolve)
        self.device = get_device(cfg.device)
        seed(cfg.seed)
        self.ddpm = ddpm = (self.ddpm if self.ddpm is not None else DDPM(cfg.model)).to(self.device)
        ddpm._check_x(self.data.images, name="data")  # shape and [0, 1] range, once for the whole set
        if cfg.ema > 0:
            ddpm.enable_ema()
        self.ema = EMA(ddpm.net_ema, ddpm.net, cfg.ema) if ddpm.net_ema is not None else None
        self.opt = torch.optim.Adam(ddpm.net.parameters(), lr=cfg.lr)
        loader = self._loader()
        super().__init__(loader, log=log)
        self._sums, self._clock = (0.0, 0), (time.perf_counter(), 0)
        self.open_run(out, cfg.to_dict(), resume=resume)

    def _resolve(self, cfg: TrainConfig) -> TrainConfig:
        """Load the data; put the whole model configuration in ``cfg.model`` (as config.json has it)."""
        self.data = as_image_data(self.data if self.data is not None else cfg.data)
        if self.ddpm is not None:
            return replace(cfg, model=self.ddpm.config.to_dict())
        shape = tuple(self.data.images.shape[1:])  # (C, H, W); anything else is refused by DDPM._check_x
        model = {"x_shape": shape, **cfg.model} if len(shape) == 3 else cfg.model
        return replace(cfg, model=DDPMConfig.from_dict(model).to_dict())

    def _loader(self) -> TensorLoader:
        k, labels = self.ddpm.num_classes, self.data.labels
        if k and labels is None:
            raise ValueError(f"this DDPM is class-conditional (num_classes={k}) but `data` has no labels; "
                             "pass an ImageData or an (images, labels) pair")
        cfg = self.config
        loader = TensorLoader(self.data.images, labels if k else None, cfg.batch_size, drop_last=True,
                              seed=cfg.seed, device=self.device)
        if len(loader) == 0:
            raise ValueError(f"`batch_size`={cfg.batch_size} exceeds the {len(self.data.images)} training "
                             "images; lower it")
        return loader

    # ----------------------------------------------------------------------------------------------- state

    def state_dict(self) -> dict:
        """A full resumable state (tensors, numbers, strings, lists and dicts only)."""
        return {"step": self.step, "batches_seen": self.batches.seen, "train_config": self.config.to_dict(),
                **self.ddpm.checkpoint_state(), "opt": self.opt.state_dict(), "rng": get_rng_state(),
                "ema_updates": self.ema.updates if self.ema else 0}

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict`` (e.g. ``RunDir(out).load("last")``)."""
        expect_kind(state, KIND)
        mine = self.ddpm.config.to_dict()
        theirs = DDPMConfig.from_checkpoint(state["ddpm_config"]).to_dict()
        if theirs != mine:
            keys = ", ".join(f"`{k}` ({a!r} in the checkpoint, {b!r} now)"
                             for k, (a, b) in differing_keys(theirs, mine).items())
            raise CheckpointError(f"its DDPM differs from this run's in {keys}; resume with the "
                                  "configuration it was trained with")
        if state.get("ema") and self.ddpm.net_ema is None:
            self.ddpm.enable_ema()
            self.ema = EMA(self.ddpm.net_ema, self.ddpm.net, self.config.ema)
        load_weights(self.ddpm, state["ddpm"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.batches.seen = int(state["step"]), int(state["batches_seen"])
        if self.ema is not None:  # checkpoints from before probgen.training.EMA count its updates in steps
            self.ema.load_state_dict({"updates": state.get("ema_updates", self.step)})
        set_rng_state(state["rng"])

    # ------------------------------------------------------------------------------------------------ loop

    def _autocast(self):
        if self.config.amp:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def train_step(self) -> None:
        """One Adam step on the next batch x (B, C, H, W) in [0, 1] (the loss is checked first)."""
        x, y = next(self.batches)
        cfg = self.config
        for group in self.opt.param_groups:  # linear warm-up
            group["lr"] = cfg.lr * min(1.0, (self.step + 1) / cfg.warmup) if cfg.warmup else cfg.lr
        with self._autocast():
            loss = self.ddpm.loss(x, y)
        if not torch.isfinite(loss):
            raise self.diverged(f"the loss is {float(loss.detach())}",
                                f"Lower `lr` (now {cfg.lr:g}), lengthen `warmup` (now {cfg.warmup}) or keep "
                                f"`grad_clip` on (now {cfg.grad_clip:g})")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.ddpm.net.parameters(), cfg.grad_clip)
        self.opt.step()
        self.step += 1
        if self.ema is not None:
            self.ema.update()
        self._sums = (self._sums[0] + float(loss.detach()), self._sums[1] + 1)

    def progress_stats(self) -> dict[str, float]:
        """The mean denoising loss since the last logged row (just after a row: that row's)."""
        loss_sum, n = self._sums
        last = loss_sum / n if n else getattr(self, "_last_loss", None)  # _last_loss: set by after_step
        return {} if last is None else {"loss": last}

    def after_step(self, total: int) -> None:
        cfg = self.config
        if due(self.step, cfg.log_every, total):
            (t0, step0), (loss_sum, n) = self._clock, self._sums
            self._last_loss = loss_sum / max(n, 1)
            rate = (self.step - step0) * cfg.batch_size / max(time.perf_counter() - t0, 1e-9)
            if self.run is not None:
                self.run.log(step=self.step, loss=loss_sum / n, lr=self.opt.param_groups[0]["lr"],
                             imgs_per_s=rate)
            self._sums = (0.0, 0)
        if due(self.step, cfg.ckpt_every, total):
            self.save()
        if due(self.step, cfg.sample_every, total):
            self.save_samples()

    def fit(self, steps: int | None = None) -> DDPM:
        """Train until ``steps`` (default ``config.steps``) optimiser steps are done; returns the DDPM."""
        self._sums, self._clock = (0.0, 0), (time.perf_counter(), self.step)
        self.ddpm.net.train()
        self.fit_steps(steps if steps is not None else self.config.steps)
        self._finish()
        return self.ddpm

    # --------------------------------------------------------------------------------------------- figures

    def save_samples(self, name: str | None = None) -> None:
        """A grid of ``num_samples`` samples (``sample_steps`` of ``sample_method``) from fixed noise."""
        if self.run is None:
            return
        cfg, k = self.config, self.ddpm.num_classes
        y = torch.arange(cfg.num_samples, device=self.device) % k if k else None
        with fixed_rng(cfg.seed + 12345, self.device), self._autocast():  # the same noise every time
            x = self.ddpm.sample(cfg.num_samples, min(cfg.sample_steps, self.ddpm.timesteps), y=y,
                                 method=cfg.sample_method)
        nrow = k if k else max(1, int(math.sqrt(cfg.num_samples)))
        save_image_grid(x.float(), self.run.figure(name or f"samples_{self.step:06d}.png"), nrow=nrow,
                        title=f"DDPM samples at step {self.step} ({cfg.sample_method} sampler, fixed noise)")

    def _finish(self) -> None:
        if self.run is None:
            return
        if self.saved_step != self.step:
            self.save()
        self.save_samples("samples.png")
        rows = [r for r in self.run.read_metrics() if r.get("loss", "") != ""]
        if rows:
            save_curves(rows, self.run.figure("loss.png"), x="step", keys=["loss"],
                        title="DDPM loss (noise MSE)", ylabel="loss")
        self.log(f"probgen.diffusion: trained {self.step} steps; run in {self.run.path}")


def train_ddpm(config: TrainConfig | dict | None = None, out=None, *, resume: bool = False,
               ddpm: DDPM | None = None, data=None, log: Callable[[str], None] | None = None) -> DDPM:
    """Train a DDPM and return it: ``train_ddpm({"steps": 3000, "model": {"timesteps": 1000}}, "runs/ddpm")``.

    Args:
        config: a ``TrainConfig`` or a dict of its fields (None: defaults; on resume, the run's).
        out: the run folder for metrics, figures and checkpoints (None: write nothing).
        resume: continue the run in ``out`` (its ``config.json``; a dict ``config`` may then change only
            ``TrainConfig.RESUMABLE`` keys, e.g. ``{"steps": 6000}``) from ``checkpoints/last.pt``.
        ddpm: a ``DDPM`` to train instead of one built from ``config.model``.
        data: images instead of the data set ``config.data``: an ImageData, (images, labels), or an images
            tensor (N, C, H, W) in [0, 1].
    """
    return DDPMTrainer(config, out, resume=resume, ddpm=ddpm, data=data, log=log).fit()
