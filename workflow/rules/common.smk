"""Helpers shared by all stages: wave look-up, report() captions, wildcard constraints."""

import json
from pathlib import Path

from tlsurvey.layout import salt_fingerprint
from tlsurvey.multiverse import settings as multiverse_settings
from tlsurvey.multiverse import specifications as multiverse_specifications
from tlsurvey.provenance import code_digest


WAVES = [wave["label"] for wave in config["waves"]]
# Digest of each stage's library code, passed to its rules as a param (new code reruns them).
CODE = {
    "ingest": code_digest("ingest", "coding/language.py", "layout.py"),
    "descriptives": code_digest("descriptives.py", "ingest/mapping.py", "layout.py"),
    "coding": code_digest("coding", "provenance.py", "layout.py"),
    "models": code_digest("models", "latex.py", "layout.py"),
    "figures": code_digest("figures", "descriptives.py", "ingest/mapping.py"),
    "report": code_digest("report", "templates", "provenance.py", "latex.py"),
    "multiverse": code_digest("multiverse", "models", "study.py", "layout.py"),
}
# The benchmark outcomes file as named inputs ({} when config has none).
OUTCOMES = {"outcomes": config["outcomes"]} if config.get("outcomes") else {}
# Steps that hash participant ids take this as a param: a new salt reruns them.
SALT_FINGERPRINT = salt_fingerprint(config.get("privacy", {}))


def wave_cfg(label):
    """The config entry of wave ``label``, with the default instrument filled in."""
    for wave in config["waves"]:
        if wave["label"] == label:
            return {"instrument": config["instrument"], **wave}
    raise ValueError(f"unknown wave {label!r}; config lists {WAVES}")


wildcard_constraints:
    wave="|".join(WAVES),


def reported(path, category):
    """``path`` as a report() item captioned by workflow/report/<stage>_<file stem>.rst."""
    stage, stem = Path(path).parts[1], Path(path).stem
    return report(path, caption=f"../report/{stage}_{stem}.rst", category=category)


def config_section(name):
    """config[name] with keys sorted: reordering the YAML must not look like a params change."""
    return json.loads(json.dumps(config.get(name, {}), sort_keys=True))


# Multiverse (workflow/rules/multiverse.smk): its settings and specifications by id.
MV_DIR = "results/multiverse"
MV = multiverse_settings(config.get("multiverse"))
MV_SPECS = {spec["id"]: spec for spec in multiverse_specifications(MV, WAVES)}
MV_REINGESTED = [name for name, overrides in MV["exclusions"].items() if overrides]


def mv_ratings(wildcards):
    """Ratings table of the specification's exclusion variant."""
    variant = MV_SPECS[wildcards.spec]["exclusions"]
    if variant in MV_REINGESTED:
        return f"{MV_DIR}/data/{variant}/ratings.parquet"
    return "results/ingest/ratings.parquet"


# Figures (workflow/rules/figures.smk): specs are {name: (report category, named inputs)}.
def figure_group(inputs, stages):
    """The stage of ``stages`` ({stage: results dir}) whose outputs ``inputs`` wait for last."""
    found = [stage for stage, prefix in stages.items()
             if any(str(path).startswith(f"{prefix}/") for path in inputs.values())]
    return found[-1] if found else next(iter(stages))


def figure_outputs(specs, names, formats):
    """Named outputs ``<name>_<format>`` of the figures ``names``, each a report() item."""
    return {
        f"{name}_{fmt}": report(
            f"results/figures/{name}.{fmt}",
            caption=f"../report/{name}.rst",
            category=specs[name][0],
            labels={"figure": name, "format": fmt.upper()},
        )
        for name in names
        for fmt in formats
    }


def figure_inputs(specs, names, study):
    """The named inputs of the figures ``names`` (one key, one file) and the study."""
    inputs = {"study": study}
    for name in names:
        for key, path in specs[name][1].items():
            if inputs.setdefault(key, path) != path:
                raise ValueError(f"figure input {key!r} names two files: {inputs[key]}, {path}")
    return inputs
