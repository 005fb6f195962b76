"""A transformer GAN on MNIST digits: a TransGAN-style generator against a conv or a ViT discriminator.

The generator turns z into a 7x7 grid of tokens, runs transformer blocks, pixel-shuffles the grid to 14x14
(a quarter of the width, four times the tokens), runs more blocks and maps each token to a 2x2 patch of
pixels. The discriminator embeds overlapping 8x8 patches (stride 4) linearly, adds 1-D positional
embeddings and a class token, and uses L2-distance attention with spectral normalisation (ViTGAN's recipe
for a stable transformer discriminator). Hinge loss, an EMA of the generator, and DiffAugment (translation;
colour, translation and cutout for the ViT discriminator, which otherwise wins within 100 steps).

``--disc dcgan`` (the default) trains the transformer generator against the DCGAN discriminator
(TransGAN's hybrid), which learns digits on a CPU budget; ``--disc vit`` uses the ViT discriminator,
which learns much more slowly here: noisy, digit-like strokes after 3,000 steps (see docs/benchmarks.md,
GANs).

    python examples/gan_transformer.py --steps 3000
    python examples/gan_transformer.py --steps 3000 --disc vit
"""

import argparse

from probgen.gan import GANConfig, train_gan

SMOKE_ARGS = ["--steps", "2", "--dim", "16", "--d-dim", "16", "--heads", "2", "--batch-size", "8",
              "--disc", "vit", "--fid-samples", "0", "--out", "{out}"]


# DiffAugment policy per discriminator: with translation alone the ViT D wins within 100 steps.
DIFFAUG = {"dcgan": "translation", "vit": "color,translation,cutout"}


def main(args):
    config = GANConfig(
        arch="transformer", disc=args.disc, loss="hinge", latent_dim=128, steps=args.steps,
        g_cfg={"dim": args.dim, "heads": args.heads, "depth": [2, 2]},
        d_cfg=({"dim": args.d_dim, "depth": 2, "heads": args.heads, "patch_size": 4, "overlap": 2}
               if args.disc == "vit" else {"ndf": args.d_dim // 2}),
        ema=0.999, diffaug=DIFFAUG[args.disc], batch_size=args.batch_size, seed=args.seed, device="cpu",
        log_every=max(1, args.steps // 50), sample_every=max(1, args.steps // 5),
        ckpt_every=max(1, args.steps // 5),
    )
    gan = train_gan(config, args.out)
    print(gan)
    if args.fid_samples:
        from probgen.gan.evaluate import fid_score_fn

        print(f"FID of {args.fid_samples} samples: {fid_score_fn('mnist-5k', args.fid_samples)(gan):.1f}")
    print(f"samples and curves in {args.out}/figures/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="TransGAN-style generator vs ViTGAN-style discriminator")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--dim", type=int, default=64, help="generator token width (first stage)")
    parser.add_argument("--disc", choices=["dcgan", "vit"], default="dcgan", help="discriminator")
    parser.add_argument("--d-dim", type=int, default=64,
                        help="ViT discriminator token width (the DCGAN discriminator gets ndf = d_dim / 2)")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--fid-samples", type=int, default=1000, help="0: skip the FID")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/gan_transformer")
    main(parser.parse_args())
