"""Coded shares for the report: per code and family, per origin of the code (each automatic
origin, each human coder, both coders), with agreement; exemplar quotes per family.

A share is never a union over origins or coders: each origin is its own column, and the human
columns are one per coder plus the consensus (both coders gave the code).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from tlsurvey.figures.common import families
from tlsurvey.io import records
from tlsurvey.models.stats import wilson_ci

HUMAN = "human"
BOTH = "both coders"


def participant_codes(codes: pd.DataFrame) -> pd.DataFrame:
    """(participant, wave, code, rater) rows: ``rater`` is the origin of an automatic code, the
    coder of a human code (from its ``source``, ``;``-joined coders) and ``both coders`` when
    every coder of the table gave it to the same text."""
    auto = codes[codes["origin"] != HUMAN].assign(rater=lambda d: d["origin"].astype(str))
    human, coders, both = human_coders(codes)
    rows = [auto[["participant", "wave", "text_id", "code", "rater"]]]
    if len(human):
        split = human.assign(rater=human["source"].astype(str).str.split(";")).explode("rater")
        rows.append(split[split["rater"].isin(coders)][
            ["participant", "wave", "text_id", "code", "rater"]])
        rows.append(human[both][["participant", "wave", "text_id", "code"]].assign(rater=BOTH))
    return pd.concat(rows, ignore_index=True)


def human_coders(codes: pd.DataFrame) -> tuple[pd.DataFrame, list[str], pd.Series]:
    """The human codes (``source`` = ``human`` when coders are not recorded), their coders
    (sorted) and which of them every coder gave (only when there are several coders)."""
    human = codes[codes["origin"] == HUMAN]
    if "source" not in codes.columns:  # coders not recorded: one human column
        human = human.assign(source=HUMAN)
    coders = sorted({c for s in human["source"].dropna().astype(str) for c in s.split(";") if c})
    given = human["source"].astype(str).str.split(";").map(set)
    both = given.map(lambda s: set(coders) <= s).astype(bool) & (len(coders) > 1)
    return human, coders, both


def raters(codes: pd.DataFrame) -> list[str]:
    """Column order: automatic origins (as found), each coder, then ``both coders``: the
    raters of :func:`participant_codes`."""
    auto = [o for o in codes["origin"].astype(str).unique() if o != HUMAN]  # in order found
    _, coders, both = human_coders(codes)
    return auto + sorted(set(coders) - set(auto) - {BOTH}) + ([BOTH] if both.any() else [])


def coded_shares(codes: pd.DataFrame, n_participants: int, codebook: Mapping | None = None,
                 reliability: pd.DataFrame | None = None, by: str = "code") -> pd.DataFrame:
    """Participants with each code (``by="code"``) or family (``by="family"``) per rater.

    Returns
    -------
    pandas.DataFrame
        One row per code or family and rater: n, share, Wilson 95% CI, plus kappa and the
        number of texts behind it (``n_units``) of the human coders' agreement when
        ``reliability`` has the code (codes only).
    """
    of, _ = families(codebook)
    data = participant_codes(codes)
    data["family"] = data["code"].map(lambda c: of.get(c, c))
    counts = data.drop_duplicates(["wave", "participant", by, "rater"]).groupby(
        [by, "rater"]).size()
    automatic = set(codes["origin"].astype(str).unique()) - {HUMAN}
    rel = {}
    if reliability is not None and not reliability.empty and by == "code":
        rel = reliability.drop_duplicates("code").set_index("code")[["kappa", "n_units"]].to_dict(
            "index")
    rows = []
    for (key, rater), n in counts.items():
        low, high = wilson_ci(int(n), n_participants)
        row = {by: key, "rater": rater, "n": int(n), "share": n / n_participants,
               "ci_low": low, "ci_high": high}
        if rater not in automatic:
            row.update({k: rel.get(key, {}).get(k) for k in ("kappa", "n_units")})
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, "rater", "n", "share", "ci_low", "ci_high", "kappa",
                                       "n_units"])


def share_table(codes: pd.DataFrame, n_participants: int, codebook: Mapping | None,
                reliability: pd.DataFrame | None) -> pd.DataFrame:
    """Wide table for the report: one row per code (codebook order, with its family), one
    ``n (%)`` column per rater, and the coders' kappa (over ``n_units`` texts)."""
    of, names = families(codebook)
    book = (codebook or {}).get("codes", {})
    long = coded_shares(codes, n_participants, codebook, reliability)
    cells = long.assign(cell=[f"{n} ({100 * s:.0f}%)" for n, s in zip(long["n"], long["share"],
                                                                         strict=True)])
    wide = cells.pivot(index="code", columns="rater", values="cell")
    order = [c for c in book if c in wide.index] + sorted(set(wide.index) - set(book))
    wide = wide.reindex(index=order, columns=raters(codes)).fillna("0 (0%)")
    kappa = long.dropna(subset=["kappa"]).drop_duplicates("code").set_index("code")
    out = pd.DataFrame({"Family": [names.get(of.get(c, c), c) for c in order],
                        "Code": [book.get(c, {}).get("label", c) for c in order]})
    for rater in wide.columns:
        out[rater.capitalize() if rater == BOTH else rater] = wide[rater].to_numpy()
    if len(kappa):
        out["kappa"] = [kappa["kappa"].get(c) for c in order]
        out["texts (both coders)"] = [kappa["n_units"].get(c) for c in order]
    return out


