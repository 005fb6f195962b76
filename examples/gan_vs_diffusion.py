"""GANs vs diffusion vs training images: side-by-side samples on mnist-5k, with their sample-quality metrics.

Trains a DCGAN (probgen.gan) and a small DDPM (probgen.diffusion) on the 4,000 training digits of mnist-5k,
each for the budget given on the command line (defaults below: the figure in docs/benchmarks.md), then
draws one figure with three panels: training images | GAN samples | diffusion samples. Each panel's title
carries the metrics of ``probgen.metrics.SampleEvaluator("mnist-5k")`` on ``--num-eval`` images against the
1,000 test digits (FID in the domain classifier's feature space, precision, recall, coverage and the number
of digit classes covered); the training-image row is the reference that a perfect model would reach at
the same sample size.

Default budgets (the documented figure; CPU, 1 thread each):

* GAN: DCGAN (ngf = ndf = 32), non-saturating loss, ``--gan-steps`` 3000 steps of batch 64 (the "dcgan"
  configuration of bench/gan.py); the checkpoint kept is the one with the best FID against the
  *training* split, checked every 500 steps (so the test-split metrics reported are not selected on).
* Diffusion: U-Net (base 16 channels, levels 28/14/7 with 16/32/64 channels, attention at 7x7), linear
  schedule T = 1000, ``--ddpm-steps`` 3000 Adam steps of batch 64 (lr 1e-3, EMA 0.999, bf16 autocast);
  samples by ancestral sampling on ``--sample-steps`` 100 respaced steps. Its training time includes the
  three sample grids drawn during the run (64 images each).

Runs write into ``--out`` (``gan/``, ``diffusion/``: metrics, checkpoints, figures); ``--resume`` continues
from their last checkpoints, so an interrupted run loses little. Example::

    python examples/gan_vs_diffusion.py --out runs/gan_vs_diffusion --resume
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from probgen.data import load_dataset
from probgen.diffusion import DDPM, DDPMTrainer
from probgen.gan import GAN, GANConfig, GANTrainer
from probgen.plot import save_figure, show_images
from probgen.seeding import seed

SMOKE_ARGS = ["--out", "{out}", "--gan-steps", "2", "--ddpm-steps", "2", "--timesteps", "10",
              "--base-channels", "8", "--ngf", "8", "--sample-steps", "2", "--num-eval", "20",
              "--num-show", "16", "--batch-size", "16", "--gan-eval-every", "2"]

METRICS = ("fid", "precision", "recall", "coverage", "classes_covered")


def evaluator(split: str):
    """probgen.metrics' evaluator against a split of mnist-5k, or None when probgen.metrics is absent."""
    try:
        from probgen.metrics import SampleEvaluator
    except ImportError:
        return None
    return SampleEvaluator("mnist-5k", split=split, device="cpu")


