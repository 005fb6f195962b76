"""SIGKILL during a checkpoint save: last.pt stays a complete checkpoint (the old one or the new one), and
the next start of a run in that folder removes the temporary the kill left behind.

A child process saves checkpoints into ``run/checkpoints/last.pt`` in a loop (1 MB each, the step written
into every value) and is killed: once at a seeded random moment per case, and once while it is provably in
the middle of a save (its ``torch.save`` announces the write and waits to be killed).
"""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from probgen.checkpoint import TEMP_PATTERN, load_checkpoint
from probgen.runs import RunDir
from probgen.training.loop import StepLoop

CHILD = """
import sys, time
import torch
torch.set_num_threads(1)
from probgen.checkpoint import save_checkpoint

path, hang_at = sys.argv[1], int(sys.argv[2])
real_save = torch.save

def save(obj, f, *args, **kwargs):
    real_save(obj, f, *args, **kwargs)
    if obj["step"] == hang_at:  # half the file is on disk: announce it and wait to be killed
        f.flush()
        f.truncate(f.tell() // 2)
        print("in-save", flush=True)
        time.sleep(120)

torch.save = save
step = 0
while True:
    step += 1
    save_checkpoint(path, {"step": step, "w": torch.full((250_000,), float(step))})
    print(step, flush=True)
"""


def _start(last: Path, hang_at: int = -1) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(last), str(hang_at)], stdout=subprocess.PIPE,
                            text=True, env=env)


def _lines_until(proc: subprocess.Popen, predicate) -> list[str]:
    lines = []
    while not lines or not predicate(lines[-1]):
        line = proc.stdout.readline()
        assert line, "the saving process died"
        lines.append(line.strip())
    return lines


def _kill(proc: subprocess.Popen) -> list[str]:
    proc.kill()  # SIGKILL: no handler, no cleanup
    rest = proc.stdout.read().split()
    proc.wait(timeout=60)
    proc.stdout.close()
    return rest


def _check_complete(last: Path, allowed: set[int]) -> int:
    state = load_checkpoint(last)
    assert state["step"] in allowed
    assert torch.equal(state["w"], torch.full((250_000,), float(state["step"])))  # not a mix of two saves
    return state["step"]


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if TEMP_PATTERN.match(p.name)]


def test_a_kill_in_the_middle_of_a_save_leaves_the_old_checkpoint_and_debris_a_new_start_removes(tmp_path):
    run = tmp_path / "run"
    last = run / "checkpoints" / "last.pt"
    proc = _start(last, hang_at=3)
    _lines_until(proc, lambda line: line == "in-save")
    _kill(proc)
    assert _check_complete(last, {2}) == 2  # the save of step 3 never replaced it
    assert len(_temporaries(last.parent)) == 1  # the half-written step 3
    RunDir(run, resume=True)  # a later start (or resume) in that folder
    assert _temporaries(last.parent) == [] and _check_complete(last, {2}) == 2


@pytest.mark.parametrize("case", range(3))
def test_kills_at_random_moments_leave_a_complete_checkpoint(tmp_path, case):
    rng = random.Random(1000 + case)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    proc = _start(last)
    printed = _lines_until(proc, lambda line: int(line) >= 2)
    time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the loop, most likely inside a save
    printed += _kill(proc)
    done = int(printed[-1])
    _check_complete(last, {done, done + 1})  # the last reported save, or the next one if its rename ran
    Resumer(tmp_path / "run")  # a trainer's start removes the debris
    assert _temporaries(last.parent) == []


class Resumer(StepLoop):
    """The smallest trainer: it only opens (and resumes) its run folder."""

    def __init__(self, out):
        super().__init__([0], log=lambda msg: None)
        self.open_run(out, {"kind": "resumer"}, resume=True)

    def load_state_dict(self, state):
        self.step = int(state["step"])

    def state_dict(self):
        return {"step": self.step}
