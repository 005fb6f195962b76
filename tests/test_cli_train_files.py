"""The training commands' file arguments and Ctrl-C: one-line errors with exit status 2 and nothing written
for a missing data set, an output folder that cannot be one, an invalid --config; for Ctrl-C no traceback,
exit status 130, where the last checkpoint is and the command that resumes the run."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from probgen.checkpoint import load_checkpoint
from probgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
VAE = ["train", "vae", "--data", "digits", "--z-dim", "2", "--hidden", "8", "--iwae-samples", "0",
       "--no-figures", "--epochs", "1"]
GAN = ["train", "gan", "--data", "digits", "--ngf", "2", "--ndf", "2", "--latent-dim", "4", "--batch-size",
       "16", "--eval-every", "0", "--steps", "2"]


def _one_line_error(capsys, argv, match, tmp_path):
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("probgen: error: "), err
    assert match in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written


@pytest.mark.parametrize("command", [VAE, GAN], ids=["vae", "gan"])
def test_a_data_set_that_does_not_exist(tmp_path, capsys, command):
    argv = [*command, "--data", str(tmp_path / "mine.npz"), "--out", str(tmp_path / "run")]
    _one_line_error(capsys, argv, f"Unknown data set {str(tmp_path / 'mine.npz')!r}; known: ", tmp_path)


@pytest.mark.parametrize("command", [VAE, GAN], ids=["vae", "gan"])
def test_an_output_folder_that_cannot_be_one(tmp_path, capsys, command):
    blocker = tmp_path / "results.txt"
    blocker.write_text("mine")
    _one_line_error(capsys, [*command, "--out", str(blocker)],
                    f"`--out` {str(blocker)!r} is a file, not a folder", tmp_path)
    _one_line_error(capsys, [*command, "--out", str(blocker / "run")],
                    f"`--out` {str(blocker / 'run')!r} cannot be created: {str(blocker)!r} is a file",
                    tmp_path)
    assert blocker.read_text() == "mine"


@pytest.mark.parametrize("text, match", [
    ('{"z_dim": 2,}', "is not valid JSON: Expecting property name enclosed in double quotes at line 1, "
                      "column 13"),
    ('{\n  "z_dim": 2\n  "epochs": 3\n}', "is not valid JSON: Expecting ',' delimiter at line 3, column 3"),
    ("[1, 2]", "must hold a JSON object of VAEConfig fields, got a JSON list"),
    ('{"z_dimm": 2}', "unknown VAEConfig key 'z_dimm'; did you mean 'z_dim'?"),
])
def test_an_invalid_config_file_is_named(tmp_path, capsys, text, match):
    config = tmp_path / "vae.json"
    config.write_text(text)
    named = "" if "unknown" in match else f"`--config` {str(config)!r} "
    _one_line_error(capsys, [*VAE, "--config", str(config), "--out", str(tmp_path / "run")], named + match,
                    tmp_path)


def test_a_config_file_that_is_missing_or_a_folder(tmp_path, capsys):
    out = ["--out", str(tmp_path / "run")]
    _one_line_error(capsys, [*VAE, "--config", str(tmp_path / "nope.json"), *out],
                    f"`--config` {str(tmp_path / 'nope.json')!r}: no such file", tmp_path)
    _one_line_error(capsys, [*VAE, "--config", str(tmp_path), *out],
                    f"`--config` {str(tmp_path)!r} is a folder; give a file", tmp_path)
    (tmp_path / "ok.json").write_text(json.dumps({"lr": 0.002}))  # and a valid one is used
    assert main(["--quiet", *VAE, "--config", str(tmp_path / "ok.json"), *out]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["lr"] == 0.002


# ------------------------------------------------------------------------------------------------- Ctrl-C

def _start(argv):
    """``probgen argv`` in a child process with Python's own Ctrl-C handling (whatever the test runner's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROBGEN_TEST_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "probgen.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt_after_a_checkpoint(argv, out: Path):
    proc = _start(argv)
    last = out / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 300
    while not last.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 5 minutes"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _check_report(err: str, out: Path, argv: list[str]) -> int:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    last = out / "checkpoints" / "last.pt"
    assert len(lines) == 2, err
    assert "training interrupted at step " in lines[0]
    assert f"the last checkpoint is {last} (step " in lines[0]
    assert lines[1] == f"resume with: probgen {shlex.join([*argv, '--resume'])}"
    step = int(lines[0].rsplit("(step ", 1)[1].rstrip(")"))
    assert load_checkpoint(last)["step"] == step  # the checkpoint named is complete and of that step
    assert not [p for p in last.parent.iterdir() if p.name.endswith(".tmp")]
    return step


def test_ctrl_c_during_vae_training_tells_how_to_resume(tmp_path):
    out = tmp_path / "run"
    argv = ["--quiet", *VAE, "--epochs", "500", "--batch-size", "32", "--ckpt-every", "3", "--out", str(out)]
    status, err = _interrupt_after_a_checkpoint(argv, out)
    assert status == 130, err
    _check_report(err, out, argv)
    epoch = load_checkpoint(out / "checkpoints" / "last.pt")["epoch"]
    resumed = [*argv, "--resume", "--epochs", str(epoch + 1)]  # the printed command, with a shorter budget
    assert main(resumed[:]) == 0
    assert load_checkpoint(out / "checkpoints" / "last.pt")["epoch"] == epoch + 1


def test_ctrl_c_during_gan_training_tells_how_to_resume(tmp_path):
    out = tmp_path / "run"
    argv = ["--quiet", *GAN, "--steps", "100000", "--ckpt-every", "4", "--log-every", "4", "--sample-every",
            "100000", "--out", str(out)]
    status, err = _interrupt_after_a_checkpoint(argv, out)
    assert status == 130, err
    step = _check_report(err, out, argv)
    assert main([*argv, "--resume", "--steps", str(step + 2)]) == 0
    assert load_checkpoint(out / "checkpoints" / "last.pt")["step"] == step + 2


def test_ctrl_c_outside_a_training_command(monkeypatch, capsys):
    import probgen.cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(probgen.cli, "_data_list", interrupted)
    assert main(["data", "list"]) == 130
    assert capsys.readouterr().err == "probgen: interrupted\n"


@pytest.mark.parametrize("command", [VAE, GAN], ids=["vae", "gan"])
def test_a_new_run_never_replaces_a_saved_one_unasked(tmp_path, capsys, command):
    out = tmp_path / "run"
    assert main(["--quiet", *command, "--out", str(out)]) == 0
    last = out / "checkpoints" / "last.pt"
    saved = last.read_bytes()
    capsys.readouterr()
    _one_line_error(capsys, ["--quiet", *command, "--out", str(out)],
                    f"`--out` {str(out)!r} already holds a run (checkpoints/", tmp_path)
    assert last.read_bytes() == saved
    assert main(["--quiet", *command, "--out", str(out), "--overwrite"]) == 0  # asked: a fresh run
    assert load_checkpoint(last)["step"] >= 1
