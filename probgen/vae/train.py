"""Training a ``VAE`` with SVI, on the shared training spine (``probgen.training``).

``train_vae(config, out, resume=...)`` loads the data set, trains with ``pyro.infer.SVI`` (by default the fast
path, ``FastTrace_ELBO`` with ``JointOptim`` Adam), logs train and test
ELBO per epoch to ``out/metrics.csv``, keeps a resumable checkpoint ``out/checkpoints/last.pt`` (weights,
optimizer state, Pyro param store, step, data position, every RNG) at the end of every epoch, every
``ckpt_every`` steps and at the end, saves ``out/model.pt`` and draws the figures. It counts in SVI steps,
with ``epochs`` as the budget; a run resumed from a mid-epoch checkpoint continues from that very batch.

Under ``torchrun`` each process trains on its shard of every epoch and gradients are averaged across
processes before each optimizer step (``probgen.distributed.DistContext``); rank 0 writes the files.
A single-process resume continues bit for bit; a multi-process one continues from the same weights
and optimizer state with fresh per-process random streams (the checkpoint holds rank 0's RNG only).
A loss that turns NaN or infinite stops the run with ``TrainingDiverged``, naming the
step and the last good checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyro
import torch
from pyro.infer import SVI, JitTrace_ELBO, Trace_ELBO, TraceMeanField_ELBO

from probgen.checkpoint import expect_kind, load_param_store_state, load_weights, param_store_state
from probgen.data import ImageData, dataset_info, load_dataset
from probgen.distributed import DistContext, setup_distributed
from probgen.errors import CheckpointError, TrainingDiverged
from probgen.runs import RunDir
from probgen.seeding import derive_seed, get_rng_state, seed, set_rng_state
from probgen.training.config import differing_keys, resolve_run_config
from probgen.training.loop import StepLoop, due, fixed_rng
from probgen.vae.config import ELBOS, VAEConfig
from probgen.vae.fast import FastTrace_ELBO, FastTraceMeanField_ELBO, JointOptim
from probgen.vae.model import VAE

__all__ = ["TrainResult", "TrainingDiverged", "VAETrainer", "evaluate_elbo", "evaluate_iwae", "make_elbo",
           "train_vae"]


@dataclass
class TrainResult:
    """What ``train_vae`` produced."""

    vae: VAE
    run: RunDir
    config: VAEConfig
    metrics: list[dict] = field(default_factory=list)  # one row per epoch trained in this call
    test_log_likelihood: float | None = None  # mean IWAE estimate over the test images, nats
    figures: dict[str, Path] = field(default_factory=dict)


def make_elbo(name: str, num_particles: int = 1):
    """The Pyro ELBO for ``VAEConfig.elbo``: ``"fast"`` FastTrace_ELBO, ``"fast-meanfield"``
    FastTraceMeanField_ELBO (closed-form KL), ``"trace"`` Trace_ELBO, ``"meanfield"``
    TraceMeanField_ELBO, ``"jit"`` JitTrace_ELBO."""
    kw = dict(num_particles=num_particles, vectorize_particles=num_particles > 1, max_plate_nesting=1)
    if name == "jit":
        return JitTrace_ELBO(**kw, ignore_jit_warnings=True)
    classes = {"fast": FastTrace_ELBO, "fast-meanfield": FastTraceMeanField_ELBO, "trace": Trace_ELBO,
               "meanfield": TraceMeanField_ELBO}
    if name not in classes:
        raise ValueError(f"`elbo`={name!r} is not an ELBO; use one of {list(ELBOS)}")
    return classes[name](**kw)


def load_data(cfg: VAEConfig) -> tuple[ImageData, ImageData]:
    """Train and test splits, binarised as ``cfg.binarize`` says (dynamic: test split fixed)."""
    mode = cfg.binarize_mode()
    fixed = "stochastic" if mode == "dynamic" else mode
    train = load_dataset(cfg.data, "train", binarize=None if mode == "dynamic" else fixed, seed=cfg.seed)
    test = load_dataset(cfg.data, "test", binarize=fixed, seed=cfg.seed + 1)
    return train, test


def resolve_config(cfg: VAEConfig) -> VAEConfig:
    """Fill ``x_shape`` from the data set and check that the data fits the model."""
    info = dataset_info(cfg.data)
    if cfg.x_shape is None:
        cfg = replace(cfg, x_shape=info.shape)
    elif tuple(cfg.x_shape) != info.shape:
        raise ValueError(f"`x_shape`={tuple(cfg.x_shape)} but data set {cfg.data!r} has images of shape "
                         f"{info.shape}; drop `x_shape` or pick another data set")
    if cfg.num_classes is not None and cfg.num_classes < info.num_classes:
        raise ValueError(f"`num_classes`={cfg.num_classes} but {cfg.data!r} has {info.num_classes} classes")
    return cfg


@torch.no_grad()
def evaluate_elbo(vae: VAE, data: ImageData, batch_size: int = 500, seed: int = 0) -> float:
    """Mean per-image ELBO (nats) over ``data``: one-sample Monte Carlo, the Trace_ELBO estimator.

    Its draws come from a forked RNG seeded with ``seed``: the estimate repeats, and evaluating leaves the
    training's random stream untouched (how often one evaluates does not change the trained model).
    """
    with fixed_rng(seed, vae.device):
        vae.eval()
        total = 0.0
        for i in range(0, len(data.images), batch_size):
            x = data.images[i:i + batch_size].to(vae.device)
            y = data.labels[i:i + batch_size].to(vae.device) if vae.num_classes else None
            total += float(vae.elbo(x, y).sum())
        vae.train()
    return total / len(data.images)


@torch.no_grad()
def evaluate_iwae(vae: VAE, data: ImageData, num_samples: int, num_images: int,
                  batch_size: int = 100) -> float:
    """Mean IWAE log-likelihood estimate (nats) over ``num_images`` images of ``data``: all of them, or a
    random sample (a fixed seed, the same on every call), never the first ones of a label-sorted split."""
    n = min(num_images, len(data.images))
    pick = torch.randperm(len(data.images), generator=torch.Generator().manual_seed(0))[:n].sort().values
    total = 0.0
    for i in range(0, n, batch_size):
        idx = pick[i:i + batch_size]
        x = data.images[idx].to(vae.device)
        y = data.labels[idx].to(x.device) if vae.num_classes else None
        total += float(vae.log_likelihood(x, y, num_samples=num_samples).sum())
    return total / n


class VAETrainer(StepLoop):
    """SVI on a VAE, one step per batch, with an ELBO row and a checkpoint at the end of every epoch.

    Args:
        config: a resolved ``VAEConfig`` (``x_shape`` set; ``train_vae`` resolves it).
        out: the run folder (None: write nothing).
        resume: continue from ``out/checkpoints/last.pt`` when there is one.
        ctx: the (possibly single-process) distributed context.
        quiet: no progress bar (None: as ``probgen.progress`` is set).
    """

    family = "VAE"
    objective = "maximising the ELBO"
    checkpoint_kind = "probgen.vae.VAE"

    def __init__(self, config: VAEConfig, out=None, *, resume: bool = False, ctx: DistContext | None = None,
                 quiet: bool | None = None) -> None:
        self.config = cfg = config
        self.ctx = ctx = ctx or setup_distributed(cfg.device)
        seed(cfg.seed)
        self.train_data, self.test_data = load_data(cfg)
        self.vae = VAE(**cfg.model_kwargs()).to(ctx.device)
        ctx.broadcast_module(self.vae)
        if ctx.is_distributed:  # same weights everywhere, different draws of z per process
            seed(derive_seed(cfg.seed, rank=ctx.rank))
        pyro.clear_param_store()
        self.optim = JointOptim(torch.optim.Adam, {"lr": cfg.lr},
                                grad_hook=ctx.average_gradients if ctx.is_distributed else None)
        self.svi = SVI(self.vae.model, self.vae.guide, self.optim, make_elbo(cfg.elbo, cfg.num_particles))
        binarize = "stochastic" if cfg.binarize_mode() == "dynamic" else None
        loader = ctx.loader(self.train_data, cfg.batch_size, shuffle=True, binarize=binarize, seed=cfg.seed)
        super().__init__(loader, first_epoch=1, is_main=ctx.is_main, quiet=quiet)
        self.steps_per_epoch = len(loader)
        self.total = cfg.epochs * self.steps_per_epoch
        self.metrics: list[dict] = []  # epoch rows logged by this trainer
        self._epoch_loss, self._epoch_images, self._t0 = 0.0, 0, time.perf_counter()
        self.open_run(out, cfg.to_dict(), resume=resume)

    def train_step(self) -> None:
        x, y = next(self.batches)
        loss = self.svi.step(x, y) if self.vae.num_classes else self.svi.step(x)
        if not self._all_finite(loss):
            epoch, batch = divmod(self.step, self.steps_per_epoch)
            raise self.diverged(f"the loss became {loss}",
                                "Try a smaller --lr, or likelihood='bernoulli' for binary images",
                                where=f" (epoch {epoch + 1}, batch {batch + 1})")
        self._epoch_loss, self._epoch_images = self._epoch_loss + loss, self._epoch_images + len(x)
        self.step += 1

    def progress_stats(self) -> dict[str, float]:
        """The running train ELBO per image of this epoch (nats)."""
        return {"ELBO": -self._epoch_loss / self._epoch_images} if self._epoch_images else {}

    def _all_finite(self, loss: float) -> bool:
        ok = math.isfinite(loss)
        if self.ctx.is_distributed:  # every process must stop at the same step, or the others would hang
            ok = self.ctx.mean(1.0 if ok else 0.0) == 1.0
        return ok

    def after_step(self, total: int) -> None:
        if self.step % self.steps_per_epoch == 0:
            self._end_epoch()
        if due(self.step, self.steps_per_epoch, total) or due(self.step, self.config.ckpt_every):
            self.save()

    def _end_epoch(self) -> None:
        ctx = self.ctx
        row = {"epoch": self.step // self.steps_per_epoch, "step": self.step,
               "train_elbo": ctx.mean(-self._epoch_loss / self._epoch_images),
               "test_elbo": ctx.mean(evaluate_elbo(self.vae, self.test_data)),
               "seconds": time.perf_counter() - self._t0}
        if self.run is not None:
            self.run.log(**row)
        self.metrics.append(row)
        self._epoch_loss, self._epoch_images, self._t0 = 0.0, 0, time.perf_counter()

    def fit(self, steps: int | None = None) -> VAE:
        """Train until ``steps`` (default: ``epochs`` epochs) SVI steps are done; returns the VAE. A
        checkpoint is written at the end, so ``fit(steps)`` can stop mid-epoch and a resume continue."""
        self.fit_steps(self.total if steps is None else steps)
        return self.vae

    def state_dict(self) -> dict:
        return {"kind": "probgen.vae.VAE", "config": self.vae.config_dict(),
                "state_dict": self.vae.state_dict(),
                "epoch": self.step // self.steps_per_epoch, "step": self.step,
                "batches_seen": self.batches.seen, "epoch_loss": self._epoch_loss,
                "epoch_images": self._epoch_images, "train_config": self.config.to_dict(),
                "optim": self.optim.get_state(), "param_store": param_store_state(), "rng": get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore a checkpoint into the VAE, optimizer, param store, RNGs and data position."""
        expect_kind(state, "probgen.vae.VAE")
        mine = self.vae.config_dict()
        if state.get("config") != mine:
            keys = ", ".join(f"`{k}` ({a!r} in the checkpoint, {b!r} now)"
                             for k, (a, b) in differing_keys(state.get("config") or {}, mine).items())
            raise CheckpointError(f"its VAE differs from this run's in {keys}; use the options it was "
                                  "trained with or another --out")
        load_weights(self.vae, state["state_dict"])  # in place: the param store can keep these tensors
        self.vae.register_params()
        store = pyro.get_param_store()
        rest = {k: v for k, v in state["param_store"]["params"].items() if k not in store}
        load_param_store_state({"params": rest, "constraints": state["param_store"]["constraints"]})
        self.optim.set_state(state["optim"])
        set_rng_state(state["rng"])
        self.step = int(state.get("step", state["epoch"] * self.steps_per_epoch))  # older: epoch ends only
        self.batches.seen = int(state.get("batches_seen", self.step))
        self._epoch_loss = float(state.get("epoch_loss", 0.0))
        self._epoch_images = int(state.get("epoch_images", 0))
        if self.ctx.is_distributed:  # the checkpoint holds rank 0's RNG; give every process its own stream
            seed(derive_seed(self.config.seed, rank=self.ctx.rank, step=self.step))


