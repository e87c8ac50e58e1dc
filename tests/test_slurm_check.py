"""The Slurm integration check's own parts (.ci/test_slurm.py), without a cluster: the
multiverse it asks for, the table comparison and the count of submitted Slurm jobs."""

import importlib.util

import pytest

from tlsurvey.multiverse.specs import specifications


@pytest.fixture(scope="module")
def check(root):
    spec = importlib.util.spec_from_file_location("slurm_check", root / ".ci/test_slurm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_multiverse_has_the_requested_number_of_distinct_specifications(check):
    section = check.multiverse_config(200)["multiverse"]
    specs = specifications(section, ["w1", "w2"])
    assert len(specs) == 200 and len({s["id"] for s in specs}) == 200
    with pytest.raises(SystemExit):
        check.multiverse_config(20)


def test_compare_counts_tables_and_reports_each_difference(check, tmp_path):
    for run, text in (("local", "1.0\n"), ("slurm", "1.5\n")):
        (tmp_path / run / "results/a/cache").mkdir(parents=True)
        (tmp_path / run / "results/a/same.csv").write_text("x\n")
        (tmp_path / run / "results/a/value.tsv").write_text(text)
        (tmp_path / run / "results/a/cache/ignored.json").write_text(run)
        (tmp_path / run / "results/a/figure.png").write_bytes(run.encode())
    (tmp_path / "slurm/results/extra.parquet").write_bytes(b"")
    summary = {"comparisons": {}}
    problems = check.compare(tmp_path / "local", tmp_path / "slurm", "example", summary)
    assert problems == ["only in the slurm run: extra.parquet", "differs: a/value.tsv"]
    assert summary["comparisons"]["example"] == {"tables": 2, "differences": 2}


def test_submitted_counts_the_controllers_accepted_batch_jobs(check, tmp_path):
    assert check.submitted(tmp_path) == 0
    (tmp_path / "slurmctld.log").write_text(
        "[2026-12-02T02:55:34.620] _slurm_rpc_submit_batch_job: JobId=1 InitPrio=1 usec=745\n"
        "[2026-12-02T02:55:35.100] sched: Allocate JobId=1 NodeList=n1 #CPUs=1\n"
        "[2026-12-02T02:55:36.647] _slurm_rpc_submit_batch_job: JobId=2 InitPrio=1 usec=383\n")
    assert check.submitted(tmp_path) == 2


def test_package_digest_follows_the_code_and_not_its_bytecode(check, tmp_path):
    (tmp_path / "pkg/__pycache__").mkdir(parents=True)
    (tmp_path / "pkg/mod.py").write_text("A = 1\n")
    before = check.package_digest(tmp_path / "pkg")
    (tmp_path / "pkg/__pycache__/mod.cpython-311.pyc").write_bytes(b"\0")
    assert check.package_digest(tmp_path / "pkg") == before
    (tmp_path / "pkg/mod.py").write_text("A = 2\n")
    assert check.package_digest(tmp_path / "pkg") != before


def test_a_kept_copy_is_refreshed_from_the_project(check, root, tmp_path):
    copy = check.copy_project(tmp_path / "copy")
    rules = root / "workflow/rules/multiverse.smk"
    kept = copy / "workflow/rules/multiverse.smk"
    kept.write_text("stale\n")
    (copy / "results").mkdir()
    (copy / "results/table.csv").write_text("x\n")
    check.copy_project(copy)
    assert kept.read_bytes() == rules.read_bytes()
    assert kept.stat().st_mtime == rules.stat().st_mtime
    assert (copy / "results/table.csv").read_text() == "x\n"