def quotes(codes: pd.DataFrame, texts: pd.DataFrame, codebook: Mapping | None, per_family: int = 2,
           width: int = 160) -> pd.DataFrame:
    """Short exemplar quotes per family: lexicon evidence of the family's codes in the
    (already scrubbed) answers, the sentence around the first evidence span, at most ``width``
    characters, shortest first, one per participant.

    Returns
    -------
    pandas.DataFrame
        family, code, text_id, quote.
    """
    of, names = families(codebook)
    auto = codes[(codes["origin"] == "lexicon") & codes["evidence"].fillna("[]").ne("[]")]
    text_of = dict(zip(texts["text_id"].to_numpy(), texts["text"].to_numpy(), strict=True))
    rows = []
    for code, participant, text_id, evidence in records(
            auto, ["code", "participant", "text_id", "evidence"]):
        spans = json.loads(evidence)
        if text_id not in text_of or not spans:
            continue
        rows.append({"family": of.get(code, code), "code": code, "participant": participant,
                     "text_id": text_id,
                     "quote": sentence(str(text_of[text_id]), spans[0]["start"], width)})
    found = pd.DataFrame(rows, columns=["family", "code", "participant", "text_id", "quote"])
    if found.empty:
        return found.drop(columns="participant")
    found["length"] = found["quote"].str.len()
    found = (found.sort_values(["family", "length", "text_id"])
             .drop_duplicates(["family", "participant"]).drop_duplicates(["family", "quote"])
             .groupby("family", sort=False).head(per_family))
    order = {f: k for k, f in enumerate(names)}
    found = found.sort_values(["family", "length"], key=lambda s: s.map(order) if s.name ==
                              "family" else s)
    found["family"] = found["family"].map(lambda f: names.get(f, f))
    return found[["family", "code", "text_id", "quote"]].reset_index(drop=True)


def sentence(text: str, at: int, width: int) -> str:
    """The sentence of ``text`` containing position ``at``, cut to ``width`` characters."""
    start = max(text.rfind(ch, 0, at) for ch in ".!?\n") + 1
    ends = [i for i in (text.find(ch, at) for ch in ".!?\n") if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= width else piece[: width - 1].rstrip() + "…"


def family_rationales(codes: pd.DataFrame, choices: pd.DataFrame, codebook: Mapping | None,
                      origin: str = "lexicon") -> pd.DataFrame:
    """Per case study and family: rationales (participant x case study) citing the family
    (``origin`` codes), the rationales of that case study (n) and the Wilson 95% CI; the
    numbers of the code-families figure."""
    of, names = families(codebook)
    keys = ["participant", "wave", "case_study"]
    coded = codes[(codes["origin"] == origin)].dropna(subset=["case_study"])
    coded = coded.assign(family=coded["code"].map(lambda c: of.get(c, c)))
    counts = coded.drop_duplicates([*keys, "family"]).groupby(["case_study", "family"]).size()
    totals = choices.groupby("case_study").size()
    rows = []
    for (case, family), k in counts.items():
        low, high = wilson_ci(int(k), int(totals[case]))
        rows.append({"case_study": case, "family": family, "label": names.get(family, family),
                     "k": int(k), "n": int(totals[case]), "share": k / totals[case],
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["case_study", "family", "label", "k", "n", "share",
                                       "ci_low", "ci_high"])
