"""Exceptions raised for user input. They subclass ValueError so plain ``except ValueError`` still works."""


class ProbgenError(ValueError):
    """Base class of probgen's user-facing errors."""


class CheckpointError(ProbgenError):
    """A file that should be a probgen checkpoint is missing, truncated or of another kind."""


class DatasetUnavailableError(ProbgenError, RuntimeError):
    """A data set needs a download and there is no network (or downloads are not allowed)."""


class TrainingDiverged(ProbgenError, RuntimeError):
    """A training loss or weight became NaN or infinite (after any allowed rollbacks).

    The message names the step and the last good checkpoint. The CLI reports it with exit status 1
    (a failed run, not a usage error)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training. A ``KeyboardInterrupt``, so it stops a program as Ctrl-C does; the message
    names the step reached and the run's last checkpoint, which the command line turns into the exact
    command that resumes the run (exit status 130).

    Attributes:
        checkpoint: the run's ``checkpoints/last.pt`` written by this run (None: none yet, or no run folder).
        step: the step of that checkpoint (None when there is none).
    """

    def __init__(self, message: str, *, checkpoint=None, step: int | None = None) -> None:
        super().__init__(message)
        self.checkpoint, self.step = checkpoint, step
