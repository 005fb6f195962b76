"""Time ``probgen demo`` per section, and what a default GAN / VAE training run costs on this CPU.

    python bench/demo.py            # the full demo, section by section (docs/benchmarks.md, "Demo")
    python bench/demo.py --quick    # the --quick demo
    python bench/demo.py --costs    # seconds per step of default `probgen train gan` / `train vae` runs

Each section runs as ``probgen demo`` runs it (same settings, same thread policy). Beside its wall time the
table gives its process CPU time, which is close to what the section takes on one otherwise idle core, and
a reference: a fixed one-thread matrix-product workload timed just before the section, so that a section's
time can be read against how fast this machine was at that moment (``wall / ref``). The load average is
printed before each section. On a shared machine, compare ``wall / ref`` and CPU seconds, not wall seconds.

``--costs`` times a few steps of the default configurations and extrapolates to a full default run
(``GANConfig()``: 1,000 steps; ``VAEConfig()``: 50 epochs, then the IWAE test log-likelihood and the
figures); it prints what it measured and how it extrapolated.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probgen.progress import set_quiet  # noqa: E402


def reference_seconds(reps: int = 20) -> float:
    """Wall seconds of a fixed one-thread workload (20 products of 256x256 matrices, 5 rounds: best)."""
    a = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ a
        best = min(best, time.perf_counter() - t0)
    torch.set_num_threads(before)
    return best


def bench_demo(quick: bool, out: Path) -> None:
    from probgen.demo import sections
    from probgen.runs import RunDir
    from probgen.seeding import seed
    from probgen.threads import torch_threads

    run = RunDir(out, {"quick": quick})
    seed(0)
    print("| section | expected (quiet) s | wall s | CPU s | threads | ref s | wall / ref | load1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    total_wall = total_cpu = 0.0
    for s in sections():
        ref, load = reference_seconds(), os.getloadavg()[0]
        with torch_threads(math.inf, kind="dense") as threads:
            t0, c0 = time.perf_counter(), time.process_time()
            s.run(run, quick)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"| {s.name} | {s.seconds[0 if quick else 1]:.0f} | {wall:.1f} | {cpu:.1f} | {threads} | "
              f"{ref:.3f} | {wall / ref:.0f} | {load:.2f} |", flush=True)
    print(f"| total | {sum(s.seconds[0 if quick else 1] for s in sections()):.0f} | {total_wall:.1f} | "
          f"{total_cpu:.1f} | | | | {os.getloadavg()[0]:.2f} |")


def _per_step(fn, warmup: int, steps: int) -> tuple[float, float]:
    """Wall and CPU seconds per call of ``fn`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def bench_costs(steps: int) -> None:
    from probgen.gan import GANConfig, GANTrainer
    from probgen.vae import VAEConfig
    from probgen.vae.train import VAETrainer, evaluate_elbo, evaluate_iwae, resolve_config

    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()}")
    print("| run | measured | wall s/unit | CPU s/unit | units in a default run | CPU estimate |")
    print("| --- | --- | --- | --- | --- | --- |")
    for disc in ("dcgan", "patchgan"):
        cfg = GANConfig(device="cpu", disc=disc, eval_every=0)
        tr = GANTrainer(cfg, None, log=lambda m: None)
        wall, cpu = _per_step(tr.train_step, 3, steps)
        print(f"| GAN dcgan/{disc}, batch {cfg.batch_size} | {steps} steps | {wall:.3f} | {cpu:.3f} | "
              f"{cfg.steps} steps | {cpu * cfg.steps / 60:.1f} min (+ FID every 500 steps) |", flush=True)
    cfg = resolve_config(VAEConfig(device="cpu"))
    tr = VAETrainer(cfg, None, quiet=True)
    wall, cpu = _per_step(tr.train_step, 3, steps)
    n = tr.total
    print(f"| VAE mlp z=50, batch {cfg.batch_size} | {steps} SVI steps | {wall:.3f} | {cpu:.3f} | "
          f"{n} steps ({cfg.epochs} epochs) | {cpu * n / 60:.1f} min |", flush=True)
    ewall, ecpu = _per_step(lambda: evaluate_elbo(tr.vae, tr.test_data), 0, 1)
    print(f"| VAE test ELBO per epoch | 1 pass | {ewall:.2f} | {ecpu:.2f} | {cfg.epochs} epochs | "
          f"{ecpu * cfg.epochs / 60:.1f} min |")
    k = 20
    iwall, icpu = _per_step(lambda: evaluate_iwae(tr.vae, tr.test_data, cfg.iwae_samples, k), 0, 1)
    print(f"| VAE IWAE k={cfg.iwae_samples} | {k} images | {iwall / k:.3f} | {icpu / k:.3f} | "
          f"{cfg.iwae_images} images | {icpu / k * cfg.iwae_images / 60:.1f} min |")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the --quick demo")
    p.add_argument("--costs", action="store_true", help="default GAN/VAE step costs instead of the demo")
    p.add_argument("--steps", type=int, default=20, help="steps timed for --costs")
    p.add_argument("--out", type=Path, help="demo folder (default: a temporary one)")
    args = p.parse_args(argv)
    set_quiet(True)
    print(f"# bench/demo.py {' '.join(argv)}; load average at start {os.getloadavg()}")
    if args.costs:
        bench_costs(args.steps)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        bench_demo(args.quick, args.out or Path(tmp) / "demo")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
