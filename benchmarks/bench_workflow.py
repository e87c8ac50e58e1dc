"""The whole workflow: cold example, no-op, 1,000 and 10,000 respondents, an added wave, and
``make run`` on a fresh clone.

Usage: ``python benchmarks/bench_workflow.py [--steps cold,noop,n1000,n10000,fresh] [--cores 2]
[--added 1000] [--targets all] [--out results/bench/workflow.json]``

Each step runs Snakemake in a scratch copy of the project:

- ``cold``: the bundled example from scratch (workflow only, set-up done);
- ``noop``: ``snakemake -n`` after that run (median of three);
- ``n1000``: one simulated Qualtrics wave of 1,000 respondents;
- ``n10000``: one wave of 10,000, then a LimeSurvey wave of ``--added`` respondents added to it
  (only the new wave's ingest and its new texts should be recomputed; the topic model is fitted
  on the first wave, ``coding.topic_fit_waves``, so the added wave's answers are assigned);
- ``fresh``: ``git clone`` of the project's last commit, then ``make run`` in it (creates .venv,
  installs everything from the package registries and runs the example): set-up and workflow
  seconds.

For every run it prints and writes the wall time, the peak memory of any step, and each rule's
share of the summed job time (Snakemake's job records), and for the added wave the rules
that ran again; and, to compare machines, the CPU and how long ``python -c "import pandas"``
takes. ``--targets`` (comma-separated rules or files, default ``all``) measures part of
the workflow, e.g. ``models,multiverse_curve,descriptives`` (the stages without free-text
coding). Steps not run keep their earlier figures in ``--out`` (keyed by step and targets).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import tlsurvey.simulate
from tlsurvey.io import write_text
from tlsurvey.report import job_times

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["Snakefile", "environment.yml", "workflow", "scripts", "config", "data"]
STEPS = ("cold", "noop", "n1000", "n10000", "fresh")
# Runs a command; prints the peak resident memory (KiB) of its largest descendant and the CPU
# seconds of all of them (less sensitive than wall time to other load on the machine).
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr)")


def scratch_project() -> Path:
    """A scratch copy of the project files (no results)."""
    workdir = Path(tempfile.mkdtemp(prefix="tlsurvey-bench-"))
    for name in PROJECT_FILES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, workdir / name)
    return workdir


def simulate(workdir: Path, wave: str, participants: int, seed: int, fmt: str) -> dict:
    """Simulate one wave into data/<wave>/; its config entry and coder sheets."""
    out = workdir / "data" / wave
    written = tlsurvey.simulate.simulate(participants, seed, wave, out, fmt)
    export = written[0]  # every writer returns the export first
    sheets = sorted(str(p.relative_to(workdir)) for p in written if p.parent.name == "coders")
    return {"wave": {"label": wave, "file": str(export.relative_to(workdir)),
                     "instrument": str((out / "instrument.yaml").relative_to(workdir))},
            "sheets": sheets}


def snakemake(workdir: Path, *args: str) -> dict:
    """Run Snakemake in ``workdir``: wall and CPU seconds, peak memory (MiB) of any step and
    the machine's load average before the run."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "snakemake",
                           "--quiet", *args], cwd=workdir, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed in {workdir}:\n{done.stderr[-3000:]}")
    peak, cpu = done.stderr.strip().splitlines()[-1].split()
    return {"wall_seconds": round(seconds, 2), "cpu_seconds": round(float(cpu), 2),
            "peak_step_memory_mib": round(int(peak) / 1024, 1), "load_average": round(load, 1)}


def run(workdir: Path, cores: int, config: dict | None = None, targets=("all",)) -> dict:
    """Run the workflow (with ``config`` written first): wall time, peak memory, rule shares."""
    if config is not None:
        write_text(yaml.safe_dump(config, sort_keys=False), workdir / "config" / "config.yaml")
    since = time.time()
    measured = snakemake(workdir, "--cores", str(cores), *targets)
    here = Path.cwd()
    os.chdir(workdir)  # job records name outputs relative to the workflow directory
    try:
        times = job_times(since=since)
    finally:
        os.chdir(here)
    total = float(times["seconds"].sum())
    return {
        **measured,
        "job_seconds": round(total, 1),
        "rules": {r.rule: {"jobs": int(r.jobs), "seconds": round(r.seconds, 2),
                           "share": round(r.seconds / total, 4)}
                  for r in times.sort_values("seconds", ascending=False).itertuples()},
    }


def topics_log(workdir: Path) -> dict:
    """Texts embedded by the last coding_topics run and whether it refitted the topic model
    (its log)."""
    log = workdir / "logs/coding/topics.log"
    text = log.read_text() if log.is_file() else ""
    found = re.findall(r"(\d+) new embeddings|embedded (\d+)/", text)
    return {"texts_embedded": int(next(n for n in found[-1] if n)) if found else 0,
            "topic_fit": "read from cache" if "topic fit of" in text else "fitted"}


def scale_config(workdir: Path, waves: list[dict], cores: int) -> dict:
    """The example's config on ``waves``, embedding on all ``cores`` (as advised for large
    waves: coding_topics is then the only job running), the topic model fitted on the first
    wave (``coding.topic_fit_waves``: an added wave's answers are assigned to its topics)."""
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["coding"]["embedding_threads"] = cores
    config["coding"]["topic_fit_waves"] = [waves[0]["wave"]["label"]]
    config.update(waves=[w["wave"] for w in waves],
                  coder_sheets=[s for w in waves for s in w["sheets"]],
                  instrument=waves[0]["wave"]["instrument"])
    return config


