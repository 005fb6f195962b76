"""probgen.editing: image editing as posterior inference, p(x | A(x) + noise = y), across model families.

Observation operators (``Mask``, ``Downsample``, ``Grayscale``, composed with ``@``), the benchmark tasks
(``task_operator``, ``TASKS``) and one sampler call, ``complete(model, y, operator, num_samples=8)``, that
returns (num_samples, B, C, H, W) completions from a VAE, a GAN or a DDPM. Names load on first use.
See docs/editing.md for the theory and the methods.
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Compose": "probgen.editing.operators",
    "Downsample": "probgen.editing.operators",
    "Grayscale": "probgen.editing.operators",
    "LUMINANCE": "probgen.editing.operators",
    "Mask": "probgen.editing.operators",
    "Operator": "probgen.editing.operators",
    "check_observation": "probgen.editing.operators",
    "TASKS": "probgen.editing.tasks",
    "task_operator": "probgen.editing.tasks",
    "METHODS": "probgen.editing.posterior",
    "OPTIONS": "probgen.editing.posterior",
    "family": "probgen.editing.posterior",
    "complete": "probgen.editing.posterior",
})
