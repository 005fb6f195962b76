"""A DCGAN on MNIST digits: Algorithm 1 of Goodfellow et al., written out.

Each step trains the discriminator ``--d-steps`` (k) times with the generator fixed, then the generator once
with the discriminator fixed (``probgen.gan.GANStepper``'s two update steps). The generator is a Pyro
implicit model: at the end, ``Predictive(gan.model)`` draws images as it would from any Pyro program.

    python examples/gan_mnist.py --steps 3000                       # DCGAN G + DCGAN D
    python examples/gan_mnist.py --steps 3000 --disc patchgan       # PatchGAN discriminator
    python examples/gan_mnist.py --steps 3000 --loss minimax        # the saturating objective as written
"""

import argparse
from pathlib import Path

import torch
from pyro.infer import Predictive

import probgen
from probgen.data import load_dataset, make_loader
from probgen.gan import GAN, GANConfig, GANStepper
from probgen.plot import save_curves, save_image_grid
from probgen.training import BatchStream

SMOKE_ARGS = ["--steps", "3", "--ngf", "4", "--ndf", "4", "--batch-size", "16", "--log-every", "1",
              "--fid-samples", "0", "--out", "{out}"]


def main(args):
    probgen.seed(args.seed)
    train = load_dataset(args.data, "train")
    c, h, _ = train.images.shape[1:]
    gan = GAN.build("dcgan", args.disc, channels=c, image_size=h, latent_dim=args.latent_dim,
                    g_cfg={"ngf": args.ngf}, d_cfg={"ndf": args.ndf})
    config = GANConfig(loss=args.loss, d_steps=args.d_steps, batch_size=args.batch_size, device="cpu")
    stepper = GANStepper(gan, config)
    data = BatchStream(make_loader(train, args.batch_size, drop_last=True, seed=args.seed))  # endless
    history = {"D(x)": [], "D(G(z))": []}
    for step in range(1, args.steps + 1):
        for _ in range(args.d_steps):  # k discriminator updates, G fixed
            x, _ = next(data)
            d = stepper.d_step(stepper.prepare(x))
        g = stepper.g_step(args.batch_size)  # one generator update, D fixed
        history["D(x)"].append(torch.sigmoid(d["real"]).mean().item())
        history["D(G(z))"].append(torch.sigmoid(d["fake"]).mean().item())
        if step % args.log_every == 0:
            print(f"step {step:5d}  D loss {d['d_loss']:.3f}  G loss ({args.loss}) {g['g_loss']:.3f}  "
                  f"D(x) {history['D(x)'][-1]:.2f}  D(G(z)) {history['D(G(z))'][-1]:.2f}")

    out = Path(args.out)
    x = Predictive(gan.model, num_samples=1, return_sites=["x"])(64)["x"][0]  # (64, C, H, W) in [0, 1]
    save_image_grid(x, out / "samples.png")
    save_curves(history, out / "d_outputs.png", title="discriminator outputs", ylabel="probability")
    if args.fid_samples:
        from probgen.metrics import SampleEvaluator

        fid = SampleEvaluator(args.data, split="test").fid(gan.sample(args.fid_samples))
        print(f"FID of {args.fid_samples} samples vs the test split (domain-classifier features): {fid:.1f}")
    print(f"figures in {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="DCGAN on MNIST digits (Goodfellow et al.'s Algorithm 1)")
    parser.add_argument("--data", default="mnist-5k")
    parser.add_argument("--disc", default="dcgan", choices=["dcgan", "patchgan", "vit"])
    parser.add_argument("--loss", default="non-saturating", choices=["minimax", "non-saturating", "hinge"])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--d-steps", type=int, default=1, help="k: D updates per G update")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--fid-samples", type=int, default=1000, help="0: skip the FID")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/gan_mnist")
    main(parser.parse_args())
