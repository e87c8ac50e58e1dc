"""Packaging stays consistent: environment.yml mirrors pyproject; the CLI lists its commands."""

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
