"""Inter-coder reliability: agreement statistics, coder sheets, automatic-vs-human comparison.

Every statistic is one public function on plain arrays; the table builders below combine them.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def _pairable(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("ratings must have the same length")
    keep = ~(np.isnan(a) | np.isnan(b))
    return a[keep], b[keep]


def percent_agreement(a, b) -> float:
    """Proportion of units on which two coders agree (units missing for either are dropped).

    Parameters
    ----------
    a, b : array_like
        Nominal codes of the same units by two coders; NaN marks a missing rating.

    Returns
    -------
    float
        Agreement in [0, 1]; NaN when no unit is rated by both.
    """
    a, b = _pairable(a, b)
    return float(np.mean(a == b)) if a.size else float("nan")


def cohen_kappa(a, b) -> float:
    """Cohen's kappa for two coders and nominal codes.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with observed agreement ``p_o`` and chance agreement
    ``p_e = sum_k p_a(k) p_b(k)`` from each coder's marginal proportions.

    Parameters
    ----------
    a, b : array_like
        Nominal codes of the same units; units with a NaN in either are dropped.

    Returns
    -------
    float
        Kappa in [-1, 1]; NaN when undefined (no units, or ``p_e = 1``).

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement, 20(1), 37-46.
    """
    a, b = _pairable(a, b)
    if not a.size:
        return float("nan")
    categories = np.union1d(a, b)
    p_o = np.mean(a == b)
    p_e = sum(np.mean(a == k) * np.mean(b == k) for k in categories)
    return float((p_o - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


def krippendorff_alpha(data) -> float:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    Built from the coincidence matrix ``o_ck = sum_u (n_uc n_uk - [c=k] n_uc) / (m_u - 1)`` over
    units with ``m_u >= 2`` values: ``alpha = 1 - (n - 1) sum_{c!=k} o_ck / sum_{c!=k} n_c n_k``.

    Parameters
    ----------
    data : array_like, shape (n_coders, n_units)
        Reliability data; NaN marks a missing value.

    Returns
    -------
    float
        Alpha (1 = perfect agreement, 0 = chance); NaN when fewer than two values are
        pairable or all pairable values are the same category.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. University of
    Pennsylvania, Annenberg School for Communication Departmental Papers 43.
    """
    coincidences, _ = _unit_coincidences(data)
    return float(_alpha(coincidences.sum(axis=0)))


def _unit_coincidences(data) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit coincidence matrices ``(n_uc n_uk - [c=k] n_uc) / (m_u - 1)`` of the units of
    ``data`` (coders x units) with ``m_u >= 2`` values, over the categories of all of ``data``,
    and the positions of those units."""
    data = np.asarray(data, dtype=float)
    values = np.unique(data[~np.isnan(data)])
    counts = np.stack([(data == v).sum(axis=0) for v in values], axis=1) if values.size \
        else np.zeros((data.shape[1] if data.ndim == 2 else 0, 0))  # units x categories
    m = counts.sum(axis=1)
    pairable = np.flatnonzero(m >= 2)
    counts, m = counts[pairable], m[pairable]
    coincidences = (counts[:, :, None] * counts[:, None, :]
                    - np.einsum("uc,ck->uck", counts, np.eye(len(values))))
    return coincidences / (m - 1)[:, None, None], pairable


def _alpha(coincidence: np.ndarray) -> np.ndarray:
    """Alpha of coincidence matrices (``..., k, k``; k = 0 allowed): NaN where no two
    pairable values differ in category (the expected disagreement is 0)."""
    n_c = coincidence.sum(axis=-1)
    n = n_c.sum(axis=-1)
    off = ~np.eye(coincidence.shape[-1], dtype=bool)
    expected = (n_c[..., :, None] * n_c[..., None, :])[..., off].sum(axis=-1)
    observed = coincidence[..., off].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected != 0, 1 - (n - 1) * observed / expected, np.nan)


def bootstrap_alpha_ci(data, n_boot: int = 1000, level: float = 0.95, seed: int = 0):
    """Percentile bootstrap confidence interval of Krippendorff's alpha, resampling units.

    Parameters
    ----------
    data : array_like, shape (n_coders, n_units)
        Reliability data as for :func:`krippendorff_alpha`.
    n_boot : int
        Bootstrap replicates.
    level : float
        Confidence level.
    seed : int
        Seed of the generator (``numpy.random.default_rng``).

    Returns
    -------
    tuple of float
        (low, high); NaN when no replicate is defined.

    References
    ----------
    Hayes, A. F. & Krippendorff, K. (2007). Answering the call for a standard reliability
    measure for coding data. Communication Methods and Measures, 1(1), 77-89.
    """
    data = np.asarray(data, dtype=float)
    rng = np.random.default_rng(seed)
    n_units = data.shape[1]
    # A resample's coincidence matrix is the sum of its units' matrices, each counted as often
    # as it was drawn, so every replicate is one row of (draw counts) @ (unit matrices); units
    # with the same matrix are pooled. Same draws as resampling the columns one replicate at
    # a time (rng.integers per replicate).
    coincidences, pairable = _unit_coincidences(data)
    k = coincidences.shape[-1]
    patterns, pattern = np.unique(coincidences.reshape(len(pairable), k * k), axis=0,
                                  return_inverse=True)
    unit_pattern = np.full(n_units, len(patterns))  # units without 2 values: a zero matrix
    unit_pattern[pairable] = pattern.ravel()
    drawn = np.zeros((n_boot if n_units else 0, len(patterns)))
    for replicate in drawn:
        replicate[:] = np.bincount(unit_pattern[rng.integers(0, n_units, n_units)],
                                   minlength=len(patterns) + 1)[:-1]
    reps = _alpha((drawn @ patterns).reshape(len(drawn), k, k))
    reps = reps[~np.isnan(reps)]
    if not reps.size:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(reps, [tail, 100 - tail])
    return float(low), float(high)


def confusion(predicted, actual) -> dict:
    """Counts tp, fp, fn, tn of binary ``predicted`` against binary ``actual``."""
    p, a = _pairable(predicted, actual)
    p, a = p.astype(bool), a.astype(bool)
    return {"tp": int(np.sum(p & a)), "fp": int(np.sum(p & ~a)), "fn": int(np.sum(~p & a)),
            "tn": int(np.sum(~p & ~a))}


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (NaN where the denominator is 0)."""
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return precision, recall, f1


