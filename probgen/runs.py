"""Run directories: ``runs/<name>/`` with ``config.json``, ``metrics.csv``, ``figures/``, ``checkpoints/``.

Files are replaced atomically (a temporary ``.<name>.<8 characters>.tmp`` renamed over them), and opening a
run folder for writing removes such temporaries that a killed process left (in the folder and in
``checkpoints/``; nothing else is touched). This module imports no torch until a checkpoint is read or
written.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from probgen.checks import check_output_folder
from probgen.errors import ProbgenError


class RunDir:
    """One training run's folder.

    Args:
        path: the folder (created if missing; a file in the way is refused: ``checks.check_output_folder``).
        config: the run's configuration, written to ``config.json`` (JSON-serialisable values).
        resume: keep an existing ``metrics.csv`` (appending to it) instead of starting it afresh.
        write: False on processes that share the folder but write nothing (non-zero DDP ranks, readers).
    """

    def __init__(self, path: str | os.PathLike, config: dict[str, Any] | None = None, *,
                 resume: bool = False, write: bool = True) -> None:
        self.path = Path(path)
        self.write = write  # False on non-zero DDP ranks: they share the folder but write nothing
        self.figures = self.path / "figures"
        self.checkpoints = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.csv"
        if write:
            check_output_folder("out", self.path)
            for p in (self.path, self.figures, self.checkpoints):
                try:
                    p.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise ProbgenError(f"cannot create the run folder {str(p)!r}: {e.strerror or e}") from e
            self.remove_stale_temporaries()
            if config is not None:
                _write_atomic(self.path / "config.json", json.dumps(config, indent=2, default=str) + "\n")
            if not resume and self.metrics_path.exists():
                self.metrics_path.unlink()

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete what killed writes left: ``.<name>.<8 characters>.tmp`` files in the run folder and in
        ``checkpoints/`` (``probgen.checkpoint.TEMP_PATTERN``); returns them."""
        from probgen.checkpoint import remove_stale_temporaries

        return remove_stale_temporaries(self.path) + remove_stale_temporaries(self.checkpoints)

    def log(self, **values: Any) -> None:
        """Append one row to ``metrics.csv``; a new column rewrites the file with the wider header."""
        if not self.write:
            return
        rows = self.read_metrics()
        fields = list(rows[0].keys()) if rows else []
        new = [k for k in values if k not in fields]
        if new and rows:
            fields += new
            rows.append({k: values.get(k, "") for k in fields})
            self._rewrite(fields, rows)
            return
        fields = fields or list(values)
        exists = self.metrics_path.exists()
        with self.metrics_path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            if not exists:
                w.writeheader()
            w.writerow({k: _fmt(values.get(k, "")) for k in fields})

    def read_metrics(self) -> list[dict[str, str]]:
        """Rows of ``metrics.csv`` (strings, as written)."""
        if not self.metrics_path.exists():
            return []
        with self.metrics_path.open(newline="") as f:
            return list(csv.DictReader(f))

    def truncate_metrics(self, key: str, upto: float) -> None:
        """Drop rows whose ``key`` exceeds ``upto`` (used when resuming from an earlier checkpoint), and a
        last row that a killed process left half-written (no final newline, or ``key`` unreadable)."""
        if not self.write:
            return
        rows = self.read_metrics()
        if not rows:
            return
        fields = list(rows[0].keys())
        if not self.metrics_path.read_bytes().endswith(b"\n"):
            rows = rows[:-1]  # an append cut short
        kept = [r for r in rows if r.get(key, "") == "" or _at_most(r[key], upto)]
        self._rewrite(fields, kept)

    def _rewrite(self, fields: list[str], rows: list[dict]) -> None:
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k, "")) for k in fields})
        _write_atomic(self.metrics_path, buf.getvalue())

    def save(self, name: str, state: dict) -> Path | None:
        """Atomically write ``checkpoints/<name>.pt`` (on the writing rank only)."""
        from probgen.checkpoint import save_checkpoint

        return save_checkpoint(self.checkpoints / f"{name}.pt", state) if self.write else None

    def load(self, name: str, map_location="cpu") -> dict:
        """Read ``checkpoints/<name>.pt`` (``probgen.checkpoint.load_checkpoint``; ``CheckpointError`` when
        it is missing or not a readable probgen checkpoint)."""
        from probgen.checkpoint import load_checkpoint

        return load_checkpoint(self.checkpoints / f"{name}.pt", map_location=map_location)

    def has(self, name: str) -> bool:
        return (self.checkpoints / f"{name}.pt").exists()

    def figure(self, name: str) -> Path:
        """Path of a figure file in ``figures/``."""
        return self.figures / name

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path`` and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    try:
        with tmp.open("x", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _at_most(text: str | None, upto: float) -> bool:
    """``float(text) <= upto``; False for text that is not a number (a row cut short)."""
    try:
        return float(text) <= upto
    except (TypeError, ValueError):
        return False
