"""KL divergence: the per-term table, and mode-seeking vs mass-covering Gaussian fits to a bimodal p.

KL(q || p) = E_q[log q(x) / p(x)] weighs each x by q(x): it punishes q for putting mass where p has little,
and hardly cares where q itself is small. So a single Gaussian q fitted to a two-mode p by minimising the
reverse KL(q || p) sits on one mode (mode-seeking), while minimising the forward KL(p || q) stretches q
over both modes to match p's mean and variance (mass-covering). Both fits run Adam on a Monte Carlo
estimate of the KL; the reverse one through reparameterised samples x = mu + sigma * eps.

    python examples/kl_divergence.py --out runs/kl
"""

import argparse
from pathlib import Path

from probgen.kl import bimodal, fit_gaussian, kl_term_table, mixture_moments, plot_kl_fits

SMOKE_ARGS = ["--steps", "30", "--num-samples", "100", "--out", "{out}"]


def main(args):
    print("q(x)  p(x)  q log(q/p)")
    for row in kl_term_table():
        print(f"{row['q']:.1f}   {row['p']:.1f}   {row['term']:+.2f}")

    p = bimodal(locs=(-args.separation / 2, args.separation / 2))
    mean, var = mixture_moments(p)
    print(f"\np: equal mixture of N(-{args.separation / 2:g}, 1) and N({args.separation / 2:g}, 1); "
          f"mean {mean:.2f}, variance {var:.2f}")
    fits = []
    for direction in ("reverse", "forward"):
        fit = fit_gaussian(p, direction, init_loc=args.init_loc, steps=args.steps,
                           num_samples=args.num_samples, seed=args.seed)
        what = "KL(q||p)" if direction == "reverse" else "KL(p||q)"
        print(f"min {what}: q = N({fit.loc:.3f}, {fit.scale:.3f}^2), final MC estimate {fit.history[-1]:.3f}")
        fits.append(fit)
    path = Path(args.out) / "kl_fits.png"
    plot_kl_fits(p, fits, path, x_range=(-2 * args.separation, 2 * args.separation))
    print(f"figure: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Reverse vs forward KL fits of a Gaussian to a bimodal p")
    parser.add_argument("--separation", type=float, default=6.0, help="distance between the two modes")
    parser.add_argument("--init-loc", type=float, default=1.0, help="where q's mean starts")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=1000, help="Monte Carlo samples per step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/kl")
    main(parser.parse_args())
