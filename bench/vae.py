"""VAE benchmarks: probgen against a hand-written PyTorch VAE, measured in the same run.

Speed: time per training step on the 784-400-50 MLP, batch 128, binarised mnist-5k, CPU. The reference is
the pytorch/examples VAE step (BCE + analytic KL, one torch.optim.Adam). Variants run interleaved, in
blocks of ``--steps`` steps, in a rotating order, for ``--rounds`` rounds; each round's times are divided
by the reference's in that round and the table gives the median ratio (and its spread over rounds).

Quality: after a fixed budget (``--epochs``, same data, same batches, same initial weights), the test ELBO
(closed-form KL, per image, nats) and the IWAE log-likelihood (k = ``--iwae-samples``) of probgen's
``train_vae`` (SVI) and of the hand-written loop, each model evaluated by its own code. Architectures:
MLP z=50, conv z=50 and MLP z=2.

    python bench/vae.py                 # everything (speed: ~1 min; quality: tens of minutes on 2 cores)
    python bench/vae.py --only speed --threads 1
    python bench/vae.py --quick         # tiny smoke version
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyro
import torch
import torch.nn.functional as F
from pyro.infer import SVI, JitTrace_ELBO, Trace_ELBO
from torch import nn

import probgen
from probgen.data import TensorLoader, load_dataset
from probgen.vae import VAE, FastTrace_ELBO, FastTraceMeanField_ELBO, JointOptim
from probgen.vae.train import train_vae

# ------------------------------------------------------------------------------ the hand-written reference


class HandVAE(nn.Module):
    """pytorch/examples' VAE (MLP) or its conv twin, written out plainly; parameters in probgen's order."""

    def __init__(self, x_shape, z_dim: int, hidden: int, arch: str) -> None:
        super().__init__()
        c, h, w = x_shape
        self.arch, self.x_shape, self.z_dim = arch, x_shape, z_dim
        if arch == "mlp":
            self.fc1 = nn.Linear(c * h * w, hidden)
        else:
            self.conv1, self.conv2 = nn.Conv2d(c, 32, 4, 2, 1), nn.Conv2d(32, 64, 4, 2, 1)
            self.fc1 = nn.Linear(64 * (h // 4) * (w // 4), hidden)
        self.fc21, self.fc22 = nn.Linear(hidden, z_dim), nn.Linear(hidden, z_dim)
        self.fc3 = nn.Linear(z_dim, hidden)
        if arch == "mlp":
            self.fc4 = nn.Linear(hidden, c * h * w)
        else:
            self.fc4 = nn.Linear(hidden, 64 * (h // 4) * (w // 4))
            self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
            self.deconv2 = nn.ConvTranspose2d(32, c, 4, 2, 1)

    def encode(self, x):
        h = x.flatten(1) if self.arch == "mlp" else F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1)
        h = F.relu(self.fc1(h))
        return self.fc21(h), self.fc22(h)  # mu, logvar

    def decode(self, z):  # logits (N, C, H, W)
        h = F.relu(self.fc3(z))
        if self.arch == "mlp":
            return self.fc4(h).view(-1, *self.x_shape)
        _, hh, ww = self.x_shape
        h = F.relu(self.fc4(h)).view(-1, 64, hh // 4, ww // 4)
        return self.deconv2(F.relu(self.deconv1(h)))

    def loss(self, x):
        """-ELBO summed over the batch: BCE + closed-form KL (pytorch/examples/vae)."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        bce = F.binary_cross_entropy_with_logits(self.decode(z), x, reduction="sum")
        return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    def loss_mc(self, x):
        """-ELBO with the KL estimated by one sample, log q(z | x) - log p(z) (what Trace_ELBO computes)."""
        mu, logvar = self.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(mu)
        z = mu + std * eps
        bce = F.binary_cross_entropy_with_logits(self.decode(z), x, reduction="sum")
        return bce + 0.5 * (z * z).sum() - 0.5 * (eps * eps).sum() - 0.5 * logvar.sum()

    @torch.no_grad()
    def iwae(self, x, k: int, chunk: int = 4096):
        """log (1/k) sum_i p(x, z_i) / q(z_i | x), in chunks; (B,)."""
        out = []
        for xb in x.split(max(1, chunk // k)):
            mu, logvar = self.encode(xb)
            std = torch.exp(0.5 * logvar)
            lw = []
            for k0 in range(0, k, max(1, chunk // len(xb))):
                kk = min(max(1, chunk // len(xb)), k - k0)
                eps = torch.randn(kk, *mu.shape)
                z = mu + std * eps
                logits = self.decode(z.reshape(-1, self.z_dim)).view(kk, len(xb), *self.x_shape)
                log_px = -F.binary_cross_entropy_with_logits(logits, xb.expand_as(logits), reduction="none")
                log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
                log_qz = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)
                lw.append((log_px.sum((-3, -2, -1)) + log_pz - log_qz).double())
            out.append(torch.logsumexp(torch.cat(lw), 0) - math.log(k))
        return torch.cat(out).float()

    @torch.no_grad()
    def elbo(self, x):
        """Per-image ELBO (B,): one-sample reconstruction term, closed-form KL."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        bce = F.binary_cross_entropy_with_logits(self.decode(z), x, reduction="none").sum((-3, -2, -1))
        return -bce + 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), -1)


def copy_weights(vae: VAE, hand: HandVAE) -> None:
    """probgen's initial weights into the reference (same parameter order and shapes)."""
    src, dst = list(vae.parameters()), list(hand.parameters())
    assert [p.shape for p in src] == [p.shape for p in dst], "networks differ"
    with torch.no_grad():
        for s, d in zip(src, dst):
            d.copy_(s)


# ---------------------------------------------------------------------------------------------- speed


def speed(args) -> list[str]:
    x = load_dataset(args.data, "train", binarize="stochastic").images
    n_batches = len(x) // args.batch_size
    batches = [x[i * args.batch_size:(i + 1) * args.batch_size] for i in range(n_batches)]
    shape, hidden, z_dim = tuple(x.shape[1:]), args.hidden, args.z_dim
    pyro.clear_param_store()
    probgen.seed(0)

    def hand_step():
        hand = HandVAE(shape, z_dim, hidden, "mlp")
        opt = torch.optim.Adam(hand.parameters(), lr=1e-3)

        def step(xb):
            loss = hand.loss(xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()
        return step

    def svi_step(name, elbo, optim, validation=True):
        vae = VAE(shape, z_dim, hidden, name=name)
        svi = SVI(vae.model, vae.guide, optim, elbo)

        def step(xb):
            pyro.enable_validation(validation)
            return svi.step(xb)
        return step

    adam = pyro.optim.Adam
    variants = {
        "hand-written PyTorch (reference)": hand_step(),
        "probgen fast path: FastTrace_ELBO + JointOptim": svi_step("a", FastTrace_ELBO(), JointOptim.adam()),
        "FastTraceMeanField_ELBO + JointOptim": svi_step("g", FastTraceMeanField_ELBO(), JointOptim.adam()),
        "FastTrace_ELBO + pyro.optim.Adam": svi_step("b", FastTrace_ELBO(), pyro.optim.Adam({"lr": 1e-3})),
        "Trace_ELBO + JointOptim": svi_step("c", Trace_ELBO(), JointOptim.adam(1e-3)),
        "plain Pyro: Trace_ELBO + pyro.optim.Adam": svi_step("d", Trace_ELBO(), adam({"lr": 1e-3})),
        "plain Pyro, validation off": svi_step("e", Trace_ELBO(), pyro.optim.Adam({"lr": 1e-3}), False),
        "JitTrace_ELBO + pyro.optim.Adam": svi_step("f", JitTrace_ELBO(ignore_jit_warnings=True),
                                                    pyro.optim.Adam({"lr": 1e-3})),
    }
    names = list(variants)
    if args.profile:
        _profile(variants["plain Pyro: Trace_ELBO + pyro.optim.Adam"], batches)
    import warnings

    with warnings.catch_warnings():  # torch.jit.trace's deprecation notice, once per JIT compile
        warnings.simplefilter("ignore", FutureWarning)
        for step in variants.values():  # warm-up (JIT compiles here)
            for b in batches[:3]:
                step(b)
    times = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            t0 = time.perf_counter()
            for i in range(args.steps):
                variants[n](batches[(r * args.steps + i) % n_batches])
            times[n].append((time.perf_counter() - t0) / args.steps * 1e3)
    pyro.enable_validation(True)
    ref = times[names[0]]
    lines = [f"Speed: ms per SVI step, {shape} {hidden}-{z_dim} MLP, batch {args.batch_size}, "
             f"{torch.get_num_threads()} thread(s), {args.rounds} rounds x {args.steps} steps, interleaved",
             "",
             "| variant | ms/step (median) | ratio to reference (median) | ratio (25%-75% of rounds) |",
             "| --- | ---: | ---: | --- |"]
    for n in names:
        ratios = sorted(t / rt for t, rt in zip(times[n], ref))
        q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
        lines.append(f"| {n} | {statistics.median(times[n]):.2f} | {statistics.median(ratios):.3f} | "
                     f"{q1:.3f}-{q3:.3f} |")
    return lines


def _profile(step, batches, n: int = 60) -> None:
    """Print where a plain Pyro SVI step spends its time (cProfile, own time per function)."""
    import cProfile
    import pstats

    for b in batches[:3]:
        step(b)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        step(batches[i % len(batches)])
    prof.disable()
    print(f"cProfile of {n} plain Pyro SVI steps (top functions by own time):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(18)


# ---------------------------------------------------------------------------------------------- quality


def train_hand(cfg: dict, train, epochs: int, analytic_kl: bool = True) -> HandVAE:
    """The reference loop: same initial weights and batches as ``train_vae`` with ``cfg``."""
    probgen.seed(cfg["seed"])  # train_vae seeds, then builds the VAE: the same initial weights
    vae = VAE(tuple(train.images.shape[1:]), cfg["z_dim"], cfg["hidden"], arch=cfg["arch"])
    hand = HandVAE(tuple(train.images.shape[1:]), cfg["z_dim"], cfg["hidden"][0], cfg["arch"])
    copy_weights(vae, hand)
    opt = torch.optim.Adam(hand.parameters(), lr=1e-3)
    loader = TensorLoader(train.images, None, 128, shuffle=True, seed=cfg["seed"])  # train_vae's batches
    for epoch in range(1, epochs + 1):
        loader.set_epoch(epoch)
        for x, _ in loader:
            loss = hand.loss(x) if analytic_kl else hand.loss_mc(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return hand


VARIANTS = {  # name -> how it trains
    "probgen FastTrace_ELBO": "fast",
    "probgen FastTraceMeanField_ELBO": "fast-meanfield",
    "hand-written, closed-form KL": "hand",
    "hand-written, Monte-Carlo KL": "hand-mc",
}


def _train_eval(variant: str, cfg: dict, test, xt, args) -> tuple[float, float, float]:
    """(test ELBO, IWAE, training seconds) of one variant, each evaluated by its own code."""
    t0 = time.perf_counter()
    how = VARIANTS[variant]
    if how.startswith("hand"):
        train = load_dataset(args.data, "train", binarize="stochastic", seed=cfg["seed"])
        model = train_hand(cfg, train, args.epochs, analytic_kl=how == "hand")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            model = train_vae({**cfg, "elbo": how}, Path(tmp) / "run", quiet=True).vae
    seconds = time.perf_counter() - t0
    model.eval()
    torch.manual_seed(123)
    if how.startswith("hand"):
        return float(model.elbo(test.images).mean()), float(model.iwae(xt, args.iwae_samples).mean()), seconds
    elbo = float(model.elbo(test.images, analytic_kl=True).mean())
    return elbo, float(model.log_likelihood(xt, num_samples=args.iwae_samples).mean()), seconds


def quality(args) -> list[str]:
    configs = [tuple(c.split(":")) for c in args.configs]
    lines = [f"Quality: binarised {args.data} (train {args.epochs} epochs, batch 128, Adam 1e-3, hidden "
             f"{args.hidden}); test ELBO (closed-form KL, all test images) and IWAE log-likelihood "
             f"(k={args.iwae_samples}, first {args.iwae_images} test images), nats per image", "",
             "| arch | z | seed | variant | test ELBO | test IWAE | IWAE - ref. | within 0.5 | train s |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |"]
    test = load_dataset(args.data, "test", binarize="stochastic", seed=1)
    xt = test.images[: args.iwae_images]
    reference = "hand-written, closed-form KL"
    for arch, z in configs:
        for seed in args.seeds:
            cfg = dict(data=args.data, arch=arch, z_dim=int(z), hidden=(args.hidden,), epochs=args.epochs,
                       seed=seed, iwae_samples=0, figures=False, device="cpu", binarize="stochastic")
            todo = [reference] + [v for v in args.variants if v != reference]
            res = {v: _train_eval(v, cfg, test, xt, args) for v in todo}
            for v, (elbo, ll, sec) in res.items():
                diff = ll - res[reference][1]
                ok = "" if v == reference else ("yes" if diff >= -0.5 else "NO")
                lines.append(f"| {arch} | {z} | {seed} | {v} | {elbo:.2f} | {ll:.2f} | {diff:+.2f} | {ok} | "
                             f"{sec:.0f} |")
                print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny settings (seconds), for smoke tests")
    p.add_argument("--only", choices=["speed", "quality"], help="run one part only")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--profile", action="store_true", help="also cProfile the plain Pyro step")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--iwae-samples", type=int, default=1000)
    p.add_argument("--iwae-images", type=int, default=1000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--configs", nargs="+", default=["mlp:50", "conv:50", "mlp:2"], help="arch:z_dim ...")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS)[:2] + list(VARIANTS)[3:], choices=VARIANTS,
                   help="variants besides the reference (hand-written, closed-form KL)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.data, args.batch_size, args.hidden, args.z_dim = "mnist-5k", 128, 400, 50
    if args.quick:
        args.data, args.hidden, args.z_dim, args.rounds, args.steps = "digits", 64, 8, 3, 3
        args.epochs, args.iwae_samples, args.iwae_images = 1, 10, 50
        args.configs = ["mlp:8", "conv:2"]
    out = []
    if args.only in (None, "speed"):
        out += speed(args) + [""]
    if args.only in (None, "quality"):
        out += quality(args)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
