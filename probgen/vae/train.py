"""A small SVI training loop for :class:`~probgen.vae.VAE` (no Trainer class: one function and helpers).

``train_vae(config, out)`` loads the data set, trains with ``pyro.infer.SVI`` (by default the fast path,
:class:`~probgen.vae.FastTrace_ELBO` with :class:`~probgen.vae.JointOptim` Adam), logs train and test ELBO
per epoch to ``out/metrics.csv``, keeps a resumable checkpoint ``out/checkpoints/last.pt`` (weights,
optimizer state, Pyro param store, epoch, every RNG), saves ``out/model.pt`` and draws the figures.

Under ``torchrun`` each process trains on its shard of every epoch and gradients are averaged across
processes before each optimizer step (:class:`probgen.distributed.DistContext`); rank 0 writes the files.
A single-process ``--resume`` continues bit for bit; a multi-process one continues from the same weights
and optimizer state with fresh per-process random streams (the checkpoint holds rank 0's RNG only).
A loss that turns NaN or infinite stops the run with :class:`TrainingDiverged`; the last checkpoint written
is the last good epoch.
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

from probgen import seed as seed_all
from probgen.checkpoint import load_param_store_state, param_store_state
from probgen.data import ImageData, dataset_info, load_dataset
from probgen.distributed import DistContext, setup_distributed
from probgen.progress import progress
from probgen.runs import RunDir
from probgen.seeding import get_rng_state, set_rng_state
from probgen.vae.config import ELBOS, VAEConfig
from probgen.vae.fast import FastTrace_ELBO, FastTraceMeanField_ELBO, JointOptim
from probgen.vae.model import VAE


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the message names the last good checkpoint."""


@dataclass
class TrainResult:
    """What :func:`train_vae` produced."""

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
    vec = num_particles > 1
    if name == "fast":
        return FastTrace_ELBO(num_particles=num_particles, vectorize_particles=vec, max_plate_nesting=1)
    if name == "fast-meanfield":
        return FastTraceMeanField_ELBO(num_particles=num_particles, vectorize_particles=vec,
                                       max_plate_nesting=1)
    if name == "trace":
        return Trace_ELBO(num_particles=num_particles, vectorize_particles=vec, max_plate_nesting=1)
    if name == "meanfield":
        return TraceMeanField_ELBO(num_particles=num_particles, vectorize_particles=vec, max_plate_nesting=1)
    if name == "jit":
        return JitTrace_ELBO(num_particles=num_particles, vectorize_particles=vec, max_plate_nesting=1,
                             ignore_jit_warnings=True)
    raise ValueError(f"`elbo`={name!r} is not an ELBO; use one of {list(ELBOS)}")


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
    device = vae._device()
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        vae.eval()
        total = 0.0
        for i in range(0, len(data.images), batch_size):
            x = data.images[i:i + batch_size].to(device)
            y = data.labels[i:i + batch_size].to(device) if vae.num_classes else None
            total += float(vae.elbo(x, y).sum())
        vae.train()
    return total / len(data.images)


@torch.no_grad()
def evaluate_iwae(vae: VAE, data: ImageData, num_samples: int, num_images: int,
                  batch_size: int = 100) -> float:
    """Mean IWAE log-likelihood estimate (nats) over the first ``num_images`` images of ``data``."""
    n = min(num_images, len(data.images))
    total = 0.0
    for i in range(0, n, batch_size):
        x = data.images[i:min(n, i + batch_size)].to(vae._device())
        y = data.labels[i:min(n, i + batch_size)].to(x.device) if vae.num_classes else None
        total += float(vae.log_likelihood(x, y, num_samples=num_samples).sum())
    return total / n


def train_vae(config: VAEConfig | dict, out: str | Path, *, resume: bool = False, quiet: bool | None = None,
              ctx: DistContext | None = None) -> TrainResult:
    """Train a VAE as ``config`` says, into the run folder ``out``; see the module docstring.

    ``resume=True`` continues from ``out/checkpoints/last.pt`` (or starts afresh if there is none).
    Clears Pyro's param store. Raises :class:`TrainingDiverged` when the loss stops being finite.
    """
    cfg = config if isinstance(config, VAEConfig) else VAEConfig.from_dict(config)
    cfg = resolve_config(cfg)
    ctx = ctx or setup_distributed(cfg.device)
    seed_all(cfg.seed)
    train, test = load_data(cfg)
    vae = VAE(**cfg.model_kwargs()).to(ctx.device)
    ctx.broadcast_module(vae)
    if ctx.is_distributed:  # same weights everywhere, different draws of z per process
        torch.manual_seed(cfg.seed * 1_000 + ctx.rank)
    run = RunDir(out, cfg.to_dict(), resume=resume, write=ctx.is_main)
    pyro.clear_param_store()
    optim = JointOptim(torch.optim.Adam, {"lr": cfg.lr},
                       grad_hook=ctx.average_gradients if ctx.is_distributed else None)
    svi = SVI(vae.model, vae.guide, optim, make_elbo(cfg.elbo, cfg.num_particles))
    start = _resume(run, vae, optim, cfg, ctx) if resume else 0
    result = TrainResult(vae, run, cfg)
    _fit(svi, vae, optim, run, cfg, ctx, train, test, start, result, quiet)
    if ctx.is_main:
        vae.save(run.path / "model.pt", epochs=cfg.epochs)
        _finish(vae, run, cfg, ctx, train, test, result)
    ctx.barrier()
    return result


