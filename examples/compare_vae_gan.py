"""VAE vs GAN on the same data: ELBO training against adversarial training, scored alike.

Trains Bernoulli VAEs (``probgen.vae.VAE``, Pyro ``SVI`` with ``Trace_ELBO``; one per ``--vae-arch``, an
MLP and a convolutional one by default) and a DCGAN (``probgen.gan``, non-saturating loss) on the 4,000
training digits of mnist-5k, each with the budget given on the command line, then scores them all with one
``probgen.metrics.SampleEvaluator`` through ``probgen.compare.compare_models``: the same number of samples
from each (``--num-samples``, 1,000), FID, recall, coverage and class coverage on the domain classifier's
features against the 1,000 test digits, ``--repeats`` independent sample sets per row (mean ± s.d.), and
the VAEs' IWAE test log-likelihood (the GAN is implicit, so its row says n/a). It prints the Markdown table
(with each model's gradient steps, wall and CPU seconds) and writes the side-by-side figure.

What "the same data" means here. The GAN learns the grey-level digits (pixels in [0, 1]). A Bernoulli VAE
is a distribution over *binary* images, so it is trained on dynamically binarised copies of the same 4,000
digits (every pixel redrawn as Bernoulli(grey level) at every step); the mean of such a draw is the grey
digit, so the VAE's mean image E[x | z] lives on the GAN's grey scale. Each VAE is scored two ways:

* ``(means)``: E[x | z] for z ~ N(0, I), what VAE papers show; smooth grey images, but not samples of the
  model's p(x) (the pixel noise of p(x | z) is averaged away);
* ``(draws)``: x ~ p(x | z), true samples of the model, binary and speckled. The real test digits the
  evaluator compares against are grey, so these pay for binarisation itself; the ``binarised training
  data`` row (real digits put through the same Bernoulli draw) is their floor.

The IWAE log-likelihood is of a fixed binarised copy of the test split, in nats per image.

Budgets (defaults, the numbers in docs/compare.md): each VAE 100 epochs of batch 128 (3,200 Adam steps,
lr 1e-3, z_dim 50; MLP 784-400-50, or conv: two stride-2 convolutions (32, 64), a 400-unit layer and the
mirror image); DCGAN ngf = ndf = 32, 2,000 steps of batch 64 (each one D and one G Adam step, lr 2e-4),
the kept checkpoint the one with the best FID against the *training* split among every
``--gan-eval-every`` steps (so the test-split scores are not selected on); when that is not the last step,
the last step is scored too.

    python examples/compare_vae_gan.py --out runs/compare_vae_gan
    python examples/compare_vae_gan.py --gan-steps 0 --vae-arch mlp --z-dim 20   # VAE rows only
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
              "--repeats", "1", "--iwae-samples", "2", "--iwae-images", "10", "--threads", "1"]


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


class BinarisedData:
    """Real training digits, each pixel redrawn as Bernoulli(grey level): the floor for binary samples."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images  # (N, 1, 28, 28) in [0, 1]

    def sample(self, n: int) -> torch.Tensor:
        idx = torch.randint(len(self.images), (n,))
        return binarize_images(self.images[idx], "stochastic")  # (n, 1, 28, 28) in {0, 1}


