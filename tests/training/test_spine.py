"""The training spine (probgen.training.loop): cadences, endless batches that resume mid-epoch, the EMA,
fixed random streams, the one seed formula, and the divergence message."""

import pytest
import torch
from torch import nn

from probgen.data import TensorLoader
from probgen.errors import TrainingDiverged, TrainingInterrupted
from probgen.seeding import derive_seed
from probgen.training import EMA, BatchStream, StepLoop, due, eval_mode, fixed_rng


def test_due_every_n_steps_and_at_the_last():
    assert [s for s in range(1, 11) if due(s, 4, 10)] == [4, 8, 10]
    assert [s for s in range(1, 11) if due(s, 4)] == [4, 8]
    assert not any(due(s, 0, 10) for s in range(1, 11)) and not due(10, None, 10)


def _loader(n=10, batch=3):
    """3 batches of 3 per epoch (10 images, drop_last), shuffled by epoch."""
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    return TensorLoader(images, None, batch, drop_last=True, seed=5)


def _ids(batch):
    return batch[0].flatten().long().tolist()


def test_batch_stream_runs_epoch_after_epoch_in_the_loaders_order():
    loader, stream = _loader(), BatchStream(_loader())
    expected = []
    for epoch in range(3):
        loader.set_epoch(epoch)
        expected += [_ids(b) for b in loader]
    assert [_ids(next(stream)) for _ in range(9)] == expected and stream.seen == 9 and stream.epoch == 3


@pytest.mark.parametrize("seen", [0, 2, 3, 4, 7])
def test_batch_stream_resumed_anywhere_continues_the_same_sequence(seen):
    straight = BatchStream(_loader())
    whole = [_ids(next(straight)) for _ in range(10)]
    resumed = BatchStream(_loader(), seen=seen)
    assert [_ids(next(resumed)) for _ in range(10 - seen)] == whole[seen:]


def test_setting_seen_jumps_and_first_epoch_shifts_the_shuffles():
    stream = BatchStream(_loader())
    whole = [_ids(next(stream)) for _ in range(6)]
    stream.seen = 1  # a rollback
    assert _ids(next(stream)) == whole[1]
    loader = _loader()
    loader.set_epoch(1)
    assert _ids(next(BatchStream(_loader(), first_epoch=1))) == _ids(next(iter(loader)))
    with pytest.raises(ValueError, match="no batch"):
        BatchStream(_loader(n=2))


def test_ema_matches_its_formula_and_copies_buffers():
    model, avg = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    avg.load_state_dict(model.state_dict())
    ema = EMA(avg, model, 0.9)
    for n in range(30):  # oracle: avg = d avg + (1 - d) w, d = min(0.9, (1 + n) / (10 + n))
        before = avg.weight.detach().clone()
        with torch.no_grad():
            model.weight.add_(torch.randn(3))
            model.running_mean.add_(1.0)
        ema.update()
        d = min(0.9, (1 + n) / (10 + n))
        torch.testing.assert_close(avg.weight.detach(), d * before + (1 - d) * model.weight.detach())
        assert torch.equal(avg.running_mean, model.running_mean)
    assert ema.state_dict() == {"updates": 30}
    with pytest.raises(ValueError, match=r"`ema` must be a finite number in \[0, 1\)"):
        EMA(avg, model, 1.0)


def test_fixed_rng_repeats_and_leaves_the_stream_alone():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    with fixed_rng(7):
        a = torch.randn(4)
    with fixed_rng(7):
        b = torch.randn(4)
    assert torch.equal(a, b) and torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, torch.randn(4, generator=torch.Generator().manual_seed(7)))


def test_derive_seed_is_one_formula_for_ranks_resumes_and_retries():
    seeds = {derive_seed(0, rank=r, step=s, attempt=a)
             for r in range(3) for s in (0, 1, 100) for a in range(3)}
    assert len(seeds) == 27 and all(0 <= s < 2**32 for s in seeds)
    assert derive_seed(3, rank=1, step=5) == derive_seed(3, rank=1, step=5) != derive_seed(4, rank=1, step=5)


