"""Run directories: ``runs/<name>/`` with ``config.json``, ``metrics.csv``, ``figures/``, ``checkpoints/``."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from probgen.checkpoint import load_checkpoint, save_checkpoint


class RunDir:
    """One training run's folder.

    Args:
        path: the folder (created if missing).
        config: the run's configuration, written to ``config.json`` (JSON-serialisable values).
        resume: keep an existing ``metrics.csv`` (appending to it) instead of starting it afresh.
    """

    def __init__(self, path: str | os.PathLike, config: dict[str, Any] | None = None, *,
                 resume: bool = False, write: bool = True) -> None:
        self.path = Path(path)
        self.write = write  # False on non-zero DDP ranks: they share the folder but write nothing
        self.figures = self.path / "figures"
        self.checkpoints = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.csv"
        if write:
            for p in (self.path, self.figures, self.checkpoints):
                p.mkdir(parents=True, exist_ok=True)
            if config is not None:
                (self.path / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
            if not resume and self.metrics_path.exists():
                self.metrics_path.unlink()

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
        """Drop rows whose ``key`` exceeds ``upto`` (used when resuming from an earlier checkpoint)."""
        if not self.write:
            return
        rows = self.read_metrics()
        if rows:
            kept = [r for r in rows if r.get(key, "") == "" or float(r[key]) <= upto]
            self._rewrite(list(rows[0].keys()), kept)

    def _rewrite(self, fields: list[str], rows: list[dict]) -> None:
        tmp = self.metrics_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for r in rows:
                w.writerow({k: _fmt(r.get(k, "")) for k in fields})
        os.replace(tmp, self.metrics_path)

    def save(self, name: str, state: dict) -> Path | None:
        """Atomically write ``checkpoints/<name>.pt`` (on the writing rank only)."""
        return save_checkpoint(self.checkpoints / f"{name}.pt", state) if self.write else None

    def load(self, name: str, map_location="cpu") -> dict:
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
