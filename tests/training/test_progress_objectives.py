"""Every training stage's progress bar names what it optimises and shows its current value."""

import io
import math

import pytest


def _vae():
    from probgen.vae import VAEConfig
    from probgen.vae.train import VAETrainer, resolve_config

    cfg = VAEConfig(data="digits", hidden=(16,), z_dim=2, epochs=1, device="cpu", iwae_samples=0,
                    figures=False)
    return VAETrainer(resolve_config(cfg), None, quiet=True), "ELBO", ["ELBO"]


def _gan():
    from probgen.gan import GANConfig, GANTrainer

    cfg = GANConfig(steps=2, batch_size=8, g_cfg={"ngf": 4}, d_cfg={"ndf": 4}, latent_dim=8, device="cpu")
    return GANTrainer(cfg, None, log=lambda m: None), "D/G", ["D", "G", "D(x)", "D(G(z))"]


def _ddpm():
    from probgen.diffusion import DDPMTrainer

    cfg = {"data": "digits", "model": {"base_channels": 4, "timesteps": 10, "attention": False}, "steps": 2,
           "batch_size": 8, "device": "cpu", "log_every": 100}
    return DDPMTrainer(cfg, None, log=lambda m: None), "denoising loss", ["loss"]


@pytest.mark.parametrize("build", [_vae, _gan, _ddpm], ids=["vae", "gan", "ddpm"])
def test_bar_names_the_objective_and_shows_its_value(build, monkeypatch):
    from probgen import progress as progress_module
    from probgen.training import loop

    monkeypatch.setattr(loop, "progress", lambda *a, **kw: progress_module.progress(*a, mininterval=0, **kw))

    trainer, objective, keys = build()
    assert objective in trainer.objective
    stream = io.StringIO()
    stream.isatty = lambda: True  # a terminal: the bar is drawn
    monkeypatch.setattr(progress_module.sys, "stderr", stream)
    progress_module.set_quiet(False)
    trainer.quiet, trainer.bar_every = None, 1
    trainer.fit_steps(2)
    stats = trainer.progress_stats()
    assert sorted(stats) == sorted(keys) and all(math.isfinite(v) for v in stats.values())
    drawn = stream.getvalue()
    assert trainer.objective in drawn and f"{keys[0]}=" in drawn, drawn[-300:]
