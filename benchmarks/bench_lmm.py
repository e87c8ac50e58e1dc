"""Time the linear mixed model against lme4's ``lmer`` on the same simulated data.

Random intercept ``y ~ x + z + (1 | participant)`` and crossed
``y ~ x + z + (1 | participant) + (1 | source)`` at 1,000 and 10,000 participants x 6 ratings
(3 sources x 2 repeats). Both sides time the fit alone, in process (R: ``system.time(lmer(...))``
after reading the data), best of ``--repeats``. Targets: random intercept within 1.5x of
``lmer``, crossed within 2x. Prints the ratios (absolute times when Rscript with lme4 is absent)
and writes ``--out``; it asserts nothing.

Usage: ``python benchmarks/bench_lmm.py [--participants 1000 10000] [--repeats 3]
[--out results/bench/lmm.json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tlsurvey.io import write_text
from tlsurvey.models.lmm import fit_lmm
from tlsurvey.provenance import package_versions

BENCH_PACKAGES = ("numpy", "scipy", "pandas")
CASES = {
    "intercept": ("y ~ x + z + (1 | participant)", 1.5),
    "crossed": ("y ~ x + z + (1 | participant) + (1 | source)", 2.0),
}
R_TIMER = """
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[3])
f <- as.formula(args[2])
secs <- I(sapply(seq_len(reps), function(i) system.time(m <<- lmer(f, d))[["elapsed"]]))
out <- list(seconds = secs, fixed = unname(fixef(m)), loglik = as.numeric(logLik(m)),
            lme4 = as.character(packageVersion("lme4")))
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def simulate(participants: int, seed: int) -> pd.DataFrame:
    """``participants`` x 3 sources x 2 repeats with participant and source effects."""
    rng = np.random.default_rng(seed)
    n = participants * 6
    person = np.repeat(np.arange(participants), 6)
    source = np.tile(np.arange(3), 2 * participants)
    frame = pd.DataFrame(
        {
            "participant": [f"p{i:05d}" for i in person],
            "source": [f"s{j}" for j in source],
            "x": rng.normal(size=n).round(4),
            "z": rng.normal(size=n).round(4),
        }
    )
    effects = rng.normal(scale=0.8, size=participants)[person] + np.array([0.3, -0.2, 0.1])[source]
    frame["y"] = (1 + 0.5 * frame["x"] - 0.2 * frame["z"] + effects + rng.normal(size=n)).round(4)
    return frame


def lmer_times(path: Path, formula: str, repeats: int) -> dict | None:
    """lmer's fit times on the CSV at ``path`` (None without Rscript and lme4)."""
    if shutil.which("Rscript") is None:
        return None
    done = subprocess.run(
        ["Rscript", "-e", R_TIMER, str(path), formula, str(repeats)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(f"Rscript failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--participants", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="results/bench/lmm.json")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for participants in args.participants:
            frame = simulate(participants, args.seed)
            path = Path(tmp) / f"lmm_{participants}.csv"
            frame.to_csv(path, index=False)
            for case, (formula, target) in CASES.items():
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    fit = fit_lmm(formula, frame)
                    times.append(time.perf_counter() - started)
                r = lmer_times(path, formula, args.repeats)
                row = {
                    "case": case,
                    "formula": formula,
                    "participants": participants,
                    "nobs": fit.nobs,
                    "seconds_best": min(times),
                    "seconds_all": times,
                    "target_ratio": target,
                    "loglik": fit.loglik,
                }
                if r is not None:
                    row |= {
                        "lmer_seconds_best": min(r["seconds"]),
                        "lmer_seconds_all": r["seconds"],
                        "ratio": min(times) / min(r["seconds"]),
                        "lme4": r["lme4"],
                        "max_rel_diff_fixed": float(
                            np.max(np.abs(fit.coefficients.to_numpy() / r["fixed"] - 1))
                        ),
                        "abs_diff_loglik": abs(fit.loglik - r["loglik"]),
                    }
                rows.append(row)
                _print(row, args.repeats)
    report = {"cases": rows, "platform": platform.platform(), **package_versions(BENCH_PACKAGES)}
    write_text(json.dumps(report, indent=2) + "\n", Path(args.out))
    print(f"wrote {args.out}")
    return report


def _print(row: dict, repeats: int) -> None:
    head = f"{row['case']:9s} {row['participants']:6d} participants ({row['nobs']} rows): "
    ours = f"tlsurvey {row['seconds_best']:.3f} s"
    if "ratio" not in row:
        print(f"{head}{ours} (best of {repeats}; no Rscript with lme4: no ratio)")
        return
    verdict = "within" if row["ratio"] <= row["target_ratio"] else "OUTSIDE"
    print(
        f"{head}{ours}, lmer {row['lmer_seconds_best']:.3f} s, ratio {row['ratio']:.2f} "
        f"({verdict} target {row['target_ratio']}x; best of {repeats}); "
        f"fixed effects differ by {row['max_rel_diff_fixed']:.1e} rel, "
        f"logLik by {row['abs_diff_loglik']:.1e}"
    )


if __name__ == "__main__":
    main()
