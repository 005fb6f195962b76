"""probgen.gan: generative adversarial networks as Pyro implicit models.

Architectures come from a registry (:func:`get_model`, :func:`list_models`): generators ``"dcgan"`` and
``"transformer"``, discriminators ``"dcgan"``, ``"patchgan"`` and ``"vit"``, each class-conditional with
``num_classes > 0``.
"""

from probgen.gan import dcgan, patchgan, transgan, vit  # noqa: F401  (registers the architectures)
from probgen.gan.dcgan import DCGANDiscriminator, DCGANGenerator
from probgen.gan.patchgan import PatchGANDiscriminator
from probgen.gan.registry import ROLES, get_model, list_models, model_options, register_model
from probgen.gan.transgan import TransformerGenerator
from probgen.gan.vit import ViTDiscriminator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "PatchGANDiscriminator",
    "ROLES",
    "TransformerGenerator",
    "ViTDiscriminator",
    "get_model",
    "list_models",
    "model_options",
    "register_model",
]
