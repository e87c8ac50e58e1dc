"""Shared test fixtures: paths to the project, to ../shared (never copied), and one real run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TLSURVEY_SHARED", ROOT.parent / "shared"))  # real fixtures


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"needs ../shared (real third-party exports, R reference fits), not found "
                    f"beside the checkout at {SHARED}; set TLSURVEY_SHARED to its path")
    return SHARED


WORKFLOW_FILES = ["Snakefile", "environment.yml", "workflow", "scripts", "config", "data"]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2"]


def snakemake(workdir: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir``; fail the test with its output when it exits non-zero."""
    done = subprocess.run([*SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True,
                          env=env)
    if done.returncode:
        output = done.stdout[-3000:] + done.stderr[-3000:]
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{output}")
    return done


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory) -> Path:
    """The whole workflow run once on the bundled example, in a copy of the project."""
    workdir = tmp_path_factory.mktemp("workflow")
    for name in WORKFLOW_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name)
        else:
            shutil.copy2(source, workdir / name)
    snakemake(workdir)
    return workdir
