"""Generative model of the simulated survey, with planted truth.

Model
-----
Similarity. Each case study x source x dimension has a latent true similarity ``LATENT``
(1-5 scale: RadImageNet is closer to CS-xray in every dimension and to CS-tissue in domain and
semantics; ImageNet and Ecoset are visually and in embedding closer to the colour H&E patches
than to radiographs). Participant p's rating is the latent value plus a participant leniency
``u_p ~ N(0, 0.4)`` plus item noise ``N(0, 0.8)``, cut at 1.5, 2.5, 3.5, 4.5 into 1-5.

Expected performance. A cumulative-logit mixed model on the *observed* similarity ratings::

    eta_pcs = sum_d w_pd * sim_pcsd + beta_case_xray * [c = xray] + b_p,  b_p ~ N(0, sd_b)
    P(expected_pcs <= k) = logistic(theta_k - eta_pcs),  k = 1..4

Aligned participants (mixture component 1, share ``1 - anti_aligned_share``) have
``w_pd = beta_d + N(0, slope_sd)``; with ``slope_sd = 0`` and ``anti_aligned_share = 0`` the data
follow exactly ``expected ~ visual + semantic + embedding + domain + case_study +
(1 | participant)`` with the fixed effects and thresholds written to ``effects.json``.
Anti-aligned participants (component 2, exactly ``round(share * n)`` of them) have
``w_pd = ANTI_SCALE * beta_d + N(0, slope_sd)`` and an offset
``(1 - ANTI_SCALE) * 2.5 * sum(beta)``
(so both components agree at similarity 2.5): for them more similar is *worse*.

Choice. Each participant has a preferred source per case (``PREFERENCE``: ImageNet for tissue,
RadImageNet for xray, for most); the chosen source is the preference.

Free text. Codes are drawn per answer (rationale weights depend on the chosen source, with
``task_dependence`` for participants whose preferences differ by case) and rendered with
``text.compose``; fairness is planted in exactly ``max(1, round(0.02 * answers))`` answers,
and three kept answers carry personal data (the author's e-mail, a URL, a phone number).

Mess (per wave; "participants" are real people, the preview and duplicate rows come on top):
one preview, 1 (2 if n >= 30) unfinished, one speeder, one straight-liner, one failed attention
check, one duplicate submission, skipped cells among kept participants (~1% of rating cells,
at least 2, and one factor).

Coders. Two simulated coders code every answer of the kept participants in a wave of at most
``CODED_PARTICIPANTS`` of them, and those of ``CODED_PARTICIPANTS`` kept participants drawn
with the seed in a larger wave (real studies double-code a sample).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from tlsurvey.simulate import text
from tlsurvey.simulate.instrument import (
    ATTENTION_EXPECTED,
    BY_KEY,
    CASE_STUDIES,
    COLUMNS,
    DIMENSIONS,
    META_KEYS,
    RATING_KEYS,
    ROLES,
    SCALES,
    SIMILARITY_DIMENSIONS,
    SOURCE_LABELS,
    SOURCES,
    TEXT_KEYS,
)

BETA = {"visual": 0.4, "semantic": 0.3, "embedding": 0.6, "domain": 0.5}
BETA_CASE_XRAY = -0.8
THRESHOLDS = [1.5, 3.0, 4.5, 6.0]
INTERCEPT_SD = 0.7
SLOPE_SD = 0.15
ANTI_SCALE = -0.6
LENIENCY_SD, ITEM_SD = 0.4, 0.8
LATENT = {  # case -> source -> (visual, semantic, embedding, domain)
    "tissue": {"imagenet": (2.4, 1.7, 2.5, 1.6), "radimagenet": (1.9, 2.5, 2.1, 3.2),
               "ecoset": (2.2, 1.5, 2.3, 1.5)},
    "xray": {"imagenet": (1.6, 1.5, 1.8, 1.4), "radimagenet": (3.8, 3.4, 3.5, 4.0),
             "ecoset": (1.5, 1.4, 1.7, 1.3)},
}
PREFERENCE = {"tissue": (0.6, 0.25, 0.15), "xray": (0.2, 0.7, 0.1)}  # imagenet, rad, ecoset
RATIONALE_WEIGHTS = {
    "imagenet": {"community_practice": 3, "dataset_size": 2, "resources_weights": 2,
                 "dataset_diversity": 1.5, "label_quality": 0.7, "visual_similarity": 0.8,
                 "general_similarity": 0.6, "embedding_similarity": 0.8, "robustness": 0.5},
    "radimagenet": {"domain_similarity": 3, "acquisition": 1.5, "semantic_similarity": 1.5,
                    "visual_similarity": 1, "general_similarity": 1,
                    "embedding_similarity": 1, "label_quality": 0.4, "robustness": 0.4},
    "ecoset": {"dataset_diversity": 2, "label_quality": 1.5, "embedding_similarity": 1.5,
               "visual_similarity": 1, "general_similarity": 0.8, "robustness": 0.6,
               "dataset_size": 0.5},
}
CONSIDERATION_CODES = [c for c in text.PHRASES if c != "fairness_ethics"]
FACTOR_MEANS = {"embedding_similarity": 3.7, "visual_similarity": 3.2, "domain_similarity": 4.1,
                "robustness": 3.5, "fairness": 2.2, "dataset_scale": 3.9}
FIRST = ["Alex", "Sam", "Maria", "Jonas", "Wei", "Priya", "Lars", "Amara", "Tomasz", "Yuki",
         "Ines", "Omar", "Freya", "Diego", "Hana", "Mikkel", "Sofia", "Kwame", "Lena", "Ravi"]
LAST = ["Jensen", "Garcia", "Nowak", "Chen", "Okafor", "Larsen", "Rossi", "Tanaka", "Silva",
        "Novak", "Berg", "Haddad", "Kowalski", "Moreau", "Ivanova", "Nielsen", "Patel", "Kim"]
CODED_PARTICIPANTS = 300  # kept participants whose answers the simulated coders code
REASONS = ["preview", "unfinished", "low_progress", "speeder", "attention_check",
           "straightlining", "duplicate"]


def effects(anti_aligned_share: float = 0.2, slope_sd: float = SLOPE_SD) -> dict:
    """The planted population effects (written to ``truth/<wave>/effects.json``)."""
    return {
        "formula": "expected ~ visual + semantic + embedding + domain + case_study "
                   "+ (1 | participant)",
        "family": "cumulative logit: P(expected <= k) = logistic(theta_k - eta)",
        "predictors": "observed similarity ratings (codes 1-5, uncentred); "
                      "case_study reference level tissue",
        **{f"beta_{d}": b for d, b in BETA.items()},
        "beta_case_xray": BETA_CASE_XRAY,
        "thresholds": THRESHOLDS,
        "random_intercept_sd": INTERCEPT_SD,
        "slope_sd": slope_sd,
        "anti_aligned": {
            "share": anti_aligned_share, "weight_scale": ANTI_SCALE,
            "offset": round((1 - ANTI_SCALE) * 2.5 * sum(BETA.values()), 10),
            "note": "separate mixture component: w_pd = weight_scale * beta_d + N(0, slope_sd)",
        },
        "similarity": {"latent": LATENT, "leniency_sd": LENIENCY_SD, "item_sd": ITEM_SD,
                       "cuts": [1.5, 2.5, 3.5, 4.5]},
        "preference": {c: dict(zip(SOURCES, p, strict=True)) for c, p in PREFERENCE.items()},
    }


def draw_people(rng, n: int, anti_aligned_share: float = 0.2, slope_sd: float = SLOPE_SD):
    """Latent participant parameters: weights ``w`` (n x 4), intercept, leniency, aligned."""
    beta = np.array([BETA[d] for d in SIMILARITY_DIMENSIONS])
    aligned = np.ones(n, bool)
    aligned[rng.permutation(n)[: int(round(anti_aligned_share * n))]] = False
    scale = np.where(aligned, 1.0, ANTI_SCALE)[:, None]
    w = scale * beta + rng.normal(0, slope_sd, (n, 4))
    offset = np.where(aligned, 0.0, (1 - ANTI_SCALE) * 2.5 * beta.sum())
    prefs = {c: rng.choice(SOURCES, size=n, p=PREFERENCE[c]) for c in CASE_STUDIES}
    return {"w": w, "intercept": rng.normal(0, INTERCEPT_SD, n), "offset": offset,
            "leniency": rng.normal(0, LENIENCY_SD, n), "aligned": aligned,
            "pref_tissue": prefs["tissue"], "pref_xray": prefs["xray"]}


def draw_ratings(rng, people) -> np.ndarray:
    """Rating codes, shape (n, case, source, dimension) in DIMENSIONS order."""
    n = len(people["aligned"])
    latent = np.array([[LATENT[c][s] for s in SOURCES] for c in CASE_STUDIES])
    noisy = latent + people["leniency"][:, None, None, None] + rng.normal(0, ITEM_SD,
                                                                          (n, 2, 3, 4))
    sim = np.digitize(noisy, [1.5, 2.5, 3.5, 4.5]) + 1
    eta = (np.einsum("pcsd,pd->pcs", sim, people["w"])
           + BETA_CASE_XRAY * np.array([0.0, 1.0])[None, :, None]
           + (people["intercept"] + people["offset"])[:, None, None])
    cdf = 1 / (1 + np.exp(-(np.array(THRESHOLDS) - eta[..., None])))
    expected = 1 + (rng.random(eta.shape)[..., None] > cdf).sum(-1)
    return np.concatenate([sim, expected[..., None]], axis=-1)


def simulate_ratings(n_participants: int, seed: int, anti_aligned_share: float = 0.2,
                     slope_sd: float = SLOPE_SD, wave: str = "sim") -> pd.DataFrame:
    """Tidy ratings (participant, wave, case_study, source, dimension, value, label, aligned).

    Clean data straight from the generative model (no mess, no skips), for checking model
    fits against ``df.attrs["effects"]``. Use ``anti_aligned_share=0, slope_sd=0`` for data
    that follow the fitted model exactly.
    """
    rng = np.random.default_rng(seed)
    people = draw_people(rng, n_participants, anti_aligned_share, slope_sd)
    codes = draw_ratings(rng, people)
    idx = pd.MultiIndex.from_product(
        [[f"S{i + 1:04d}" for i in range(n_participants)], CASE_STUDIES, SOURCES, DIMENSIONS],
        names=["participant", "case_study", "source", "dimension"])
    df = pd.DataFrame({"value": codes.reshape(-1)}, index=idx).reset_index()
    df.insert(1, "wave", wave)
    df["value"] = df["value"].astype("Int64")
    scale = np.where(df["dimension"] == "expected", "performance", "similarity")
    df["label"] = [SCALES[s][v - 1] for s, v in zip(scale, df["value"], strict=True)]
    df["label"] = df["label"].astype("string")
    df["aligned"] = np.repeat(people["aligned"], 2 * 3 * 5)
    df.attrs["effects"] = effects(anti_aligned_share, slope_sd)
    return df


def identity(seed: int, j: int) -> dict:
    """Fake identity of person ``j`` in the wave simulated with ``seed`` (stable across waves)."""
    rng = np.random.default_rng([seed, j, 7])
    first, last = text.pick(rng, FIRST), text.pick(rng, LAST)
    net = "192.0.2" if rng.random() < 0.5 else "198.51.100"
    return {"first_name": first, "last_name": last,
            "email": f"{first}.{last}{j}@example.org".lower(),
            "external_reference": f"EXT-{seed:02d}-{j:03d}",
            "ip": f"{net}.{int(rng.integers(1, 255))}",
            "latitude": round(55.6 + rng.normal(0, 1.5), 4),
            "longitude": round(12.5 + rng.normal(0, 3.0), 4)}


def response_id(rng) -> str:
    """A Qualtrics-style response id ``R_`` + 15 alphanumerics."""
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "R_" + "".join(chars[i] for i in rng.integers(0, len(chars), 15))


def answer_row(rng, people, i: int, codes: np.ndarray) -> dict:
    """Wide answers (labels) of person ``i`` given rating codes (case, source, dimension)."""
    row = {"role": text.pick(rng, ROLES)}
    ml = int(rng.integers(1, 6))
    row |= {"ml_years": SCALES["years"][ml - 1],
            "mi_years": SCALES["years"][int(rng.integers(1, ml + 1)) - 1],
            "tl_frequency": SCALES["frequency"][int(rng.integers(2, 6)) - 1]}
    for ci, case in enumerate(CASE_STUDIES):
        for si, source in enumerate(SOURCES):
            for di, dim in enumerate(DIMENSIONS):
                key = f"{case}.{source}.{dim}"
                row[key] = BY_KEY[key].labels[codes[ci, si, di] - 1]
        row[f"choice.{case}"] = SOURCE_LABELS[people[f"pref_{case}"][i]]
    row["attention"] = ATTENTION_EXPECTED
    for factor, mean in FACTOR_MEANS.items():
        v = int(np.clip(np.rint(mean + rng.normal(0, 0.9)), 1, 5))
        row[f"factor.{factor}"] = SCALES["importance"][v - 1]
    return row


def text_plan(rng, people, i: int) -> list[dict]:
    """Which codes each free-text answer of person ``i`` plants (before fairness quota)."""
    prefs = {c: people[f"pref_{c}"][i] for c in CASE_STUDIES}
    task_dep = prefs["tissue"] != prefs["xray"] and rng.random() < 0.5
    plans = []
    for key in TEXT_KEYS:
        col = BY_KEY[key]
        field, case = dict(col.entry)["field"], dict(col.entry).get("case_study")
        if field != "rationale" and rng.random() < 0.12:
            continue  # left empty
        plan = {"key": key, "field": field, "case_study": case, "codes": [], "negate": None,
                "source": prefs.get(case), "content_free": rng.random() < 0.05}
        if field == "rationale":
            weights = dict(RATIONALE_WEIGHTS[plan["source"]])
            plan["alt"] = text.pick(rng, [s for s in SOURCES if s != plan["source"]])
            k = rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2])
        elif field == "considerations":
            weights, k = dict.fromkeys(CONSIDERATION_CODES, 1.0), rng.choice([1, 2, 3])
        else:
            weights, k = dict.fromkeys(text.MEANING, 1.0), rng.choice([1, 2], p=[0.6, 0.4])
        names, p = list(weights), np.array(list(weights.values()))
        plan["codes"] = list(rng.choice(names, size=k, replace=False, p=p / p.sum()))
        if task_dep and case == "xray":
            plan["codes"].insert(0, "task_dependence")
        options = [c for c in text.NEGATIONS if c not in plan["codes"]]
        if field != "meaning_of_similar" and rng.random() < 0.1:
            plan["negate"] = text.pick(rng, options)
        if plan["content_free"]:
            plan["codes"], plan["negate"] = [], None
        plans.append(plan)
    return plans


def render(rng, plan: dict, curly: bool) -> tuple[str, list]:
    """The answer text of one text plan (and its ambiguous-term senses)."""
    if plan["content_free"]:
        options = text.CONTENT_FREE if plan["case_study"] == "xray" else \
            [t for t in text.CONTENT_FREE if t != "same as before"]
        return text.pick(rng, options), []
    bank = text.MEANING if plan["field"] == "meaning_of_similar" else text.PHRASES
    n_typos = int(rng.random() < 0.1) + int(rng.random() < 0.02)
    hedges = text.MEANING_HEDGES if bank is text.MEANING else text.HEDGES
    return text.compose(rng, plan["codes"], bank=bank, hedges=hedges, source=plan["source"],
                        alt=plan.get("alt"), case=plan["case_study"], negate=plan["negate"],
                        curly=curly, typos=n_typos)


def _planted_rows(rng, plans, wave, rid, curly, texts, truth):
    """Render ``plans`` of one response into ``texts`` and append planted truth rows."""
    for plan in plans:
        answer, senses = render(rng, plan, curly)
        where = {"wave": wave, "response_id": rid, "field": plan["field"],
                 "case_study": plan["case_study"]}
        if plan.get("pii"):
            kind, value = plan["pii"]
            answer += (" " if answer.endswith(".") else ". ") + text.PII[kind][0].format(value)
            truth["pii"].append({**where, "kind": kind, "value": value})
        texts[plan["key"]] = answer
        truth["codes"] += [{**where, "code": c} for c in dict.fromkeys(plan["codes"])]
        if plan["negate"]:
            truth["negations"].append({**where, "code": plan["negate"]})
        truth["senses"] += [{**where, "term": t, "code": c} for t, c in senses]


def _coder_sheets(rng, wave, kept_plans):
    """Two simulated coders of the answers of at most ``CODED_PARTICIPANTS`` kept participants
    (a seeded draw when there are more): each misses ~10% of planted codes and adds ~3% (more
    on ambiguous codes; negated mentions are wrongly coded 15% of the time; content-free
    answers never)."""
    ambiguous = {"general_similarity", "domain_similarity"}
    people = list(dict.fromkeys(rid for rid, _ in kept_plans))
    if len(people) > CODED_PARTICIPANTS:
        drawn = {people[int(i)] for i in rng.choice(len(people), CODED_PARTICIPANTS,
                                                    replace=False)}
        kept_plans = [(rid, plan) for rid, plan in kept_plans if rid in drawn]
    sheets = {}
    for coder in ("coder_a", "coder_b"):
        rows = []
        for rid, plan in kept_plans:
            for code in text.PHRASES:
                if code in plan["codes"]:
                    value = rng.random() >= (0.18 if code in ambiguous else 0.10)
                elif plan["content_free"]:
                    value = False
                else:
                    p_add = 0.15 if code == plan["negate"] else 0.07 if code in ambiguous \
                        else 0.03
                    value = rng.random() < p_add
                rows.append({"wave": wave, "response_id": rid, "field": plan["field"],
                             "case_study": plan["case_study"], "coder": coder, "code": code,
                             "value": int(value)})
        sheets[coder] = pd.DataFrame(rows)
    return sheets


def _timing(rng, base: datetime, median: float, speeder: bool = False):
    """Start, end and duration (s) of a response starting within two weeks of ``base``.

    Durations are log-normal around ``median`` within [0.55, 2.5] x median; a speeder takes
    60-110 s (below 0.15 x median).
    """
    start = base + timedelta(seconds=int(rng.integers(0, 14 * 86400)))
    duration = int(median * np.clip(np.exp(rng.normal(0, 0.3)), 0.55, 2.5))
    if speeder:
        duration = int(rng.integers(60, 110))
    return start, start + timedelta(seconds=duration), duration


def simulate_wave(n_participants: int, seed: int, wave: str, anti_aligned_share: float = 0.2,
                  returning: int = 0, returning_seed: int | None = None,
                  slope_sd: float = SLOPE_SD) -> dict:
    """Simulate one wave: wide raw responses (export order) plus planted truth.

    Parameters
    ----------
    n_participants : int
        Real people (>= 8); the preview and the duplicate submission come on top.
    seed : int
        Seed of every random draw (dates too), so output is a function of the arguments.
    wave : str
        Wave label.
    anti_aligned_share : float
        Share of anti-aligned participants (second mixture component).
    returning, returning_seed : int, int or None
        The first ``returning`` people reuse the identities (e-mail, external reference) of
        people in the wave simulated with ``returning_seed`` (cross-wave duplicates).
    slope_sd : float
        SD of participant deviations from the population weights.

    Returns
    -------
    dict with ``responses`` (wide DataFrame, one row per raw response), ``participants``,
    ``text_codes``, ``negations``, ``term_senses``, ``pii``, ``coders`` (dict of DataFrames),
    ``effects`` and ``counts``.
    """
    if n_participants < 8:
        raise ValueError("simulate needs at least 8 participants to plant every messy case")
    rng = np.random.default_rng(seed)
    n = n_participants
    people = draw_people(rng, n, anti_aligned_share, slope_sd)
    codes = draw_ratings(rng, people)
    perm = [int(i) for i in rng.permutation(n)]
    n_unf = 2 if n >= 30 else 1
    unfinished, (speeder, straight, attention, dup_src) = perm[:n_unf], perm[n_unf:n_unf + 4]
    reasons = {i: [] for i in range(n)}
    for i in unfinished:
        reasons[i] += ["unfinished", "low_progress"]
    reasons[speeder].append("speeder")
    reasons[straight].append("straightlining")
    reasons[attention].append("attention_check")
    base = datetime(2025, 1, 6, 8) + timedelta(days=35 * seed)
    median = 840.0
    rows, person_of, all_plans = [], [], []
    for i in range(n):
        ident = identity(returning_seed, i) if i < returning else identity(seed, i)
        start, end, duration = _timing(rng, base, median, i == speeder)
        row = {"start": start, "end": end, "status": "IP Address", "progress": 100,
               "duration": duration, "finished": True, "recorded": end + timedelta(seconds=1),
               "response_id": response_id(rng), "channel": "email", "language": "EN",
               **ident, **answer_row(rng, people, i, codes[i])}
        plans = text_plan(rng, people, i)
        if i == straight:
            row |= {k: BY_KEY[k].labels[2] for k in RATING_KEYS}
            row |= {f"factor.{f}": SCALES["importance"][2] for f in FACTOR_MEANS}
        if i == attention:
            row["attention"] = SCALES["similarity"][3]
        if i in unfinished:
            cut = int(rng.integers(8, 30)) if i == unfinished[0] else int(rng.integers(30, 40))
            row |= dict.fromkeys([c.key for c in COLUMNS[cut:]])
            plans = [p for p in plans if [c.key for c in COLUMNS].index(p["key"]) < cut]
            frac = cut / len(COLUMNS)
            row |= {"progress": int(100 * frac), "finished": False,
                    "recorded": end + timedelta(days=7)}
        rows.append(row)
        person_of.append(i)
        all_plans.append(plans)
    # Skipped cells: ~1% of rating cells (at least 2) and one factor among clean participants.
    clean = perm[n_unf + 3:]
    n_skip = max(2, int(round(0.01 * len(clean) * len(RATING_KEYS))))
    cells = rng.choice(len(clean) * len(RATING_KEYS), size=n_skip, replace=False)
    for cell in sorted(int(c) for c in cells):
        rows[clean[cell // len(RATING_KEYS)]][RATING_KEYS[cell % len(RATING_KEYS)]] = None
    rows[text.pick(rng, clean)][f"factor.{text.pick(rng, list(FACTOR_MEANS))}"] = None
    # Duplicate submission: the same person again a day or two later, answers re-drawn.
    dup = dict(rows[dup_src])
    sub = {k: v[dup_src:dup_src + 1] for k, v in people.items()}
    redraw = answer_row(rng, sub, 0, draw_ratings(rng, sub)[0])
    dup |= {k: redraw[k] for k in RATING_KEYS}
    shift = timedelta(days=int(rng.integers(1, 3)), seconds=int(rng.integers(0, 7200)))
    dup |= {"start": dup["start"] + shift, "end": dup["end"] + shift,
            "recorded": dup["recorded"] + shift, "response_id": response_id(rng),
            "ip": identity(seed + 1000, dup_src)["ip"]}
    rows.append(dup)
    person_of.append(dup_src)
    all_plans.append([{**p, "codes": list(p["codes"])} for p in all_plans[dup_src]])
    reasons[n] = ["duplicate"]
    # Preview: the survey designer testing before launch.
    pv_start = base - timedelta(days=2)
    tester = draw_people(rng, 1, 0.0)
    preview = {**dict.fromkeys(META_KEYS),
               **answer_row(rng, tester, 0, draw_ratings(rng, tester)[0])}
    preview |= {"start": pv_start, "end": pv_start + timedelta(seconds=400),
                "recorded": pv_start + timedelta(seconds=401), "status": "Survey Preview",
                "progress": 100, "duration": 400, "finished": True,
                "response_id": response_id(rng), "channel": "preview", "language": "EN"}
    preview |= dict.fromkeys(TEXT_KEYS, "test")
    rows.append(preview)
    person_of.append(None)
    all_plans.append([])
    reasons[n + 1] = ["preview"]
    # Fairness: exactly max(1, round(2% of answers)) answers, among kept rationales/considerations.
    kept = [r for r in range(len(rows)) if not reasons[r]]
    n_answers = sum(len(p) for p in all_plans)
    eligible = [(r, j) for r in kept for j, p in enumerate(all_plans[r])
                if p["field"] != "meaning_of_similar" and not p["content_free"]]
    n_fair = max(1, int(round(0.02 * n_answers)))
    for e in rng.choice(len(eligible), size=n_fair, replace=False):
        r, j = eligible[int(e)]
        all_plans[r][j]["codes"].append("fairness_ethics")
    # Personal data in three kept answers: the participant's e-mail, a URL, a phone number.
    for kind, e in zip(text.PII, rng.choice(len(eligible), size=3, replace=False), strict=True):
        r, j = eligible[int(e)]
        all_plans[r][j]["pii"] = (kind, text.PII[kind][1] or rows[r]["email"])
    # Render texts and truth.
    truth = {"codes": [], "negations": [], "senses": [], "pii": []}
    for r, row in enumerate(rows):
        curly = person_of[r] is not None and (person_of[r] * 7 + seed) % 10 < 3
        _planted_rows(rng, all_plans[r], wave, row["response_id"], curly, row, truth)
    order = sorted(range(len(rows)), key=lambda r: (rows[r]["recorded"], r))
    keys = META_KEYS + [c.key for c in COLUMNS]
    responses = pd.DataFrame([rows[r] for r in order], columns=keys)
    participants = _participants(people, rows, order, person_of, reasons, returning)
    kept_plans = [(rows[r]["response_id"], p) for r in order if not reasons[r]
                  for p in all_plans[r]]
    counts = {"participants": n, "raw_rows": len(rows), "kept": len(kept),
              "excluded": {k: sum(k in v for v in reasons.values()) for k in REASONS},
              "skipped_rating_cells": n_skip, "skipped_factor_cells": 1,
              "anti_aligned": int((~people["aligned"]).sum()),
              "returning": returning, "text_answers": n_answers, "fairness_answers": n_fair,
              "content_free_answers": sum(p["content_free"] for ps in all_plans for p in ps)}
    cols = ["wave", "response_id", "field", "case_study"]
    return {
        "responses": responses, "participants": participants,
        "text_codes": pd.DataFrame(truth["codes"], columns=[*cols, "code"]),
        "negations": pd.DataFrame(truth["negations"], columns=[*cols, "code"]),
        "term_senses": pd.DataFrame(truth["senses"], columns=[*cols, "term", "code"]),
        "pii": pd.DataFrame(truth["pii"], columns=[*cols, "kind", "value"]),
        "coders": _coder_sheets(rng, wave, kept_plans),
        "effects": effects(anti_aligned_share, slope_sd), "counts": counts,
    }


def _participants(people, rows, order, person_of, reasons, returning) -> pd.DataFrame:
    """Truth table: one row per raw response in export order."""
    out = []
    for pos, r in enumerate(order, start=1):
        i = person_of[r]
        rec = {"response_id": rows[r]["response_id"], "row": pos, "person": i,
               "kept": not reasons[r], "reasons": ";".join(reasons[r])}
        for d, k in enumerate(SIMILARITY_DIMENSIONS):
            rec[f"w_{k}"] = None if i is None else round(float(people["w"][i, d]), 6)
        rec |= {"intercept": None if i is None else round(float(people["intercept"][i]), 6),
                "aligned": None if i is None else bool(people["aligned"][i]),
                "pref_tissue": None if i is None else str(people["pref_tissue"][i]),
                "pref_xray": None if i is None else str(people["pref_xray"][i]),
                "returning": i is not None and i < returning,
                "external_reference": rows[r]["external_reference"]}
        rec |= {f"beta_{d}": b for d, b in BETA.items()} | {"beta_case_xray": BETA_CASE_XRAY}
        out.append(rec)
    df = pd.DataFrame(out)
    df["person"] = df["person"].astype("Int64")
    return df
