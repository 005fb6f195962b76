"""probgen.gan: generative adversarial networks as Pyro implicit models.

Architectures come from a registry (:func:`get_model`, :func:`list_models`): generators ``"dcgan"`` and
``"transformer"``, discriminators ``"dcgan"``, ``"patchgan"`` and ``"vit"``, each class-conditional with
``num_classes > 0``. :class:`GAN` holds a generator/discriminator pair and is a Pyro program
(``gan.model``); :class:`GANStepper` makes the two update steps of Goodfellow et al.'s Algorithm 1 and
:class:`GANTrainer` runs them with logging, checkpoints, NaN rollback and best-by-FID selection.

    from probgen.gan import GANConfig, train_gan
    gan = train_gan(GANConfig(arch="dcgan", disc="patchgan", steps=2000))
    gan.sample(16)                               # (16, 1, 28, 28) in [0, 1]
"""

from probgen.gan import dcgan, patchgan, transgan, vit  # noqa: F401  (registers the architectures)
from probgen.gan.dcgan import DCGANDiscriminator, DCGANGenerator
from probgen.gan.diffaugment import diff_augment
from probgen.gan.loop import DivergenceError, GANTrainer, train_gan
from probgen.gan.losses import LOSSES, GANLoss, get_loss, gradient_penalty, minimax_objective, r1_penalty
from probgen.gan.model import GAN
from probgen.gan.patchgan import PatchGANDiscriminator
from probgen.gan.registry import ROLES, get_model, list_models, model_options, register_model
from probgen.gan.train import GANConfig, GANStepper, build_gan
from probgen.gan.transgan import TransformerGenerator
from probgen.gan.vit import ViTDiscriminator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DivergenceError",
    "GAN",
    "GANConfig",
    "GANLoss",
    "GANStepper",
    "GANTrainer",
    "LOSSES",
    "PatchGANDiscriminator",
    "ROLES",
    "TransformerGenerator",
    "ViTDiscriminator",
    "build_gan",
    "diff_augment",
    "get_loss",
    "get_model",
    "gradient_penalty",
    "list_models",
    "minimax_objective",
    "model_options",
    "r1_penalty",
    "register_model",
    "train_gan",
]
