"""Packaging stays consistent: environment.yml mirrors pyproject; the CLI lists its commands."""

import shutil
import tomllib

import yaml

from tlsurvey import cli


def test_environment_yml_in_sync_with_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and project["requires-python"].startswith(">=3.11")
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    torch_pin = next(d for d in project["dependencies"] if d.startswith("torch"))
    # torch first (the CPU build on disk), then the project itself with its test extra
    assert pip[0] == torch_pin == "torch==2.13.0"
    assert pip[1] == "-e .[test]" and "test" in project["optional-dependencies"]


def test_cli_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out
    assert cli.main(["no-such-command"]) == 2


def test_code_digest_follows_each_stage_code(tmp_path, monkeypatch):
    from tlsurvey import provenance

    package = tmp_path / "tlsurvey"
    shutil.copytree(provenance.PACKAGE_DIR, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", package)

    def digests():
        return {stage: provenance.code_digest(stage) for stage in ("models", "coding")}

    before = digests()
    assert before == digests() and len(before["models"]) == 12
    with (package / "models" / "alignment.py").open("a") as f:
        f.write("\n# changed\n")
    changed = digests()
    assert changed["models"] != before["models"] and changed["coding"] == before["coding"]
    with (package / "io.py").open("a") as f:  # shared code: every stage reruns
        f.write("\n# changed\n")
    assert all(digests()[s] != changed[s] for s in changed)
