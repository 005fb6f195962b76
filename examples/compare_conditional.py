"""Class-conditional generation p(x | y): a conditional VAE against a conditional DCGAN, scored alike.

Both models get the digit label y: the conditional VAE feeds its one-hot to the encoder q(z | x, y) and
the decoder p(x | z, y) (trained with Pyro ``SVI`` and ``Trace_ELBO``); the conditional DCGAN appends a
label embedding to z in the generator and a per-class map to the discriminator's input. Each model is
asked for ``--num-samples`` images with balanced labels (0, 1, ..., 9, 0, ...), and
``probgen.compare.compare_models`` scores them with one ``SampleEvaluator``; ``cond_accuracy`` is the share
of samples that the domain classifier reads as the digit they were generated for. The ``training data
(true labels)`` row, real digits of the requested classes, is its ceiling (the classifier's own error).
The conditional VAE's log-likelihood is log p(x | y) of binarised test digits given their labels (IWAE).

As in ``examples/compare_vae_gan.py``, the Bernoulli VAE is trained on dynamically binarised digits and
scored both by its mean images E[x | z, y] and by its draws x ~ p(x | z, y), with the binarised real digits
as the draws' floor.

Budgets (defaults): one conditional VAE per ``--vae-arch`` (MLP 784-400-50 and conv, as in
``examples/compare_vae_gan.py``), 100 epochs of batch 128 (3,200 Adam steps); conditional DCGAN
ngf = ndf = 32, 2,000 steps of batch 64 (one D and one G Adam step each), the kept checkpoint the best by
FID against the training split among every ``--gan-eval-every`` steps.

    python examples/compare_conditional.py --out runs/compare_conditional
    python examples/compare_conditional.py --gan-steps 0 --vae-arch conv   # CVAE rows only
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyro
import torch
from pyro.infer import SVI, Trace_ELBO

import probgen
from probgen.compare import SampleView, compare_models, comparison_figure, comparison_table
from probgen.data import binarize_images, load_dataset, make_loader
from probgen.gan import GAN, GANConfig, GANTrainer
from probgen.metrics import SampleEvaluator
from probgen.vae import VAE

SMOKE_ARGS = ["--out", "{out}", "--vae-epochs", "1", "--hidden", "16", "--z-dim", "4", "--gan-steps", "2",
              "--ngf", "4", "--gan-batch-size", "16", "--gan-eval-every", "0", "--num-samples", "20",
              "--repeats", "1", "--iwae-samples", "2", "--iwae-images", "10"]


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


class RealDigits:
    """Real training digits of the requested classes (``binarize``: each pixel redrawn as Bernoulli)."""

    num_classes = 10

    def __init__(self, data, binarize: bool = False) -> None:
        self.pools = [data.images[data.labels == c] for c in range(10)]  # 10 x (N_c, 1, 28, 28)
        self.binarize = binarize

    def sample(self, n: int, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty(n, 1, 28, 28)
        for c in range(10):
            k = int((y == c).sum())
            out[y == c] = self.pools[c][torch.randint(len(self.pools[c]), (k,))]
        return binarize_images(out, "stochastic") if self.binarize else out


def train_cvae(args, train, arch: str) -> tuple[VAE, dict]:
    """Conditional VAE by Pyro SVI (Trace_ELBO) on dynamically binarised digits and their labels."""
    probgen.seed(args.seed)
    pyro.clear_param_store()
    vae = VAE(x_shape=(1, 28, 28), z_dim=args.z_dim, hidden=args.hidden, likelihood="bernoulli", arch=arch,
              num_classes=10)
    svi = SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": args.vae_lr}), Trace_ELBO())
    loader = make_loader(train, args.vae_batch_size, binarize="stochastic", seed=args.seed)
    steps = 0
    with Clock() as clock:
        for epoch in range(1, args.vae_epochs + 1):
            loader.set_epoch(epoch)
            loss = sum(svi.step(x, y) for x, y in loader) / len(train.images)
            steps += len(loader)
            if epoch % max(1, args.vae_epochs // 10) == 0 or epoch == args.vae_epochs:
                print(f"{arch} CVAE epoch {epoch:4d}  train ELBO {-loss:8.2f} nats/image", flush=True)
    budget = {"grad_steps": steps, "train_wall_s": round(clock.wall, 1), "train_cpu_s": round(clock.cpu, 1)}
    return vae.eval(), budget


def train_cgan(args, train, out: Path) -> tuple[GAN, dict]:
    """Conditional DCGAN, non-saturating loss; returns the kept (best-by-train-FID) GAN and its budget."""
    cfg = GANConfig(arch="dcgan", disc="dcgan", loss="non-saturating", conditional=True,
                    g_cfg={"ngf": args.ngf}, d_cfg={"ndf": args.ngf}, steps=args.gan_steps,
                    batch_size=args.gan_batch_size, device="cpu", seed=args.seed,
                    log_every=max(1, min(50, args.gan_steps)), sample_every=max(1, args.gan_steps // 4),
                    ckpt_every=args.gan_eval_every or args.gan_steps, eval_every=args.gan_eval_every)
    score = None
    if args.gan_eval_every:
        ev_train = SampleEvaluator("mnist-5k", split="train", device="cpu")
        y = torch.arange(args.num_samples) % 10
        score = lambda gan: ev_train.fid(gan.sample(args.num_samples, y=y))  # noqa: E731
    trainer = GANTrainer(cfg, out / "gan", data=train, score_fn=score, log=print)
    run = trainer.run
    with Clock() as clock:
        gan = trainer.fit().eval()
    if run.has("best"):
        gan = GAN.from_state(run.load("best")).eval()
    kept = int(run.load("best")["step"]) if run.has("best") else cfg.steps
    return gan, {"grad_steps": 2 * cfg.steps * cfg.d_steps, "train_wall_s": round(clock.wall, 1),
                 "train_cpu_s": round(clock.cpu, 1), "kept_step": kept}


def main(args) -> dict:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    train = load_dataset("mnist-5k", "train")  # (4000, 1, 28, 28) grey levels, labels (4000,)
    test = load_dataset("mnist-5k", "test", binarize="stochastic", seed=args.seed + 1)
    models = {"training data (true labels)": RealDigits(train),
              "binarised training data (true labels)": RealDigits(train, binarize=True)}
    budgets, vae_budgets, gan_budget = {}, {}, {}
    for arch in args.vae_arch:
        vae, vae_budgets[arch] = train_cvae(args, train, arch)
        for how, view in (("means", vae), ("draws", SampleView(vae, mean=False))):
            models[f"{arch} CVAE ({how})"] = view
            budgets[f"{arch} CVAE ({how})"] = vae_budgets[arch]
    if args.gan_steps:
        gan, gan_budget = train_cgan(args, train, out)
        gan_name = f"conditional DCGAN (step {gan_budget.pop('kept_step')})"
        models[gan_name], budgets[gan_name] = gan, gan_budget
    evaluator = SampleEvaluator("mnist-5k", split="test", device="cpu")
    reports = compare_models(models, evaluator=evaluator, num_samples=args.num_samples,
                             likelihood_data=test.images[: args.iwae_images],
                             likelihood_labels=test.labels[: args.iwae_images],
                             likelihood_samples=args.iwae_samples, include_data=False, seed=args.seed,
                             repeats=args.repeats, budgets=budgets)
    for r in reports[:2]:
        r.kind = "data"  # real digits: references, not models
    table = comparison_table(reports)
    shown = [r for r in reports if "binarised" not in r.name]
    figure = comparison_figure(shown, out / "compare_conditional.png", n=100, nrow=10,
                               ncols=min(len(shown), 3))
    print(f"\nmnist-5k, {args.num_samples} samples per row with balanced labels, {args.repeats} sample "
          f"set(s) (mean ± s.d.); IWAE k={args.iwae_samples} on {min(args.iwae_images, len(test.images))} "
          "binarised test digits given their labels:\n")
    print(table)
    print(f"\nfigure (column k of each panel: digit k): {figure}")
    summary = {"table": table, "vae": vae_budgets, "gan": gan_budget, "args": vars(args),
               "rows": [{**r.row(), "spread": r.spread} for r in reports], "figure": str(figure)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/compare_conditional", help="output folder")
    p.add_argument("--vae-epochs", type=int, default=100, help="CVAE training epochs over the 4,000 digits")
    p.add_argument("--vae-batch-size", type=int, default=128)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--z-dim", type=int, default=50, help="CVAE latent dimension")
    p.add_argument("--hidden", type=int, default=400, help="CVAE hidden layer width")
    p.add_argument("--vae-arch", nargs="+", default=["mlp", "conv"],
                   help="CVAE architectures, one CVAE each: mlp and/or conv (probgen.vae.list_archs)")
    p.add_argument("--gan-steps", type=int, default=2000,
                   help="GAN steps (one D and one G update each); 0: no GAN (CVAE rows only)")
    p.add_argument("--gan-batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=32, help="DCGAN width (ngf = ndf)")
    p.add_argument("--gan-eval-every", type=int, default=500,
                   help="steps between FID checks (vs the training split) for the kept GAN; 0: keep the last")
    p.add_argument("--num-samples", type=int, default=1000, help="samples per model (the same N for all)")
    p.add_argument("--repeats", type=int, default=3, help="independent sample sets per row")
    p.add_argument("--iwae-samples", type=int, default=1000, help="importance samples k for the CVAE's IWAE")
    p.add_argument("--iwae-images", type=int, default=1000, help="binarised test digits for the IWAE")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: on a shared 2-core machine 2 threads cost several times the CPU)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
