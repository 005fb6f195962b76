"""A class-conditional DCGAN: ask for a digit, get that digit.

The label's embedding is concatenated to z in the generator and appended to the discriminator's input as
an extra channel, so both players see it. The figure has one row per digit (0 to 9, the same z along each
column); the conditional accuracy is how often the domain classifier reads the requested digit.

    python examples/gan_conditional.py --steps 3000
"""

import argparse
from pathlib import Path

import torch

from probgen.gan import GANConfig, train_gan
from probgen.plot import save_image_grid

SMOKE_ARGS = ["--steps", "2", "--ngf", "4", "--ndf", "4", "--batch-size", "16", "--eval-samples", "0",
              "--out", "{out}"]


def main(args):
    config = GANConfig(arch="dcgan", disc="dcgan", conditional=True, steps=args.steps,
                       batch_size=args.batch_size, g_cfg={"ngf": args.ngf}, d_cfg={"ndf": args.ndf},
                       seed=args.seed, device="cpu", log_every=max(1, args.steps // 50),
                       sample_every=max(1, args.steps // 5), ckpt_every=max(1, args.steps // 5))
    gan = train_gan(config, args.out)

    z = torch.randn(1, 10, gan.latent_dim).expand(10, -1, -1).reshape(100, -1)  # same z down each column
    y = torch.arange(10).repeat_interleave(10)  # row r asks for digit r
    save_image_grid(gan.sample(100, y=y, z=z), Path(args.out) / "digits_by_row.png", nrow=10)
    if args.eval_samples:
        from probgen.gan.evaluate import evaluate

        m = evaluate(gan, "mnist-5k", n=args.eval_samples)
        print(f"FID {m['fid']:.1f}  conditional accuracy {m['cond_accuracy']:.3f}  "
              f"classes covered {m['classes_covered']}")
    print(f"figures in {args.out}/ (digits_by_row.png, figures/)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="class-conditional DCGAN on mnist-5k")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--eval-samples", type=int, default=1000, help="0: skip the metrics")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/gan_conditional")
    main(parser.parse_args())
