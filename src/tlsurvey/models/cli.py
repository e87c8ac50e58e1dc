"""``tlsurvey fit FORMULA --data FILE --family gaussian|ordinal``: fit and print a mixed model.

Heavy modules (pandas, scipy, the model code) are imported only once the arguments are parsed,
so ``--help`` and argument errors are instant and a fit starts without unused imports.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tlsurvey.errors import InputError
from tlsurvey.models import FAMILIES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tlsurvey fit",
        description="Fit a mixed model given in lme4 formula syntax, e.g. "
        "'expected ~ visual + case_study + (1 | participant)'.",
    )
    p.add_argument("formula")
    p.add_argument("--data", required=True, help="CSV or parquet table (one row per observation)")
    p.add_argument(
        "--family",
        choices=FAMILIES,
        default="ordinal",
        help="ordinal: cumulative link mixed model; gaussian: linear mixed model",
    )
    p.add_argument("--link", choices=["logit", "probit"], default="logit")
    reml = p.add_mutually_exclusive_group()
    reml.add_argument(
        "--reml",
        dest="reml",
        action="store_true",
        default=True,
        help="REML estimation (gaussian; default)",
    )
    reml.add_argument("--ml", dest="reml", action="store_false", help="maximum likelihood")
    p.add_argument(
        "--nagq",
        type=int,
        default=1,
        help="ordinal, as ordinal::clmm's nAGQ: 1 = Laplace; n > 1 adaptive, n < 0 "
        "non-adaptive Gauss-Hermite with |n| nodes (one random intercept); 0 is an error",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return p


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    path = Path(args.data)
    if not path.is_file():
        raise InputError(path, "file not found")
    import pandas as pd

    from tlsurvey.io import read_table
    from tlsurvey.models import fit, tables

    data = read_table(path)
    result = fit(args.formula, data, args.family, link=args.link, reml=args.reml, nagq=args.nagq)
    if args.json:
        print(json.dumps(tables.to_json(result), indent=2, default=str))
        return 0
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        stats = tables.fit_stats(result)
        print(
            f"{stats['family']} mixed model ({stats['method']}, link {stats['link']}): "
            f"{result.formula}"
        )
        crit = stats["reml_criterion"]
        extra = f", REML criterion = {crit:.6f}" if crit == crit else ""
        print(
            f"n = {stats['nobs']}, groups: {stats['ngroups']}, logLik = {result.loglik:.6f}{extra}"
        )
        coefs = tables.coefficients(result)
        print(f"\nFixed effects ({coefs['test'].iloc[0]} tests, 95% CI):")
        print(coefs.drop(columns=["model", "family", "test"]).to_string(index=False))
        print("\nRandom effects:")
        print(tables.random_effects(result).drop(columns="model").to_string(index=False))
        print(
            f"\nR2 marginal = {stats['r2_marginal']:.4f}, conditional = "
            f"{stats['r2_conditional']:.4f} (Nakagawa); ICC = {stats['icc']:.4f}"
        )
        if not result.converged:
            print("warning: the fit did not converge cleanly")
    return 0
