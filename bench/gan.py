"""GAN benchmarks: training-step speed against a hand-written PyTorch loop, and sample quality on mnist-5k.

    python bench/gan.py                  # speed table, then quality table (trains four GANs)
    python bench/gan.py --speed-only     # the timing table alone
    python bench/gan.py --quality-only --only dcgan   # train/evaluate one configuration
    python bench/gan.py --report         # quality table from finished runs under --out
    python bench/gan.py --quick          # tiny settings (smoke test)

Speed: probgen's DCGAN training step (``GANStepper.step``: one D update, one G update, non-saturating
loss) against a hand-written loop doing the same computation with the same networks, batch and loss,
timed in interleaved blocks in one process (wall-clock and process CPU time, medians of the per-block
ratios; the CPU-time ratio is less disturbed by other processes on a shared machine). A second reference
is the pytorch/examples DCGAN loop (one fake batch reused for the G step, D's gradients computed in the G
step too).

Quality: each configuration trains for a fixed number of steps at batch 64 (the budget below), FID on 1,000
samples every ``eval_every`` steps keeps the best checkpoint, and the best checkpoint is scored by
:class:`probgen.metrics.SampleEvaluator` against mnist-5k's test split.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from probgen import seed
from probgen.data import load_dataset, make_loader
from probgen.gan.config import GANConfig
from probgen.gan.evaluate import balanced_labels, evaluate, fid_score_fn
from probgen.gan.loop import GANTrainer
from probgen.gan.model import GAN
from probgen.gan.train import GANStepper, build_gan

# The fixed quality budget: widths, steps and batch of every configuration (2 CPU cores).
STEPS = 3000
CONFIGS = {
    "dcgan": {"arch": "dcgan", "disc": "dcgan", "g_cfg": {"ngf": 32}, "d_cfg": {"ndf": 32}},
    "dcgan-patchgan": {"arch": "dcgan", "disc": "patchgan", "g_cfg": {"ngf": 32}, "d_cfg": {"ndf": 32}},
    "dcgan-conditional": {"arch": "dcgan", "disc": "dcgan", "conditional": True, "g_cfg": {"ngf": 32},
                          "d_cfg": {"ndf": 32}},
    # The transformer pair learns far slower than the conv nets: a slower D and a faster G (lr 1e-4 vs
    # 4e-4), and DiffAugment's full policy, keep D from winning outright early on. With translation alone
    # the ViT D separated real from fake within 100 steps and G collapsed to blank images (FID 1,371).
    "transformer-vit": {"arch": "transformer", "disc": "vit", "latent_dim": 128, "lr_g": 4e-4, "lr_d": 1e-4,
                        "g_cfg": {"dim": 64, "heads": 4, "depth": [2, 2]},
                        "d_cfg": {"dim": 64, "depth": 2, "heads": 4, "patch_size": 4, "overlap": 2},
                        "ema": 0.999, "diffaug": "color,translation,cutout"},
    # The transformer generator against the conv discriminator (TransGAN's hybrid), for comparison.
    "transformer-dcgan": {"arch": "transformer", "disc": "dcgan", "latent_dim": 128,
                          "g_cfg": {"dim": 64, "heads": 4, "depth": [2, 2]}, "d_cfg": {"ndf": 32},
                          "ema": 0.999},
}
QUICK = {"steps": 4, "g_cfg": {"ngf": 4}, "d_cfg": {"ndf": 4}}


# ------------------------------------------------------------------------------------------------- speed


def _reference_step(G, D, og, od, x, nz, pytorch_examples: bool = False) -> None:
    """A hand-written DCGAN step: Algorithm 1 with k = 1, non-saturating G loss."""
    real = x * 2 - 1
    if pytorch_examples:  # one fake batch for both updates; D's grads computed (and discarded) in the G step
        fake = G(torch.randn(len(x), nz))
        ld = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        od.zero_grad(set_to_none=True)
        ld.backward()
        od.step()
        lg = F.softplus(-D(fake)).mean()
        og.zero_grad(set_to_none=True)
        lg.backward()
        og.step()
        return
    with torch.no_grad():
        fake = G(torch.randn(len(x), nz))
    ld = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
    od.zero_grad(set_to_none=True)
    ld.backward()
    od.step()
    for p in D.parameters():
        p.requires_grad_(False)
    lg = F.softplus(-D(G(torch.randn(len(x), nz)))).mean()
    og.zero_grad(set_to_none=True)
    lg.backward()
    og.step()
    for p in D.parameters():
        p.requires_grad_(True)


def speed(quick: bool, repeats: int, block: int, width: int, batch: int) -> list[dict]:
    cfg = GANConfig(g_cfg={"ngf": width}, d_cfg={"ndf": width}, batch_size=batch, device="cpu")
    seed(0)
    gan = build_gan(cfg, 1, 28, None)
    ref_nets = [copy.deepcopy(gan) for _ in range(2)]
    stepper = GANStepper(gan, cfg)
    refs = []
    for net in ref_nets:
        G, D = net.generator, net.discriminator
        refs.append((G, D, torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
                     torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))))
    data = load_dataset("mnist-5k")
    xs = [x for x, _ in make_loader(data, batch, drop_last=True)][: block]
    runners = {
        "probgen GANStepper.step": lambda: [stepper.step(iter([(x, None)])) for x in xs],
        "hand-written (same computation)": lambda: [_reference_step(*refs[0], x, 100) for x in xs],
        "pytorch/examples style loop": lambda: [_reference_step(*refs[1], x, 100, True) for x in xs],
    }
    for run in runners.values():  # warm-up
        run()
    wall, cpu = {k: [] for k in runners}, {k: [] for k in runners}
    for r in range(repeats):
        order = list(runners) if r % 2 == 0 else list(runners)[::-1]  # interleaved, alternating order
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            runners[name]()
            wall[name].append((time.perf_counter() - t0) / len(xs))
            cpu[name].append((time.process_time() - c0) / len(xs))
    ref = "hand-written (same computation)"
    rows = []
    for name in runners:
        med = statistics.median(wall[name])
        rows.append({"loop": name, "ms_per_step": 1000 * med, "images_per_s": batch / med,
                     "ratio": statistics.median([a / b for a, b in zip(wall[name], wall[ref])]),
                     "cpu_ratio": statistics.median([a / b for a, b in zip(cpu[name], cpu[ref])])})
    rows[0]["paired_ratios"] = [a / b for a, b in zip(wall["probgen GANStepper.step"], wall[ref])]
    return rows


def print_speed(rows, width, batch, repeats, block, threads) -> None:
    print(f"\n### DCGAN training step, 28x28, ngf = ndf = {width}, batch {batch}, CPU, {threads} thread(s); "
          f"median of {repeats} interleaved blocks of {block} steps\n")
    print("| loop | ms / step | images / s | time ratio to hand-written | CPU-time ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['loop']} | {r['ms_per_step']:.1f} | {r['images_per_s']:.0f} | {r['ratio']:.3f} | "
              f"{r['cpu_ratio']:.3f} |")
    pr = rows[0]["paired_ratios"]
    print(f"\nprobgen / hand-written per block: min {min(pr):.3f}, median {statistics.median(pr):.3f}, "
          f"max {max(pr):.3f}")


# ----------------------------------------------------------------------------------------------- quality


def train_one(name: str, out: Path, quick: bool, eval_every: int, fid_samples: int,
              steps: int = STEPS) -> dict:
    settings = {**CONFIGS[name], **(QUICK if quick else {"steps": steps})}
    if quick and settings["arch"] == "transformer":
        settings.update(g_cfg={"dim": 16, "heads": 2, "depth": [1, 1]}, d_cfg={"dim": 16, "depth": 1,
                        "heads": 2, "patch_size": 7}, latent_dim=8)
    every = settings["steps"] if quick else eval_every
    cfg = GANConfig.from_dict({**settings, "device": "cpu", "batch_size": 64, "log_every": 1 if quick else 50,
                               "sample_every": every, "ckpt_every": every, "eval_every": every})
    trainer = GANTrainer(cfg, out / name, resume=True, score_fn=fid_score_fn("mnist-5k", fid_samples),
                         log=lambda m: None)  # continues a run already there
    run = trainer.run
    t0 = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - t0
    best = run.load("best") if run.has("best") else run.load("last")
    gan = GAN.from_state(best)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        metrics = evaluate(gan, "mnist-5k", n=1000)
        grid = gan.sample(100, y=balanced_labels(100, gan.num_classes))
    from probgen.plot import save_image_grid

    save_image_grid(grid, run.figure("best_samples.png"), nrow=10)
    result = {"name": name, "steps": cfg.steps, "best_step": int(best["step"]), "train_seconds": seconds,
              "config": cfg.to_dict(), **{k: float(v) for k, v in metrics.items()}}
    (run.path / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def real_reference(n: int = 1000) -> dict:
    """The same metrics for 1,000 real training images (the floor a perfect generator would reach)."""
    from probgen.metrics import SampleEvaluator

    x, y = load_dataset("mnist-5k", "train")
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]
    ev = SampleEvaluator("mnist-5k", split="test", device="cpu")
    return {"name": "real train images", **ev.evaluate(x[idx], labels=y[idx])}


def print_quality(results: list[dict]) -> None:
    print("\n### Sample quality on mnist-5k (1,000 samples vs the 1,000 test images; best-FID checkpoint)\n")
    print("| model | steps (best at) | FID | precision | recall | density | coverage | classes | class KL | "
          "cond. acc. |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        steps = f"{r['steps']} ({r['best_step']})" if "steps" in r else "-"
        acc = f"{r['cond_accuracy']:.3f}" if "cond_accuracy" in r else "-"
        print(f"| {r['name']} | {steps} | {r['fid']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['density']:.3f} | {r['coverage']:.3f} | {int(r['classes_covered'])} | "
              f"{r['class_kl']:.3f} | {acc} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--quality-only", action="store_true")
    p.add_argument("--report", action="store_true", help="print the quality table from finished runs")
    p.add_argument("--only", choices=list(CONFIGS), nargs="+", help="quality: these configurations only")
    p.add_argument("--out", default="runs/bench_gan", help="quality runs folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--width", type=int, default=64, help="speed: ngf = ndf")
    p.add_argument("--batch", type=int, default=64, help="speed: batch size")
    p.add_argument("--repeats", type=int, default=10, help="speed: interleaved blocks per loop")
    p.add_argument("--block", type=int, default=5, help="speed: steps per block")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--steps", type=int, default=STEPS,
                   help="quality: training steps per model (use another --out for another budget)")
    p.add_argument("--fid-samples", type=int, default=1000)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.quick:
        args.width, args.repeats, args.block, args.batch = 4, 2, 2, 16
        out = Path(args.out) / "quick" if args.out != "runs/bench_gan" else Path("runs/bench_gan_quick")
    if not (args.quality_only or args.report):
        rows = speed(args.quick, args.repeats, args.block, args.width, args.batch)
        print_speed(rows, args.width, args.batch, args.repeats, args.block, args.threads)
    if args.speed_only:
        return 0
    names = args.only or (["dcgan"] if args.quick else list(CONFIGS))
    if args.report:
        results = [json.loads((out / n / "result.json").read_text()) for n in names
                   if (out / n / "result.json").exists()]
    else:
        results = [train_one(n, out, args.quick, args.eval_every, args.fid_samples, args.steps)
                   for n in names]
    print_quality([real_reference()] + results)
    if not args.quick:
        print(f"\nbudget: {args.steps} steps of batch 64 per model (widths in bench/gan.py CONFIGS); "
              f"FID every {args.eval_every} steps on {args.fid_samples} samples picks the checkpoint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
