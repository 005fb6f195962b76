"""Training a DDPM: Algorithm 1 of Ho et al. (2020, arXiv 2006.11239) with Adam, an EMA of the weights,
learning-rate warm-up and gradient clipping (their training details, scaled down).

:class:`DDPMTrainer` writes into a :class:`~probgen.runs.RunDir` when given one:

* ``metrics.csv``: every ``log_every`` steps the mean loss since the last row, the learning rate, images/s;
* ``checkpoints/last.pt`` every ``ckpt_every`` steps and at the end: a full resumable state (weights,
  EMA, optimiser, step, data position, RNG), atomic and ``weights_only``-loadable;
* ``figures/samples_<step>.png`` every ``sample_every`` steps, ``figures/samples.png`` and
  ``figures/loss.png`` at the end (grids drawn from the same noise each time).

A non-finite loss stops training with :class:`DivergenceError` before the bad step is applied; the last
checkpoint is left as it was.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable

import torch

from probgen.data import ImageData, TensorLoader, load_dataset
from probgen.device import get_device
from probgen.diffusion.config import TrainConfig
from probgen.diffusion.model import DDPM
from probgen.errors import ProbgenError
from probgen.plot import save_curves, save_image_grid
from probgen.progress import progress
from probgen.runs import RunDir
from probgen.seeding import get_rng_state, seed, set_rng_state


class DivergenceError(ProbgenError):
    """The training loss became NaN or infinite."""


def as_image_data(data) -> ImageData:
    """``data`` as :class:`ImageData`: an ImageData, an (images, labels) pair, an images tensor
    (N, C, H, W) or a data set name for :func:`probgen.data.load_dataset` (train split).

    Labels may be None (an images tensor has none)."""
    if isinstance(data, str):
        return load_dataset(data, "train")
    if isinstance(data, torch.Tensor):
        return ImageData(data, None)
    if isinstance(data, tuple | list) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return ImageData(data[0], data[1])
    raise TypeError(f"`data` must be an ImageData, an (images, labels) pair, an images tensor or a data set "
                    f"name, got {type(data).__name__}")


class DDPMTrainer:
    """Train a :class:`DDPM` on images.

    Args:
        ddpm: the model (moved to ``config.device``; an EMA copy is added when ``config.ema > 0``).
        data: training images: see :func:`as_image_data`; images (N, C, H, W) in [0, 1].
        config: a :class:`TrainConfig` or a dict of its fields; ``overrides`` replace fields.
        run: where to write metrics, figures and checkpoints (None: write nothing).
        log: where messages go (default: stderr).
    """

    def __init__(self, ddpm: DDPM, data, config: TrainConfig | dict | None = None, *,
                 run: RunDir | None = None, log: Callable[[str], None] | None = None, **overrides) -> None:
        if not isinstance(ddpm, DDPM):
            raise TypeError(f"`ddpm` must be a probgen.diffusion.DDPM, got {type(ddpm).__name__}")
        base = config.to_dict() if isinstance(config, TrainConfig) else dict(config or {})
        self.config = cfg = TrainConfig.from_dict({**base, **overrides})
        self.device = get_device(cfg.device)
        data = as_image_data(data)
        ddpm._check_x(data.images, name="data")  # shape and [0, 1] range, once for the whole set
        seed(cfg.seed)
        self.ddpm = ddpm.to(self.device)
        if cfg.ema > 0:
            self.ddpm.enable_ema()
        self.opt = torch.optim.Adam(self.ddpm.net.parameters(), lr=cfg.lr)
        labels = data.labels if ddpm.num_classes else None
        if ddpm.num_classes and labels is None:
            raise ValueError(f"this DDPM is class-conditional (num_classes={ddpm.num_classes}) but `data` "
                             "has no labels; pass an ImageData or an (images, labels) pair")
        self.loader = TensorLoader(data.images, labels, cfg.batch_size, drop_last=True, seed=cfg.seed,
                                   device=self.device)
        if len(self.loader) == 0:
            raise ValueError(f"`batch_size`={cfg.batch_size} exceeds the {len(data.images)} training images; "
                             "lower it")
        self.run = run
        self._log = log or (lambda msg: print(msg, file=sys.stderr))
        self.step, self.batches_seen = 0, 0

    # ----------------------------------------------------------------------------------------------- state

    def state_dict(self) -> dict:
        """A full resumable state (tensors, numbers, strings, lists and dicts only)."""
        return {"step": self.step, "batches_seen": self.batches_seen, "train_config": self.config.to_dict(),
                **self.ddpm.checkpoint_state(), "opt": self.opt.state_dict(), "rng": get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict` (e.g. ``run.load("last")``)."""
        mine = self.ddpm.config.to_dict()
        if state.get("ddpm_config") != mine:
            raise ValueError(f"the checkpoint's DDPM ({state.get('ddpm_config')}) differs from this one "
                             f"({mine}); resume with the configuration it was trained with")
        if state.get("ema") and self.ddpm.net_ema is None:
            self.ddpm.enable_ema()
        self.ddpm.load_state_dict(state["ddpm"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.batches_seen = int(state["step"]), int(state["batches_seen"])
        set_rng_state(state["rng"])

    def resume(self) -> bool:
        """Load ``checkpoints/last.pt`` of the run if it exists (dropping metrics rows logged after it)."""
        if self.run is None or not self.run.has("last"):
            return False
        self.load_state_dict(self.run.load("last"))
        self.run.truncate_metrics("step", self.step)
        self._log(f"probgen.diffusion: resumed from step {self.step} ({self.run.path})")
        return True

    # ------------------------------------------------------------------------------------------------ loop

    def _autocast(self):
        if self.config.amp:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _batches(self):
        """Endless batches, starting where ``batches_seen`` says (so a resumed run sees the same data)."""
        while True:
            epoch, skip = divmod(self.batches_seen, len(self.loader))
            self.loader.set_epoch(epoch)
            for i, batch in enumerate(self.loader):
                if i >= skip:
                    self.batches_seen += 1
                    yield batch

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """One Adam step on a batch x (B, C, H, W) in [0, 1]; returns the detached loss."""
        cfg = self.config
        for group in self.opt.param_groups:  # linear warm-up
            group["lr"] = cfg.lr * min(1.0, (self.step + 1) / cfg.warmup) if cfg.warmup else cfg.lr
        with self._autocast():
            loss = self.ddpm.loss(x, y)
        if not torch.isfinite(loss):
            raise DivergenceError(
                f"DDPM training stopped: the loss is {float(loss.detach())} at step {self.step + 1}; the "
                f"last checkpoint is kept. Lower `lr` (now {cfg.lr:g}), lengthen `warmup` (now "
                f"{cfg.warmup}) or keep `grad_clip` on (now {cfg.grad_clip:g})"
            )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.ddpm.net.parameters(), cfg.grad_clip)
        self.opt.step()
        self.step += 1
        self.update_ema()
        return loss.detach()

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- d ema + (1 - d) net, with d = min(ema, (1 + step) / (10 + step)) (a short warm-up)."""
        if self.ddpm.net_ema is None:
            return
        d = min(self.config.ema, (1 + self.step) / (10 + self.step))
        torch._foreach_lerp_(list(self.ddpm.net_ema.parameters()), list(self.ddpm.net.parameters()), 1.0 - d)
        for e, b in zip(self.ddpm.net_ema.buffers(), self.ddpm.net.buffers()):
            e.copy_(b)

    def fit(self, steps: int | None = None) -> DDPM:
        """Train until ``steps`` (default ``config.steps``) optimiser steps are done; returns the DDPM."""
        cfg = self.config
        total = steps if steps is not None else cfg.steps
        bar = progress(total=total, initial=self.step, desc="ddpm")
        batches, loss_sum, n_sum = self._batches(), 0.0, 0
        t0, step0 = time.perf_counter(), self.step
        self.ddpm.net.train()
        while self.step < total:
            x, y = next(batches)
            loss_sum, n_sum = loss_sum + float(self.train_step(x, y)), n_sum + 1
            bar.update(1)
            at = lambda every: every and (self.step % every == 0 or self.step == total)  # noqa: E731
            if at(cfg.log_every):
                rate = (self.step - step0) * cfg.batch_size / max(time.perf_counter() - t0, 1e-9)
                self._write_row(loss_sum / n_sum, rate)
                bar.set_postfix(loss=f"{loss_sum / n_sum:.4f}")
                loss_sum, n_sum = 0.0, 0
            if at(cfg.ckpt_every) and self.run is not None:
                self.run.save("last", self.state_dict())
            if at(cfg.sample_every):
                self.save_samples()
        bar.close()
        self._finish()
        return self.ddpm

    def _write_row(self, loss: float, rate: float) -> None:
        if self.run is not None:
            self.run.log(step=self.step, loss=loss, lr=self.opt.param_groups[0]["lr"], imgs_per_s=rate)

    # --------------------------------------------------------------------------------------------- figures

    def save_samples(self, name: str | None = None) -> None:
        """A grid of ``num_samples`` samples (``sample_steps`` of ``sample_method``) from fixed noise."""
        if self.run is None:
            return
        cfg, k = self.config, self.ddpm.num_classes
        y = torch.arange(cfg.num_samples, device=self.device) % k if k else None
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), self._autocast():
            torch.manual_seed(cfg.seed + 12345)  # the same noise every time, off the training stream
            steps = min(cfg.sample_steps, self.ddpm.timesteps)
            x = self.ddpm.sample(cfg.num_samples, steps, y=y, method=cfg.sample_method)
        nrow = k if k else max(1, int(math.sqrt(cfg.num_samples)))
        save_image_grid(x.float(), self.run.figure(name or f"samples_{self.step:06d}.png"), nrow=nrow)

    def _finish(self) -> None:
        if self.run is None:
            return
        self.run.save("last", self.state_dict())
        self.save_samples("samples.png")
        rows = [r for r in self.run.read_metrics() if r.get("loss", "") != ""]
        if rows:
            save_curves(rows, self.run.figure("loss.png"), x="step", keys=["loss"],
                        title="DDPM loss (noise MSE)", ylabel="loss")
        self._log(f"probgen.diffusion: trained {self.step} steps; run in {self.run.path}")


def train_ddpm(ddpm: DDPM, data, config: TrainConfig | dict | None = None, *, run: RunDir | None = None,
               resume: bool = False, log: Callable[[str], None] | None = None, **overrides) -> DDPM:
    """Train ``ddpm`` on ``data`` and return it: ``train_ddpm(ddpm, load_dataset("mnist-5k"), steps=3000)``.

    Args:
        ddpm: the :class:`DDPM`.
        data: an ImageData, (images, labels), an images tensor (N, C, H, W) in [0, 1], or a data set name.
        config: a :class:`TrainConfig` or dict; keyword ``overrides`` (e.g. ``steps=100``) replace fields.
        run: a :class:`~probgen.runs.RunDir` for metrics, figures and checkpoints.
        resume: continue from ``run``'s ``checkpoints/last.pt`` when there is one.
    """
    trainer = DDPMTrainer(ddpm, data, config, run=run, log=log, **overrides)
    if resume:
        trainer.resume()
    return trainer.fit()
