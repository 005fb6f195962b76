"""``CompareConfig``: what ``probgen compare`` trains and how it scores (no torch, so ``--help`` stays light).

The budget is one string, the same for every model: ``"600s"`` (each model trains for 600 seconds of wall
time; the step count reached is stated in the table) or ``"4000steps"`` (each model makes 4,000 training
steps; a step is one minibatch update of every network of the model: the VAE's encoder and decoder
together, the GAN's discriminator then its generator). A step budget repeats exactly with the same seed; a
time budget does not (the steps reached depend on the machine's load).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from probgen import checks
from probgen.checks import ArgumentTypeError
from probgen.errors import ProbgenError

DATASETS = ("mnist-5k", "digits")  # the data sets with a shipped metric classifier (probgen.metrics)
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds|steps?)\s*$", re.IGNORECASE)

QUICK_STEPS = 30  # quick=True: at most this many steps per model (a time budget becomes this step budget)
QUICK_SAMPLES, QUICK_REPEATS = 200, 2
FULL_SAMPLES, FULL_REPEATS = 1000, 3


def parse_budget(text) -> tuple[str, float]:
    """``"600s"`` -> ("seconds", 600.0); ``"4000steps"`` -> ("steps", 4000). Else a ValueError naming
    ``budget``, echoing the value and showing both forms."""
    m = _BUDGET.match(text) if isinstance(text, str) else None
    if m is None:
        raise ProbgenError(f"`budget`={text!r} is not a budget; write seconds of wall time per model, e.g. "
                         "'600s', or training steps per model, e.g. '4000steps'")
    value, unit = float(m.group(1)), m.group(2).lower()
    if unit.startswith("step"):
        if value != int(value) or value < 1:
            raise ProbgenError(f"`budget`={text!r}: the step count must be a whole number >= 1, e.g. "
                               "'4000steps'")
        return "steps", int(value)
    if value <= 0:
        raise ProbgenError(f"`budget`={text!r}: the seconds must be > 0, e.g. '600s'")
    return "seconds", value


@dataclass
class CompareConfig:
    """One comparison run.

    Attributes:
        data: data set with a shipped metric classifier, ``"mnist-5k"`` or ``"digits"``.
        budget: per model, ``"<S>s"`` (wall seconds) or ``"<N>steps"`` (training steps).
        out: output folder (table.md, table.csv, figures/).
        quick: a smoke-sized run: at most 30 steps per model (a time budget becomes 30 steps, so quick runs
            repeat exactly), 200 samples and 2 sample sets unless given, a small IWAE.
        seed: seeds training, sampling and every evaluation subset.
        ddpm: also train and score the DDPM baseline (its own U-Net; not matched to the others).
        num_samples: images drawn per model and sample set (default 1,000; quick: 200).
        repeats: independent sample sets per model, for mean ± s.d. (default 3; quick: 2).
        batch_size: training images per step, the same for every model.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
    """

    data: str = "mnist-5k"
    budget: str = "600s"
    out: str | Path = "runs/compare"
    quick: bool = False
    seed: int = 0
    ddpm: bool = False
    num_samples: int | None = None
    repeats: int | None = None
    batch_size: int = 64
    device: str = "cpu"

    def __post_init__(self) -> None:
        checks.check_choice("data", self.data, DATASETS)
        parse_budget(self.budget)
        if not isinstance(self.out, str | Path) or not str(self.out).strip():
            raise ArgumentTypeError(f"`out` must be a folder path (str or Path), got {self.out!r}")
        self.quick = checks.check_bool("quick", self.quick)
        self.ddpm = checks.check_bool("ddpm", self.ddpm)
        self.seed = checks.check_int("seed", self.seed, 0)
        self.batch_size = checks.check_int("batch_size", self.batch_size, 2)
        self.device = checks.check_device_name("device", self.device)
        if self.num_samples is not None:
            self.num_samples = checks.check_int("num_samples", self.num_samples, 20)
        if self.repeats is not None:
            self.repeats = checks.check_int("repeats", self.repeats, 1)

    @classmethod
    def from_dict(cls, values: dict) -> CompareConfig:
        """Unknown keys raise, naming the closest field."""
        return checks.config_from_dict(cls, values)

    def to_dict(self) -> dict:
        return {**asdict(self), "out": str(self.out)}

    @property
    def steps_or_seconds(self) -> tuple[str, float]:
        """The effective budget per model: ("steps", N) or ("seconds", S); quick caps it at 30 steps."""
        unit, value = parse_budget(self.budget)
        if self.quick:
            return "steps", int(min(value, QUICK_STEPS)) if unit == "steps" else QUICK_STEPS
        return unit, value

    @property
    def samples(self) -> int:
        return self.num_samples or (QUICK_SAMPLES if self.quick else FULL_SAMPLES)

    @property
    def sample_sets(self) -> int:
        return self.repeats or (QUICK_REPEATS if self.quick else FULL_REPEATS)

    def budget_text(self) -> str:
        unit, value = self.steps_or_seconds
        return f"{int(value)} steps" if unit == "steps" else f"{value:g} s wall time"