def _fit(svi, vae, optim, run, cfg, ctx, train, test, start, result, quiet) -> None:
    binarize = "stochastic" if cfg.binarize_mode() == "dynamic" else None
    loader = ctx.loader(train, cfg.batch_size, shuffle=True, binarize=binarize, seed=cfg.seed)
    cond = vae.num_classes is not None
    for epoch in range(start + 1, cfg.epochs + 1):
        loader.set_epoch(epoch)
        t0, total, n = time.perf_counter(), 0.0, 0
        bar = progress(loader, desc=f"epoch {epoch}/{cfg.epochs}", quiet=quiet if ctx.is_main else True)
        for step, (x, y) in enumerate(bar):
            loss = svi.step(x, y) if cond else svi.step(x)
            if not _all_finite(loss, ctx):
                raise TrainingDiverged(_diverged_message(run, epoch, step, loss))
            total, n = total + loss, n + len(x)
        row = {"epoch": epoch, "train_elbo": ctx.mean(-total / n),
               "test_elbo": ctx.mean(evaluate_elbo(vae, test)), "seconds": time.perf_counter() - t0}
        run.log(**row)
        result.metrics.append(row)
        run.save("last", _checkpoint(vae, optim, cfg, epoch))


def _all_finite(loss: float, ctx: DistContext) -> bool:
    ok = math.isfinite(loss)
    if ctx.is_distributed:  # every process must stop at the same step, or the others would hang
        ok = ctx.mean(1.0 if ok else 0.0) == 1.0
    return ok


def _diverged_message(run: RunDir, epoch: int, step: int, loss: float) -> str:
    last = run.checkpoints / "last.pt"
    keep = (f"the last good checkpoint is {last}" if last.exists()
            else "no epoch finished, so there is no checkpoint")
    return (f"training stopped: the loss became {loss} at epoch {epoch}, step {step + 1}; {keep}. "
            "Try a smaller --lr, or likelihood='bernoulli' for binary images")


def _checkpoint(vae: VAE, optim: JointOptim, cfg: VAEConfig, epoch: int) -> dict:
    return {"kind": "probgen.vae.VAE", "config": vae.config_dict(), "state_dict": vae.state_dict(),
            "epoch": epoch, "train_config": cfg.to_dict(), "optim": optim.get_state(),
            "param_store": param_store_state(), "rng": get_rng_state()}


def _resume(run: RunDir, vae: VAE, optim: JointOptim, cfg: VAEConfig, ctx: DistContext) -> int:
    """Restore the last checkpoint into ``vae``/``optim``/param store/RNGs; returns its epoch (0: none)."""
    if not run.has("last"):
        return 0
    state = run.load("last", map_location=vae._device())
    if state.get("config") != vae.config_dict():
        raise ValueError(f"cannot resume {run.path}: its checkpoint is of {state.get('config')} but the "
                         f"options ask for {vae.config_dict()}; use the same options or another --out")
    vae.load_state_dict(state["state_dict"])  # in place: the param store can keep these tensors
    vae._register("encoder")
    vae._register("decoder")
    store = pyro.get_param_store()
    rest = {k: v for k, v in state["param_store"]["params"].items() if k not in store}
    load_param_store_state({"params": rest, "constraints": state["param_store"]["constraints"]})
    optim.set_state(state["optim"])
    set_rng_state(state["rng"])
    if ctx.is_distributed:  # the checkpoint holds rank 0's RNG; give every process its own stream again
        torch.manual_seed(cfg.seed * 1_000 + ctx.rank + 7_919 * int(state["epoch"]))
    run.truncate_metrics("epoch", state["epoch"])
    return int(state["epoch"])


def _finish(vae, run, cfg, ctx, train, test, result) -> None:
    """Final IWAE log-likelihood, figures and ``summary.json`` (rank 0)."""
    if cfg.iwae_samples:
        result.test_log_likelihood = evaluate_iwae(vae, test, cfg.iwae_samples, cfg.iwae_images)
    if cfg.figures:
        from probgen.vae.figures import training_figures

        result.figures = training_figures(vae, run, cfg, train, test, ctx)
    rows = run.read_metrics()
    last = {k: float(v) for k, v in rows[-1].items() if v != ""} if rows else {}
    summary = {"epochs": cfg.epochs, "test_elbo": last.get("test_elbo"), "train_elbo": last.get("train_elbo"),
               "test_log_likelihood": result.test_log_likelihood, "iwae_samples": cfg.iwae_samples,
               "iwae_images": min(cfg.iwae_images, len(test.images)),
               "figures": {k: str(Path(v).relative_to(run.path)) for k, v in result.figures.items()}}
    (run.path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
