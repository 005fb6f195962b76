"""``probgen edit``: one-line errors with exit status 2, and a grid from a trained run."""

import pytest

from probgen.cli import main
from probgen.editing.cli import TASK_NAMES


@pytest.fixture(scope="module")
def grey_vae(tmp_path_factory):
    """A VAE trained for one epoch on the 8x8 digits (1 channel)."""
    out = tmp_path_factory.mktemp("edit") / "vae"
    assert main(["train", "vae", "--data", "digits", "--z-dim", "2", "--hidden", "16", "--epochs", "1",
                 "--iwae-samples", "0", "--no-figures", "--quiet", "--out", str(out)]) == 0
    return out


def test_task_names_are_the_tasks():
    from probgen.editing import TASKS

    assert TASK_NAMES == tuple(TASKS)


def _error(capsys, argv) -> str:
    assert main(["edit", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("probgen: error: ") and "\n" not in err, err
    return err


def test_errors_are_one_line_with_status_2(grey_vae, tmp_path, capsys):
    out = ["-o", str(tmp_path / "e.png")]
    assert "`--model` 'nowhere' does not exist" in _error(capsys, ["--model", "nowhere", "--task",
                                                                    "superres4", *out])
    assert "holds no checkpoint" in _error(capsys, ["--model", str(tmp_path), "--task", "superres4", *out])
    assert "did you mean 'inpaint-center'" in _error(capsys, ["--model", str(grey_vae), "--task", "inpaint",
                                                               *out])
    err = _error(capsys, ["--model", str(grey_vae), "--task", "colorize", *out])
    assert "'colorize' needs a model of colour (3-channel) images" in err and "mnist-5k-colour" in err
    err = _error(capsys, ["--model", str(grey_vae), "--task", "superres4", "--data", "mnist-5k", *out])
    assert "`--data` 'mnist-5k' has images of shape (1, 28, 28)" in err
    assert "`--n` must be an int >= 1" in _error(capsys, ["--model", str(grey_vae), "--task", "superres4",
                                                           "--n", "0", *out])
    assert not (tmp_path / "e.png").exists()


def test_edit_writes_the_grid(grey_vae, tmp_path, capsys):
    from PIL import Image

    png = tmp_path / "grid.png"
    assert main(["edit", "--model", str(grey_vae), "--task", "inpaint-center", "--n", "3", "--images", "4",
                 "-o", str(png), "--quiet"]) == 0, capsys.readouterr().err
    assert f"wrote {png}" in capsys.readouterr().out
    with Image.open(png) as im:
        w, h = im.size
    assert (w, h) == (2 + 4 * 10, 2 + 5 * 10)  # 4 columns; rows: observation, 3 samples, truth (8 + 2 px)


def test_gan_and_ddpm_run_folders_load_and_edit(tmp_path, capsys):
    from probgen.diffusion import train_ddpm
    from probgen.editing.load import load_run

    assert main(["train", "gan", "--data", "mnist-5k-colour", "--steps", "2", "--batch-size", "8", "--ngf",
                 "8", "--ndf", "8", "--eval-every", "0", "--quiet", "--out", str(tmp_path / "gan")]) == 0
    model = {"timesteps": 20, "base_channels": 8, "channel_mults": [1], "attention": False}
    train_ddpm({"data": "mnist-5k-colour", "steps": 2, "batch_size": 8, "model": model, "device": "cpu",
                "num_samples": 2, "sample_steps": 2}, tmp_path / "ddpm")
    for family in ("gan", "ddpm"):
        run = load_run(tmp_path / family)
        assert (run.family, run.data, run.checkpoint.name) == (family, "mnist-5k-colour", "last.pt")
        png = tmp_path / f"{family}.png"
        assert main(["edit", "--model", str(tmp_path / family), "--task", "colorize", "--n", "2", "--images",
                     "2", "--steps", "2", "-o", str(png), "--quiet"]) == 0, capsys.readouterr().err
        assert png.stat().st_size > 100
