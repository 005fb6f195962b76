import os
import re
import signal
import zipfile

import pyro
import pyro.distributions as dist
import pytest
import torch
from torch.distributions import constraints

from probgen.checkpoint import (
    expect_kind,
    load_checkpoint,
    load_param_store_state,
    load_weights,
    param_store_state,
    rebuilding,
    remove_stale_temporaries,
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
        (b"not a checkpoint at all\n", r"is not a probgen checkpoint: it is a text file \(24 bytes, starting "
                                       r"'not a checkpoint at all\\n'\), not a torch zip file"),
        (b"abc", r"is not a probgen checkpoint: it is a text file \(3 bytes"),
        (b"\x80\x02}q\x00", r"is not a probgen checkpoint: it is a 5-byte file of another kind"),
        (b"", r"is empty \(0 bytes\): truncated"),
        (b"PK\x03", r"is truncated or damaged: the start of a torch checkpoint .* \(3 bytes\)"),
        (b"PK\x03\x04" + bytes(100), r"is truncated or damaged"),
    ],
)
def test_garbage_file_gives_clear_error(tmp_path, content, match):
    """Text, a few bytes, a pickle, empty, a cut zip: torch's unpickler raised KeyError/IndexError on some."""
    p = tmp_path / "bad.pt"
    p.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"'{re.escape(str(p))}' {match}" if content else match):
        load_checkpoint(p)


def test_a_zip_that_is_not_a_torch_file_and_a_folder(tmp_path):
    p = tmp_path / "archive.pt"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match=r"archive.pt' is damaged or not a torch checkpoint: a zip "
                                              "archive"):
        load_checkpoint(p)
    with pytest.raises(CheckpointError, match=r"is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path)


def test_torch_file_that_is_not_a_probgen_checkpoint(tmp_path):
    p = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, p)
    with pytest.raises(CheckpointError, match="not a probgen checkpoint"):
        load_checkpoint(p)


def test_pickled_code_is_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"probgen_checkpoint": 1, "obj": constraints.positive}, p)  # an arbitrary class instance
    with pytest.raises(CheckpointError, match=r"evil.pt' holds Python objects \(torch.distributions."
                                              r"constraints._GreaterThan\) that weights_only loading "
                                              "refuses"):
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


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoints_get_the_umask_permissions_of_any_new_file(tmp_path, umask):
    """tempfile.mkstemp made every checkpoint 0o600; now it is 0o666 less the umask, as open() gives."""
    old = os.umask(umask)
    try:
        p = save_checkpoint(tmp_path / "ck.pt", {"step": 1})
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask == (tmp_path / "plain.txt").stat().st_mode & 0o777


def test_ctrl_c_during_a_save_takes_effect_after_it(tmp_path, monkeypatch):
    """SIGINT while torch.save writes: the new checkpoint is completed and renamed, then KeyboardInterrupt."""
    path = save_checkpoint(tmp_path / "ck.pt", _state(1.0))
    real_save = torch.save

    def interrupted_save(obj, f, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives in the middle of the write
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", interrupted_save)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in a program
    try:
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(path, _state(2.0))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert load_checkpoint(path)["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    keep = ["last.pt", ".last.pt.tmp", "notes.tmp", ".last.pt.ABCDEFGH.tmp", ".x.pt.abc.tmp",
            "a.pt.abcdefgh.tmp"]
    stale = [".last.pt.k3j_9x2a.tmp", ".best.pt.0123abcd.tmp", ".model.pt.zzzzzzzz.tmp"]
    for name in keep + stale:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".last.pt.0123abcd.tmp").write_bytes(b"x")  # only the folder itself is cleaned
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep + ["sub"])
    assert (tmp_path / "sub" / ".last.pt.0123abcd.tmp").exists()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_a_save_into_a_path_blocked_by_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match=r"cannot write checkpoint .*file/ck.pt': a file stands where a "
                                              "folder"):
        save_checkpoint(tmp_path / "file" / "ck.pt", {"step": 1})


def test_weights_that_do_not_fit_name_the_entries():
    small, big = torch.nn.Linear(3, 2), torch.nn.Linear(3, 4)
    with pytest.raises(CheckpointError, match=r"^'m.pt' has mismatched weights for the Linear its config "
                                              r"describes: `weight` has shape \(4, 3\) in the checkpoint but "
                                              r"\(2, 3\) in the model; `bias` has shape \(4,\)"):
        load_weights(small, big.state_dict(), "'m.pt'")
    with pytest.raises(CheckpointError, match=r"1 missing \(e.g. `bias`\); 1 unexpected \(e.g. `other`\)"):
        load_weights(small, {"weight": torch.zeros(2, 3), "other": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="holds weights of type list"):
        load_weights(small, [1, 2])
    load_weights(small, {k: v + 1 for k, v in small.state_dict().items()})  # a fitting state loads


def test_rebuilding_names_the_source_and_the_missing_entry():
    with pytest.raises(CheckpointError, match=r"^'a.pt' cannot be loaded as a thing: it has no 'config' "
                                              "entry$"):
        with rebuilding("'a.pt'", "a thing"):
            {}["config"]
    with pytest.raises(CheckpointError, match=r"^'a.pt' cannot be loaded as a thing: mismatched weights: "
                                              "size mismatch for weight"):
        with rebuilding("'a.pt'", "a thing"):
            torch.nn.Linear(3, 2).load_state_dict(torch.nn.Linear(3, 4).state_dict())
    with pytest.raises(CheckpointError, match=r"^'a.pt' is a probgen checkpoint of a GAN, not of a VAE$"):
        expect_kind({"spec": {}, "gan": {}}, "probgen.vae.VAE", "'a.pt'")  # a GAN's, from before "kind"
    with pytest.raises(CheckpointError, match=r"is not a checkpoint of a DDPM: its entries \('step'\) are "
                                              "not those of any probgen model"):
        expect_kind({"step": 3}, "probgen.diffusion.DDPM")
