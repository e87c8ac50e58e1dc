"""Coverage of the CLMM's 95% Wald CIs on simulated surveys with planted effects.

Data come from the project simulator, ``tlsurvey.simulate.survey.simulate_ratings`` with
``anti_aligned_share=0`` and ``slope_sd=0`` (then the ratings follow exactly the cumulative-logit
random-intercept model written to ``effects.json``). For every seed the model
``expected ~ visual + semantic + embedding + domain + case_study + (1 | participant)`` is fitted
and each planted threshold and fixed effect is checked against its 95% CI.

Usage: ``python benchmarks/validate_coverage.py [--seeds 50] [--participants 200]
[--out results/bench/coverage.json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tlsurvey.io import write_text
from tlsurvey.models.clmm import fit_clmm
from tlsurvey.models.stats import wide_ratings

FORMULA = "expected ~ visual + semantic + embedding + domain + case_study + (1 | participant)"


def simulated(n_participants: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Wide ratings from the simulator and the planted truth {term: value}."""
    from tlsurvey.simulate.survey import simulate_ratings

    tidy = simulate_ratings(n_participants, seed, anti_aligned_share=0.0, slope_sd=0.0)
    eff = tidy.attrs["effects"]
    truth = {f"{k}|{k + 1}": t for k, t in enumerate(eff["thresholds"], start=1)}
    truth |= {d: eff[f"beta_{d}"] for d in ("visual", "semantic", "embedding", "domain")}
    truth["case_studyxray"] = eff["beta_case_xray"]
    truth["sd(participant)"] = eff["random_intercept_sd"]
    return wide_ratings(tidy), truth


def check_seed(n_participants: int, seed: int) -> pd.DataFrame:
    """One fit: estimate, SE, CI and coverage per planted parameter."""
    wide, truth = simulated(n_participants, seed)
    fit = fit_clmm(FORMULA, wide)
    table = fit.table().set_index("term")
    rows = []
    for term, value in truth.items():
        if term.startswith("sd("):
            rows.append(
                {
                    "seed": seed,
                    "term": term,
                    "truth": value,
                    "estimate": float(fit.sd.iloc[0]),
                    "se": np.nan,
                    "covered": np.nan,
                }
            )
            continue
        est, se = table.loc[term, "estimate"], table.loc[term, "se"]
        rows.append(
            {
                "seed": seed,
                "term": term,
                "truth": value,
                "estimate": est,
                "se": se,
                "covered": bool(abs(est - value) <= 1.959964 * se),
                "z": (est - value) / se,
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--participants", type=int, default=200)
    p.add_argument("--out", default="results/bench/coverage.json")
    args = p.parse_args(argv)
    started = time.perf_counter()
    res = pd.concat([check_seed(args.participants, s) for s in range(args.seeds)])
    fixed = res[res.term != "sd(participant)"]
    per_term = fixed.groupby("term", sort=False).agg(
        truth=("truth", "first"),
        mean_estimate=("estimate", "mean"),
        coverage=("covered", "mean"),
        mean_z=("z", "mean"),
        sd_z=("z", "std"),
    )
    sd = res[res.term == "sd(participant)"]
    report = {
        "formula": FORMULA,
        "generator": "tlsurvey.simulate.survey.simulate_ratings (anti_aligned_share=0, slope_sd=0)",
        "seeds": args.seeds,
        "participants": args.participants,
        "ratings_per_participant": 6,
        "coverage_overall": float(fixed["covered"].mean()),
        "coverage_min_term": float(per_term["coverage"].min()),
        "per_term": per_term.reset_index().to_dict("records"),
        "random_intercept_sd": {
            "truth": float(sd["truth"].iloc[0]),
            "mean_estimate": float(sd["estimate"].mean()),
        },
        "seconds": time.perf_counter() - started,
    }
    out = Path(args.out)
    write_text(json.dumps(report, indent=2) + "\n", out)
    print(
        f"coverage of 95% CIs over {args.seeds} seeds: {report['coverage_overall']:.3f} "
        f"(lowest term {report['coverage_min_term']:.3f}); wrote {out}"
    )
    return report


if __name__ == "__main__":
    main()
