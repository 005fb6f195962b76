"""Exceptions raised for user input. They subclass ValueError so plain ``except ValueError`` still works."""


class ProbgenError(ValueError):
    """Base class of probgen's user-facing errors."""


class CheckpointError(ProbgenError):
    """A file that should be a probgen checkpoint is missing, truncated or of another kind."""


class DatasetUnavailableError(ProbgenError, RuntimeError):
    """A data set needs a download and there is no network (or downloads are not allowed)."""