def test_eval_mode_restores_the_mode():
    m = nn.Dropout()
    with eval_mode(m):
        assert not m.training
    assert m.training


class Counter(StepLoop):
    """A trainer that counts: the skeleton's contract in a few lines."""

    family = "Counter"

    def __init__(self, out=None, resume=False, blow_up_at=None):
        super().__init__(_loader(), log=lambda msg: None)
        self.seen_batches, self.blow_up_at = [], blow_up_at
        self.open_run(out, {"kind": "counter"}, resume=resume)

    def train_step(self):
        if self.step + 1 == self.blow_up_at:
            raise self.diverged("the count became nan", "Count more slowly")
        self.seen_batches.append(_ids(next(self.batches)))
        self.step += 1

    def after_step(self, total):
        if due(self.step, 4, total):
            self.save()

    def state_dict(self):
        return {"step": self.step, "seen": self.batches.seen}

    def load_state_dict(self, state):
        self.step, self.batches.seen = state["step"], state["seen"]


def test_step_loop_checkpoints_resumes_and_names_the_last_good_checkpoint(tmp_path):
    straight = Counter()
    straight.fit_steps(9)
    first = Counter(tmp_path / "run")
    first.fit_steps(6)  # checkpoints at 4 and 6 (the end)
    resumed = Counter(tmp_path / "run", resume=True)
    assert resumed.step == 6 and resumed.saved_step == 6
    resumed.fit_steps(9)
    assert first.seen_batches + resumed.seen_batches == straight.seen_batches
    with pytest.raises(TrainingDiverged, match=r"^Counter training diverged: the count became nan at step 3; "
                                               r"no run folder, so no checkpoint. Count more slowly$"):
        Counter(blow_up_at=3).fit_steps(9)
    with pytest.raises(TrainingDiverged, match=r"at step 3; no checkpoint was written yet"):
        Counter(tmp_path / "other", blow_up_at=3).fit_steps(9)
    with pytest.raises(TrainingDiverged, match=r"at step 7; the last good checkpoint is .*other2/checkpoints/"
                                               r"last.pt \(step 4\)"):
        Counter(tmp_path / "other2", blow_up_at=7).fit_steps(9)


def test_a_fresh_start_clears_the_old_runs_checkpoint(tmp_path):
    """So that config.json and last.pt always belong to one run (a resume never picks up another's)."""
    Counter(tmp_path / "run").fit_steps(4)
    assert (tmp_path / "run/checkpoints/last.pt").exists()
    fresh = Counter(tmp_path / "run")
    assert not (tmp_path / "run/checkpoints/last.pt").exists() and fresh.saved_step is None
    assert Counter(tmp_path / "run", resume=True).step == 0  # nothing to resume: a fresh start


class Interrupted(Counter):
    def train_step(self):
        if self.step + 1 == self.blow_up_at:
            raise KeyboardInterrupt  # Ctrl-C
        super().train_step()


def test_ctrl_c_names_the_last_checkpoint(tmp_path):
    expected = r"^Counter training interrupted at step 6; the last checkpoint is .*run/checkpoints/last.pt " \
               r"\(step 4\)$"
    with pytest.raises(TrainingInterrupted, match=expected) as info:
        Interrupted(tmp_path / "run", blow_up_at=7).fit_steps(9)
    assert info.value.step == 4 and info.value.checkpoint == tmp_path / "run/checkpoints/last.pt"
    assert isinstance(info.value, KeyboardInterrupt)
    with pytest.raises(TrainingInterrupted, match=r"at step 2; no checkpoint was written yet$"):
        Interrupted(tmp_path / "other", blow_up_at=3).fit_steps(9)
    with pytest.raises(TrainingInterrupted, match=r"at step 2; no run folder, so no checkpoint$"):
        Interrupted(blow_up_at=3).fit_steps(9)