# ---- tables -------------------------------------------------------------------------------

def human_matrix(sheets: pd.DataFrame, codes) -> pd.DataFrame:
    """Wide 0/1 table: index (text_id, code), one column per coder; NaN = text not coded.

    A coder who coded a text but gave no row (or value 0) for a code counts as 0 for it.
    """
    coders = sorted(sheets["coder"].unique())
    texts = sorted(sheets["text_id"].unique())
    index = pd.MultiIndex.from_product([texts, list(codes)], names=["text_id", "code"])
    out = pd.DataFrame(index=index, columns=coders, dtype=float)
    for coder, rows in sheets.groupby("coder"):
        seen = out.index.get_level_values("text_id").isin(rows["text_id"].unique())
        out.loc[seen, coder] = 0.0
        positive = rows[rows["value"] == 1].set_index(["text_id", "code"]).index.unique()
        out.loc[out.index.isin(positive), coder] = 1.0
    return out


RELIABILITY_COLUMNS = ["code", "coder_1", "coder_2", "n_units", "n_positive", "percent_agreement",
                       "kappa", "alpha", "alpha_ci_low", "alpha_ci_high", "n_coders"]
AUTO_COLUMNS = ["origin", "code", "coder", "tp", "fp", "fn", "tn", "precision", "recall", "f1",
                "kappa"]


def _pair_rows(code: str, matrix: pd.DataFrame, seed: int, n_boot: int) -> list[dict]:
    alpha = krippendorff_alpha(matrix.T.to_numpy())
    low, high = bootstrap_alpha_ci(matrix.T.to_numpy(), n_boot=n_boot, seed=seed)
    rows = []
    for c1, c2 in itertools.combinations(matrix.columns, 2):
        a, b = _pairable(matrix[c1], matrix[c2])
        rows.append({
            "code": code, "coder_1": c1, "coder_2": c2, "n_units": int(a.size),
            "n_positive": int(np.sum(a) + np.sum(b)), "percent_agreement": percent_agreement(a, b),
            "kappa": cohen_kappa(a, b), "alpha": alpha, "alpha_ci_low": low, "alpha_ci_high": high,
            "n_coders": int(matrix.shape[1]),
        })
    return rows


def reliability_table(matrix: pd.DataFrame, seed: int = 0, n_boot: int = 1000) -> pd.DataFrame:
    """Per code and coder pair: percent agreement, Cohen's kappa, Krippendorff's alpha + CI.

    Alpha is over all coders of the code; the row ``code = "(all)"`` pools every code.
    """
    rows = []
    for code, part in matrix.groupby(level="code", sort=True):
        rows += _pair_rows(code, part, seed, n_boot)
    if len(matrix):
        rows += _pair_rows("(all)", matrix, seed, n_boot)
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def _auto_row(origin, code, coder, auto, human) -> dict:
    counts = confusion(auto, human)
    precision, recall, f1 = precision_recall_f1(counts["tp"], counts["fp"], counts["fn"])
    return {"origin": origin, "code": code, "coder": coder, **counts, "precision": precision,
            "recall": recall, "f1": f1, "kappa": cohen_kappa(auto, human)}


