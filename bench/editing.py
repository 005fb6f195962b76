"""Image editing as posterior inference: VAE, GAN and DDPM against trivial baselines on four tasks.

    python bench/editing.py                    # train the three models (budget below), then the table
    python bench/editing.py --runs runs/edit   # reuse (or train into) runs/edit/{vae,gan,ddpm}
    python bench/editing.py --quick            # tiny settings (smoke test)

Every model is unconditional and trained on ``mnist-5k-colour`` (3x28x28), so that one model per family
serves all four tasks (``probgen.editing.TASKS``): centre inpainting, right-half uncropping, 4x
super-resolution and colorization. ``--images`` seeded random test images (never the first ones: the split
is sorted by label) are observed noiselessly, y = A(x), and completed ``--samples`` times by
``probgen.editing.complete`` with each family's default method (VAE: importance sampling; GAN: SVI over z,
sigma_y = 0.05; DDPM: RePaint for masks, DDNM otherwise, ``--ddpm-steps`` respaced reverse steps), and by
the baselines of ``probgen.editing.baselines``.

Columns: ``consistency``, the RMS of A(x_hat) - y per observed value (0 for exact methods, about sigma_y
for noisy ones); ``PSNR`` to the ground truth (whole image, dB, mean over completions); ``class acc``, the
shipped mnist-5k classifier (``probgen.metrics``) on the completions converted to grey (BT.601 luminance,
min-max scaled per image, which gives a coloured digit's mnist-5k grey image back); ``diversity``, the
per-pixel s.d. over the samples of one image, averaged over the missing pixels (a mask's unobserved
region; every pixel for super-resolution and colorization); ``FID`` of all completions (grey, as for the
classifier) against the mnist-5k test split, on as many images as the table has completions (biased
upwards at this size; compare within the table, the "ground truth" row is the floor); ``ms/completion``,
wall time of the call over the completions it returned.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from probgen import seed as seed_all
from probgen.data import load_dataset
from probgen.editing import Grayscale, Mask, task_operator
from probgen.editing.baselines import baseline_complete, baselines_for
from probgen.editing.load import CHECKPOINTS, load_run, test_images
from probgen.editing.posterior import complete

DATA = "mnist-5k-colour"
TASKS = ("inpaint-center", "uncrop-right", "superres4", "colorize")
FAMILIES = ("vae", "gan", "ddpm")
# The training budget of each family (2 shared CPU cores); --quick shrinks every count.
BUDGET = {
    "vae": {"data": DATA, "likelihood": "gaussian", "z_dim": 16, "hidden": [400], "epochs": 8,
            "batch_size": 128, "iwae_samples": 0, "figures": False, "device": "cpu"},
    "gan": {"data": DATA, "arch": "dcgan", "disc": "dcgan", "latent_dim": 32, "g_cfg": {"ngf": 32},
            "d_cfg": {"ndf": 32}, "steps": 600, "batch_size": 64, "eval_every": 0, "sample_every": 300,
            "device": "cpu"},
    "ddpm": {"data": DATA, "steps": 500, "batch_size": 64, "device": "cpu", "sample_steps": 50,
             "num_samples": 16, "model": {"timesteps": 1000, "base_channels": 16, "channel_mults": [1, 2]}},
}
QUICK = {
    "vae": {"epochs": 1, "hidden": [32], "z_dim": 4, "batch_size": 500},
    "gan": {"steps": 3, "g_cfg": {"ngf": 8}, "d_cfg": {"ndf": 8}, "batch_size": 16, "sample_every": 3},
    "ddpm": {"steps": 3, "batch_size": 16, "sample_steps": 2, "num_samples": 2,
             "model": {"timesteps": 20, "base_channels": 8, "channel_mults": [1], "attention": False}},
}
# GAN SVI: lr 0.01 (the default 0.05 drove the guide to NaN on the trained DCGAN, one restart), one restart
# (the default 4 costs 4x, too much for this machine)
METHOD_KW = {"vae": {}, "gan": {"steps": 300, "lr": 0.01, "restarts": 1}, "ddpm": {}}  # DDPM: --ddpm-steps
QUICK_KW = {"vae": {"proposals": 20, "rounds": 1}, "gan": {"steps": 3, "particles": 1}, "ddpm": {"steps": 2}}


def train_or_load(family: str, folder: Path, quick: bool) -> tuple[torch.nn.Module, float | None]:
    """The family's model from ``folder`` if it holds a checkpoint, else trained there with the budget;
    returns it and the training wall time in seconds (None when loaded)."""
    if any((folder / c).is_file() for c in CHECKPOINTS):
        return load_run(folder, "--runs").model, None
    cfg = {**BUDGET[family], **(QUICK[family] if quick else {})}
    start = time.perf_counter()
    seed_all(0)
    if family == "vae":
        from probgen.vae.train import train_vae

        model = train_vae(cfg, folder, quiet=True).vae
    elif family == "gan":
        from probgen.gan.loop import train_gan

        model = train_gan(cfg, folder)
    else:
        from probgen.diffusion import train_ddpm

        model = train_ddpm(cfg, folder)
    return model.eval(), time.perf_counter() - start


def to_grey(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) colour digits -> (N, 1, H, W) grey, for the mnist-5k classifier: the luminance,
    min-max scaled per image."""
    luma = Grayscale().apply(x)
    lo, hi = luma.amin((2, 3), keepdim=True), luma.amax((2, 3), keepdim=True)
    return ((luma - lo) / (hi - lo).clamp(min=1e-6)).clamp(0, 1)


