"""The multiverse grid: every combination of the analytic choices in config ``multiverse:``.

Pure Python (no pandas): the Snakefile enumerates the specifications at parse time.
"""

from __future__ import annotations

from itertools import combinations, product

from tlsurvey.errors import InputError

# choice -> allowed options, in the order they appear in a specification id
CHOICES = {
    "family": ("ordinal", "gaussian"),
    "predictors": ("separate", "mean"),
    "random": ("participant", "crossed"),
}
WAVE_DESIGNS = ("all", "leave_one_out", "subsets")
DEFAULTS = {
    "exclusions": {"applied": {}},
    "families": ["ordinal"],
    "predictors": ["separate"],
    "random": ["participant"],
    "waves": "all",
    "link": "logit",
}
ALL_WAVES = "all"


def settings(cfg: dict | None) -> dict:
    """The ``multiverse:`` config section with the defaults filled in."""
    return {**DEFAULTS, **(cfg or {})}


def wave_sets(waves: list[str], design: str) -> list[tuple[str, ...]]:
    """The wave selections of ``design``: ``all`` waves only; ``leave_one_out`` adds all waves
    but one (when there are two or more); ``subsets`` every non-empty subset. Largest first."""
    if design not in WAVE_DESIGNS:
        raise InputError("config", f"multiverse.waves: {design!r} is not one of {WAVE_DESIGNS}")
    waves = tuple(waves)
    if design == "all" or len(waves) < 2:
        return [waves]
    sizes = [len(waves), len(waves) - 1] if design == "leave_one_out" else range(len(waves), 0, -1)
    return [subset for size in sizes for subset in combinations(waves, size)]


def wave_label(subset: tuple[str, ...], waves: list[str]) -> str:
    """``all`` for every wave, else the included waves joined by ``+``."""
    return ALL_WAVES if tuple(subset) == tuple(waves) else "+".join(subset)


def specifications(cfg: dict | None, waves: list[str]) -> list[dict]:
    """Every specification of the multiverse, in a fixed order.

    Parameters
    ----------
    cfg : dict
        The ``multiverse:`` config section: ``exclusions`` (name -> overrides of the
        ``exclusions:`` section), ``families``, ``predictors``, ``random`` (lists of options),
        ``waves`` (one of :data:`WAVE_DESIGNS`) and ``link``.
    waves : list of str
        The configured wave labels, in order.

    Returns
    -------
    list of dict
        ``{id, exclusions, family, predictors, random, waves, wave_set, link}``; ``id`` joins the
        choices with dots (``applied.ordinal.separate.participant.all``) and is the wildcard value.
    """
    cfg = settings(cfg)
    options = {"family": cfg["families"], "predictors": cfg["predictors"], "random": cfg["random"]}
    for choice, chosen in options.items():
        unknown = sorted(set(chosen) - set(CHOICES[choice]))
        if unknown or not chosen:
            raise InputError("config", f"multiverse: {choice} options "
                             f"{unknown or chosen} not in {CHOICES[choice]}")
    if not cfg["exclusions"]:
        raise InputError("config", "multiverse.exclusions: declare at least one variant")
    specs = []
    for exclusion, family, predictors, random, subset in product(
        cfg["exclusions"], *options.values(), wave_sets(waves, cfg["waves"])
    ):
        label = wave_label(subset, waves)
        specs.append(
            {
                "id": ".".join([exclusion, family, predictors, random, label]),
                "exclusions": exclusion,
                "family": family,
                "predictors": predictors,
                "random": random,
                "waves": label,
                "wave_set": list(subset),
                "link": cfg["link"],
            }
        )
    return specs
