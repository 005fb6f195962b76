"""probgen.gan: generative adversarial networks as Pyro implicit models.

Architectures come from a registry (``get_model``, ``list_models``): generators ``"dcgan"`` and
``"transformer"``, discriminators ``"dcgan"``, ``"patchgan"`` and ``"vit"``, each class-conditional with
``num_classes`` set (None: unconditional). ``GAN`` holds a generator/discriminator pair and is a Pyro
program (``gan.model``); ``GANStepper`` makes the two update steps of Goodfellow et al.'s Algorithm 1 and
``GANTrainer`` runs them on the training spine with logging, checkpoints, NaN rollback and best-by-FID
selection. Names load on first use, so ``import probgen.gan`` imports no torch.

    from probgen.gan import GANConfig, train_gan
    gan = train_gan(GANConfig(arch="dcgan", disc="patchgan", steps=2000), "runs/gan")
    gan.sample(16)                               # (16, 1, 28, 28) in [0, 1]
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DCGANDiscriminator": "probgen.gan.dcgan",
    "DCGANGenerator": "probgen.gan.dcgan",
    "DivergenceError": "probgen.gan.loop",
    "GAN": "probgen.gan.model",
    "GANConfig": "probgen.gan.config",
    "GANLoss": "probgen.gan.losses",
    "GANStepper": "probgen.gan.train",
    "GANTrainer": "probgen.gan.loop",
    "LOSSES": "probgen.gan.config",
    "PatchGANDiscriminator": "probgen.gan.patchgan",
    "ROLES": "probgen.gan.registry",
    "TransformerGenerator": "probgen.gan.transgan",
    "TrainingDiverged": "probgen.errors",
    "ViTDiscriminator": "probgen.gan.vit",
    "build_gan": "probgen.gan.train",
    "diff_augment": "probgen.gan.diffaugment",
    "get_loss": "probgen.gan.losses",
    "get_model": "probgen.gan.registry",
    "gradient_penalty": "probgen.gan.losses",
    "list_models": "probgen.gan.registry",
    "minimax_objective": "probgen.gan.losses",
    "model_options": "probgen.gan.registry",
    "r1_penalty": "probgen.gan.losses",
    "register_model": "probgen.gan.registry",
    "train_gan": "probgen.gan.loop",
})
