"""probgen.training: the spine that the VAE, GAN and DDPM trainers share.

* ``probgen.training.loop``: ``StepLoop`` (the loop skeleton), ``BatchStream`` (endless batches that
  resume mid-epoch), ``due`` (cadences), ``EMA`` (moving average of weights with warm-up), ``fixed_rng``
  (fixed-noise sample grids, repeatable evaluation).
* ``probgen.training.config`` (no torch): ``resolve_run_config``, the run's ``config.json`` and the
  keys that may change on resume.

Seeds: ``probgen.seeding.derive_seed``; the divergence error: ``probgen.errors.TrainingDiverged``.
Names load on first use, so importing this package imports no torch.
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "BatchStream": "probgen.training.loop",
    "EMA": "probgen.training.loop",
    "StepLoop": "probgen.training.loop",
    "due": "probgen.training.loop",
    "eval_mode": "probgen.training.loop",
    "fixed_rng": "probgen.training.loop",
    "check_resumable": "probgen.training.config",
    "differing_keys": "probgen.training.config",
    "resolve_run_config": "probgen.training.config",
    "saved_config": "probgen.training.config",
})
