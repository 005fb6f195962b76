"""``probgen.compare.run``: matched networks, the files it writes, a reading from the numbers, and the same
seed giving identical numbers (a tiny step budget, so that it stays a few seconds)."""

import math

import pytest
import torch

from probgen.compare import CompareConfig, run
from probgen.compare.evaluate import likelihood_subset
from probgen.compare.nets import MatchedGAN, build_vae, parameter_count
from probgen.compare.reading import reading

TINY = {"quick": True, "budget": "3steps", "num_samples": 20, "repeats": 2, "batch_size": 16}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    return [run(CompareConfig(**TINY, out=base / f"run{i}"), progress=False) for i in range(2)]


@pytest.mark.parametrize("num_classes", [None, 10])
def test_vae_decoder_and_gan_generator_are_the_same_network(num_classes):
    vae, gan = build_vae((1, 28, 28), num_classes), MatchedGAN((1, 28, 28), num_classes)
    assert type(vae.decoder) is type(gan.generator.net)
    assert parameter_count(vae.decoder) == parameter_count(gan.generator)
    z = torch.randn(4, 32)
    gan.generator.net.load_state_dict(vae.decoder.state_dict())
    y1h = None if num_classes is None else torch.eye(10)[:4]
    torch.testing.assert_close(gan.generator(z, y1h), vae.decode(z, None if y1h is None else torch.arange(4)))


def test_run_writes_the_table_figures_and_reading(tiny_runs):
    result = tiny_runs[0]
    names = [r["model"] for r in result.rows]
    assert names == ["training data", "VAE", "GAN (non-saturating)", "GAN (saturating)", "conditional VAE",
                     "conditional GAN"]
    for name in ("table.md", "table.csv", "reading.md", "config.json"):
        assert (result.out / name).is_file()
    assert set(result.figures) == {"samples", "nearest_neighbours", "training_curves", "generator_gradients"}
    assert all(p.is_file() and p.stat().st_size > 10_000 for p in result.figures.values())
    by = {r["model"]: r for r in result.rows}
    assert by["GAN (saturating)"]["test_log_likelihood"] == "n/a" and by["VAE"]["test_log_likelihood"] < 0
    assert "cond_accuracy" in by["conditional GAN"] and "cond_accuracy" not in by["GAN (non-saturating)"]
    assert all(r["steps"] == 3 for r in result.rows[1:]) and "3 steps" in result.table_markdown
    assert result.reading.count("\n- ") >= 6 and "| FID ↓ |" in result.table_markdown


def test_same_seed_gives_identical_numbers(tiny_runs):
    a, b = ([{k: v for k, v in r.items() if k != "train_s"} for r in res.rows] for res in tiny_runs)
    assert a == b
    assert tiny_runs[0].reading == tiny_runs[1].reading and tiny_runs[0].table_markdown.count("|") > 50


def test_evaluation_subsets_cover_every_class(tiny_runs):
    # a seeded random subset of the test split for IWAE, random training digits for the data row
    for quick in (True, False):
        labels = likelihood_subset(CompareConfig(quick=quick))[1]
        assert torch.bincount(labels, minlength=10).min() >= 3, quick
    assert tiny_runs[0].rows[0]["classes_covered"] >= 7  # 20 random training digits


def test_the_ddpm_row_when_asked(tmp_path):
    result = run(CompareConfig(**{**TINY, "budget": "2steps"}, ddpm=True, out=tmp_path), progress=False)
    ddpm = result.rows[-1]
    assert ddpm["model"] == "DDPM" and ddpm["kind"] == "explicit" and ddpm["test_log_likelihood"] == "n/a"
    assert "the DDPM's variational bound is not estimated here" in result.reading
    assert "n/a for the DDPM" in result.table_markdown


class _T:
    def __init__(self, name, grads):
        self.name, self.grad_norms = name, grads


def _row(model, fid, sd, kind="implicit"):
    return {"model": model, "kind": kind, "fid": fid, "fid_sd": sd, "test_log_likelihood": "n/a",
            "nn_distance": 5.0}


def test_the_reading_follows_the_numbers():
    rows = [_row("training data", 9.0, 1.0, "data"), _row("A", 40.0, 3.0), _row("B", 44.0, 4.0)]
    text = reading(rows, [], "3 steps", 3)
    assert "A (40 ± 3) is best, ahead of B (44 ± 4) by 4, 0.8 s.d. (within sampling noise)" in text
    rows[2]["fid"] = 40.0 + 12 * math.hypot(3, 4)
    assert "12.0 s.d. (beyond sampling noise)" in reading(rows, [], "3 steps", 3)
    rows[1]["fid"], rows[2]["fid"] = 50.0, 30.0
    assert "B (30 ± 4) is best" in reading(rows, [], "3 steps", 3)
    gans = [_T("GAN (non-saturating)", [2.0] * 10), _T("GAN (saturating)", [0.5] * 10)]
    rows[1]["model"], rows[2]["model"] = "GAN (non-saturating)", "GAN (saturating)"
    assert "mean gradient norm was 2 with the non-saturating loss and 0.5" in reading(rows, gans, "x", 3)
