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
