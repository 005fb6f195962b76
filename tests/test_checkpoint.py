import pyro
import pyro.distributions as dist
import pytest
import torch
from torch.distributions import constraints

from probgen.checkpoint import (
    load_checkpoint,
    load_param_store_state,
    param_store_state,
    save_checkpoint,
)
from probgen.errors import CheckpointError
from probgen.seeding import get_rng_state, set_rng_state


def _state(v):
    net = torch.nn.Linear(3, 2)
    torch.nn.init.constant_(net.weight, v)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    return {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": int(v), "rng": get_rng_state()}


def test_round_trip_with_weights_only(tmp_path):
    path = save_checkpoint(tmp_path / "ck.pt", _state(1.0))
    raw = torch.load(path, weights_only=True)  # what a user would do
    assert raw["step"] == 1
    state = load_checkpoint(path)
    assert torch.equal(state["model"]["weight"], _state(1.0)["model"]["weight"])
    assert state["optimizer"]["state"][0]["step"] == 1


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, _state(1.0))
    before = path.read_bytes()

    real_save = torch.save

    def dying_save(obj, f, *args, **kwargs):  # write part of the file, then "crash"
        real_save(obj, f, *args, **kwargs)
        f.truncate(10)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, _state(2.0))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temp file left behind


def test_interrupt_mid_write_leaves_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, _state(1.0))
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, _state(3.0))
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not a checkpoint at all", "not a readable probgen checkpoint"),
        (b"", "not a readable probgen checkpoint"),
    ],
)
def test_garbage_file_gives_clear_error(tmp_path, content, match):
    p = tmp_path / "bad.pt"
    p.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(p)


def test_truncated_checkpoint(tmp_path):
    p = save_checkpoint(tmp_path / "ck.pt", _state(1.0))
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(p)


def test_torch_file_that_is_not_a_probgen_checkpoint(tmp_path):
    p = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, p)
    with pytest.raises(CheckpointError, match="not a probgen checkpoint"):
        load_checkpoint(p)


def test_pickled_code_is_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"probgen_checkpoint": 1, "obj": constraints.positive}, p)  # an arbitrary class instance
    with pytest.raises(CheckpointError):
        load_checkpoint(p)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_rng_state_round_trip(tmp_path):
    import random

    import numpy as np

    save_checkpoint(tmp_path / "rng.pt", {"rng": get_rng_state()})
    a = (torch.rand(3), np.random.rand(2), random.random())
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    b = (torch.rand(3), np.random.rand(2), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_param_store_round_trip(tmp_path):
    pyro.param("loc", torch.tensor([0.5, -1.0]))
    pyro.param("scale", torch.tensor([2.0]), constraint=constraints.positive)
    save_checkpoint(tmp_path / "ps.pt", {"params": param_store_state()})
    pyro.clear_param_store()
    load_param_store_state(load_checkpoint(tmp_path / "ps.pt")["params"])
    assert torch.allclose(pyro.param("scale"), torch.tensor([2.0]))
    assert pyro.get_param_store()._constraints["scale"] is constraints.positive
    assert torch.equal(pyro.param("loc"), torch.tensor([0.5, -1.0]))
    d = dist.Normal(pyro.param("loc"), pyro.param("scale"))
    assert d.batch_shape == (2,)
