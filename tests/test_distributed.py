"""The DDP helper with 2 gloo processes on the CPU, launched by torchrun as a user would."""

import textwrap

import torch

from probgen.distributed import DistContext, setup_distributed, unwrap

SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from probgen.distributed import setup_distributed, unwrap
    from probgen.data import load_dataset

    ctx = setup_distributed("cpu")
    torch.manual_seed(ctx.rank)  # different init per rank: DDP must broadcast rank 0's weights
    net = ctx.wrap(torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    data = load_dataset("digits", "train")
    seen = 0
    for x, y in ctx.loader(data, batch_size=32, seed=1):
        loss = torch.nn.functional.cross_entropy(net(x.flatten(1)), y)
        opt.zero_grad(); loss.backward(); opt.step(); seen += len(x)
    w = unwrap(net).weight.detach().reshape(-1)
    mean_loss = ctx.mean(loss.item())
    torch.save({"w": w, "seen": seen, "mean": mean_loss, "world": ctx.world_size},
               sys.argv[1] + f"/rank{ctx.rank}.pt")
    ctx.close()
    """
)


def test_two_gloo_processes_end_with_identical_weights(tmp_path, torchrun):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PROBGEN_CACHE": str(tmp_path / "cache")}
    torchrun(script, tmp_path, env=env, timeout=300)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world"] == 2
    assert torch.allclose(r0["w"], r1["w"], atol=1e-6)
    assert r0["seen"] == r1["seen"] == 1442 // 2 + 1442 % 2  # each rank sees its half of every epoch
    assert r0["mean"] == r1["mean"]


def test_single_process_context(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = setup_distributed("cpu")
    assert ctx == DistContext() and ctx.is_main and not ctx.is_distributed
    net = torch.nn.Linear(2, 2)
    assert ctx.wrap(net) is net and unwrap(net) is net
    assert ctx.mean(3.0) == 3.0
    ctx.barrier()
    ctx.close()
