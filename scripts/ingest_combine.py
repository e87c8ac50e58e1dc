"""Rule ingest_combine: per-wave tables -> results/ingest (duplicates across waves resolved)."""

from tlsurvey.io import all_or_nothing
from tlsurvey.layout import by_wave
from tlsurvey.logs import setup

log = setup(snakemake.log[0])

with all_or_nothing():  # the step writes all of its outputs or none
    from tlsurvey import ingest  # noqa: E402

    exclusions = ingest.exclusion_settings(snakemake.params.exclusions)
    results = ingest.read_waves(by_wave(dict(snakemake.input.items()), snakemake.params.waves))
    tables = ingest.combine(results, exclusions["duplicates"], exclusions["cross_wave_identity"])
    written = ingest.write_outputs(tables, dict(snakemake.output.items()))
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
