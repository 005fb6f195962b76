"""Diffusion benchmarks: bf16 vs float32 step speed, and sample quality per sampler of a trained DDPM.

    python bench/diffusion.py --speed-only       # training-step and sampling-step timing table
    python bench/diffusion.py --samplers-only    # quality per sampler of the gan_vs_diffusion DDPM
    python bench/diffusion.py --quick            # tiny settings (smoke test)

Speed: one training step (loss, backward, Adam) of the U-Net used in examples/gan_vs_diffusion.py (base 16
channels, levels 28/14/7, batch 64) and one sampling forward pass (batch 250), in float32 (the reference)
and under bf16 autocast, timed in interleaved blocks in one process, so that the ratio holds on a busy
machine. CPU seconds (``time.process_time``) are reported next to wall seconds.

Samplers: the DDPM trained by ``examples/gan_vs_diffusion.py`` (``--ckpt``, its ``checkpoints/last.pt``),
sampled with each of ``--samplers`` (``method:steps``) and scored by
:class:`probgen.metrics.SampleEvaluator` on ``--n`` images against mnist-5k's test split.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch

from probgen import seed
from probgen.checkpoint import load_checkpoint
from probgen.diffusion import DDPM

FIGURE_NET = {"x_shape": (1, 28, 28), "timesteps": 1000, "base_channels": 16, "channel_mults": (1, 2, 4)}
QUICK_NET = {"x_shape": (1, 8, 8), "timesteps": 20, "base_channels": 8, "channel_mults": (1, 2)}
METRICS = ("fid", "precision", "recall", "coverage", "classes_covered")


def _amp(on: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if on else contextlib.nullcontext()


def speed(args) -> list[str]:
    """Interleaved timing of float32 vs bf16: training step and sampling forward pass."""
    seed(0)
    net = QUICK_NET if args.quick else FIGURE_NET
    ddpm = DDPM(**net)
    opt = torch.optim.Adam(ddpm.net.parameters(), 1e-3)
    x = torch.rand(64, *net["x_shape"])
    xs, ts = torch.randn(250, *net["x_shape"]), torch.full((250,), 500 % net["timesteps"])

    def train(amp):
        with _amp(amp):
            loss = ddpm.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    @torch.no_grad()
    def forward(amp):
        with _amp(amp):
            ddpm.net(xs, ts)

    times = {(k, amp): ([], []) for k in ("train step (batch 64)", "sampling forward (batch 250)")
             for amp in (False, True)}
    for fn, key in ((train, "train step (batch 64)"), (forward, "sampling forward (batch 250)")):
        for amp in (False, True):
            fn(amp)  # warm-up
        for _ in range(args.rounds):
            for amp in (False, True):
                w, c = time.perf_counter(), time.process_time()
                for _ in range(args.steps):
                    fn(amp)
                times[key, amp][0].append((time.perf_counter() - w) / args.steps)
                times[key, amp][1].append((time.process_time() - c) / args.steps)
    lines = [f"U-Net {net['base_channels']} ch x {net['channel_mults']}, {torch.get_num_threads()} "
             f"thread(s), {args.rounds} rounds x {args.steps} calls, interleaved; median per call", "",
             "| operation | precision | wall ms | CPU ms | time vs float32 (wall) |",
             "| --- | --- | --- | --- | --- |"]
    for (key, amp), (wall, cpu) in times.items():
        ratio = statistics.median(wall) / statistics.median(times[key, False][0])
        wall_ms, cpu_ms = 1000 * statistics.median(wall), 1000 * statistics.median(cpu)
        lines.append(f"| {key} | {'bf16 autocast' if amp else 'float32'} | {wall_ms:.0f} | {cpu_ms:.0f} "
                     f"| {ratio:.2f}x |")
    return lines


def samplers(args) -> list[str]:
    """FID and friends of the trained DDPM under each sampler."""
    from probgen.metrics import SampleEvaluator

    if args.quick:
        seed(0)
        ddpm, dataset = DDPM(**QUICK_NET), "digits"
    else:
        if not Path(args.ckpt).is_file():
            return [f"no checkpoint at {args.ckpt}: run examples/gan_vs_diffusion.py first (or pass --ckpt)"]
        ddpm, dataset = DDPM.from_state(load_checkpoint(args.ckpt)), "mnist-5k"
    ev = SampleEvaluator(dataset, split="test", device="cpu")
    lines = [f"{args.n} samples per row vs the {dataset} test split; bf16 autocast: {not args.no_amp}", "",
             "| sampler | steps | " + " | ".join(METRICS) + " | wall s | CPU s |",
             "| --- | --- | " + " | ".join("---" for _ in METRICS) + " | --- | --- |"]
    for spec in args.samplers.split(","):
        method, steps = spec.split(":")
        steps = min(int(steps), ddpm.timesteps)
        seed(args.seed)
        w, c = time.perf_counter(), time.process_time()
        with _amp(not args.no_amp):
            x = ddpm.sample(args.n, steps, method=method).float()
        w, c = time.perf_counter() - w, time.process_time() - c
        m = ev.evaluate(x)
        cells = [f"{m[k]:.3f}" if isinstance(m[k], float) else str(m[k]) for k in METRICS]
        lines.append(f"| {method} | {steps} | " + " | ".join(cells) + f" | {w:.0f} | {c:.0f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny settings (smoke test)")
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--samplers-only", action="store_true")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    p.add_argument("--steps", type=int, default=5, help="calls per timing block")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ckpt", default="runs/gan_vs_diffusion/diffusion/checkpoints/last.pt")
    p.add_argument("--samplers", default="ddpm:100,ddim:100,ddpm:50,ddim:50")
    p.add_argument("--n", type=int, default=1000, help="samples per sampler")
    p.add_argument("--no-amp", action="store_true", help="sample in float32")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.n, args.samplers = 2, 1, 20, "ddpm:5,ddim:5"
    torch.set_num_threads(args.threads)
    if not args.samplers_only:
        print("\n".join(speed(args)), flush=True)
    if not args.speed_only:
        print("\n" + "\n".join(samplers(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
