"""bench/editing.py --quick: tiny models of the three families, every task, the baselines, table, figure."""


def test_bench_quick_runs(tmp_path, run_bench):
    res = run_bench("editing.py", "--quick", "--images", "3", "--runs", tmp_path)
    table = (tmp_path / "table.md").read_text()
    assert table.strip() in res.stdout
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 1 + 4 * 3 + 2 + 2 + 3 + 3  # truth; 4 tasks x 3 families; 2 or 3 baselines per task
    assert rows[0].startswith("| - | ground truth | - | - | 0.0000 | inf | ")
    for task in ("inpaint-center", "uncrop-right", "superres4", "colorize"):
        for model in ("VAE", "GAN", "DDPM", "baseline: mean", "baseline: nearest"):
            assert any(r.startswith(f"| {task} | {model} |") for r in rows), (task, model)
    assert "| superres4 | baseline: bicubic |" in table and "| colorize | baseline: luminance |" in table
    assert (tmp_path / "editing.png").stat().st_size > 1000
    assert all((tmp_path / f / "config.json").exists() for f in ("vae", "gan", "ddpm"))
