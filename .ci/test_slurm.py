"""Integration check: the workflow through Snakemake's Slurm executor equals a local run.

Usage: ``python .ci/test_slurm.py [--specs 200] [--workdir DIR]`` (``make test-slurm``).

Starts a single-node Slurm cluster on this machine (``.ci/slurm_cluster.sh``: slurmctld, slurmd
and munged on localhost, configuration in a scratch directory), copies the project twice, runs
the workflow on the bundled example once with ``profiles/local`` and once with
``profiles/slurm``, and compares every table under ``results/`` (csv, tsv, tex, parquet, json)
byte for byte. Then both copies run a multiverse of ``--specs`` specifications (one Slurm job
each) and compare again. The cluster has no accounting database, so job states are polled with
squeue, which keeps finished jobs for MinJobAge (900 s) seconds. Exits 1 on any difference.
With ``--workdir`` the copies are kept there, and refreshed from the project and reused
(Snakemake recomputes only what is out of date) when the check runs again. Both copies import
the same ``tlsurvey`` package (this interpreter's, e.g. through PYTHONPATH): a change to it while
the check runs fails the check, as the two runs may then have used different code. Prints, and
writes to ``--out`` (json), the wall time of each phase, the Slurm jobs each slurm phase
submitted, the tables compared and the differences.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ["Snakefile", "environment.yml", "workflow", "scripts", "config", "data", "profiles"]
TABLES = {".csv", ".tsv", ".tex", ".parquet", ".json"}
SLURM_ARGS = ["--workflow-profile", "profiles/slurm", "--slurm-status-command", "squeue",
              "--slurm-init-seconds-before-status-checks", "5", "--jobs", "8"]
LOCAL_ARGS = ["--workflow-profile", "profiles/local", "--cores", "2"]


def multiverse_config(specs: int) -> dict:
    """A ``multiverse:`` section of ``specs`` specifications (a multiple of 8) on the example:
    8 model choices times exclusion variants (rules as configured, none, and a sweep of the
    speeder cut-off)."""
    if specs % 8:
        raise SystemExit(f"--specs must be a multiple of 8, not {specs}")
    variants = {"applied": {}, "none": {"require_finished": False, "min_progress": 0,
                                        "speeder_fraction": 0, "attention_checks": False,
                                        "straightlining": False}}
    for k in range(specs // 8 - len(variants)):
        variants[f"speeder_{k:02d}"] = {"speeder_fraction": round(0.02 * k, 2)}
    return {"multiverse": {"exclusions": variants, "families": ["ordinal", "gaussian"],
                           "predictors": ["separate", "mean"],
                           "random": ["participant", "crossed"], "waves": "all"}}


def copy_project(dest: Path) -> Path:
    """``dest`` with the project files copied in (over an earlier copy, modification times kept,
    so that Snakemake reruns only what the project's changes make out of date)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, dirs_exist_ok=True)
        else:
            shutil.copy2(ROOT / name, dest / name)
    return dest


def package_digest(package: Path) -> str:
    """sha256 of the files of a Python package (names and contents; bytecode caches left out)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in package.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def snakemake(workdir: Path, args: list[str], env: dict) -> float:
    """Run Snakemake in ``workdir``; wall seconds. Raises on failure."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, check=True)
    return time.perf_counter() - started


def submitted(cluster: Path) -> int:
    """Batch jobs the cluster's controller has accepted so far (from its log)."""
    log = cluster / "slurmctld.log"
    return log.read_text().count("_slurm_rpc_submit_batch_job: JobId=") if log.exists() else 0


def tables(results: Path) -> set[Path]:
    return {p.relative_to(results) for p in results.rglob("*")
            if p.suffix in TABLES and "cache" not in p.parts}


def compare(local: Path, slurm: Path, name: str, summary: dict) -> list[str]:
    """Differences between the tables under the two ``results/`` directories (their counts
    recorded in ``summary["comparisons"][name]``)."""
    a, b = tables(local / "results"), tables(slurm / "results")
    problems = [f"only in the local run: {p}" for p in sorted(a - b)]
    problems += [f"only in the slurm run: {p}" for p in sorted(b - a)]
    problems += [f"differs: {p}" for p in sorted(a & b)
                 if not filecmp.cmp(local / "results" / p, slurm / "results" / p, shallow=False)]
    print(f"compared {len(a & b)} tables: {len(problems)} differences")
    summary["comparisons"][name] = {"tables": len(a & b), "differences": len(problems)}
    return problems


def run_phase(name: str, workdir: Path, args: list[str], env: dict, cluster: Path,
              summary: dict) -> None:
    """Run Snakemake in ``workdir`` and record the phase's wall time (and its Slurm jobs)."""
    before = submitted(cluster)
    seconds = snakemake(workdir, args, env)
    summary["phases"][name] = {"seconds": round(seconds, 1)}
    if args[: len(SLURM_ARGS)] == SLURM_ARGS:
        summary["phases"][name]["slurm_jobs"] = submitted(cluster) - before


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=200, help="multiverse size (0: skip)")
    parser.add_argument("--workdir", help="keep (and reuse) the two project copies here")
    parser.add_argument("--out", default=str(ROOT / "results/bench/slurm.json"),
                        help="summary (json)")
    args = parser.parse_args(argv)
    scratch = Path(args.workdir or tempfile.mkdtemp(prefix="tlsurvey-slurm-")).resolve()
    cluster = scratch / "cluster"
    shutil.rmtree(cluster, ignore_errors=True)  # state of an interrupted earlier check
    package = Path(importlib.util.find_spec("tlsurvey").submodule_search_locations[0])
    code = package_digest(package)
    summary = {"specs": args.specs, "package": str(package), "phases": {}, "comparisons": {}}
    started = time.perf_counter()
    out = subprocess.run([str(ROOT / ".ci/slurm_cluster.sh"), "start", str(cluster)],
                         check=True, capture_output=True, text=True).stdout
    summary["phases"]["cluster start"] = {"seconds": round(time.perf_counter() - started, 1)}
    env = {**os.environ, "SLURM_CONF": str(cluster / "slurm.conf")}
    print(out.strip())
    problems = []
    try:
        local, slurm = copy_project(scratch / "local"), copy_project(scratch / "slurm")
        run_phase("example local", local, LOCAL_ARGS, env, cluster, summary)
        run_phase("example slurm", slurm, SLURM_ARGS, env, cluster, summary)
        problems += compare(local, slurm, "example", summary)
        if args.specs:
            configfile = scratch / "multiverse.yaml"
            configfile.write_text(yaml.safe_dump(multiverse_config(args.specs)))
            target = ["multiverse", "--configfile", str(configfile)]
            name = f"{args.specs}-spec multiverse"
            run_phase(f"{name} local", local, [*LOCAL_ARGS, *target], env, cluster, summary)
            run_phase(f"{name} slurm", slurm, [*SLURM_ARGS, *target], env, cluster, summary)
            curve = Path("results/multiverse/specification_curve.csv")
            n = sum(1 for _ in open(slurm / curve)) - 1
            if n != args.specs:
                problems.append(f"{curve}: {n} specifications, expected {args.specs}")
            problems += compare(local, slurm, name, summary)
        if package_digest(package) != code:
            problems.append(f"{package} changed while the check ran: the runs may differ in code")
    finally:
        subprocess.run([str(ROOT / ".ci/slurm_cluster.sh"), "stop", str(cluster)], check=False)
        if not args.workdir:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            shutil.rmtree(cluster, ignore_errors=True)
    for phase, record in summary["phases"].items():
        jobs = f", {record['slurm_jobs']} Slurm jobs" if "slurm_jobs" in record else ""
        print(f"{phase}: {record['seconds']:.0f} s{jobs}")
    for problem in problems:
        print(problem)
    summary["differences"] = problems
    summary["passed"] = not problems
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"summary: {args.out}")
    print("slurm check: " + ("FAILED" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
