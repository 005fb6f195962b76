"""Image editing as posterior inference: one task, three model families, one call each.

Observe test images through an editing operator A (a missing centre square, a missing right half, a 4x
downsampling or the luminance of a colour image) and sample p(x | A(x) = y) with
``probgen.editing.complete`` from a VAE (importance sampling over z), a GAN (SVI over z; the posterior
lives on the generator's range) and a DDPM (RePaint for masks, DDNM otherwise). The models are trained
briefly here on the coloured digits ``mnist-5k-colour`` (or loaded from run folders given with ``--runs``,
e.g. those of ``python bench/editing.py``, which holds ``vae/``, ``gan/`` and ``ddpm/``). The script prints
each family's consistency ||A(x_hat) - y|| and PSNR next to the nearest-neighbour baseline, and writes one
grid per family (rows: observation, samples, ground truth).

    python examples/editing.py --task colorize
    python examples/editing.py --task inpaint-center --runs runs/bench-editing
"""

import argparse
from pathlib import Path

from probgen import seed as seed_all
from probgen.data import load_dataset
from probgen.editing import task_operator
from probgen.editing.baselines import baseline_complete
from probgen.editing.grid import save_edit_grid
from probgen.editing.load import load_run, test_images
from probgen.editing.posterior import complete

SMOKE_ARGS = ["--vae-epochs", "1", "--gan-steps", "2", "--ddpm-steps", "2", "--timesteps", "20",
              "--sampler-steps", "2", "--svi-steps", "2", "--images", "2", "--samples", "2", "--small",
              "--out", "{out}"]
DATA = "mnist-5k-colour"


def train_models(args) -> dict:
    """A VAE, a GAN and a DDPM trained briefly on ``DATA`` into ``args.out``/<family>."""
    from probgen.diffusion import train_ddpm
    from probgen.gan.loop import train_gan
    from probgen.vae.train import train_vae

    out, w = Path(args.out), 8 if args.small else 32
    vae = train_vae({"data": DATA, "likelihood": "gaussian", "z_dim": 16, "hidden": [w * 8],
                     "epochs": args.vae_epochs, "iwae_samples": 0, "figures": False}, out / "vae",
                    quiet=True).vae
    gan = train_gan({"data": DATA, "latent_dim": 32, "g_cfg": {"ngf": w}, "d_cfg": {"ndf": w},
                     "steps": args.gan_steps, "eval_every": 0, "sample_every": args.gan_steps}, out / "gan")
    model = {"timesteps": args.timesteps, "base_channels": w // 2, "channel_mults": [1, 2],
             "attention": not args.small}
    ddpm = train_ddpm({"data": DATA, "steps": args.ddpm_steps, "model": model, "num_samples": 4,
                       "sample_steps": 2}, out / "ddpm")
    return {"vae": vae.eval(), "gan": gan.eval(), "ddpm": ddpm.eval()}


def main(args):
    seed_all(args.seed)
    models = ({f: load_run(Path(args.runs) / f, "--runs").model for f in ("vae", "gan", "ddpm")}
              if args.runs else train_models(args))
    x, _ = test_images(DATA, args.images, args.seed)  # (B, 3, 28, 28), a seeded random subset
    op = task_operator(args.task, x.shape[1:])
    y = op.apply(x)  # the observation, noiseless
    near = baseline_complete("nearest", y, op, load_dataset(DATA, "train").images, num_samples=args.samples)
    results = {"nearest neighbour": near}
    sampler = {"vae": {}, "gan": {"steps": args.svi_steps}, "ddpm": {"steps": args.sampler_steps}}
    for family, model in models.items():
        results[family] = complete(model, y, op, num_samples=args.samples, seed=args.seed, **sampler[family])
    print(f"task {args.task}: {len(x)} images x {args.samples} samples")
    for name, xs in results.items():  # xs: (S, B, 3, 28, 28)
        resid = (op.apply(xs.flatten(0, 1)) - y.repeat(len(xs), 1, 1, 1)).pow(2).mean().sqrt()
        psnr = (-10 * ((xs - x) ** 2).flatten(2).mean(2).log10()).mean()
        path = save_edit_grid(y, op, xs, x, Path(args.out) / f"{args.task}_{name.replace(' ', '_')}.png")
        print(f"{name:>18}: consistency (RMS) {resid:.4f}  PSNR {psnr:5.2f} dB  -> {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Editing tasks with a VAE, a GAN and a DDPM")
    parser.add_argument("--task", default="inpaint-center",
                        choices=["inpaint-center", "uncrop-right", "superres4", "colorize"])
    parser.add_argument("--runs", help="folder with the run folders vae/, gan/, ddpm/ to load (no training)")
    parser.add_argument("--vae-epochs", type=int, default=8)
    parser.add_argument("--gan-steps", type=int, default=600)
    parser.add_argument("--ddpm-steps", type=int, default=500, help="DDPM training steps")
    parser.add_argument("--timesteps", type=int, default=1000, help="DDPM diffusion steps T")
    parser.add_argument("--sampler-steps", type=int, default=50, help="DDPM reverse steps while completing")
    parser.add_argument("--svi-steps", type=int, default=300, help="GAN SVI steps while completing")
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--small", action="store_true", help="narrow networks (smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/editing")
    main(parser.parse_args())
