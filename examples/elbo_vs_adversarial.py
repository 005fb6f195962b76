"""ELBO vs adversarial training: matched VAEs and GANs under one budget, scored by one evaluator.

A thin wrapper over ``probgen.compare.run`` (the ``probgen compare`` command): it trains a VAE by the
ELBO, the same-sized GAN generator with the non-saturating loss and with the saturating minimax loss, a
conditional VAE and a conditional GAN (and the DDPM with ``--ddpm``), every decoder/generator being
probgen's ``ConvDecoder`` of one size, each for the same budget; then scores all of them with one
``SampleEvaluator`` and prints the table and a reading generated from the numbers. Figures (samples side by
side, nearest training neighbours, training curves, early generator gradient norms) go to ``--out``.

    python examples/elbo_vs_adversarial.py --budget 1500steps --out runs/elbo_vs_adversarial
    python examples/elbo_vs_adversarial.py --quick    # under a minute
"""

import argparse

from probgen.compare import CompareConfig, run

SMOKE_ARGS = ["--budget", "2steps", "--quick", "--num-samples", "20", "--repeats", "1", "--out", "{out}"]


def main(args):
    config = CompareConfig(data=args.data, budget=args.budget, out=args.out, quick=args.quick, seed=args.seed,
                           ddpm=args.ddpm, num_samples=args.num_samples, repeats=args.repeats)
    result = run(config, progress=True)
    print(f"\nfigures: {', '.join(str(p) for p in result.figures.values())}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="ELBO vs adversarial training under one budget")
    parser.add_argument("--data", default="mnist-5k", help="mnist-5k or digits")
    parser.add_argument("--budget", default="1500steps", help="per model: '600s' or '1500steps'")
    parser.add_argument("--quick", action="store_true", help="at most 30 steps per model, 200 samples")
    parser.add_argument("--ddpm", action="store_true", help="also train the DDPM")
    parser.add_argument("--num-samples", type=int, default=None, help="samples per model and sample set")
    parser.add_argument("--repeats", type=int, default=None, help="sample sets per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/elbo_vs_adversarial")
    main(parser.parse_args())
