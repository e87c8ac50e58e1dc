"""The whole workflow at scale, then again after a new wave is added.

Usage: ``python benchmarks/bench_workflow.py [--participants 1000] [--added 200] [--cores 2]
[--out results/bench/workflow.json]``

Simulates a Qualtrics wave of ``--participants`` people, runs the workflow on it in a scratch copy
of the project, then adds a LimeSurvey wave of ``--added`` people and runs again. Prints and
writes the wall time of both runs, the run time per rule (Snakemake's job records), the rules
that the second run recomputed, how many texts it embedded, and the peak memory of any step.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import tlsurvey.simulate
from tlsurvey.io import write_text
from tlsurvey.provenance import peak_memory_mib
from tlsurvey.report import job_times

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["Snakefile", "environment.yml", "workflow", "scripts", "config"]


def simulate(workdir: Path, wave: str, participants: int, seed: int, fmt: str) -> dict:
    """Simulate one wave into data/<wave>/; its config entry and coder sheets."""
    out = workdir / "data" / wave
    written = tlsurvey.simulate.simulate(participants, seed, wave, out, fmt)
    export = written[0]  # every writer returns the export first
    sheets = sorted(str(p.relative_to(workdir)) for p in written if p.parent.name == "coders")
    return {"wave": {"label": wave, "file": str(export.relative_to(workdir)),
                     "instrument": str((out / "instrument.yaml").relative_to(workdir))},
            "sheets": sheets}


def run(workdir: Path, config: dict, cores: int) -> float:
    """Write ``config`` and run the workflow; wall seconds."""
    write_text(yaml.safe_dump(config, sort_keys=False), workdir / "config" / "config.yaml")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all"],
                   cwd=workdir, check=True)
    return time.perf_counter() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--added", type=int, default=200)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "results/bench/workflow.json"))
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tlsurvey-bench-"))
    for name in PROJECT_FILES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, workdir / name)
    first = simulate(workdir, "wave1", args.participants, 11, "qualtrics-csv")
    added = simulate(workdir, "wave2", args.added, 12, "limesurvey")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(waves=[first["wave"]], coder_sheets=first["sheets"],
                  instrument=first["wave"]["instrument"])
    first_seconds = run(workdir, config, args.cores)
    between = time.time()
    config.update(waves=[first["wave"], added["wave"]],
                  coder_sheets=first["sheets"] + added["sheets"])
    second_seconds = run(workdir, config, args.cores)
    os.chdir(workdir)  # job records name outputs relative to the workflow directory
    times, rerun = job_times(), job_times(since=between)
    log = (workdir / "logs/coding/topics.log").read_text()
    result = {
        "participants": args.participants,
        "added_participants": args.added,
        "cores": args.cores,
        "first_run_seconds": round(first_seconds, 1),
        "rerun_after_adding_wave_seconds": round(second_seconds, 1),
        "rerun_jobs": dict(zip(rerun["rule"], rerun["jobs"].astype(int), strict=True)),
        "not_rerun_rules": sorted(set(times["rule"]) - set(rerun["rule"])),
        "texts_embedded_on_rerun": int(re.findall(r"(\d+) new embeddings", log)[-1]),
        "job_seconds": {r.rule: round(r.seconds, 2) for r in times.itertuples()},
        "peak_step_memory_mib": peak_memory_mib(resource.RUSAGE_CHILDREN),
    }
    write_text(json.dumps(result, indent=2) + "\n", args.out)
    slowest = sorted(result["job_seconds"].items(), key=lambda kv: -kv[1])[:5]
    print(f"workflow on {args.participants} participants: {first_seconds:.1f} s; "
          f"after adding a wave of {args.added}: {second_seconds:.1f} s "
          f"({result['texts_embedded_on_rerun']} texts embedded; "
          f"ingest_wave jobs rerun: {result['rerun_jobs'].get('ingest_wave', 0)} of "
          f"{int(times.set_index('rule').loc['ingest_wave', 'jobs'])})")
    print("slowest rules (s): " + ", ".join(f"{rule} {sec:.1f}" for rule, sec in slowest))
    print(f"peak memory of a step: {result['peak_step_memory_mib']:.0f} MiB; wrote {args.out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
