"""Training: the ELBO increases, checkpoints round-trip and resume exactly, NaN stops cleanly, CLI, demo."""

import json

import pyro
import pytest
import torch
from pyro.infer import SVI

from probgen.cli import main
from probgen.data import load_dataset
from probgen.runs import RunDir
from probgen.training.config import resolve_run_config
from probgen.vae import VAE, FastTrace_ELBO, JointOptim, VAEConfig
from probgen.vae.train import TrainingDiverged, VAETrainer, resolve_config, train_vae

TINY = dict(data="digits", z_dim=2, hidden=(32,), epochs=2, batch_size=64, iwae_samples=10, iwae_images=50,
            figures=False, device="cpu")


def test_elbo_increases_on_a_few_hundred_images():
    x = load_dataset("digits", "train", binarize="stochastic").images[:300]
    vae = VAE(x_shape=(1, 8, 8), z_dim=4, hidden=64)
    svi = SVI(vae.model, vae.guide, JointOptim.adam(3e-3), FastTrace_ELBO())
    before = float(vae.elbo(x, num_samples=10).mean())
    for _ in range(5):
        for i in range(0, 300, 50):
            svi.step(x[i:i + 50])
    after = float(vae.elbo(x, num_samples=10).mean())
    # the untrained ELBO is about -47 nats on 64 pixels; five epochs gain well over 5 nats
    assert after > before + 5, (before, after)


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    vae = VAE(x_shape=(1, 8, 8), z_dim=3, hidden=16, likelihood="gaussian", num_classes=4, name="v1")
    vae.save(tmp_path / "m.pt", note="hello")
    back = VAE.load(tmp_path / "m.pt")
    assert repr(back) == repr(vae) and back.name == "v1"
    x, y, z = torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2, 3, 0]), torch.randn(5, 3)
    torch.testing.assert_close(back.decode(z, y, raw=True), vae.decode(z, y, raw=True), rtol=0, atol=0)
    torch.testing.assert_close(back.encode(x, y), vae.encode(x, y), rtol=0, atol=0)
    for model in (vae, back):
        torch.manual_seed(7)
        model.ll = model.log_likelihood(x, y, num_samples=20)
    assert torch.equal(back.ll, vae.ll)


def test_load_rejects_other_checkpoints(tmp_path):
    from probgen.checkpoint import save_checkpoint
    from probgen.errors import CheckpointError

    save_checkpoint(tmp_path / "other.pt", {"kind": "gan"})
    with pytest.raises(CheckpointError, match="not of a VAE"):
        VAE.load(tmp_path / "other.pt")


def test_train_writes_metrics_checkpoint_and_model(tmp_path):
    result = train_vae(TINY, tmp_path / "run")
    rows = result.run.read_metrics()
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["test_elbo"]) > float(rows[0]["test_elbo"])
    assert (tmp_path / "run/checkpoints/last.pt").exists() and (tmp_path / "run/model.pt").exists()
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["test_log_likelihood"] >= summary["test_elbo"] - 1.0  # IWAE (k=10) vs 1-sample ELBO
    assert VAE.load(tmp_path / "run/model.pt").z_dim == 2


def test_resume_continues_bit_for_bit(tmp_path):
    """Two epochs straight == one epoch, stop, resume for the second (weights, optimizer, RNG, metrics)."""
    straight = train_vae(TINY, tmp_path / "a")
    pyro.clear_param_store()
    train_vae({**TINY, "epochs": 1}, tmp_path / "b")
    pyro.clear_param_store()
    resumed = train_vae(TINY, tmp_path / "b", resume=True)
    for p, q in zip(straight.vae.parameters(), resumed.vae.parameters()):
        assert torch.equal(p, q)
    a, b = straight.run.read_metrics(), resumed.run.read_metrics()
    assert [r["test_elbo"] for r in a] == [r["test_elbo"] for r in b]


def test_resume_mid_epoch_continues_bit_for_bit(tmp_path):
    """Two epochs straight == 30 steps (epoch 1 has 23: the stop is mid-epoch 2), stop, resume."""
    straight = train_vae(TINY, tmp_path / "a")
    pyro.clear_param_store()
    cfg = resolve_run_config(VAEConfig, TINY, tmp_path / "b", prepare=resolve_config)
    VAETrainer(cfg, tmp_path / "b").fit(steps=30)  # fit(steps) writes a checkpoint where it stops
    assert torch.load(tmp_path / "b/checkpoints/last.pt", weights_only=True)["step"] == 30
    pyro.clear_param_store()
    torch.manual_seed(123)  # the resumed run must not depend on the RNG state left behind
    resumed = train_vae(None, tmp_path / "b", resume=True)  # None: the run's own config.json
    for p, q in zip(straight.vae.parameters(), resumed.vae.parameters()):
        assert torch.equal(p, q)
    a, b = straight.run.read_metrics(), resumed.run.read_metrics()
    for key in ("epoch", "step", "train_elbo", "test_elbo"):  # epoch 2's train ELBO spans the interruption
        assert [r[key] for r in a] == [r[key] for r in b], key


