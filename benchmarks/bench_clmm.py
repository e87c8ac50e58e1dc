"""Time the CLMM on simulated participants x 6 ratings, against ordinal::clmm when R is present.

Three models on the same simulated ratings: a random intercept, crossed participant + source
intercepts, and correlated random slopes ``(1 + visual | participant)``. With ``Rscript`` and
the R package ordinal installed, each is also fitted by ``clmm`` (fit time alone, inside R) and
the speed ratio ``clmm / tlsurvey`` is printed (target: at least 10x); otherwise absolute times
only.

Usage: ``python benchmarks/bench_clmm.py [--participants 1000] [--seed 1] [--repeats 3]
[--no-r] [--out results/bench/clmm.json]``
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

from tlsurvey.io import write_text
from tlsurvey.models.clmm import fit_clmm
from tlsurvey.provenance import peak_memory_mib

try:
    from validate_coverage import FORMULA, simulated
except ImportError:  # run as benchmarks.bench_clmm
    from benchmarks.validate_coverage import FORMULA, simulated

MODELS = {
    "intercept": FORMULA,
    "crossed": FORMULA.replace("(1 | participant)", "(1 | participant) + (1 | source)"),
    "slopes": FORMULA.replace("(1 | participant)", "(1 + visual | participant)"),
}
TARGET_RATIO = 10.0
R_FIT = """
suppressPackageStartupMessages({library(ordinal); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1])
d$expected <- factor(d$expected, ordered = TRUE)
seconds <- system.time(fit <- clmm(as.formula(args[2]), data = d))[["elapsed"]]
cat(toJSON(list(seconds = seconds, logLik = as.numeric(logLik(fit)),
                ordinal = as.character(packageVersion("ordinal")), R = R.version.string),
           auto_unbox = TRUE, digits = NA))
"""


def r_available() -> bool:
    if not shutil.which("Rscript"):
        return False
    done = subprocess.run(["Rscript", "-e", "library(ordinal); library(jsonlite)"],
                          capture_output=True)
    return done.returncode == 0


def fit_in_r(csv: Path, formula: str, timeout: float) -> dict:
    """``ordinal::clmm`` on ``csv``: fit seconds (inside R) and logLik."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as script:
        script.write(R_FIT)
    try:
        done = subprocess.run(["Rscript", script.name, str(csv), formula], capture_output=True,
                              text=True, timeout=timeout, check=True)
    finally:
        Path(script.name).unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--participants", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-r", action="store_true", help="skip ordinal::clmm even if R is present")
    p.add_argument("--r-timeout", type=float, default=1800.0)
    p.add_argument("--out", default="results/bench/clmm.json")
    args = p.parse_args(argv)
    wide, truth = simulated(args.participants, args.seed)
    use_r = not args.no_r and r_available()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "ratings.csv"
        wide.to_csv(csv, index=False)
        for name, formula in MODELS.items():
            print(f"[{name}] fitting {formula} ({args.repeats} repeats)", flush=True)
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                fit = fit_clmm(formula, wide)
                times.append(time.perf_counter() - started)
            row = {"formula": formula, "seconds_best": min(times), "seconds_all": times,
                   "loglik": fit.loglik, "converged": fit.converged,
                   "bfgs_iterations": fit.iterations, "sd": fit.sd.to_dict()}
            if use_r:
                print(f"[{name}] ordinal::clmm ...", flush=True)
                r = fit_in_r(csv, formula, args.r_timeout)
                row |= {"ordinal_seconds": r["seconds"], "ordinal_loglik": r["logLik"],
                        "ratio": r["seconds"] / min(times), "versions": {k: r[k] for k in
                                                                       ("R", "ordinal")}}
            results[name] = row
            ratio = f", clmm {row['ordinal_seconds']:.2f} s: {row['ratio']:.1f}x faster " \
                    f"(logLik {fit.loglik:.4f} vs {row['ordinal_loglik']:.4f})" if use_r else ""
            print(f"[{name}] tlsurvey {min(times):.3f} s{ratio}", flush=True)
    report = {
        "participants": args.participants,
        "nobs": fit.nobs,
        "models": results,
        "ordinal_available": use_r,
        "target_ratio": TARGET_RATIO,
        "within_target": all(r.get("ratio", float("inf")) >= TARGET_RATIO
                             for r in results.values()) if use_r else None,
        "peak_memory_mib": peak_memory_mib(),
        "truth": truth,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "machine": platform.machine()},
    }
    out = Path(args.out)
    write_text(json.dumps(report, indent=2) + "\n", out)
    summary = "; ".join(
        f"{name} {r['seconds_best']:.3f} s" + (f" ({r['ratio']:.1f}x clmm)" if use_r else "")
        for name, r in results.items())
    print(f"CLMM on {fit.nobs} ratings from {args.participants} participants: {summary}"
          f"{'' if use_r else ' (ordinal::clmm not available: absolute times only)'}; "
          f"peak memory {report['peak_memory_mib']:.0f} MiB; wrote {out}")
    return report


if __name__ == "__main__":
    main()