def missing(op, shape) -> torch.Tensor:
    """(C, H, W) bool: where the diversity is measured (a mask's unobserved pixels, else every pixel)."""
    return ~op.observed(shape) if isinstance(op, Mask) else torch.ones(shape, dtype=torch.bool)


def scores(xs: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, y: torch.Tensor, op, evaluator,
           raw: torch.Tensor | None = None) -> dict:
    """The table's columns for completions ``xs`` (S, B, C, H, W) of truth ``x`` (B, C, H, W);
    consistency on ``raw`` (the sampler's output before a mask's observed pixels are pasted in)."""
    s = len(xs)
    flat = xs.flatten(0, 1)  # (S * B, C, H, W)
    raw = xs if raw is None else raw
    resid = op.apply(raw.flatten(0, 1)) - y.repeat(s, 1, 1, 1)
    mse = ((xs - x) ** 2).flatten(2).mean(2)  # (S, B)
    grey = to_grey(flat)
    acc = float((evaluator.predict(grey) == labels.repeat(s)).float().mean())
    div = float(xs.std(0)[:, missing(op, x.shape[1:])].mean()) if s > 1 else 0.0
    return {"consistency": float(resid.pow(2).mean().sqrt()), "psnr": float((-10 * mse.log10()).mean()),
            "acc": acc, "diversity": div, "fid": evaluator.fid(grey)}


def bench(models: dict, args, evaluator) -> tuple[list[dict], dict]:
    """Rows of the table, and the completions of the first image per task for the figure."""
    x, labels = test_images(DATA, args.images, args.seed)  # (B, 3, 28, 28), (B,)
    train = load_dataset(DATA, "train").images
    truth = scores(x[None].expand(args.samples, -1, -1, -1, -1), x, labels, Grayscale().apply(x), Grayscale(),
                   evaluator)
    rows = [] if args.no_baselines else [{"task": "-", "model": "ground truth", "method": "-", "sigma_y": "-",
                                          **truth, "ms": 0.0}]
    shown = {}
    for task in TASKS:
        op = task_operator(task, x.shape[1:])
        y = op.apply(x)
        shown[task] = {"observation": y[:1], "truth": x[:1]}
        for fam, model in models.items():
            kw = {**METHOD_KW[fam], **(QUICK_KW[fam] if args.quick else {})}
            if fam == "ddpm" and not args.quick:
                kw["steps"] = args.ddpm_steps
            start = time.perf_counter()
            try:
                raw, info = complete(model, y, op, num_samples=args.samples, seed=args.seed, return_info=True,
                                     keep_observed=False, **kw)
            except (ValueError, RuntimeError) as e:  # a sampler that fails is a row of the table too
                nan = float("nan")
                rows.append({"task": task, "model": fam.upper(), "method": f"failed: {str(e)[:60]!r}",
                             "sigma_y": "-", "consistency": nan, "psnr": nan, "acc": nan, "diversity": nan,
                             "fid": nan, "ms": nan})
                print(f"  {task:<15} {fam:<5} FAILED: {str(e)[:200]}", file=sys.stderr, flush=True)
                continue
            ms = 1000 * (time.perf_counter() - start) / raw[:, :, 0, 0, 0].numel()
            # what complete returns by default (keep_observed=True): a mask's observed pixels set to y
            xs = torch.where(op.observed(x.shape[1:]), y, raw) if isinstance(op, Mask) else raw
            cols = scores(xs, x, labels, y, op, evaluator, raw)
            rows.append({"task": task, "model": fam.upper(), "method": info["method"],
                         "sigma_y": info["sigma_y"], **cols, "ms": ms})
            shown[task][fam] = xs[:2, 0]
            print(f"  {task:<15} {fam:<5} done ({ms:.1f} ms/completion)", file=sys.stderr, flush=True)
        for name in [] if args.no_baselines else baselines_for(op):
            start = time.perf_counter()
            xs = baseline_complete(name, y, op, train, num_samples=args.samples)  # deterministic: repeated
            ms = 1000 * (time.perf_counter() - start) / xs[:, :, 0, 0, 0].numel()
            rows.append({"task": task, "model": f"baseline: {name}", "method": "-", "sigma_y": 0.0,
                         **scores(xs, x, labels, y, op, evaluator), "ms": ms})
    return rows, shown