class Clock:
    """Wall and CPU seconds of a block; with ``path``, added to the totals kept in that JSON file (so a
    run resumed over several invocations reports its whole training time)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        if self.path is not None:
            old = json.loads(self.path.read_text()) if self.path.exists() else {"wall_s": 0.0, "cpu_s": 0.0}
            self.wall, self.cpu = old["wall_s"] + self.wall, old["cpu_s"] + self.cpu
            self.path.write_text(json.dumps({"wall_s": self.wall, "cpu_s": self.cpu}) + "\n")


def train_gan(args, data, out: Path) -> tuple[GAN, dict]:
    """Train (or resume) the DCGAN; return the best-by-train-FID generator and its budget."""
    cfg = GANConfig(arch="dcgan", disc="dcgan", loss="non-saturating", g_cfg={"ngf": args.ngf},
                    d_cfg={"ndf": args.ngf}, steps=args.gan_steps, batch_size=args.batch_size,
                    ema=args.gan_ema, diffaug=args.gan_diffaug, device="cpu", seed=args.seed, log_every=50,
                    sample_every=max(args.gan_steps // 6, 1), ckpt_every=args.gan_eval_every,
                    eval_every=args.gan_eval_every)
    ev = evaluator("train") if args.num_eval > 5 else None
    score = None if ev is None else (lambda gan: ev.fid(gan.sample(min(500, args.num_eval))))
    trainer = GANTrainer(cfg, out / "gan", resume=args.resume, data=data, score_fn=score)
    run = trainer.run
    with Clock(run.path / "train_time.json") as clock:
        trainer.fit()
    best = run.load("best") if run.has("best") else None
    gan = GAN.from_state(best) if best is not None else trainer.gan
    budget = {"steps": cfg.steps, "batch_size": cfg.batch_size, "kept_step": int(best["step"]) if best else
              cfg.steps, "train_wall_s": round(clock.wall), "train_cpu_s": round(clock.cpu)}
    return gan.eval(), budget


def train_diffusion(args, data, out: Path) -> tuple[DDPM, dict]:
    """Train (or resume) the DDPM; return it and its budget."""
    seed(args.seed)
    ddpm = DDPM(x_shape=(1, 28, 28), timesteps=args.timesteps, schedule="linear",
                base_channels=args.base_channels, channel_mults=(1, 2, 4), num_res_blocks=1)
    train_cfg = {"steps": args.ddpm_steps, "batch_size": args.batch_size, "lr": 1e-3, "warmup": 200,
                 "ema": 0.999, "amp": not args.no_amp, "device": "cpu", "seed": args.seed,
                 "sample_every": max(args.ddpm_steps // 3, 1), "ckpt_every": 250,
                 "sample_steps": args.sample_steps, "sample_method": args.sampler}
    trainer = DDPMTrainer(train_cfg, out / "diffusion", resume=args.resume, ddpm=ddpm, data=data)
    with Clock(trainer.run.path / "train_time.json") as clock:
        trainer.fit()
    budget = {"steps": args.ddpm_steps, "batch_size": args.batch_size,
              "params": sum(p.numel() for p in ddpm.net.parameters()), "train_wall_s": round(clock.wall),
              "train_cpu_s": round(clock.cpu)}
    return ddpm.eval(), budget


def sample_diffusion(ddpm: DDPM, n: int, args) -> tuple[torch.Tensor, float]:
    with Clock() as clock, torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_amp):
        x = ddpm.sample(n, args.sample_steps, method=args.sampler)
    return x.float(), round(clock.wall)


def title(name: str, m: dict | None) -> str:
    if not m:
        return name
    return (f"{name}\nFID {m['fid']:.1f}  precision {m['precision']:.2f}  recall {m['recall']:.2f}\n"
            f"coverage {m['coverage']:.2f}  classes {m['classes_covered']}/10")


def main(args) -> dict:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    data = load_dataset("mnist-5k", "train")
    ddpm, ddpm_budget = train_diffusion(args, data, out)
    gan, gan_budget = train_gan(args, data, out)

    seed(args.seed + 1)
    n = args.num_eval
    real = data.images[torch.randperm(len(data.images))[:n]]  # (n, 1, 28, 28)
    fake_gan = gan.sample(n)
    fake_ddpm, ddpm_budget["sample_wall_s"] = sample_diffusion(ddpm, n, args)
    panels = {"training images": real, "GAN (DCGAN)": fake_gan, "diffusion (DDPM)": fake_ddpm}

    ev = evaluator("test") if n > 5 else None
    metrics = {}
    for name, x in panels.items():
        metrics[name] = None if ev is None else {k: v for k, v in ev.evaluate(x).items() if k in METRICS}
    if ev is None:
        print("probgen.metrics is not available (or --num-eval is tiny): panels without metrics")

    fig, axes = plt.subplots(1, 3, figsize=(13, 5.2))
    for ax, (name, x) in zip(axes, panels.items()):
        show_images(x[: args.num_show], ax=ax, nrow=int(args.num_show**0.5), title=title(name, metrics[name]))
    fig.suptitle(f"mnist-5k: GAN {gan_budget['steps']} steps ({gan_budget['train_cpu_s']} CPU s), DDPM "
                 f"{ddpm_budget['steps']} steps ({ddpm_budget['train_cpu_s']} CPU s), sampled with "
                 f"{args.sample_steps} {args.sampler.upper()} steps; metrics on {n} images vs the test split",
                 fontsize=10)
    path = save_figure(fig, out / "gan_vs_diffusion.png")

    summary = {"metrics": metrics, "gan": gan_budget, "diffusion": ddpm_budget, "num_eval": n,
               "figure": str(path)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'panel':<18} " + " ".join(f"{m:>15}" for m in METRICS))
    for name, m in metrics.items():
        if m:
            print(f"{name:<18} " + " ".join(f"{m[k]:>15.3f}" if isinstance(m[k], float) else f"{m[k]:>15}"
                                             for k in METRICS))
    print(f"budgets: GAN {gan_budget}; diffusion {ddpm_budget}")
    print(f"figure: {path}")
    return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/gan_vs_diffusion", help="output folder")
    p.add_argument("--gan-steps", type=int, default=3000, help="GAN training steps")
    p.add_argument("--gan-eval-every", type=int, default=500,
                   help="steps between FID checks for the best GAN")
    p.add_argument("--ngf", type=int, default=32, help="DCGAN width (ngf = ndf)")
    p.add_argument("--gan-ema", type=float, default=0.0, help="EMA decay of G's weights (0: off)")
    p.add_argument("--gan-diffaug", default="", help="DiffAugment policy, e.g. 'translation,cutout'")
    p.add_argument("--ddpm-steps", type=int, default=3000, help="DDPM training steps")
    p.add_argument("--timesteps", type=int, default=1000, help="DDPM diffusion steps T")
    p.add_argument("--base-channels", type=int, default=16, help="U-Net width")
    p.add_argument("--sample-steps", type=int, default=100, help="reverse steps when sampling the DDPM")
    p.add_argument("--sampler", choices=("ddpm", "ddim"), default="ddpm",
                   help="DDPM sampler: ancestral (respaced to --sample-steps) or DDIM")
    p.add_argument("--no-amp", action="store_true", help="train and sample the DDPM in float32, not bf16")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--num-eval", type=int, default=1000, help="samples per panel for the metrics")
    p.add_argument("--num-show", type=int, default=64, help="images drawn per panel")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the runs' last checkpoints")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
