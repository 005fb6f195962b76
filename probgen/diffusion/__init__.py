"""probgen.diffusion: a small denoising diffusion probabilistic model (DDPM, Ho et al. 2020).

::

    from probgen.diffusion import train_ddpm

    ddpm = train_ddpm({"data": "mnist-5k", "steps": 3000, "model": {"timesteps": 1000}}, "runs/ddpm")
    ddpm.sample(64, steps=100)  # (64, 1, 28, 28) in [0, 1], 100 respaced ancestral steps

``DDPM`` (loss, sampling, a Pyro program), ``DDPMConfig`` (the model), ``TrainConfig`` (a training run),
``train_ddpm`` / ``DDPMTrainer`` on the training spine. Names load on first use (no torch on import).
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DDPM": "probgen.diffusion.model",
    "DDPMConfig": "probgen.diffusion.config",
    "DDPMTrainer": "probgen.diffusion.train",
    "DivergenceError": "probgen.diffusion.train",
    "NoiseSchedule": "probgen.diffusion.schedule",
    "TrainConfig": "probgen.diffusion.config",
    "TrainingDiverged": "probgen.errors",
    "UNet": "probgen.diffusion.unet",
    "cosine_betas": "probgen.diffusion.schedule",
    "ddim_step": "probgen.diffusion.sampling",
    "ddpm_mean_var": "probgen.diffusion.sampling",
    "ddpm_step": "probgen.diffusion.sampling",
    "linear_betas": "probgen.diffusion.schedule",
    "make_betas": "probgen.diffusion.schedule",
    "sinusoidal_embedding": "probgen.diffusion.unet",
    "timestep_sequence": "probgen.diffusion.sampling",
    "train_ddpm": "probgen.diffusion.train",
})
