"""Named example networks: asia and alarm ship with probgen; the others come from pgmpy, if installed.

pgmpy (< 1.3) bundles the bnlearn repository's discrete networks as ``pgmpy/utils/example_models/*.bif.gz``
(asia, cancer, earthquake, sachs, survey, alarm, child, insurance, water, mildew, barley, hailfinder,
hepar2, win95pts, andes, pathfinder, pigs, link, diabetes, munin, munin1-4). :func:`load_network` finds them
there without importing pgmpy. The four Gaussian networks of the same repository (ecoli70, magic-niab,
magic-irri, arth150: pgmpy's ``example_models/*.json``) ship in ``data/`` and load through
``probgen.bayesnet.io.gaussian_json``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from probgen.bayesnet.io.bif import read_bif

_HERE = Path(__file__).parent / "data"


def _pgmpy_dir() -> Path | None:
    spec = importlib.util.find_spec("pgmpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "utils" / "example_models"
    return folder if folder.is_dir() else None


def network_path(name: str) -> Path:
    """The file of a named network (a bundled ``.bif`` first, else pgmpy's ``.bif.gz``)."""
    if not isinstance(name, str):
        raise TypeError(f"network name must be a str, got {name!r}")
    for own in (_HERE / f"{name}.bif", _HERE / f"{name}.json"):
        if own.is_file():
            return own
    folder = _pgmpy_dir()
    if folder is not None and (folder / f"{name}.bif.gz").is_file():
        return folder / f"{name}.bif.gz"
    raise ValueError(f"unknown network {name!r}; available: {list_networks()}"
                     + ("" if folder else " (install pgmpy<1.3 for the 24 bnlearn networks)"))


def list_networks() -> list[str]:
    """Names accepted by :func:`load_network` (sorted)."""
    names = {p.name[: -len(".bif")] for p in _HERE.glob("*.bif")} | {p.stem for p in _HERE.glob("*.json")}
    folder = _pgmpy_dir()
    if folder is not None:
        names |= {p.name[: -len(".bif.gz")] for p in folder.glob("*.bif.gz")}
    return sorted(names)


def load_network(name: str):
    """The named network as a :class:`~probgen.bayesnet.BayesNet` (e.g. ``load_network("asia")``, or the
    Gaussian ``load_network("ecoli70")``)."""
    path = network_path(name)
    if path.suffix == ".json":
        from probgen.bayesnet.io.gaussian_json import read_json

        return read_json(path, name=name)
    return read_bif(path)
