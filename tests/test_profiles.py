"""The execution profiles: the Slurm profile sizes every rule that runs a job."""

import yaml
from conftest import snakemake

# Target rules: they only collect inputs and run no job of their own.
TARGETS = {"all", "models", "figures", "multiverse"}


def test_slurm_profile_sets_threads_memory_and_runtime_for_every_rule(root):
    listed = snakemake(root, "--list-rules").stdout.split()
    profile = yaml.safe_load((root / "profiles/slurm/config.yaml").read_text())
    jobs = set(listed) - TARGETS
    assert TARGETS <= set(listed) and len(jobs) > 20
    assert set(profile["set-threads"]) == jobs
    assert set(profile["set-resources"]) == jobs
    for rule, resources in profile["set-resources"].items():
        assert resources["mem_mb"] > 0 and resources["runtime"] > 0, rule
    assert profile["executor"] == "slurm"
