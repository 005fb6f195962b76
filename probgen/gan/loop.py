"""The GAN training loop: logging, sample grids, curves, checkpoints, NaN rollback, best-by-score.

``GANTrainer`` drives a ``GANStepper`` for ``config.steps`` steps on the shared
training spine (``probgen.training.StepLoop``) and, on rank 0 of a distributed job, writes into the run
folder ``out``:

* ``metrics.csv``: every ``log_every`` steps, the D and G losses, the minimax objective J, D(x) and
  D(G(z)) (mean sigmoid of D's logits), D's accuracy on the step's real and fake batches, images/s;
  plus the score (FID) every ``eval_every`` steps.
* ``figures/samples_<step>.png``: a grid from the same fixed z every ``sample_every`` steps (and labels 0-9
  row by row for a conditional GAN), so the grids show progress; ``figures/losses.png`` and
  ``figures/d_outputs.png``: the curves.
* ``checkpoints/last.pt`` every ``ckpt_every`` steps and ``checkpoints/best.pt`` whenever the score
  improves: full resumable states (both nets, both optimisers, EMA, step, data position, RNG).

Robustness: when a loss or weight turns NaN/inf the trainer rolls back to the last good state (the last
checkpoint, or the start), reseeds (``probgen.seeding.derive_seed`` with the rollback count) so the same
blow-up does not simply repeat, and goes on; after ``max_rollbacks`` it stops with
``TrainingDiverged``, naming the step and the last good checkpoint.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import torch

from probgen.checkpoint import expect_kind
from probgen.data import ImageData, load_dataset
from probgen.distributed import DistContext, setup_distributed
from probgen.errors import CheckpointError, TrainingDiverged
from probgen.gan.config import GANConfig
from probgen.gan.losses import minimax_objective
from probgen.gan.model import GAN, KIND, upgrade_spec
from probgen.gan.train import GANStepper, build_gan
from probgen.plot import save_curves, save_image_grid
from probgen.seeding import derive_seed, get_rng_state, seed, set_rng_state
from probgen.training.config import differing_keys, resolve_run_config
from probgen.training.loop import StepLoop, due, fixed_rng

DivergenceError = TrainingDiverged  # the name this error had in probgen.gan before the training spine

__all__ = ["DivergenceError", "GANTrainer", "train_gan"]


def _stats(out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    real, fake = out["real"].float(), out["fake"].float()
    return {
        "d_loss": out["d_loss"], "g_loss": out["g_loss"], "objective": minimax_objective(real, fake),
        "d_real": torch.sigmoid(real).mean(), "d_fake": torch.sigmoid(fake).mean(),
        "d_acc": ((real > 0).float().mean() + (fake < 0).float().mean()) / 2,
    }


class GANTrainer(StepLoop):
    """Train a GAN on a data set.

    Args:
        config: the run's ``GANConfig`` (or a dict of its fields).
        out: the run folder for metrics, figures and checkpoints (None: write nothing).
        resume: continue the run in ``out``: its ``config.json`` must agree with ``config`` except in
            ``GANConfig.RESUMABLE`` keys, and training goes on from ``checkpoints/last.pt``.
        data: training images (default: ``load_dataset(config.data, "train")``).
        gan: networks to train (default: built from ``config`` for the data's shape).
        ctx: distributed context (default: ``probgen.distributed.setup_distributed``).
        score_fn: ``score_fn(gan) -> float``, lower is better (e.g. FID); used every ``eval_every`` steps
            to keep ``checkpoints/best.pt``.
        log: where messages go (rollbacks, a finished run); default: stderr on rank 0.
    """

    family = "GAN"
    objective = "D/G losses"
    checkpoint_kind = KIND
    checkpoint_names = ("last", "best")

    def __init__(self, config: GANConfig | dict | None, out=None, *, resume: bool = False,
                 data: ImageData | None = None, gan: GAN | None = None, ctx: DistContext | None = None,
                 score_fn: Callable[[GAN], float] | None = None, score_name: str = "fid",
                 log: Callable[[str], None] | None = None) -> None:
        self.config = cfg = resolve_run_config(GANConfig, config, out, resume=resume)
        self.ctx = ctx or setup_distributed(cfg.device)
        data = data if data is not None else load_dataset(cfg.data, "train")
        seed(cfg.seed)
        num_classes = int(data.labels.max()) + 1 if cfg.conditional else None
        if gan is None:
            gan = build_gan(cfg, data.images.shape[1], data.images.shape[2], num_classes)
        _check_data(gan, data, cfg.data)
        self.stepper = GANStepper(gan, cfg, self.ctx)
        self.gan = self.stepper.gan
        if self.ctx.is_distributed:  # same weights everywhere (broadcast), but each rank its own noise
            seed(derive_seed(cfg.seed, rank=self.ctx.rank))
        loader = self.ctx.loader(data, cfg.batch_size, drop_last=True, seed=cfg.seed)
        if len(loader) == 0:
            raise ValueError(f"`batch_size`={cfg.batch_size} exceeds the {len(data.images)} training "
                             "images (per process); lower it")
        super().__init__(loader, is_main=self.ctx.is_main, log=log)
        self.score_fn, self.score_name = score_fn, score_name
        self.rollbacks, self.best_score, self._out = 0, None, None
        self.fixed_z, self.fixed_y = self._fixed_noise()
        if not self.open_run(out, cfg.to_dict(), resume=resume):
            self._good = self._snapshot()  # the state a rollback returns to (load_state_dict sets it too)
        self._clock = (time.perf_counter(), self.batches.seen)

    # ----------------------------------------------------------------------------------------------- state

    def _fixed_noise(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        k = self.gan.num_classes
        with fixed_rng(self.config.seed + 12345):  # same on every rank, off the training stream
            z = torch.randn(10 * k if k else 64, self.gan.latent_dim)
        y = torch.arange(k).repeat_interleave(10) if k else None  # one class per row of the grid
        return z, y

    def state_dict(self) -> dict:
        """A full resumable state: nets, optimisers, EMA, step, data position, RNG, fixed noise."""
        return {"kind": KIND, "step": self.step, "batches_seen": self.batches.seen,
                "rollbacks": self.rollbacks, "best_score": self.best_score, "config": self.config.to_dict(),
                "spec": self.gan.spec, **self.stepper.state_dict(), "rng": get_rng_state(),
                "fixed_z": self.fixed_z, "fixed_y": self.fixed_y}

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict`` (e.g. ``RunDir(out).load("last")``)."""
        expect_kind(state, KIND)
        theirs = upgrade_spec(state["spec"])
        if theirs != self.gan.spec:
            keys = ", ".join(f"`{k}` ({a!r} in the checkpoint, {b!r} now)"
                             for k, (a, b) in differing_keys(theirs, self.gan.spec or {}).items())
            raise CheckpointError(f"its GAN differs from this run's in {keys}; resume with the "
                                  "configuration it was trained with")
        self.stepper.load_state_dict(state)
        self.step, self.batches.seen = int(state["step"]), int(state["batches_seen"])
        self.rollbacks, self.best_score = int(state["rollbacks"]), state["best_score"]
        self.fixed_z, self.fixed_y = state["fixed_z"], state["fixed_y"]
        set_rng_state(state["rng"])
        if self.ctx.is_distributed:  # the checkpoint holds rank 0's RNG; give each rank its own stream
            seed(derive_seed(self.config.seed, rank=self.ctx.rank, step=self.step))
        self._good = self._snapshot()

    def _snapshot(self) -> dict:
        return copy.deepcopy({k: v for k, v in self.state_dict().items() if k != "config"})

    # ------------------------------------------------------------------------------------------------ loop

    def train_step(self) -> None:
        self._out = self.stepper.step(self.batches)
        self.step += 1

    def progress_stats(self) -> dict[str, float]:
        """The last step's discriminator and generator losses and D's outputs."""
        out = getattr(self, "_out", None)
        if out is None:
            return {}
        return {"D": float(out["d_loss"]), "G": float(out["g_loss"]),
                "D(x)": float(torch.sigmoid(out["real"].float()).mean()),
                "D(G(z))": float(torch.sigmoid(out["fake"].float()).mean())}

    def after_step(self, total: int) -> None:
        cfg = self.config
        log, ckpt = due(self.step, cfg.log_every, total), due(self.step, cfg.ckpt_every, total)
        if (log or ckpt) and not self._check_and_log(log):
            return  # non-finite: rolled back
        if ckpt:
            self._good = self._snapshot()
            self.save()
        if due(self.step, cfg.sample_every, total):
            self.save_samples()
        if due(self.step, cfg.eval_every, total) and self.score_fn is not None and self.ctx.is_main:
            self._evaluate()

    def fit(self, steps: int | None = None) -> GAN:
        """Train until ``steps`` (default ``config.steps``) training steps are done; returns the GAN."""
        self._clock = (time.perf_counter(), self.batches.seen)
        self.fit_steps(steps if steps is not None else self.config.steps)
        self.ctx.broadcast_module(self.gan)  # BatchNorm statistics from rank 0, so every rank samples alike
        self._finish()
        return self.gan

    def _check_and_log(self, log: bool) -> bool:
        stats = {k: self.ctx.mean(v) for k, v in _stats(self._out).items()}  # collective on every rank
        if not all(math.isfinite(v) for v in stats.values()) or not self._weights_finite():
            self._rollback(stats)
            return False
        t0, seen0 = self._clock
        imgs = (self.batches.seen - seen0) * self.config.batch_size * self.ctx.world_size
        if log and self.run is not None:
            self.run.log(step=self.step, **stats, imgs_per_s=imgs / max(time.perf_counter() - t0, 1e-9),
                         rollbacks=self.rollbacks)
        return True

    def _weights_finite(self) -> bool:
        ok = all(bool(torch.isfinite(p).all()) for p in self.gan.parameters())
        return self.ctx.mean(float(ok)) == 1.0

    def _rollback(self, stats: dict) -> None:
        bad_step, cfg = self.step, self.config
        shown = ", ".join(f"{k}={stats[k]:.4g}" for k in ("d_loss", "g_loss"))
        if self.rollbacks >= cfg.max_rollbacks:
            raise self.diverged(
                f"non-finite loss or weights ({shown})",
                f"Lower `lr_g`/`lr_d` (now {cfg.lr_g:g}/{cfg.lr_d:g}), or try loss 'hinge', an R1 penalty or "
                "spectral norm in D", step=bad_step, where=f" after {cfg.max_rollbacks} rollback(s)")
        rollbacks = self.rollbacks + 1
        self.stepper.load_state_dict(self._good)
        self.step, self.batches.seen = self._good["step"], self._good["batches_seen"]
        self.rollbacks = rollbacks
        seed(derive_seed(cfg.seed, rank=self.ctx.rank, step=self.step, attempt=rollbacks))  # another path
        self._clock = (time.perf_counter(), self.batches.seen)
        self.log(f"probgen.gan: non-finite loss or weights at step {bad_step} ({shown}); rolled back to the "
                 f"last good state at step {self.step} (rollback {rollbacks} of at most {cfg.max_rollbacks})")

    def _evaluate(self) -> None:
        with torch.random.fork_rng(devices=[self.ctx.device] if self.ctx.device.type == "cuda" else []):
            score = float(self.score_fn(self.gan))
        if self.run is not None:
            self.run.log(step=self.step, **{self.score_name: score})
        if math.isfinite(score) and (self.best_score is None or score < self.best_score):
            self.best_score = score
            self.save("best", score=score, score_name=self.score_name)

    # --------------------------------------------------------------------------------------------- figures

    def save_samples(self, name: str | None = None) -> None:
        """Draw the fixed-z grid into ``figures/samples_<step>.png`` (rank 0 with a run only)."""
        if self.run is None:
            return
        dev = self.ctx.device
        y = self.fixed_y.to(dev) if self.fixed_y is not None else None
        x = self.gan.sample(len(self.fixed_z), y=y, z=self.fixed_z.to(dev))
        path = self.run.figure(name or f"samples_{self.step:06d}.png")
        what = "one row per class" if y is not None else "the same fixed z at every step"
        save_image_grid(x, path, nrow=10 if y is not None else 8,
                        title=f"GAN samples at step {self.step} ({what})")

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
        self.log(f"probgen.gan: trained {self.step} steps; run in {self.run.path}")


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


def train_gan(config: GANConfig | dict | None = None, out=None, *, resume: bool = False, **kwargs) -> GAN:
    """Build, train and return a GAN: ``train_gan(GANConfig(steps=500, disc="patchgan"), "runs/gan")``.

    Args:
        config: a ``GANConfig``, a dict of its fields, or None (defaults; on resume, the run's).
        out: the run folder (None: write nothing).
        resume: continue the run in ``out`` (its ``config.json``; a dict ``config`` may then change only
            ``GANConfig.RESUMABLE`` keys, e.g. ``{"steps": 5000}``) from ``checkpoints/last.pt``.
        **kwargs: ``data``, ``gan``, ``ctx``, ``score_fn``, ``score_name``, ``log`` of ``GANTrainer``.
    """
    return GANTrainer(config, out, resume=resume, **kwargs).fit()
