"""The training spine: the loop skeleton and the helpers that the VAE, GAN and DDPM trainers share.

In the style of torchvision's ``references/classification/utils.py`` (small shared helpers, no framework)
and diffusers' ``EMAModel`` (one EMA for every trainer):

* ``due``: the "every N steps, and at the last one" test of every cadence (logging, checkpoints,
  sample grids, evaluation).
* ``BatchStream``: endless batches, epoch after epoch, from any position, so that a run resumed
  mid-epoch sees exactly the batches an uninterrupted one would.
* ``EMA``: an exponential moving average of a module's weights with warm-up.
* ``fixed_rng``: a block run on its own seeded random stream (fixed-noise sample grids, repeatable
  evaluation) that leaves the training's stream untouched; ``eval_mode``, a block with a module in
  eval mode.
* ``StepLoop``: the loop skeleton. A trainer subclasses it, counts in steps, and fills in
  ``train_step``, ``after_step``, ``state_dict`` and ``load_state_dict``; the skeleton opens the run folder
  (resuming from ``checkpoints/last.pt``), runs the steps under a progress bar, writes checkpoints and
  builds the ``TrainingDiverged`` message (the step and the last good checkpoint).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from probgen.checkpoint import deferred_interrupt, expect_kind, rebuilding
from probgen.checks import check_float
from probgen.errors import TrainingDiverged, TrainingInterrupted
from probgen.progress import progress
from probgen.runs import RunDir


def due(step: int, every: int | None, total: int | None = None) -> bool:
    """True when a thing done every ``every`` steps is due after ``step`` steps: at each multiple of
    ``every`` and at the last step ``total``. ``every`` 0 or None turns it off."""
    return bool(every) and (step % every == 0 or step == total)


class BatchStream:
    """Endless batches of a loader, epoch after epoch, starting after ``seen`` batches.

    Epoch e of the stream iterates the loader after ``loader.set_epoch(first_epoch + e)``; a loader whose
    order depends only on its seed and the epoch (``probgen.data.TensorLoader``) then gives the same
    batches to a run resumed mid-epoch as to an uninterrupted one. Set ``seen`` to jump (resume,
    rollback): the next batch is the one after that many.

    Args:
        loader: a sized iterable of batches with ``set_epoch(epoch)``.
        seen: batches already drawn.
        first_epoch: the epoch number of the first pass (the VAE numbers its epochs from 1).
    """

    def __init__(self, loader, seen: int = 0, first_epoch: int = 0) -> None:
        if len(loader) == 0:
            raise ValueError("the loader yields no batch (fewer images than one batch); lower `batch_size`")
        self.loader, self.seen, self.first_epoch = loader, seen, first_epoch
        self._batches: Iterator | None = None
        self._at = -1  # `seen` when _batches was last advanced

    @property
    def epoch(self) -> int:
        """Completed passes over the loader."""
        return self.seen // len(self.loader)

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self):
        if self._batches is None or self._at != self.seen:  # first call, or `seen` was set
            self._batches = self._from(self.seen)
        batch = next(self._batches)
        self.seen += 1
        self._at = self.seen
        return batch

    def _from(self, seen: int) -> Iterator:
        epoch, skip = divmod(seen, len(self.loader))
        while True:
            self.loader.set_epoch(self.first_epoch + epoch)
            for i, batch in enumerate(self.loader):
                if i >= skip:
                    yield batch
            epoch, skip = epoch + 1, 0


class EMA:
    """An exponential moving average of ``model``'s weights, kept in ``average`` (a copy of it).

    After n earlier updates, ``average <- d average + (1 - d) model`` with ``d = min(decay, (1 + n) / (10 +
    n))``: the warm-up of TensorFlow's ``ExponentialMovingAverage`` and diffusers' ``EMAModel``, so that
    early samples do not come from the initial weights. Buffers (BatchNorm statistics) are copied.
    The weights live in ``average``'s own state dict; ``state_dict`` holds the update count.
    """

    def __init__(self, average: nn.Module, model: nn.Module, decay: float, updates: int = 0) -> None:
        self.decay = check_float("ema", decay, 0.0, 1.0, high_open=True)
        self.updates = updates
        self._pairs = (list(average.parameters()), list(model.parameters()), list(average.buffers()),
                       list(model.buffers()))

    @torch.no_grad()
    def update(self) -> None:
        avg_p, p, avg_b, b = self._pairs
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        torch._foreach_lerp_(avg_p, p, 1.0 - d)
        for e, g in zip(avg_b, b):
            e.copy_(g)

    def state_dict(self) -> dict:
        return {"updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.updates = int(state["updates"])


@contextmanager
def fixed_rng(seed: int, device: torch.device | str | None = None):
    """Run the block on torch's random stream seeded with ``seed``, then restore the stream as it was.

    The same draws every time (sample grids from fixed noise, repeatable evaluations), and how often the
    block runs does not change the training. ``device``: a CUDA device whose stream is forked too.
    """
    dev = torch.device(device) if device is not None else None
    with torch.random.fork_rng(devices=[dev] if dev is not None and dev.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


@contextmanager
def eval_mode(module: nn.Module):
    """Run the block with ``module`` in eval mode, then restore its mode (sampling in mid-training)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class StepLoop:
    """The loop skeleton of the trainers: steps, batches, the run folder, checkpoints, divergence.

    A subclass calls ``super().__init__`` with its loader, then ``open_run`` once its configuration,
    model and data are built and checked (so nothing is written for an invalid run), and defines:

    * ``train_step()``: one training step, ``self.step += 1``;
    * ``after_step(total)``: logging, checkpoints, sample grids, evaluation (each when ``due``);
    * ``state_dict()`` / ``load_state_dict(state)``: the full resumable state.

    Attributes:
        step: training steps done.
        batches: the ``BatchStream`` (``batches.seen`` is the data position).
        run: the ``RunDir`` on the writing process, else None.
        saved_step: the step of the last checkpoint written (None: none yet).
    """

    family = "training"  # the first word of messages and the progress bar's label
    objective = "loss"  # what the progress bar says is optimised (e.g. "ELBO", "D/G losses")
    bar_every = 10  # steps between updates of the bar's numbers (``progress_stats``)
    checkpoint_names: tuple[str, ...] = ("last",)  # what it writes in checkpoints/ (a fresh start clears)
    checkpoint_kind: str | None = None  # the "kind" of its checkpoints (probgen.checkpoint.KINDS), if any

    def __init__(self, loader, *, first_epoch: int = 0, is_main: bool = True, quiet: bool | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.step = 0
        self.batches = BatchStream(loader, first_epoch=first_epoch)
        self.is_main, self.quiet = is_main, quiet
        self.run: RunDir | None = None
        self.out: Path | None = None
        self.saved_step: int | None = None
        self.log = (log or (lambda msg: print(msg, file=sys.stderr))) if is_main else (lambda msg: None)

    def train_step(self) -> None:
        raise NotImplementedError

    def after_step(self, total: int) -> None:
        """Called after every step; the default does nothing."""

    def progress_stats(self) -> dict[str, float]:
        """The numbers the progress bar shows beside ``objective`` (the default: none)."""
        return {}

    def state_dict(self) -> dict:
        raise NotImplementedError

    def load_state_dict(self, state: dict) -> None:
        raise NotImplementedError

    def open_run(self, out, config: dict, *, resume: bool = False) -> bool:
        """Resume from ``out/checkpoints/last.pt`` when asked and there is one, then open the run folder
        (``config.json``, ``metrics.csv`` rows after the checkpoint dropped). Returns True if it resumed.

        The checkpoint is loaded before anything is written, so a refused resume leaves the folder as it was;
        a checkpoint that cannot be resumed (unreadable, of another kind, not fitting this run's model)
        raises a ``CheckpointError`` naming it. A fresh start (no resume) removes the checkpoints that
        this trainer writes (``checkpoint_names``) left by an earlier run in ``out``, so that the run
        folder's ``config.json`` and checkpoints always belong to one run. Opening the folder also removes
        the temporaries of saves that a kill interrupted (``RunDir``).
        """
        if out is None:
            return False
        self.out = Path(out)
        resumed = resume and RunDir(out, write=False).has("last")
        if resumed:
            self.resume_from(RunDir(out, write=False))
        run = RunDir(out, config, resume=resumed, write=self.is_main)
        if resumed:
            run.truncate_metrics("step", self.step)
        elif self.is_main:
            for name in self.checkpoint_names:
                (run.checkpoints / f"{name}.pt").unlink(missing_ok=True)
        self.run = run if self.is_main else None
        return resumed

    def resume_from(self, run: RunDir) -> None:
        """Load ``run``'s ``checkpoints/last.pt`` into this trainer (``load_state_dict``); any failure is a
        ``CheckpointError`` that names the file."""
        path = run.checkpoints / "last.pt"
        state = run.load("last")
        if self.checkpoint_kind is not None:
            expect_kind(state, self.checkpoint_kind, repr(str(path)))
        with rebuilding(repr(str(path)), f"a checkpoint of this {self.family} run"):
            self.load_state_dict(state)
        self.saved_step = self.step

    def fit_steps(self, total: int) -> None:
        """The loop: ``train_step`` and ``after_step`` until ``step`` reaches ``total``.

        Ctrl-C raises ``TrainingInterrupted`` (a KeyboardInterrupt) naming the last checkpoint.
        """
        quiet = self.quiet if self.is_main else True
        bar = progress(total=total, initial=self.step, desc=f"{self.family.lower()} ({self.objective})",
                       quiet=quiet, unit="step")
        try:
            while self.step < total:
                self.train_step()
                self.after_step(total)
                if not bar.disable and (self.step % self.bar_every == 0 or self.step == total):
                    bar.set_postfix({k: f"{v:.4g}" for k, v in self.progress_stats().items()}, refresh=False)
                bar.update(self.step - bar.n)
        except KeyboardInterrupt as e:
            if isinstance(e, TrainingInterrupted):
                raise
            raise self.interrupted() from e
        finally:
            bar.close()

    def save(self, name: str = "last", **extra) -> None:
        """Write ``checkpoints/<name>.pt`` (the full state plus ``extra``) on the writing process.

        Ctrl-C meanwhile takes effect once the checkpoint is written and recorded (``saved_step``).
        """
        with deferred_interrupt():
            if self.run is not None:
                self.run.save(name, {**self.state_dict(), **extra})
            if name == "last":
                self.saved_step = self.step

    def interrupted(self) -> TrainingInterrupted:
        """The error for Ctrl-C: the step reached and where the last checkpoint of this run is."""
        if self.out is None or self.saved_step is None:
            keep = "no run folder, so no checkpoint" if self.out is None else "no checkpoint was written yet"
            return TrainingInterrupted(f"{self.family} training interrupted at step {self.step}; {keep}")
        last = self.out / "checkpoints" / "last.pt"
        return TrainingInterrupted(f"{self.family} training interrupted at step {self.step}; the last "
                                   f"checkpoint is {last} (step {self.saved_step})", checkpoint=last,
                                   step=self.saved_step)

    def diverged(self, what: str, hint: str, step: int | None = None, where: str = "") -> TrainingDiverged:
        """The error for a run that diverged: ``what`` happened at ``step`` (default: the coming step;
        ``where`` may add e.g. the epoch), where the last good checkpoint is, and ``hint`` (what to try)."""
        step = self.step + 1 if step is None else step
        if self.out is None:
            keep = "no run folder, so no checkpoint"
        elif self.saved_step is None:
            keep = "no checkpoint was written yet"
        else:
            last = self.out / "checkpoints" / "last.pt"
            keep = f"the last good checkpoint is {last} (step {self.saved_step})"
        return TrainingDiverged(f"{self.family} training diverged: {what} at step {step}{where}; {keep}. "
                                f"{hint}")
