"""Training a DDPM: the loss falls, samples stay in [0, 1], checkpoints round-trip and resume, NaN stops."""

import pytest
import torch

from probgen.data import load_dataset
from probgen.diffusion import DDPM, TrainConfig
from probgen.diffusion.train import DDPMTrainer, train_ddpm
from probgen.errors import TrainingDiverged
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
    train_ddpm({**QUICK, "steps": 150}, ddpm=ddpm, data=digits)
    after = _fixed_loss(ddpm, held)
    assert before == pytest.approx(1.0, abs=0.1)
    assert after < 0.5 * before, (before, after)


def test_trained_model_samples_in_unit_interval_and_writes_a_run(digits, tmp_path):
    ddpm = DDPM(**SMALL)
    config = {**QUICK, "steps": 20, "sample_every": 10, "sample_steps": 5, "num_samples": 16}
    train_ddpm(config, tmp_path / "run", ddpm=ddpm, data=digits)
    run = RunDir(tmp_path / "run", write=False)
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
    train_ddpm({**QUICK, "steps": 10}, tmp_path / "run", ddpm=ddpm, data=digits)
    state = RunDir(tmp_path / "run", write=False).load("last")  # load_checkpoint: weights_only=True
    copy = DDPM.from_state(state)
    assert copy.net_ema is not None and state["step"] == 10
    torch.manual_seed(1)
    a = ddpm.sample(4, steps=5)
    torch.manual_seed(1)
    b = copy.sample(4, steps=5)
    assert torch.equal(a, b)


def test_resume_continues_exactly(digits, tmp_path):
    """20 steps straight == 10 steps (mid-epoch: 45 batches per epoch), a checkpoint, a fresh process
    state, 10 more: bit for bit on the CPU."""
    seed(0)
    straight = DDPM(**SMALL)
    train_ddpm({**QUICK, "steps": 20}, ddpm=straight, data=digits)

    seed(0)  # the same initial weights
    train_ddpm({**QUICK, "steps": 10}, tmp_path / "run", ddpm=DDPM(**SMALL), data=digits)
    torch.manual_seed(999)  # the resumed run must not depend on the RNG state left behind
    resumed = DDPM(**SMALL)
    train_ddpm({"steps": 20}, tmp_path / "run", resume=True, ddpm=resumed, data=digits)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert [int(r["step"]) for r in RunDir(tmp_path / "run", write=False).read_metrics()] == [10, 20]


def test_resume_refuses_another_configuration(digits, tmp_path):
    train_ddpm({**QUICK, "steps": 10}, tmp_path / "run", ddpm=DDPM(**SMALL), data=digits)
    config = (tmp_path / "run/config.json").read_text()
    other = DDPM(**{**SMALL, "base_channels": 8})
    with pytest.raises(ValueError, match=r"`model.base_channels` \(run: 16, now: 8\) differ"):
        train_ddpm({"steps": 20}, tmp_path / "run", resume=True, ddpm=other, data=digits)
    with pytest.raises(ValueError, match=r"`lr` \(run: 0.001, now: 0.01\) differ.*only \['ckpt_every'"):
        train_ddpm({"steps": 20, "lr": 1e-2}, tmp_path / "run", resume=True, data=digits)
    assert (tmp_path / "run/config.json").read_text() == config  # a refused resume changes nothing


def test_nan_loss_stops_with_a_message(digits, tmp_path):
    ddpm = DDPM(**SMALL)
    trainer = DDPMTrainer({**QUICK, "steps": 30}, tmp_path / "run", ddpm=ddpm, data=digits)
    trainer.fit(10)
    run = trainer.run
    saved = run.load("last")["ddpm"]
    with torch.no_grad():
        ddpm.net.conv_out.bias.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match=r"DDPM training diverged: the loss is nan at step 11; the "
                       r"last good checkpoint is .*last.pt \(step 10\). Lower `lr`"):
        trainer.fit()
    assert trainer.step == 10  # the bad step was not applied
    assert torch.equal(run.load("last")["ddpm"]["net.conv_out.bias"], saved["net.conv_out.bias"])


def test_bad_training_input_names_the_argument(digits):
    with pytest.raises(ValueError, match=r"`data` has shape \(1442, 1, 8, 8\).*\(B, 1, 28, 28\)"):
        DDPMTrainer(QUICK, ddpm=DDPM(), data=digits)
    with pytest.raises(ValueError, match=r"`data` must hold values in \[0, 1\]"):
        DDPMTrainer(QUICK, ddpm=DDPM(**SMALL), data=digits.images * 16)
    with pytest.raises(ValueError, match="unknown TrainConfig key 'step'; did you mean 'steps'"):
        DDPMTrainer({"step": 5}, ddpm=DDPM(**SMALL), data=digits)
    with pytest.raises(ValueError, match="`batch_size`=5000 exceeds the 1442"):
        DDPMTrainer({"batch_size": 5000, "device": "cpu"}, ddpm=DDPM(**SMALL), data=digits)
    with pytest.raises(ValueError, match="no labels"):
        DDPMTrainer({"device": "cpu"}, ddpm=DDPM(**SMALL, num_classes=10), data=digits.images)
    with pytest.raises(TypeError, match="`data` must be"):
        DDPMTrainer({"device": "cpu"}, ddpm=DDPM(**SMALL), data=[1, 2, 3])
    with pytest.raises(ValueError, match="`ema`"):
        TrainConfig(ema=1.0)
    with pytest.raises(ValueError, match="`num_classes`=0: in probgen an unconditional model"):
        TrainConfig(model={"num_classes": 0})
    with pytest.raises(ValueError, match=r"`lr` must be a finite number in \(0, inf\), got inf"):
        TrainConfig(lr=float("inf"))


def test_conditional_training_runs(digits):
    ddpm = DDPM(**SMALL, num_classes=10)
    train_ddpm({**QUICK, "steps": 5}, ddpm=ddpm, data=digits)
    assert ddpm.sample(10, 3, y=torch.arange(10)).shape == (10, 1, 8, 8)
