"""Are similarity ratings aligned with expected performance?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special  # the t and normal tails scipy.stats uses, without its import

from tlsurvey.models.stats import bootstrap_ci, complete, holm

NAN_REASONS = {
    "few": "fewer than 3 complete pairs (with 2, rho is always +-1 or undefined)",
    "x": "similarity constant across sources",
    "y": "expected performance constant across sources",
}


def _scopes(wide: pd.DataFrame):
    """Each case study, then all pooled (only when there are several case studies)."""
    cases = sorted(wide["case_study"].unique())
    for case in cases:
        yield case, wide[wide["case_study"] == case]
    if len(cases) > 1:
        yield "pooled", wide


def rm_corr(x, y, subject, level: float = 0.95) -> dict:
    """Repeated-measures correlation, computed within subjects in one pass.

    ``r_rm = sum(dx dy) / sqrt(sum(dx^2) sum(dy^2))`` with ``dx, dy`` the deviations from each
    subject's means: the same ``r`` as the ANCOVA ``y ~ subject + x`` of Bakdash & Marusich
    (2017), ``sign(b) sqrt(SS_x / (SS_x + SS_error))``, at a cost linear in the observations.
    Subjects with one observation carry no within-subject information and are dropped.

    Returns
    -------
    dict
        n_participants, n_obs, r, dof (``n_obs - n_participants - 1``), p (two-sided t test
        of ``r`` on ``dof``, equal to the ANCOVA F test), ci_low, ci_high (Fisher z interval
        with standard error ``1 / sqrt(dof - 1)``, as rmcorr and pingouin, unrounded).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    codes = pd.factorize(pd.Series(subject))[0]
    counts = np.bincount(codes)
    keep = counts[codes] >= 2
    codes, x, y = np.unique(codes[keep], return_inverse=True)[1], x[keep], y[keep]
    counts = np.bincount(codes)
    dx = x - (np.bincount(codes, x) / counts)[codes]
    dy = y - (np.bincount(codes, y) / counts)[codes]
    sxy, sxx, syy = dx @ dy, dx @ dx, dy @ dy
    out = {"n_participants": len(counts), "n_obs": len(x), "r": np.nan, "dof": np.nan,
           "p": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    dof = len(x) - len(counts) - 1
    if dof < 2 or sxx <= 1e-12 * max(1.0, x @ x) or syy <= 1e-12 * max(1.0, y @ y):
        return out
    r = float(np.clip(sxy / np.sqrt(sxx * syy), -1, 1))
    with np.errstate(divide="ignore"):
        t = r * np.sqrt(dof / (1 - r**2)) if abs(r) < 1 else np.copysign(np.inf, r)
        z, half = np.arctanh(r), special.ndtri(0.5 + level / 2) / np.sqrt(dof - 1)
    return out | {"r": r, "dof": dof, "p": float(2 * special.stdtr(dof, -abs(t))),
                  "ci_low": float(np.tanh(z - half)), "ci_high": float(np.tanh(z + half))}


def rm_corr_table(
    wide: pd.DataFrame, dimensions, outcome: str
) -> pd.DataFrame:
    """Repeated-measures correlation of each similarity dimension with the outcome (expected
    performance).

    One test per case study and pooled over case studies (participant as subject), Holm-adjusted
    over the whole family; see :func:`rm_corr`.

    Parameters
    ----------
    wide : pandas.DataFrame
        Output of :func:`tlsurvey.models.stats.wide_ratings`.
    dimensions : sequence of str
        The similarity dimensions.
    outcome : str
        The outcome dimension.

    Returns
    -------
    pandas.DataFrame
        scope, dimension, n_participants, n_obs, r, dof, p, ci_low, ci_high, p_holm, test.

    References
    ----------
    Bakdash, J. Z. & Marusich, L. R. (2017). Repeated measures correlation. Frontiers in
    Psychology, 8, 456.
    """
    rows = []
    for scope, data in _scopes(wide):
        for dim in dimensions:
            sub = complete(data, [dim, outcome], f"rm_corr {scope} {dim}")
            res = rm_corr(sub[dim], sub[outcome], sub["participant"])
            rows.append({"scope": scope, "dimension": dim, **res})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"])
    out["test"] = ("rmcorr (within-participant deviations, Bakdash & Marusich 2017); Fisher z "
                   "95% CI; Holm over all rows")
    return out


def participant_spearman(
    wide: pd.DataFrame, dimensions, outcome: str
) -> pd.DataFrame:
    """Per participant Spearman correlation between similarity and expected performance.

    Computed across the sources within each case study and across all case-study x source
    pairs (``pooled``, with several case studies). ``rho`` is NaN, with the cause in ``reason``,
    when fewer than three sources have both ratings (with two points rho is always +-1 or
    undefined, so it carries no information) or either variable is constant.

    Returns
    -------
    pandas.DataFrame
        participant, scope, dimension, n, rho, reason (empty where rho is defined).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things.
    American Journal of Psychology, 15, 72-101.
    """
    frames = []
    for scope, data in _scopes(wide):
        people = pd.Index(sorted(data["participant"].unique()), name="participant")
        for dim in dimensions:
            pair = data[["participant", dim, outcome]].dropna()
            by_person = pair.groupby("participant")
            # Spearman's rho is Pearson's r of the (average) ranks within each participant
            ranks = pd.DataFrame({v: by_person[v].rank() for v in (dim, outcome)})
            centred = ranks - ranks.groupby(pair["participant"]).transform("mean")
            sums = pd.DataFrame({"xy": centred[dim] * centred[outcome], "xx": centred[dim] ** 2,
                                 "yy": centred[outcome] ** 2}).groupby(pair["participant"]).sum()
            sums = sums.reindex(people, fill_value=0.0)
            n = by_person.size().reindex(people, fill_value=0)
            reason = np.select(
                [n < 3, sums["xx"] <= 1e-12, sums["yy"] <= 1e-12],
                [NAN_REASONS["few"], NAN_REASONS["x"], NAN_REASONS["y"]],
                "",
            )
            rho = (sums["xy"] / np.sqrt(sums["xx"] * sums["yy"])).where(reason == "")
            frames.append(pd.DataFrame({"participant": people, "scope": scope, "dimension": dim,
                                        "n": n.to_numpy(), "rho": rho.to_numpy(),
                                        "reason": reason}))
    out = pd.concat(frames, ignore_index=True)
    order = {dim: i for i, dim in enumerate(dimensions)}
    out["_scope"] = out.groupby("scope", sort=False).ngroup()
    out["_dim"] = out["dimension"].map(order)
    out = out.sort_values(["_scope", "participant", "_dim"], ignore_index=True)
    return out.drop(columns=["_scope", "_dim"])


def misalignment(
    wide: pd.DataFrame, dimensions, outcome: str
) -> pd.DataFrame:
    """Per participant and case study: is the most similar source not the one expected best?

    Similarity of a source is the mean of the rated ``dimensions``. With ties, the sets of
    most similar and of best-expected sources are compared; ``misaligned`` is True when they are
    disjoint.

    Returns
    -------
    pandas.DataFrame
        participant, case_study, most_similar, expected_best (``;``-joined when tied),
        misaligned.
    """
    data = complete(wide, [*dimensions, outcome], "misalignment")
    keys = ["participant", "case_study"]
    data = data.assign(similarity=data[list(dimensions)].mean(axis=1))
    groups = data.groupby(keys)
    data = data.assign(
        top_similar=data["similarity"] == groups["similarity"].transform("max"),
        top_expected=data[outcome] == groups[outcome].transform("max"),
    )[groups["source"].transform("size") >= 2]

    def joined(mask: str) -> pd.Series:
        top = data.loc[data[mask], [*keys, "source"]].sort_values([*keys, "source"])
        sources: dict[tuple, list] = {}
        for participant, case, source in zip(*(top[c].tolist() for c in top), strict=True):
            sources.setdefault((participant, case), []).append(source)
        index = pd.MultiIndex.from_tuples(sources, names=keys) if sources else \
            pd.MultiIndex.from_arrays([top[k] for k in keys])
        return pd.Series([";".join(s) for s in sources.values()], index=index,
                         dtype=data["source"].dtype)

    out = pd.DataFrame({
        "most_similar": joined("top_similar"),
        "expected_best": joined("top_expected"),
        "misaligned": ~(data["top_similar"] & data["top_expected"]).groupby(
            [data[k] for k in keys], sort=True).any(),
    })
    return out.reset_index()[["participant", "case_study", "most_similar", "expected_best",
                              "misaligned"]]


def alignment_summary(
    spearman: pd.DataFrame,
    mis: pd.DataFrame,
    n_boot: int = 2000,
    seed: int = 42,
    mis_by_dimension: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Summaries with percentile bootstrap CIs over participants (seeded).

    Rows: ``mean_rho`` and ``share_negative_rho`` per scope x dimension (participants with a
    defined rho); ``share_misaligned`` per case study and pooled (a participant's pooled value
    is their share of misaligned case studies), for the mean similarity and, as
    ``share_misaligned_dimension``, for each table in ``mis_by_dimension`` (outputs of
    :func:`misalignment` with a single dimension).

    Returns
    -------
    pandas.DataFrame
        measure, scope, dimension, n, estimate, ci_low, ci_high, method.
    """
    method = f"percentile bootstrap over participants ({n_boot} resamples, seed {seed})"

    def row(measure, scope, dim, values):
        est, low, high = bootstrap_ci(values, n_boot=n_boot, seed=seed)
        return {
            "measure": measure,
            "scope": scope,
            "dimension": dim,
            "n": len(values),
            "estimate": est,
            "ci_low": low,
            "ci_high": high,
            "method": method,
        }

    rows = []
    for (scope, dim), sub in spearman.groupby(["scope", "dimension"], sort=False):
        rho = sub["rho"].dropna().to_numpy()
        rows.append(row("mean_rho", scope, dim, rho))
        rows.append(row("share_negative_rho", scope, dim, (rho < 0) * 1.0))
    tables = [("share_misaligned", "mean_similarity", mis)]
    tables += [("share_misaligned_dimension", d, t) for d, t in (mis_by_dimension or {}).items()]
    for measure, dim, table in tables:
        per_case = list(table.groupby("case_study", sort=True))
        pooled = table.groupby("participant")["misaligned"].mean().reset_index()
        for scope, sub in [*per_case, ("pooled", pooled)]:
            rows.append(row(measure, scope, dim, sub["misaligned"].to_numpy(float)))
    return pd.DataFrame(rows)
