"""Start-up time of the ``tlsurvey`` command line (target: ``tlsurvey fit`` under 1.5 s).

Each command runs in a fresh interpreter on this checkout's sources. The start-up of a fit is
the wall time of ``tlsurvey fit`` on a small table minus the time of the same fit in process
(warm), i.e. interpreter start, imports, reading the table and printing.

Usage: ``python benchmarks/bench_cli.py [--repeats 5] [--out results/bench/cli.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINE = ROOT / "tests" / "data" / "reference" / "wine.csv"
FORMULA = "rating ~ temp + contact + (1 | judge)"
TARGET_SECONDS = 1.5
COMMANDS = {
    "tlsurvey --help": ["--help"],
    "tlsurvey fit --help": ["fit", "--help"],
    "tlsurvey fit (wine, CLMM)": ["fit", FORMULA, "--data", str(WINE)],
}


def run(args: list[str], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) times of ``python -m tlsurvey.cli ARGS``, a fresh process
    each time (CPU time is the better figure on a loaded machine)."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH", "")])}
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tlsurvey.cli", *args], env=env, check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def in_process_fit_seconds(repeats: int) -> float:
    sys.path.insert(0, str(ROOT / "src"))
    import pandas as pd

    from tlsurvey.models.clmm import fit_clmm

    data = pd.read_csv(WINE)
    fit_clmm(FORMULA, data)  # warm
    return min(fit_clmm(FORMULA, data).seconds for _ in range(repeats))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default="results/bench/cli.json")
    args = p.parse_args(argv)
    times = {name: run(cmd, args.repeats) for name, cmd in COMMANDS.items()}
    fit_seconds = in_process_fit_seconds(args.repeats)
    median = {name: statistics.median(t[0]) for name, t in times.items()}
    median_cpu = {name: statistics.median(t[1]) for name, t in times.items()}
    startup = median["tlsurvey fit (wine, CLMM)"] - fit_seconds
    startup_cpu = median_cpu["tlsurvey fit (wine, CLMM)"] - fit_seconds
    report = {
        "median_seconds": median,
        "median_cpu_seconds": median_cpu,
        "all_seconds": {name: t[0] for name, t in times.items()},
        "in_process_fit_seconds": fit_seconds,
        "fit_startup_seconds": startup,
        "fit_startup_cpu_seconds": startup_cpu,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "target_seconds": TARGET_SECONDS,
        "within_target": startup < TARGET_SECONDS,
    }
    from tlsurvey.io import write_text

    out = Path(args.out)
    write_text(json.dumps(report, indent=2) + "\n", out)
    for name, seconds in median.items():
        print(f"{name:28s} {seconds:6.3f} s wall, {median_cpu[name]:6.3f} s CPU "
              f"(median of {args.repeats})")
    print(f"tlsurvey fit start-up (minus the in-process fit, {fit_seconds:.3f} s): "
          f"{startup:.3f} s wall, {startup_cpu:.3f} s CPU (target < {TARGET_SECONDS} s wall: "
          f"{'met' if startup < TARGET_SECONDS else 'NOT met'}; load average "
          f"{report['load_average_1min']:.1f} on {report['cpus']} CPUs); wrote {out}")
    return report


if __name__ == "__main__":
    main()