def table(rows: list[dict]) -> str:
    head = ("| task | model | method | sigma_y | consistency (RMS) | PSNR (dB) | class acc | "
            "diversity (s.d.) | FID | ms/completion |\n|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['task']} | {r['model']} | {r['method']} | {r['sigma_y']} | {r['consistency']:.4f} | "
             f"{r['psnr']:.2f} | {r['acc']:.3f} | {r['diversity']:.4f} | {r['fid']:.1f} | {r['ms']:.2f} |"
             for r in rows]  # PSNR of the ground truth itself: inf
    return "\n".join([head, *lines])


def figure(shown: dict, families, path: Path) -> Path:
    """Rows = tasks; columns = observation, two samples of each family, ground truth."""
    import matplotlib.pyplot as plt

    from probgen.editing.grid import observation_image
    from probgen.plot import save_figure

    cols = ["observation", *[f"{f.upper()} {i}" for f in families for i in (1, 2)], "ground truth"]
    fig, axes = plt.subplots(len(shown), len(cols), figsize=(1.3 * len(cols), 1.45 * len(shown)))
    for r, (task, d) in enumerate(shown.items()):
        op = task_operator(task, d["truth"].shape[1:])
        obs = observation_image(d["observation"], op, d["truth"].shape[1:])[0]
        imgs = [obs, *[d[f][i] for f in families for i in range(min(2, len(d[f])))], d["truth"][0]]
        for c, img in enumerate(imgs):
            ax = axes[r, c]
            ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(task, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def merge(folders: list[Path], out: Path) -> tuple[str, Path]:
    """One table and one figure from the ``rows.json``/``shown.pt`` of bench runs over disjoint families
    (run in parallel, one with the baselines): rows ordered truth, then per task the families, then the
    baselines."""
    rows, shown = [], {}
    for folder in folders:
        rows += json.loads((folder / "rows.json").read_text())
        for task, d in torch.load(folder / "shown.pt", weights_only=True).items():
            shown.setdefault(task, {}).update(d)
    order = {name: i for i, name in enumerate(["ground truth", *(f.upper() for f in FAMILIES)])}
    rows.sort(key=lambda r: (r["task"] != "-", TASKS.index(r["task"]) if r["task"] in TASKS else -1,
                             order.get(r["model"], len(order))))
    families = [f for f in FAMILIES if any(f in d for d in shown.values())]
    return table(rows), figure(shown, families, out / "editing.png")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", default="runs/bench-editing", help="model folders {vae,gan,ddpm} (reused)")
    p.add_argument("--out", default=None, help="table and figure folder (default: --runs)")
    p.add_argument("--images", type=int, default=30, help="seeded random test images")
    p.add_argument("--samples", type=int, default=4, help="completions per image")
    p.add_argument("--ddpm-steps", type=int, default=50, help="DDPM reverse steps (respaced)")
    p.add_argument("--only", nargs="+", choices=FAMILIES, default=list(FAMILIES), help="families")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny models and samplers (smoke test)")
    p.add_argument("--train-only", action="store_true", help="train (or load) the models and stop")
    p.add_argument("--no-baselines", action="store_true", help="only the families given with --only")
    p.add_argument("--merge", nargs="+", type=Path, help="merge the results of these --out folders and stop")
    args = p.parse_args(argv)
    if args.quick:
        args.images, args.samples = min(args.images, 6), min(args.samples, 2)
    runs, out = Path(args.runs), Path(args.out or args.runs)
    if args.merge:
        md, fig = merge(args.merge, out)
        (out / "table.md").write_text(md + "\n")
        print(f"{md}\n\nfigure {fig}")
        return 0
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    models, trained = {}, {}
    for fam in args.only:
        models[fam], trained[fam] = train_or_load(fam, runs / fam, args.quick)
        print(f"{fam}: {'loaded' if trained[fam] is None else f'trained in {trained[fam]:.0f} s'} "
              f"(load average {os.getloadavg()})", file=sys.stderr, flush=True)
    if args.train_only:
        return 0
    from probgen.metrics import SampleEvaluator

    evaluator = SampleEvaluator("mnist-5k", "test", device="cpu")
    start = time.perf_counter()
    rows, shown = bench(models, args, evaluator)
    md = table(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(md + "\n")
    (out / "rows.json").write_text(json.dumps(rows, indent=1))
    torch.save(shown, out / "shown.pt")
    fig = figure(shown, list(models), out / "editing.png")
    print(md)
    train_s = ", ".join(f"{f} {'loaded' if t is None else f'{t:.0f} s'}" for f, t in trained.items())
    print(f"\ntraining: {train_s}; evaluation {time.perf_counter() - start:.0f} s; "
          f"{args.images} images x {args.samples} samples; load average {os.getloadavg()}; figure {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
