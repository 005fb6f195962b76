"""Compare explicit models trained by the ELBO with implicit models trained adversarially, under one protocol.

``run(CompareConfig(...))`` is ``probgen compare``: it trains matched VAEs and GANs (and optionally the
DDPM) under one budget, scores them with one evaluator and writes the table, figures and a reading of the
numbers. ``compare_models``, ``comparison_table``, ``comparison_figure`` and ``SampleView`` score any models
that can sample (``probgen.compare.core``). Names load on first use (no torch on import).
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "CompareConfig": "probgen.compare.config",
    "parse_budget": "probgen.compare.config",
    "CompareResult": "probgen.compare.run",
    "run": "probgen.compare.run",
    "METRIC_COLUMNS": "probgen.compare.core",
    "ModelReport": "probgen.compare.core",
    "SampleView": "probgen.compare.core",
    "compare_models": "probgen.compare.core",
    "comparison_figure": "probgen.compare.core",
    "comparison_table": "probgen.compare.core",
    "is_conditional": "probgen.compare.core",
    "model_kind": "probgen.compare.core",
    "sample_images": "probgen.compare.core",
})
