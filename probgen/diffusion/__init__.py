"""probgen.diffusion: a small denoising diffusion probabilistic model (DDPM, Ho et al. 2020).

::

    from probgen.data import load_dataset
    from probgen.diffusion import DDPM, train_ddpm

    data = load_dataset("mnist-5k")
    ddpm = DDPM(x_shape=(1, 28, 28), timesteps=1000, schedule="linear")
    train_ddpm(ddpm, data, steps=3000)
    ddpm.sample(64, steps=100)  # (64, 1, 28, 28) in [0, 1], 100 respaced ancestral steps
"""

from probgen.diffusion.config import DDPMConfig, TrainConfig
from probgen.diffusion.model import DDPM
from probgen.diffusion.sampling import ddim_step, ddpm_mean_var, ddpm_step, timestep_sequence
from probgen.diffusion.schedule import NoiseSchedule, cosine_betas, linear_betas, make_betas
from probgen.diffusion.train import DDPMTrainer, DivergenceError, train_ddpm
from probgen.diffusion.unet import UNet, sinusoidal_embedding

__all__ = [
    "DDPM",
    "DDPMConfig",
    "DDPMTrainer",
    "DivergenceError",
    "NoiseSchedule",
    "TrainConfig",
    "UNet",
    "cosine_betas",
    "ddim_step",
    "ddpm_mean_var",
    "ddpm_step",
    "linear_betas",
    "make_betas",
    "sinusoidal_embedding",
    "timestep_sequence",
    "train_ddpm",
]