COMBINATION_FOLDS = 5


def _union_f1(lexicon: np.ndarray, scores: np.ndarray, truth: np.ndarray, grid) -> np.ndarray:
    """F1 of ``lexicon | (scores >= t)`` against ``truth`` for every threshold t of ``grid``
    (ascending), by counting the codes the lexicon lacks above each threshold."""
    extra = ~lexicon
    order = np.argsort(scores[extra], kind="stable")
    ranked, hits = scores[extra][order], truth[extra][order]
    above = len(ranked) - np.searchsorted(ranked, grid, side="left")  # scores >= t
    hits_above = np.concatenate([[0], np.cumsum(hits[::-1])])[above]
    tp = (lexicon & truth).sum() + hits_above
    return 2 * tp / np.maximum(lexicon.sum() + above + truth.sum(), 1)


def combination_thresholds(lexicon: set, scores: pd.DataFrame, matrix: pd.DataFrame,
                           folds: int = COMBINATION_FOLDS) -> pd.Series:
    """Threshold on semantic scores above which the combination adds a semantic code to the
    lexicon's, per answer, set from human codes by cross-validation.

    Answers coded by the humans (``matrix``; a code holds when at least half of the answer's
    coders gave it) are split into ``folds`` folds by their sorted order; an answer's
    threshold is the one that maximises the combination's micro-F1 on the other folds (the
    largest such, moved half-way down to the next lower score). Answers no coder coded get
    the threshold fitted on every coded answer.

    Returns
    -------
    Series
        Threshold per text_id of ``scores`` (index), name ``threshold``.
    """
    truth = (matrix.mean(axis=1) >= 0.5).where(matrix.notna().any(axis=1))
    frame = scores[["text_id", "code", "score"]].copy()
    keys = pd.MultiIndex.from_arrays([frame["text_id"], frame["code"]])
    frame["lexicon"] = keys.isin(list(lexicon)) if lexicon else False
    frame["truth"] = truth.reindex(keys).to_numpy()
    coded_ids = sorted(frame.loc[frame["truth"].notna(), "text_id"].unique())
    fold = {t: i % folds for i, t in enumerate(coded_ids)}

    def fitted(part: pd.DataFrame) -> float:
        score = part["score"].to_numpy(float)
        grid = np.concatenate([[-np.inf], np.unique(score), [np.inf]])  # inf: add nothing
        f1 = _union_f1(part["lexicon"].to_numpy(bool), score, part["truth"].to_numpy(bool),
                       grid[1:])
        k = int(np.flatnonzero(f1 == f1.max()).max()) + 1
        return float((grid[k] + grid[k - 1]) / 2) if k > 1 else float(grid[k])

    coded = frame[frame["truth"].notna()].astype({"truth": bool})
    every = fitted(coded)
    by_fold = {k: fitted(coded[coded["text_id"].map(fold) != k]) for k in set(fold.values())}
    ids = sorted(frame["text_id"].unique())
    return pd.Series([by_fold[fold[t]] if t in fold else every for t in ids], index=ids,
                     name="threshold")


def combine_origins(auto: dict, scores: pd.DataFrame | None = None,
                    matrix: pd.DataFrame | None = None) -> dict:
    """``auto`` ({origin: set of (text_id, code)}) plus their combination ``lexicon+semantic``
    when both coders are there.

    With the semantic ``scores`` and human codes (``matrix`` of :func:`human_matrix`), the
    combination is precision-oriented: the lexicon's codes plus the semantic codes whose score
    clears :func:`combination_thresholds`. Otherwise it is the union.
    """
    if not {"lexicon", "semantic"} <= set(auto):
        return auto
    if scores is None or matrix is None or matrix.empty or scores.empty:
        return {**auto, "lexicon+semantic": auto["lexicon"] | auto["semantic"]}
    threshold = combination_thresholds(auto["lexicon"], scores, matrix)
    keep = scores["score"].to_numpy(float) >= scores["text_id"].map(threshold).to_numpy(float)
    added = set(map(tuple, scores.loc[keep, ["text_id", "code"]].to_numpy()))
    return {**auto, "lexicon+semantic": auto["lexicon"] | added}


