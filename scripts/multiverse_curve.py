"""Rule multiverse_curve: every specification's row -> the ranked curve and its summary."""

import pandas as pd

from tlsurvey.io import read_table, write_table
from tlsurvey.logs import setup
from tlsurvey.multiverse.curve import curve, summary

log = setup(snakemake.log[0])
table = curve(pd.concat([read_table(path) for path in snakemake.input], ignore_index=True))
write_table(table, snakemake.output.curve)
write_table(summary(table), snakemake.output.summary)
log.info("%d specifications; wrote %s and %s", len(table), *snakemake.output)
