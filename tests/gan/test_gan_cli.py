"""``probgen train gan`` and the GAN part of ``probgen demo``."""

import pytest

from probgen.cli import main
from probgen.runs import RunDir

TINY = ["--ngf", "4", "--ndf", "4", "--latent-dim", "8", "--batch-size", "16", "--eval-every", "0"]


def test_train_writes_a_run_and_resumes(tmp_path, capsys):
    out = tmp_path / "gan"
    args = ["--quiet", "train", "gan", "--arch", "dcgan", "--disc", "patchgan", "--loss", "non-saturating",
            "--data", "mnist-5k", "--d-steps", "1", "--out", str(out), *TINY, "--log-every", "1",
            "--sample-every", "2", "--ckpt-every", "2"]
    assert main([*args, "--steps", "3"]) == 0
    assert "GAN trained for 3 steps" in capsys.readouterr().out
    run = RunDir(out, write=False)
    assert [r["step"] for r in run.read_metrics()] == ["1", "2", "3"]
    assert {"samples_000002.png", "samples.png", "losses.png", "d_outputs.png"} <= {
        p.name for p in run.figures.iterdir()}
    assert main([*args, "--steps", "5", "--resume"]) == 0  # continues from last.pt (step 3)
    assert [r["step"] for r in run.read_metrics()] == ["1", "2", "3", "4", "5"]
    assert run.load("last")["step"] == 5
    assert main(["train", "gan", "--out", str(out), "--steps", "6", "--resume"]) == 0  # the run's options
    assert run.load("last")["step"] == 6 and run.load("last")["config"]["g_cfg"] == {"ngf": 4}
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    refused = ["train", "gan", "--out", str(out), "--steps", "8", "--resume", "--lr-g", "1e-3", "--ngf", "8"]
    assert main(refused) == 2
    err = capsys.readouterr().err
    assert "`lr_g` (run: 0.0002, now: 0.001)" in err and "`g_cfg.ngf` (run: 4, now: 8)" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # a refusal writes nothing


@pytest.mark.parametrize("eval_flags", [[], ["--eval-every", "2"]])
def test_data_without_a_metric_classifier_warns_and_trains_unevaluated(tmp_path, capsys, monkeypatch,
                                                                        eval_flags):
    """mnist, fashion-mnist, cifar10 have no shipped classifier: evaluation is turned off, not refused."""
    from probgen.gan import evaluate

    monkeypatch.setattr(evaluate, "has_metric_classifier", lambda data: data != "mnist-5k")
    out = tmp_path / "g"
    tiny = [a for a in TINY if a not in ("--eval-every", "0")]
    rc = main(["--quiet", "train", "gan", *tiny, *eval_flags, "--data", "mnist-5k", "--steps", "2",
               "--ckpt-every", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and "warning: no metric classifier is shipped for --data mnist-5k" in err, err
    assert "--eval-every 0" in err and RunDir(out, write=False).load("last")["config"]["eval_every"] == 0


def test_train_transformer_conditional_with_options(tmp_path):
    args = ["--quiet", "train", "gan", "--arch", "transformer", "--disc", "vit", "--conditional",
            "--g-opt", "dim=32", "--g-opt", "heads=2", "--g-opt", "depth=[1,1]", "--d-opt", "dim=16",
            "--d-opt", "depth=1", "--d-opt", "patch_size=7", "--latent-dim", "8", "--batch-size", "8",
            "--loss", "hinge", "--ema", "0.99", "--diffaug", "translation", "--steps", "2",
            "--eval-every", "0", "--out", str(tmp_path / "t")]
    assert main(args) == 0
    cfg = RunDir(tmp_path / "t", write=False).load("last")["config"]
    assert cfg["g_cfg"] == {"dim": 32, "heads": 2, "depth": [1, 1]} and cfg["conditional"]


@pytest.mark.parametrize("extra,message", [
    (["--d-steps", "0"], "`d_steps` must be an int >= 1, got 0"),
    (["--g-opt", "width=3"], "generator 'dcgan' does not take ['width']"),
    (["--data", "digits", "--disc", "patchgan"], "shrinks a 8x8 image to nothing"),
    (["--diffaug", "flip"], "unknown augmentations ['flip']"),
    (["--betas", "0.5", "1.5"], "`betas[1]` must be a finite number in [0, 1), got 1.5"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    rc = main(["train", "gan", *TINY, "--steps", "1", "--out", str(tmp_path / "x"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()  # validated before the run folder is made


def test_unknown_architecture_lists_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "gan", "--arch", "stylegan"])
    err = capsys.readouterr().err
    assert "invalid choice: 'stylegan'" in err and "dcgan" in err and "transformer" in err


def test_demo_section(tmp_path):
    from probgen.gan.cli import demo

    run = RunDir(tmp_path / "demo")
    text = demo(run, quick=True)
    assert text.startswith("## GANs")
    for name in ("gan_side_by_side.png", "gan_gradients.png"):
        assert (run.figures / name).is_file() and f"figures/{name}" in text
    assert (run.path / "gan" / "figures" / "losses.png").is_file()
