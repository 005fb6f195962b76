"""Class-conditional generation as the degenerate editing task, beside a real one (conditional VAE, GAN).

Observing nothing of an image but its class is ``complete`` with a mask that observes no pixel and
``labels=``: the posterior p(x | class) is the model's class-conditional distribution. Observing the left
half as well (``uncrop-right`` with labels) conditions on both. The script trains a conditional VAE and a
conditional GAN briefly on mnist-5k and writes one figure: for each model, a row of class-conditional
samples (digits 0-9) and a row of right-half completions given the left half and the true class, with the
observation and ground truth above them. It prints the shipped classifier's accuracy on the class-only
samples.

    python examples/editing_conditional.py --out runs/editing-conditional
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from probgen import seed as seed_all
from probgen.editing import Mask, task_operator
from probgen.editing.load import test_images
from probgen.editing.posterior import complete
from probgen.metrics.classifier import accuracy, load_classifier
from probgen.plot import save_figure, show_images

SMOKE_ARGS = ["--vae-epochs", "1", "--gan-steps", "2", "--svi-steps", "2", "--small", "--out", "{out}"]
DATA = "mnist-5k"


def train_models(args) -> dict:
    """A conditional VAE and a conditional GAN trained briefly on ``DATA`` into ``args.out``/<family>."""
    from probgen.gan.loop import train_gan
    from probgen.vae.train import train_vae

    out, w = Path(args.out), 8 if args.small else 32
    # A 2-D latent leaves the class to the label: with z_dim 16 and 20 epochs the latent carried the class
    # itself and the conditional VAE's samples matched their label 0.30 of the time.
    vae = train_vae({"data": DATA, "num_classes": 10, "z_dim": 2, "hidden": [w * 8],
                     "epochs": args.vae_epochs, "iwae_samples": 0, "figures": False}, out / "vae",
                    quiet=True).vae
    gan = train_gan({"data": DATA, "conditional": True, "latent_dim": 32, "g_cfg": {"ngf": w},
                     "d_cfg": {"ndf": w}, "steps": args.gan_steps, "eval_every": 0,
                     "sample_every": args.gan_steps}, out / "gan")
    return {"conditional VAE": vae.eval(), "conditional GAN": gan.eval()}


def main(args):
    seed_all(args.seed)
    models = train_models(args)
    classes = torch.arange(10)
    nothing = Mask(torch.zeros(28, 28, dtype=torch.bool))  # observes no pixel: only the class
    x, labels = test_images(DATA, 10, args.seed)
    op = task_operator("uncrop-right", x.shape[1:])
    y = op.apply(x)
    options = {"conditional VAE": {}, "conditional GAN": {"steps": args.svi_steps, "restarts": 1}}
    classify = load_classifier(DATA)
    rows = [("observation (left half)", op.pinv(y)), ("ground truth", x)]
    for name, model in models.items():
        gen = complete(model, torch.zeros(10, 1, 28, 28), nothing, num_samples=1, labels=classes,
                       seed=args.seed, **options[name])[0]
        acc = accuracy(classify, gen.clamp(0, 1), classes)
        print(f"{name}: accuracy of class-only samples (digits 0-9) {acc:.2f}")
        done = complete(model, y, op, num_samples=1, labels=labels, seed=args.seed, **options[name])[0]
        rows += [(f"{name}: given the class only (0-9; classifier accuracy {acc:.2f})", gen),
                 (f"{name}: given the left half and the true class", done)]
    fig, axes = plt.subplots(len(rows), 1, figsize=(7, 1.1 * len(rows)))
    for ax, (title, images) in zip(axes, rows):
        show_images(images.clamp(0, 1), ax=ax, nrow=10, title=title)
    path = save_figure(fig, Path(args.out) / "conditional.png")
    print(f"figure: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Class-conditional generation as editing (VAE and GAN)")
    parser.add_argument("--vae-epochs", type=int, default=30)
    parser.add_argument("--gan-steps", type=int, default=600)
    parser.add_argument("--svi-steps", type=int, default=300, help="GAN SVI steps while completing")
    parser.add_argument("--small", action="store_true", help="narrow networks (smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/editing-conditional")
    main(parser.parse_args())