def train_vae(config: VAEConfig | dict | None, out: str | Path, *, resume: bool = False,
              quiet: bool | None = None, ctx: DistContext | None = None) -> TrainResult:
    """Train a VAE as ``config`` says, into the run folder ``out``; see the module docstring.

    Args:
        config: a ``VAEConfig``, a dict of its fields, or None (defaults; on resume, the run's).
        out: the run folder.
        resume: continue the run in ``out``: its ``config.json`` is the configuration, which ``config``
            may change only in ``VAEConfig.RESUMABLE`` keys (e.g. ``{"epochs": 80}``); the model, optimizer,
            param store, RNGs and data position come from ``out/checkpoints/last.pt`` (a fresh start when
            there is none).
        quiet: no progress bar.
        ctx: a distributed context (default: ``probgen.distributed.setup_distributed``).

    Clears Pyro's param store. Raises ``probgen.errors.TrainingDiverged`` when the loss stops being finite.
    """
    cfg = resolve_run_config(VAEConfig, config, out, resume=resume, prepare=resolve_config)
    trainer = VAETrainer(cfg, out, resume=resume, ctx=ctx, quiet=quiet)
    trainer.fit()
    result = TrainResult(trainer.vae, trainer.run or RunDir(out, write=False), cfg, trainer.metrics)
    if trainer.ctx.is_main:
        trainer.vae.save(Path(out) / "model.pt", epochs=cfg.epochs, steps=trainer.step)
        _finish(trainer, result)
    trainer.ctx.barrier()
    return result


def _finish(trainer: VAETrainer, result: TrainResult) -> None:
    """Final IWAE log-likelihood, figures and ``summary.json`` (rank 0)."""
    vae, run, cfg, test = trainer.vae, trainer.run, trainer.config, trainer.test_data
    if cfg.iwae_samples:
        result.test_log_likelihood = evaluate_iwae(vae, test, cfg.iwae_samples, cfg.iwae_images)
    if cfg.figures:
        from probgen.vae.figures import training_figures

        result.figures = training_figures(vae, run, cfg, trainer.train_data, test, trainer.ctx)
    rows = run.read_metrics()
    last = {k: float(v) for k, v in rows[-1].items() if v != ""} if rows else {}
    summary = {"epochs": cfg.epochs, "steps": trainer.step, "test_elbo": last.get("test_elbo"),
               "train_elbo": last.get("train_elbo"), "test_log_likelihood": result.test_log_likelihood,
               "iwae_samples": cfg.iwae_samples, "iwae_images": min(cfg.iwae_images, len(test.images)),
               "figures": {k: str(Path(v).relative_to(run.path)) for k, v in result.figures.items()}}
    (run.path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
