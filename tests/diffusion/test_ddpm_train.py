"""Training a DDPM: the loss falls, samples stay in [0, 1], checkpoints round-trip and resume, NaN stops."""

import pytest
import torch

from probgen.data import load_dataset
from probgen.diffusion import DDPM, TrainConfig
from probgen.diffusion.train import DDPMTrainer, DivergenceError, train_ddpm
from probgen.runs import RunDir
from probgen.seeding import seed

SMALL = {"x_shape": (1, 8, 8), "timesteps": 100, "base_channels": 16, "channel_mults": (1, 2)}
QUICK = {"batch_size": 32, "warmup": 10, "log_every": 10, "ckpt_every": 10, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "train")


def _fixed_loss(ddpm, images):
    """The loss on fixed images, steps and noise (so before/after compare the model, nothing else)."""
    g = torch.Generator().manual_seed(123)
    t = torch.randint(ddpm.timesteps, (len(images),), generator=g)
    noise = torch.randn(images.shape, generator=g)
    with torch.no_grad():
        return float(ddpm.loss(images, t=t, noise=noise))


def test_loss_decreases_on_digits(digits):
    ddpm = DDPM(**SMALL)
    held = digits.images[:256]
    before = _fixed_loss(ddpm, held)  # about 1: the zero-initialised net predicts eps = 0
    train_ddpm(ddpm, digits, steps=150, **QUICK)
    after = _fixed_loss(ddpm, held)
    assert before == pytest.approx(1.0, abs=0.1)
    assert after < 0.5 * before, (before, after)


def test_trained_model_samples_in_unit_interval_and_writes_a_run(digits, tmp_path):
    ddpm = DDPM(**SMALL)
    run = RunDir(tmp_path / "run")
    train_ddpm(ddpm, digits, steps=20, run=run, sample_every=10, sample_steps=5, num_samples=16, **QUICK)
    x = ddpm.sample(16, steps=10)
    assert x.shape == (16, 1, 8, 8)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0 and torch.isfinite(x).all()
    rows = run.read_metrics()
    assert [int(r["step"]) for r in rows] == [10, 20] and all(float(r["loss"]) > 0 for r in rows)
    for name in ("samples_000010.png", "samples_000020.png", "samples.png", "loss.png"):
        assert (run.figures / name).is_file(), name
    assert run.has("last")


def test_checkpoint_round_trip(digits, tmp_path):
    """A reloaded DDPM (weights_only loading) samples exactly like the trained one."""
    ddpm = DDPM(**SMALL)
    run = RunDir(tmp_path / "run")
    train_ddpm(ddpm, digits, steps=10, run=run, **QUICK)
    state = run.load("last")  # probgen.checkpoint.load_checkpoint: weights_only=True
    copy = DDPM.from_state(state)
    assert copy.net_ema is not None and state["step"] == 10
    torch.manual_seed(1)
    a = ddpm.sample(4, steps=5)
    torch.manual_seed(1)
    b = copy.sample(4, steps=5)
    assert torch.equal(a, b)


def test_resume_continues_exactly(digits, tmp_path):
    """20 steps straight == 10 steps, a checkpoint, a fresh process state, 10 more."""
    seed(0)
    straight = DDPM(**SMALL)
    train_ddpm(straight, digits, steps=20, **QUICK)

    seed(0)  # the same initial weights
    first = DDPM(**SMALL)
    run = RunDir(tmp_path / "run")
    train_ddpm(first, digits, steps=10, run=run, **QUICK)
    torch.manual_seed(999)  # the resumed run must not depend on the RNG state left behind
    resumed = DDPM(**SMALL)
    train_ddpm(resumed, digits, steps=20, run=RunDir(tmp_path / "run", resume=True), resume=True, **QUICK)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert [int(r["step"]) for r in RunDir(tmp_path / "run", resume=True).read_metrics()] == [10, 20]


def test_resume_refuses_another_configuration(digits, tmp_path):
    run = RunDir(tmp_path / "run")
    train_ddpm(DDPM(**SMALL), digits, steps=10, run=run, **QUICK)
    other = DDPM(**{**SMALL, "base_channels": 8})
    with pytest.raises(ValueError, match="differs from this one"):
        train_ddpm(other, digits, steps=20, run=RunDir(tmp_path / "run", resume=True), resume=True, **QUICK)


def test_nan_loss_stops_with_a_message(digits, tmp_path):
    ddpm = DDPM(**SMALL)
    run = RunDir(tmp_path / "run")
    trainer = DDPMTrainer(ddpm, digits, steps=30, run=run, **QUICK)
    trainer.fit(10)
    saved = run.load("last")["ddpm"]
    with torch.no_grad():
        ddpm.net.conv_out.bias.fill_(float("nan"))
    with pytest.raises(DivergenceError, match=r"loss is nan at step 11.*Lower `lr`"):
        trainer.fit()
    assert trainer.step == 10  # the bad step was not applied
    assert torch.equal(run.load("last")["ddpm"]["net.conv_out.bias"], saved["net.conv_out.bias"])


def test_bad_training_input_names_the_argument(digits):
    with pytest.raises(ValueError, match=r"`data` has shape \(1442, 1, 8, 8\).*\(B, 1, 28, 28\)"):
        DDPMTrainer(DDPM(), digits, **QUICK)
    with pytest.raises(ValueError, match=r"`data` must hold images in \[0, 1\]"):
        DDPMTrainer(DDPM(**SMALL), digits.images * 16, **QUICK)
    with pytest.raises(ValueError, match="Unknown TrainConfig key 'step'"):
        DDPMTrainer(DDPM(**SMALL), digits, step=5)
    with pytest.raises(ValueError, match="`batch_size`=5000 exceeds the 1442"):
        DDPMTrainer(DDPM(**SMALL), digits, batch_size=5000, device="cpu")
    with pytest.raises(ValueError, match="no labels"):
        DDPMTrainer(DDPM(**SMALL, num_classes=10), digits.images, device="cpu")
    with pytest.raises(TypeError, match="`data` must be"):
        DDPMTrainer(DDPM(**SMALL), [1, 2, 3], device="cpu")
    with pytest.raises(ValueError, match="`ema`"):
        TrainConfig(ema=1.0)


def test_conditional_training_runs(digits):
    ddpm = DDPM(**SMALL, num_classes=10)
    train_ddpm(ddpm, digits, steps=5, **QUICK)
    assert ddpm.sample(10, 3, y=torch.arange(10)).shape == (10, 1, 8, 8)
