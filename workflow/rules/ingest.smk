"""Ingest: one rule per wave (read, map, exclude, de-identify), then one combine rule.

Adding a wave reruns only that wave's ingest_wave plus ingest_combine (cross-wave duplicates
are resolved there). Intermediate per-wave tables are already de-identified.
"""

from tlsurvey.layout import STUDY_FILE, WAVE_FILES
from tlsurvey.layout import TABLES as INGEST_TABLES
from tlsurvey.layout import wave_files as ingest_wave_files
from tlsurvey.layout import wave_inputs as ingest_wave_inputs
from tlsurvey.study import Study

INGEST_WAVES_DIR = "results/ingest/waves"
# Every wave's tables, named "<wave>/<table>" (tlsurvey.layout.by_wave reads them back by wave).
INGEST_WAVE_TABLES = ingest_wave_files(WAVES, INGEST_WAVES_DIR)
# The study described by the waves' instrument maps (checked here, at parse time); the rules
# downstream read the same description from results/ingest/study.json.
STUDY = Study.from_instrument_files(list(dict.fromkeys(wave_cfg(wave)["instrument"] for wave in WAVES)))


rule ingest_wave:
    input:
        unpack(lambda wc: ingest_wave_inputs(wave_cfg(wc.wave))),
    output:
        **{name: f"{INGEST_WAVES_DIR}/{{wave}}/{file}" for name, file in WAVE_FILES.items()},
    params:
        code=CODE["ingest"],
        format=lambda wc: wave_cfg(wc.wave).get("format"),
        privacy=config_section("privacy"),
        salt=SALT_FINGERPRINT,
        exclusions=config_section("exclusions"),
    log:
        "logs/ingest/{wave}.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/ingest_wave.py"


rule ingest_combine:
    input:
        **INGEST_WAVE_TABLES,
    output:
        **{name: f"results/ingest/{name}.parquet" for name in INGEST_TABLES},
        flow=reported("results/ingest/flow.csv", "Data and exclusions"),
        excluded=reported("results/ingest/excluded.csv", "Data and exclusions"),
        study=f"results/ingest/{STUDY_FILE}",
    params:
        code=CODE["ingest"],
        waves=WAVES,
        exclusions=config_section("exclusions"),
    log:
        "logs/ingest/combine.log",
    conda:
        "../../environment.yml"
    script:
        "../../scripts/ingest_combine.py"