def train_vae(args, train, arch: str) -> tuple[VAE, dict]:
    """Pyro SVI with Trace_ELBO on dynamically binarised digits; returns the VAE and its budget."""
    probgen.seed(args.seed)
    pyro.clear_param_store()
    vae = VAE(x_shape=(1, 28, 28), z_dim=args.z_dim, hidden=args.hidden, likelihood="bernoulli", arch=arch)
    svi = SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": args.vae_lr}), Trace_ELBO())
    loader = make_loader(train, args.vae_batch_size, binarize="stochastic", seed=args.seed)
    steps = 0
    with Clock() as clock:
        for epoch in range(1, args.vae_epochs + 1):
            loader.set_epoch(epoch)
            loss = sum(svi.step(x) for x, _ in loader) / len(train.images)
            steps += len(loader)
            if epoch % max(1, args.vae_epochs // 10) == 0 or epoch == args.vae_epochs:
                print(f"{arch} VAE epoch {epoch:4d}  train ELBO {-loss:8.2f} nats/image", flush=True)
    budget = {"grad_steps": steps, "train_wall_s": round(clock.wall, 1), "train_cpu_s": round(clock.cpu, 1)}
    return vae.eval(), budget


def train_gan(args, train, out: Path) -> tuple[GAN, GAN, dict]:
    """DCGAN, non-saturating loss; returns the kept (best-by-train-FID) GAN, the last one and the budget."""
    cfg = GANConfig(arch="dcgan", disc="dcgan", loss="non-saturating", g_cfg={"ngf": args.ngf},
                    d_cfg={"ndf": args.ngf}, steps=args.gan_steps, batch_size=args.gan_batch_size,
                    device="cpu", seed=args.seed, log_every=max(1, min(50, args.gan_steps)),
                    sample_every=max(1, args.gan_steps // 4),
                    ckpt_every=args.gan_eval_every or args.gan_steps, eval_every=args.gan_eval_every)
    score = None
    if args.gan_eval_every:
        ev_train = SampleEvaluator("mnist-5k", split="train", device="cpu")
        score = lambda gan: ev_train.fid(gan.sample(args.num_samples))  # noqa: E731
    trainer = GANTrainer(cfg, out / "gan", data=train, score_fn=score, log=print)
    run = trainer.run
    with Clock() as clock:
        last = trainer.fit().eval()
    best = GAN.from_state(run.load("best")).eval() if run.has("best") else last
    kept = int(run.load("best")["step"]) if run.has("best") else cfg.steps
    budget = {"grad_steps": 2 * cfg.steps * cfg.d_steps, "train_wall_s": round(clock.wall, 1),
              "train_cpu_s": round(clock.cpu, 1), "kept_step": kept}
    return best, last, budget


def main(args) -> dict:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    train = load_dataset("mnist-5k", "train")  # grey levels in [0, 1], (4000, 1, 28, 28)
    test_bin = load_dataset("mnist-5k", "test", binarize="stochastic", seed=args.seed + 1).images
    models, budgets, vae_budgets = {"binarised training data": BinarisedData(train.images)}, {}, {}
    for arch in args.vae_arch:
        vae, vae_budgets[arch] = train_vae(args, train, arch)
        for how, view in (("means", vae), ("draws", SampleView(vae, mean=False))):
            models[f"{arch} VAE ({how})"] = view
            budgets[f"{arch} VAE ({how})"] = vae_budgets[arch]
    gan_budget = {}
    if args.gan_steps:
        gan, gan_last, gan_budget = train_gan(args, train, out)
        models[f"DCGAN (step {gan_budget['kept_step']})"] = gan
        if gan_budget["kept_step"] != args.gan_steps:  # the checkpoint kept is not the last: score both
            models[f"DCGAN (last, step {args.gan_steps})"] = gan_last
    budgets.update({name: {k: v for k, v in gan_budget.items() if k != "kept_step"}
                    for name in models if name.startswith("DCGAN")})
    evaluator = SampleEvaluator("mnist-5k", split="test", device="cpu")
    with Clock() as clock:
        reports = compare_models(models, evaluator=evaluator, num_samples=args.num_samples,
                                 likelihood_data=test_bin[: args.iwae_images],
                                 likelihood_samples=args.iwae_samples, seed=args.seed, repeats=args.repeats,
                                 budgets=budgets)
    reports[1].kind = "data"  # the binarised real digits: a reference, not a model
    table = comparison_table(reports)
    shown = [r for r in reports if "binarised" not in r.name and "last" not in r.name]
    figure = comparison_figure(shown, out / "compare_vae_gan.png", ncols=min(len(shown), 3))
    print(f"\nmnist-5k, {args.num_samples} samples per row, {args.repeats} sample set(s) (mean ± s.d.), "
          f"against the {len(evaluator.real_features_)} test digits; IWAE k={args.iwae_samples} on "
          f"{min(args.iwae_images, len(test_bin))} binarised test digits (evaluation {clock.wall:.0f} s):\n")
    print(table)
    print(f"\nfigure: {figure}")
    summary = {"table": table, "vae": vae_budgets, "gan": gan_budget, "args": vars(args),
               "rows": [{**r.row(), "spread": r.spread} for r in reports], "figure": str(figure)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/compare_vae_gan", help="output folder (GAN run, figure, summary)")
    p.add_argument("--vae-epochs", type=int, default=100, help="VAE training epochs over the 4,000 digits")
    p.add_argument("--vae-batch-size", type=int, default=128)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--z-dim", type=int, default=50, help="VAE latent dimension")
    p.add_argument("--hidden", type=int, default=400, help="VAE hidden layer width")
    p.add_argument("--vae-arch", nargs="+", default=["mlp", "conv"],
                   help="VAE architectures, one VAE each: mlp and/or conv (probgen.vae.list_archs)")
    p.add_argument("--gan-steps", type=int, default=2000,
                   help="GAN steps (one D and one G update each); 0: no GAN (VAE rows only)")
    p.add_argument("--gan-batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=32, help="DCGAN width (ngf = ndf)")
    p.add_argument("--gan-eval-every", type=int, default=500,
                   help="steps between FID checks (vs the training split) for the kept GAN; 0: keep the last")
    p.add_argument("--num-samples", type=int, default=1000, help="samples per model (the same N for all)")
    p.add_argument("--repeats", type=int, default=3, help="independent sample sets per row")
    p.add_argument("--iwae-samples", type=int, default=1000, help="importance samples k for the VAE's IWAE")
    p.add_argument("--iwae-images", type=int, default=1000, help="binarised test digits for the IWAE")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: on a shared 2-core machine 2 threads cost several times the CPU)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