def auto_vs_human(matrix: pd.DataFrame, auto) -> pd.DataFrame:
    """Automatic codes against each human coder, per origin, per code and pooled
    (``code = "(micro)"``).

    ``auto`` maps each automatic origin to the set of (text_id, code) pairs it gave (a bare set
    is the lexicon's).
    """
    auto = {"lexicon": auto} if isinstance(auto, set) else auto
    rows = []
    for origin, pairs in auto.items():
        predicted = pd.Series([float(k in pairs) for k in matrix.index], index=matrix.index)
        for coder in matrix.columns:
            for code, part in matrix[coder].groupby(level="code", sort=True):
                rows.append(_auto_row(origin, code, coder, predicted[part.index], part))
            rows.append(_auto_row(origin, "(micro)", coder, predicted, matrix[coder]))
    return pd.DataFrame(rows, columns=AUTO_COLUMNS)


DISAGREEMENT_META = ["text_id", "participant", "wave", "field", "case_study"]


def _code_sets(matrix: pd.DataFrame) -> dict:
    """{text_id: {coder: set of codes}} over the answers each coder reviewed."""
    out = {}
    for coder in matrix.columns:
        reviewed = matrix[coder].dropna()
        given = {}
        for text_id, code in reviewed.index[reviewed.to_numpy() == 1].tolist():
            given.setdefault(text_id, set()).add(code)
        for text_id in sorted(set(reviewed.index.get_level_values("text_id"))):
            out.setdefault(text_id, {})[str(coder)] = given.get(text_id, set())
    return out


def _joined(codes) -> str:
    return ";".join(sorted(codes))


def disagreements(matrix: pd.DataFrame, auto: dict, texts: pd.DataFrame) -> pd.DataFrame:
    """Answers to review, one row per answer, as in the audit page's disagreements-only view.

    For every answer a coder reviewed: the codes each coder gave (``codes_<coder>``, empty when
    none, NaN when not reviewed), ``n_split`` (codes the coders split on) and ``split``, and
    per automatic origin of ``auto`` ({origin: set of (text_id, code)}; combined origins,
    named ``a+b``, are left out) its codes (``codes_<origin>``) and ``n_<origin>``, the codes
    on which it differs from what every coder gave, leaving out the split codes. The
    degrees ``coders`` and ``<origin>`` (1 - Jaccard similarity), ``score`` and ``flagged`` are
    those of :func:`tlsurvey.coding.audit.disagreement`. Only answers with a disagreement are
    listed, ranked by ``n_split``, then the audit's score, then the most codes an origin
    differs on.
    """
    from tlsurvey.coding.audit import disagreement

    origins = sorted(o for o in auto if "+" not in o)
    coders = [str(c) for c in matrix.columns]
    columns = [*DISAGREEMENT_META, "n_split", "split", "coders",
               *(f"n_{o}" for o in origins), *origins, "score", "flagged",
               *(f"codes_{c}" for c in coders), *(f"codes_{o}" for o in origins), "text"]
    sets = _code_sets(matrix)
    given = {o: {} for o in origins}
    for origin in origins:
        for text_id, code in auto[origin]:
            given[origin].setdefault(text_id, set()).add(code)
    rows = []
    for text_id, by_coder in sets.items():
        everyone = set.intersection(*by_coder.values())
        split = set.union(*by_coder.values()) - everyone
        row = {"text_id": text_id, "n_split": len(split), "split": _joined(split)}
        for coder in coders:
            row[f"codes_{coder}"] = _joined(by_coder[coder]) if coder in by_coder else None
        for origin in origins:
            mine = given[origin].get(text_id, set())
            row[f"n_{origin}"] = len((mine - split) ^ everyone)
            row[f"codes_{origin}"] = _joined(mine)
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows)
    long = matrix.rename(columns=str).reset_index().melt(["text_id", "code"], var_name="coder")
    long = long.dropna(subset=["value"]).astype({"text_id": object, "code": object})
    # the codes of the reviewed answers (and one of every origin, which keeps its column)
    codes = pd.DataFrame([(t, o, c) for o in origins for t, c in sorted(auto[o])],
                         columns=["text_id", "origin", "code"], dtype=object)
    codes = codes[codes["text_id"].isin(set(sets)) | ~codes["origin"].duplicated()]
    degrees = disagreement(long, codes).reindex(
        columns=["coders", *origins, "score", "flagged"])
    degrees["flagged"] = degrees["flagged"].map(_joined)
    table = table.merge(degrees, left_on="text_id", right_index=True, how="left")
    counts = table[["n_split", *(f"n_{o}" for o in origins)]]
    table = table[counts.sum(axis=1) > 0].assign(
        most=counts.drop(columns="n_split").max(axis=1) if origins else 0)
    table = table.sort_values(["n_split", "score", "most", "text_id"],
                              ascending=[False, False, False, True])
    meta = texts[["text_id", "participant", "wave", "field", "case_study", "text"]]
    table = table.drop(columns="most").merge(meta, on="text_id", how="left")
    return table[columns].reset_index(drop=True)
