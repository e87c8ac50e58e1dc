"""Multiverse analysis: the key estimate (similarity -> outcome) under every combination of the
analytic choices declared in config ``multiverse:``, and its specification curve.

Public API
----------
specifications(cfg, waves)
    The grid; each specification is one Snakemake job (``results/multiverse/specs/<id>.csv``).
fit_spec(ratings, spec, similarity, outcome)
    One specification's key estimate (:mod:`tlsurvey.multiverse.fit`, imports pandas).
curve(results), summary(curve)
    The ranked specification curve and its summary (:mod:`tlsurvey.multiverse.curve`).

This module imports nothing heavy: the Snakefile calls :func:`specifications` at parse time.
"""

from tlsurvey.multiverse.specs import CHOICES, WAVE_DESIGNS, settings, specifications, wave_sets

__all__ = ["CHOICES", "WAVE_DESIGNS", "settings", "specifications", "wave_sets"]
