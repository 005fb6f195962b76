"""Every example script runs with its tiny SMOKE_ARGS (as Pyro's tests/test_examples.py does).

An example without SMOKE_ARGS fails here, so no example goes untested. "{out}" in SMOKE_ARGS is replaced by a
fresh temporary folder.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def smoke_args(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SMOKE_ARGS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    args = smoke_args(path)
    assert args is not None, f"{path.name} defines no SMOKE_ARGS, so no test covers it"
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path.name} needs a title docstring"
    args = [a.replace("{out}", str(tmp_path / "out")) for a in args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=600,
                         env=env, cwd=tmp_path)
    assert res.returncode == 0, f"{path.name} {' '.join(args)} failed:\n{res.stderr[-4000:]}"