def test_cli_resume_keeps_the_runs_options_and_refuses_other_ones(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "vae", "--data", "digits", "--z-dim", "2", "--hidden", "16", "--epochs", "1",
                 "--iwae-samples", "0", "--no-figures", "--out", str(out)]) == 0
    assert main(["train", "vae", "--out", str(out), "--epochs", "2", "--resume"]) == 0  # no options repeated
    saved = json.loads((out / "config.json").read_text())
    assert (saved["epochs"], saved["z_dim"], saved["hidden"], saved["data"]) == (2, 2, [16], "digits")
    assert [r["epoch"] for r in RunDir(out, write=False).read_metrics()] == ["1", "2"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    refused = ["train", "vae", "--out", str(out), "--resume", "--epochs", "3", "--z-dim", "3", "--lr", "0.01"]
    assert main(refused) == 2
    err = capsys.readouterr().err
    assert "`z_dim` (run: 2, now: 3)" in err and "`lr` (run: 0.001, now: 0.01)" in err and "epochs" not in \
        err.split("differ")[0]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # nothing written


def test_resume_with_other_options_is_refused(tmp_path):
    train_vae({**TINY, "epochs": 1}, tmp_path / "r")
    with pytest.raises(ValueError, match=r"cannot resume .*`z_dim` \(run: 2, now: 3\)"):
        train_vae({**TINY, "z_dim": 3}, tmp_path / "r", resume=True)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_step, calls = SVI.step, {"n": 0}

    def step(self, *args, **kwargs):
        calls["n"] += 1
        return float("nan") if calls["n"] > 25 else real_step(self, *args, **kwargs)  # epoch 1: 23 steps

    monkeypatch.setattr(SVI, "step", step)
    with pytest.raises(TrainingDiverged, match=r"became nan at step 26 \(epoch 2, batch 3\); the last good "
                       r"checkpoint is .*last.pt \(step 23\)"):
        train_vae({**TINY, "epochs": 3}, tmp_path / "n")
    state = torch.load(tmp_path / "n/checkpoints/last.pt", weights_only=True)
    assert state["epoch"] == 1


def test_cli_train_and_errors(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["train", "vae", "--data", "digits", "--epochs", "1", "--z-dim", "2", "--hidden", "16",
                 "--iwae-samples", "5", "--iwae-images", "20", "--ae-epochs", "1", "--out", str(out)])
    assert code == 0
    assert "test log-likelihood (IWAE, k=5)" in capsys.readouterr().out
    for name in ("samples", "reconstructions", "latent", "manifold", "interpolations", "ae_vs_vae", "elbo"):
        assert (out / "figures" / f"{name}.png").exists(), name
    bad = tmp_path / "bad"  # an invalid command writes nothing: no folder, no config.json
    assert main(["train", "vae", "--data", "digits", "--z-dim", "0", "--out", str(bad)]) == 2
    assert "`z_dim` must be an int >= 1, got 0" in capsys.readouterr().err and not bad.exists()
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"z_dims": 3}))
    assert main(["train", "vae", "--config", str(cfg), "--out", str(bad)]) == 2
    assert "did you mean 'z_dim'" in capsys.readouterr().err and not bad.exists()
    with pytest.raises(SystemExit):  # choices come from probgen.vae.config without importing torch
        main(["train", "vae", "--likelihood", "poisson", "--out", str(bad)])
    assert "invalid choice: 'poisson'" in capsys.readouterr().err


def test_cli_config_file_and_conditional(tmp_path):
    from probgen.cli import build_parser
    from probgen.vae.cli import config_from_args

    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"z_dim": 3, "epochs": 7}))
    args = build_parser().parse_args(["train", "vae", "--config", str(cfg), "--epochs", "2", "--conditional",
                                      "--hidden", "32", "16"])
    got = config_from_args(args)
    assert (got.z_dim, got.epochs, got.num_classes, got.hidden) == (3, 2, 10, (32, 16))


def test_conditional_training_and_class_samples(tmp_path):
    result = train_vae({**TINY, "num_classes": 10, "figures": True, "epochs": 1}, tmp_path / "c")
    assert result.vae.sample(3, y=5).shape == (3, 1, 8, 8)
    assert "samples" in result.figures and "ae_vs_vae" not in result.figures


def test_demo_quick(tmp_path):
    from probgen.runs import RunDir
    from probgen.vae.cli import demo

    md = demo(RunDir(tmp_path / "demo"), quick=True)
    assert md.startswith("## VAE") and "![Latent manifold" in md
    assert (tmp_path / "demo/vae/figures/manifold.png").exists()


def test_config_roundtrip_through_run(tmp_path):
    result = train_vae({**TINY, "epochs": 1, "iwae_samples": 0}, tmp_path / "cfg")
    saved = json.loads((tmp_path / "cfg/config.json").read_text())
    assert VAEConfig.from_dict(saved) == result.config and result.test_log_likelihood is None


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    first = train_vae({**TINY, "epochs": 1}, tmp_path / "f")
    pyro.clear_param_store()
    again = train_vae({**TINY, "epochs": 1}, tmp_path / "f", resume=True)
    assert again.metrics == [] and len(again.run.read_metrics()) == 1
    for p, q in zip(first.vae.parameters(), again.vae.parameters()):
        assert torch.equal(p, q)
    summary = json.loads((tmp_path / "f/summary.json").read_text())
    assert summary["test_elbo"] == pytest.approx(first.metrics[0]["test_elbo"], abs=1e-3)


def test_evaluation_repeats_and_leaves_the_training_rng_alone():
    from probgen.vae.train import evaluate_elbo

    data = load_dataset("digits", "test", binarize="stochastic")
    vae = VAE(x_shape=(1, 8, 8), z_dim=2, hidden=16)
    state = torch.get_rng_state()
    a, b = evaluate_elbo(vae, data), evaluate_elbo(vae, data)
    assert a == b and torch.equal(torch.get_rng_state(), state)
    assert evaluate_elbo(vae, data, seed=1) != a
