import json

import matplotlib.pyplot as plt
import pytest
import torch
from PIL import Image

from probgen.checks import check_output_folder
from probgen.plot import image_grid, plot_curves, save_curves, save_image_grid, show_images
from probgen.runs import RunDir


def test_run_dir_layout_and_metrics(tmp_path):
    run = RunDir(tmp_path / "r", {"lr": 1e-3, "name": "x"})
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"lr": 1e-3, "name": "x"}
    run.log(step=1, loss=0.5)
    run.log(step=2, loss=0.25, acc=0.9)  # a new column widens the header
    rows = run.read_metrics()
    assert [r["step"] for r in rows] == ["1", "2"]
    assert rows[0]["acc"] == "" and rows[1]["acc"] == "0.9"
    assert run.figures.is_dir() and run.checkpoints.is_dir()


def test_run_dir_resume_keeps_metrics_and_truncates(tmp_path):
    run = RunDir(tmp_path, {})
    for s in range(1, 5):
        run.log(step=s, loss=1.0 / s)
    run2 = RunDir(tmp_path, {}, resume=True)
    run2.truncate_metrics("step", 2)
    assert [r["step"] for r in run2.read_metrics()] == ["1", "2"]
    assert RunDir(tmp_path, {}).read_metrics() == []  # a fresh run starts the file again


def test_run_dir_checkpoints(tmp_path):
    run = RunDir(tmp_path)
    run.save("latest", {"step": 3})
    assert run.has("latest") and run.load("latest")["step"] == 3


def test_non_writing_rank_writes_nothing(tmp_path):
    run = RunDir(tmp_path / "r", {"a": 1}, write=False)
    run.log(step=1)
    assert run.save("latest", {}) is None and not (tmp_path / "r").exists()


def test_image_grid_and_png(tmp_path):
    x = torch.rand(6, 1, 8, 8)
    grid = image_grid(x, nrow=3)
    assert grid.shape == (3, 2 * 8 + 3 * 2, 3 * 8 + 4 * 2)
    path = save_image_grid(x, tmp_path / "g.png", nrow=3)
    with Image.open(path) as im:
        assert im.size == (3 * 8 + 4 * 2, 2 * 8 + 3 * 2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(8, 8\)"):
        image_grid(torch.rand(8, 8))


def test_curves_from_dict_and_rows(tmp_path):
    ax = plot_curves({"loss": [3, 2, 1]})
    assert len(ax.lines) == 1
    plt.close("all")
    rows = [{"step": "1", "loss": "2", "acc": ""}, {"step": "2", "loss": "1", "acc": "0.5"}]
    ax = plot_curves(rows, x="step")
    assert [l.get_label() for l in ax.lines] == ["loss", "acc"]
    assert list(ax.lines[1].get_xdata()) == [2.0]
    plt.close("all")
    assert save_curves({"a": [1, 2]}, tmp_path / "c.png").stat().st_size > 0
    ax = show_images(torch.rand(4, 3, 4, 4), title="t")
    assert ax.get_title() == "t"
    plt.close("all")


def test_run_dir_refuses_a_file_where_its_folder_should_be(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"^`out` '.*/f' is a file, not a folder"):
        RunDir(tmp_path / "f")
    with pytest.raises(ValueError, match=r"^`--out` '.*/f/sub/run' cannot be created: '.*/f' is a file"):
        check_output_folder("--out", tmp_path / "f" / "sub" / "run")
    assert check_output_folder("out", tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()  # a check creates nothing
    RunDir(tmp_path / "f", write=False)  # a reader does not check


def test_opening_a_run_removes_only_the_temporaries_of_killed_writes(tmp_path):
    RunDir(tmp_path / "r", {"a": 1}).log(step=1)
    debris = [tmp_path / "r" / ".config.json.0a1b2c3d.tmp", tmp_path / "r" / ".metrics.csv.abcdefgh.tmp",
              tmp_path / "r" / "checkpoints" / ".last.pt.k2_m9xqq.tmp"]
    kept = [tmp_path / "r" / "notes.tmp", tmp_path / "r" / "figures" / ".x.png.0a1b2c3d.tmp"]
    for p in debris + kept:
        p.write_bytes(b"partial")
    run = RunDir(tmp_path / "r", resume=True)
    assert not any(p.exists() for p in debris) and all(p.exists() for p in kept)
    assert [r["step"] for r in run.read_metrics()] == ["1"]
    RunDir(tmp_path / "r", {"a": 2}).log(step=1, loss=0.5)
    run.log(step=2, loss=0.25, acc=1.0)  # a rewrite of metrics.csv
    leftovers = [p.name for p in (tmp_path / "r").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == ["notes.tmp"]  # config.json and metrics.csv are replaced atomically


def test_a_resume_drops_a_metrics_row_that_a_kill_cut_short(tmp_path):
    run = RunDir(tmp_path / "r")
    for step in (1, 2, 3):
        run.log(step=step, loss=0.5)
    with run.metrics_path.open("a") as f:
        f.write("4,0.4")  # killed in the middle of an append: no newline
    RunDir(tmp_path / "r", resume=True).truncate_metrics("step", 3)
    assert [r["step"] for r in run.read_metrics()] == ["1", "2", "3"]
    with run.metrics_path.open("a") as f:
        f.write("x\n")  # a row whose step is not a number
    run.truncate_metrics("step", 3)
    assert [r["step"] for r in run.read_metrics()] == ["1", "2", "3"]
    run.log(step=4, loss=0.25)
    assert run.metrics_path.read_text().splitlines()[-1] == "4,0.25"


def test_a_titled_grid_is_drawn_larger_with_its_title(tmp_path):
    x = torch.rand(6, 1, 8, 8)
    plain = save_image_grid(x, tmp_path / "plain.png", nrow=3)
    titled = save_image_grid(x, tmp_path / "titled.png", nrow=3, title="six images")
    with Image.open(plain) as a, Image.open(titled) as b:
        assert b.size[0] > a.size[0] and b.size[1] > a.size[1], (a.size, b.size)