def step_cold(args) -> dict:
    workdir = scratch_project()
    result = run(workdir, args.cores, targets=args.targets)
    args.example = workdir  # reused by the no-op step
    return result


def step_noop(args) -> dict:
    workdir = getattr(args, "example", None)
    if workdir is None:
        workdir = scratch_project()
        run(workdir, args.cores, targets=args.targets)
    runs = [snakemake(workdir, "-n", *args.targets) for _ in range(3)]
    return {"dry_run_seconds": statistics.median(r["wall_seconds"] for r in runs),
            "dry_run_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "runs": runs}


def step_scale(args, participants: int, added: int = 0) -> dict:
    workdir = scratch_project()
    first = simulate(workdir, "big", participants, 11, "qualtrics-csv")
    config = scale_config(workdir, [first], args.cores)
    result = {"participants": participants, **run(workdir, args.cores, config, args.targets)}
    result.update(topics_log(workdir))
    if added:
        more = simulate(workdir, "added", added, 12, "limesurvey")
        config = scale_config(workdir, [first, more], args.cores)
        again = run(workdir, args.cores, config, args.targets)
        result["added_wave"] = {"participants": added, **again, **topics_log(workdir)}
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def step_fresh(args) -> dict:
    clone = Path(tempfile.mkdtemp(prefix="tlsurvey-fresh-")) / "tlsurvey"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    result = {"load_average": round(os.getloadavg()[0], 1)}
    for part, target in [("setup", ".venv/.installed"), ("workflow", "run")]:
        started = time.perf_counter()
        done = subprocess.run(["make", target, f"CORES={args.cores}"], cwd=clone, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            sys.exit(f"make {target} failed in {clone}:\n{done.stderr[-3000:]}")
        result[f"{part}_seconds"] = round(time.perf_counter() - started, 1)
    result["wall_seconds"] = round(result["setup_seconds"] + result["workflow_seconds"], 1)
    shutil.rmtree(clone.parent, ignore_errors=True)
    return result


def report(name: str, result: dict) -> None:
    """Print one step's figures."""
    if "setup_seconds" in result:
        print(f"{name}: make run on a fresh clone {result['wall_seconds']:.1f} s wall (set-up "
              f"{result['setup_seconds']:.1f} s, workflow {result['workflow_seconds']:.1f} s; "
              f"load average {result['load_average']})")
        return
    if "dry_run_seconds" in result:
        print(f"{name}: snakemake -n after a run {result['dry_run_seconds']:.2f} s wall, "
              f"{result['dry_run_cpu_seconds']:.2f} s CPU (load average "
              f"{result['runs'][0]['load_average']})")
        return
    for label, part in [(name, result), (f"{name} + added wave", result.get("added_wave"))]:
        if not part:
            continue
        shares = ", ".join(f"{rule} {r['share']:.0%}" for rule, r in list(
            part["rules"].items())[:8])
        print(f"{label}: {part['wall_seconds']:.1f} s wall, {part['cpu_seconds']:.0f} s CPU, "
              f"{part['job_seconds']:.1f} s of jobs, peak step memory "
              f"{part['peak_step_memory_mib']:.0f} MiB, load average {part['load_average']}"
              + (f", {part['texts_embedded']} texts embedded, topic model {part['topic_fit']}"
                 if "texts_embedded" in part else ""))
        print(f"  largest shares of job time: {shares}")
        if part is not result:  # the added wave: every rule that ran again
            print("  ran again: " + ", ".join(f"{rule} x{r['jobs']}"
                                              for rule, r in sorted(part["rules"].items())))


def machine() -> dict:
    """The CPU's model and a speed reference for comparing runs on different machines: the
    median wall time of ``python -c "import pandas"`` (three runs)."""
    cpuinfo = Path("/proc/cpuinfo")
    models = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.exists() else []
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pandas"], check=True)
        times.append(time.perf_counter() - started)
    return {"cpu": models[0] if models else "unknown", "cpus": os.cpu_count(),
            "import_pandas_seconds": round(statistics.median(times), 2)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--added", type=int, default=1000)
    parser.add_argument("--targets", default="all", help="comma-separated Snakemake targets")
    parser.add_argument("--out", default=str(ROOT / "results/bench/workflow.json"))
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown steps {unknown}; choose from {STEPS}")
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.is_file() else {}
    runners = {"cold": step_cold, "noop": step_noop,
               "n1000": lambda a: step_scale(a, 1000),
               "n10000": lambda a: step_scale(a, 10000, a.added), "fresh": step_fresh}
    results["machine"] = machine()
    print("machine: {cpu}, {cpus} CPUs; python -c 'import pandas' {import_pandas_seconds:.2f} s"
          .format(**results["machine"]))
    for step in STEPS:
        if step in steps:
            key = step if args.targets == ["all"] else f"{step}:{','.join(args.targets)}"
            results[key] = {"cores": args.cores, "targets": args.targets,
                            **runners[step](args)}
            report(key, results[key])
            write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", out)
    if getattr(args, "example", None):
        shutil.rmtree(args.example, ignore_errors=True)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
