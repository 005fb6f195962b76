"""The GAN training loop: logging, sample grids, curves, checkpoints, NaN rollback, best-by-score.

:class:`GANTrainer` drives a :class:`~probgen.gan.train.GANStepper` for ``config.steps`` steps and, on
rank 0 of a distributed job, writes into a :class:`~probgen.runs.RunDir`:

* ``metrics.csv``: every ``log_every`` steps, the D and G losses, the minimax objective J, D(x) and
  D(G(z)) (mean sigmoid of D's logits), D's accuracy on the step's real and fake batches, images/s;
  plus the score (FID) every ``eval_every`` steps.
* ``figures/samples_<step>.png``: a grid from the same fixed z every ``sample_every`` steps (and labels 0-9
  row by row for a conditional GAN), so the grids show progress; ``figures/losses.png`` and
  ``figures/d_outputs.png``: the curves.
* ``checkpoints/last.pt`` every ``ckpt_every`` steps and ``checkpoints/best.pt`` whenever the score
  improves: full resumable states (both nets, both optimisers, EMA, step, data position, RNG).

Robustness: when a loss or weight turns NaN/inf the trainer rolls back to the last good state (the last
checkpoint, or the start), draws new random numbers so the same blow-up does not simply repeat, and goes on;
after ``max_rollbacks`` it stops with :class:`DivergenceError`.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterator

import torch

from probgen.data import ImageData, load_dataset
from probgen.distributed import DistContext, setup_distributed
from probgen.errors import ProbgenError
from probgen.gan.losses import minimax_objective
from probgen.gan.model import GAN
from probgen.gan.train import GANConfig, GANStepper, build_gan
from probgen.plot import save_curves, save_image_grid
from probgen.progress import progress
from probgen.runs import RunDir
from probgen.seeding import get_rng_state, seed, set_rng_state


class DivergenceError(ProbgenError):
    """Training losses stayed non-finite after every allowed rollback."""


def _stats(out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    real, fake = out["real"].float(), out["fake"].float()
    return {
        "d_loss": out["d_loss"], "g_loss": out["g_loss"], "objective": minimax_objective(real, fake),
        "d_real": torch.sigmoid(real).mean(), "d_fake": torch.sigmoid(fake).mean(),
        "d_acc": ((real > 0).float().mean() + (fake < 0).float().mean()) / 2,
    }


class GANTrainer:
    """Train a GAN on a data set.

    Args:
        config: the run's :class:`GANConfig`.
        data: training images (default: ``load_dataset(config.data, "train")``).
        run: where to write metrics, figures and checkpoints (None: write nothing).
        gan: networks to train (default: built from ``config`` for the data's shape).
        ctx: distributed context (default: :func:`probgen.distributed.setup_distributed`).
        score_fn: ``score_fn(gan) -> float``, lower is better (e.g. FID); used every ``eval_every`` steps
            to keep ``checkpoints/best.pt``.
        log: where messages go (rollbacks, a finished run); default: stderr on rank 0.
    """

    def __init__(self, config: GANConfig, *, data: ImageData | None = None, run: RunDir | None = None,
                 gan: GAN | None = None, ctx: DistContext | None = None,
                 score_fn: Callable[[GAN], float] | None = None, score_name: str = "fid",
                 log: Callable[[str], None] | None = None) -> None:
        self.config = config.validate()
        self.ctx = ctx or setup_distributed(config.device)
        data = data if data is not None else load_dataset(config.data, "train")
        seed(config.seed)
        num_classes = int(data.labels.max()) + 1 if config.conditional else 0
        gan = gan if gan is not None else build_gan(config, data.images.shape[1], data.images.shape[2],
                                                    num_classes)
        _check_data(gan, data, config.data)
        self.stepper = GANStepper(gan, config, self.ctx)
        self.gan = self.stepper.gan
        if self.ctx.is_distributed:  # same weights everywhere (broadcast), but each rank its own noise
            seed(config.seed + 7919 * self.ctx.rank)
        self.loader = self.ctx.loader(data, config.batch_size, drop_last=True, seed=config.seed)
        if len(self.loader) == 0:
            raise ValueError(f"`batch_size`={config.batch_size} exceeds the {len(data.images)} training "
                             "images (per process); lower it")
        self.run = run if self.ctx.is_main else None
        self.score_fn, self.score_name = score_fn, score_name
        if not self.ctx.is_main:
            self._log = lambda msg: None
        else:
            self._log = log or (lambda msg: print(msg, file=sys.stderr))
        self.step, self.batches_seen, self.rollbacks, self.best_score = 0, 0, 0, None
        self.fixed_z, self.fixed_y = self._fixed_noise()
        self._good = self._snapshot()

    # ----------------------------------------------------------------------------------------------- state

    def _fixed_noise(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        g = torch.Generator().manual_seed(self.config.seed + 12345)  # same on every rank, off the main stream
        k = self.gan.num_classes
        n = 10 * k if k else 64
        z = torch.randn(n, self.gan.latent_dim, generator=g)
        y = torch.arange(k).repeat_interleave(10) if k else None  # one class per row of the grid
        return z, y

    def state_dict(self) -> dict:
        """A full resumable state: nets, optimisers, EMA, step, data position, RNG, fixed noise."""
        return {"step": self.step, "batches_seen": self.batches_seen, "rollbacks": self.rollbacks,
                "best_score": self.best_score, "config": self.config.to_dict(), "spec": self.gan.spec,
                **self.stepper.state_dict(), "rng": get_rng_state(), "fixed_z": self.fixed_z,
                "fixed_y": self.fixed_y}

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict` (e.g. ``run.load("last")``)."""
        if state.get("spec") != self.gan.spec:
            raise ValueError(f"the checkpoint's GAN ({state.get('spec')}) differs from this run's "
                             f"({self.gan.spec}); resume with the configuration it was trained with")
        self.stepper.load_state_dict(state)
        self.step, self.batches_seen = int(state["step"]), int(state["batches_seen"])
        self.rollbacks, self.best_score = int(state["rollbacks"]), state["best_score"]
        self.fixed_z, self.fixed_y = state["fixed_z"], state["fixed_y"]
        set_rng_state(state["rng"])
        if self.ctx.is_distributed:  # the checkpoint holds rank 0's RNG; give each rank its own stream
            seed(self.config.seed + 7919 * self.ctx.rank + 104_729 * self.step)
        self._good = self._snapshot()

    def _snapshot(self) -> dict:
        return copy.deepcopy({k: v for k, v in self.state_dict().items() if k != "config"})

    # ------------------------------------------------------------------------------------------------ loop

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Endless batches, starting where ``batches_seen`` says (so a resumed run sees the same data)."""
        while True:
            epoch, skip = divmod(self.batches_seen, len(self.loader))
            self.loader.set_epoch(epoch)
            for i, batch in enumerate(self.loader):
                if i >= skip:
                    self.batches_seen += 1
                    yield batch

    def fit(self, steps: int | None = None) -> GAN:
        """Train until ``steps`` (default ``config.steps``) training steps are done; returns the GAN."""
        total = steps if steps is not None else self.config.steps
        cfg, batches = self.config, self._batches()
        bar = progress(total=total, initial=self.step, desc="gan", quiet=None if self.ctx.is_main else True)
        t0, seen0 = time.perf_counter(), self.batches_seen
        while self.step < total:
            out = self.stepper.step(batches)
            self.step += 1
            bar.update(1)
            at = lambda every: every and (self.step % every == 0 or self.step == total)  # noqa: E731
            if at(cfg.log_every) or at(cfg.ckpt_every):
                row = self._check_and_log(out, t0, seen0, log=at(cfg.log_every))
                if row is None:  # non-finite: rolled back
                    batches, t0, seen0 = self._batches(), time.perf_counter(), self.batches_seen
                    bar.n = self.step
                    continue
                bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}")
            if at(cfg.ckpt_every):
                self._checkpoint()
            if at(cfg.sample_every):
                self.save_samples()
            if at(cfg.eval_every) and self.score_fn is not None and self.ctx.is_main:
                self._evaluate()
        bar.close()
        self.ctx.broadcast_module(self.gan)  # BatchNorm statistics from rank 0, so every rank samples alike
        self._finish()
        return self.gan

    def _check_and_log(self, out, t0: float, seen0: int, log: bool) -> dict | None:
        stats = {k: self.ctx.mean(v) for k, v in _stats(out).items()}  # collective on every rank
        if not all(math.isfinite(v) for v in stats.values()) or not self._weights_finite():
            self._rollback(stats)
            return None
        elapsed = time.perf_counter() - t0
        imgs = (self.batches_seen - seen0) * self.config.batch_size * self.ctx.world_size
        row = {"step": self.step, **stats, "imgs_per_s": imgs / max(elapsed, 1e-9),
               "rollbacks": self.rollbacks}
        if log and self.run is not None:
            self.run.log(**row)
        return row

    def _weights_finite(self) -> bool:
        ok = all(bool(torch.isfinite(p).all()) for p in self.gan.parameters())
        return self.ctx.mean(float(ok)) == 1.0

    def _rollback(self, stats: dict) -> None:
        bad_step = self.step
        self.rollbacks += 1
        shown = ", ".join(f"{k}={stats[k]:.4g}" for k in ("d_loss", "g_loss"))
        if self.rollbacks > self.config.max_rollbacks:
            raise DivergenceError(
                f"GAN training diverged: non-finite loss or weights at step {bad_step} ({shown}) after "
                f"{self.config.max_rollbacks} rollback(s); lower `lr_g`/`lr_d` (now {self.config.lr_g:g}/"
                f"{self.config.lr_d:g}), or try loss 'hinge', an R1 penalty or spectral norm in D"
            )
        rollbacks = self.rollbacks
        self.stepper.load_state_dict(self._good)
        self.step, self.batches_seen = self._good["step"], self._good["batches_seen"]
        self.rollbacks = rollbacks
        seed(self.config.seed + 1_000_003 * rollbacks + 7919 * self.ctx.rank)  # a different random path
        self._log(f"probgen.gan: non-finite loss or weights at step {bad_step} ({shown}); rolled back to the "
                  f"last good state at step {self.step} (rollback {rollbacks} of at most "
                  f"{self.config.max_rollbacks})")

    def _checkpoint(self) -> None:
        self._good = self._snapshot()
        if self.run is not None:
            self.run.save("last", self.state_dict())

    def _evaluate(self) -> None:
        with torch.random.fork_rng(devices=[self.ctx.device] if self.ctx.device.type == "cuda" else []):
            score = float(self.score_fn(self.gan))
        if self.run is not None:
            self.run.log(step=self.step, **{self.score_name: score})
        if math.isfinite(score) and (self.best_score is None or score < self.best_score):
            self.best_score = score
            if self.run is not None:
                self.run.save("best", {**self.state_dict(), "score": score, "score_name": self.score_name})

    # --------------------------------------------------------------------------------------------- figures

    def save_samples(self, name: str | None = None) -> None:
        """Draw the fixed-z grid into ``figures/samples_<step>.png`` (rank 0 with a run only)."""
        if self.run is None:
            return
        dev = self.ctx.device
        y = self.fixed_y.to(dev) if self.fixed_y is not None else None
        x = self.gan.sample(len(self.fixed_z), y=y, z=self.fixed_z.to(dev))
        path = self.run.figure(name or f"samples_{self.step:06d}.png")
        save_image_grid(x, path, nrow=10 if y is not None else 8)

    def save_curves(self) -> None:
        """``figures/losses.png`` and ``figures/d_outputs.png`` from metrics.csv."""
        if self.run is None:
            return
        rows = [r for r in self.run.read_metrics() if r.get("d_loss", "") != ""]
        if not rows:
            return
        save_curves(rows, self.run.figure("losses.png"), x="step", keys=["d_loss", "g_loss"],
                    title=f"{self.config.loss} losses", ylabel="loss")
        save_curves(rows, self.run.figure("d_outputs.png"), x="step", keys=["d_real", "d_fake", "d_acc"],
                    title="D(x), D(G(z)) and D's accuracy", ylabel="probability")

    def _finish(self) -> None:
        if self.run is None:
            return
        self.save_samples("samples.png")
        self.save_curves()
        self._log(f"probgen.gan: trained {self.step} steps; run in {self.run.path}")


def _check_data(gan: GAN, data: ImageData, name: str) -> None:
    shape = tuple(data.images.shape[1:])
    if shape != gan.image_shape:
        raise ValueError(
            f"data set {name!r} has images of shape {shape} but the GAN makes {gan.image_shape}; build the "
            f"GAN with channels={shape[0]}, image_size={shape[1]} (or pick a data set of that shape)"
        )
    if gan.num_classes and int(data.labels.max()) >= gan.num_classes:
        raise ValueError(f"data set {name!r} has labels up to {int(data.labels.max())} but the GAN has "
                         f"num_classes={gan.num_classes}")


def train_gan(config: GANConfig | dict | None = None, **kwargs) -> GAN:
    """Build, train and return a GAN: ``train_gan({"steps": 500, "disc": "patchgan"}, run=RunDir(...))``.

    ``config`` is a :class:`GANConfig` or a dict of its fields; ``kwargs`` go to :class:`GANTrainer`.
    """
    if not isinstance(config, GANConfig):
        config = GANConfig.from_dict(config or {})
    return GANTrainer(config, **kwargs).fit()
