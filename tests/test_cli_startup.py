"""``tlsurvey`` start-up: heavy modules are imported only when a command needs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["pandas", "matplotlib", "torch", "statsmodels", "pingouin", "scipy.stats", "sklearn"]
PROBE = """
import json, sys
from tlsurvey.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # argparse exits after --help
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported(*args: str) -> tuple[int, set]:
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env=env, check=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def test_help_imports_nothing_heavy():
    for args in (["--help"], ["fit", "--help"]):
        code, modules = imported(*args)
        assert code == 0 and not modules & set(HEAVY), modules & set(HEAVY)


def test_ordinal_fit_imports_only_what_it_uses():
    data = ROOT / "tests" / "data" / "reference" / "wine.csv"
    code, modules = imported("fit", "rating ~ temp + contact + (1 | judge)", "--data", str(data),
                             "--json")
    assert code == 0
    assert "pandas" in modules and "scipy.optimize" in modules
    assert not modules & {"matplotlib", "torch", "statsmodels", "pingouin", "scipy.stats"}


def test_gaussian_fit_needs_no_scipy_stats():
    data = ROOT / "tests" / "data" / "reference" / "wine.csv"
    code, modules = imported("fit", "response ~ temp + contact + (1 | judge)", "--data",
                             str(data), "--family", "gaussian", "--json")
    assert code == 0 and "scipy.sparse" in modules
    assert not modules & {"matplotlib", "torch", "statsmodels", "pingouin", "scipy.stats"}


def loaded(imports: str, names: set[str]) -> list[str]:
    """Which of ``names`` a fresh interpreter has in sys.modules after ``import imports``."""
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    probe = (f"import json, sys, {imports}; "
             f"print(json.dumps(sorted(set({sorted(names)!r}) & set(sys.modules))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout)


def test_models_workflow_imports_pingouin_only_for_the_wave_tests():
    assert loaded("tlsurvey.models.workflow", {"pingouin"}) == []


def test_report_imports_no_plotting_library():
    assert loaded("tlsurvey.report, tlsurvey.report.findings, tlsurvey.figures",
                  {"matplotlib", "seaborn"}) == []


def test_descriptives_and_report_import_no_scipy_stats():
    assert loaded("tlsurvey.descriptives, tlsurvey.report",
                  {"scipy.stats", "statsmodels", "torch"}) == []


def test_figure_modules_import_seaborn_without_scipy_stats():
    """seaborn's guarded scipy imports (KDE, clustering) are blocked: no figure uses them."""
    import pkgutil

    import tlsurvey.figures

    modules = ", ".join(f"tlsurvey.figures.{m.name}"
                        for m in pkgutil.iter_modules(tlsurvey.figures.__path__))
    assert "tlsurvey.figures.likert" in modules
    assert loaded(modules, {"scipy.stats", "scipy.cluster", "seaborn"}) == ["seaborn"]
