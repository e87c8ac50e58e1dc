"""Survey simulator: a messy, realistic survey export with planted ground truth.

``tlsurvey simulate --participants N --seed S --wave W --out DIR [--format F]`` writes

- ``DIR/W.<ext>`` the export (see :mod:`tlsurvey.simulate.writers` for the formats) and
  ``DIR/instrument.yaml``, the instrument map that reads it;
- ``DIR/truth/W/``: ``participants.csv``, ``text_codes.csv``, ``negations.csv``,
  ``term_senses.csv``, ``pii.csv``, ``effects.json``, ``counts.json``;
- ``DIR/coders/W_coder_a.csv`` and ``W_coder_b.csv``: simulated human coder sheets (the
  answers of at most 300 kept participants, ``survey.CODED_PARTICIPANTS``).

``tlsurvey simulate --design FILE ...`` simulates a survey of another design instead (its own
case studies, sources, dimensions and scale lengths; see :mod:`tlsurvey.simulate.design`):
a Qualtrics CSV, its instrument map and ``truth/W/`` (no coder sheets).

The generative model is documented in :mod:`tlsurvey.simulate.survey`; for model checks,
:func:`simulate_ratings` returns clean tidy ratings directly.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tlsurvey.io import write_table, write_text
from tlsurvey.simulate.instrument import instrument, instrument_yaml
from tlsurvey.simulate.survey import simulate_ratings, simulate_wave
from tlsurvey.simulate.writers import WRITERS, export_ids

__all__ = ["simulate", "simulate_ratings", "simulate_wave", "instrument", "instrument_yaml",
           "cli", "FORMATS"]
FORMATS = tuple(WRITERS)


def simulate(n_participants: int, seed: int, wave: str, out, fmt: str = "qualtrics-csv",
             anti_aligned_share: float = 0.2, returning: int = 0,
             returning_seed: int | None = None) -> list[Path]:
    """Simulate one wave and write export, instrument map, truth and coder sheets.

    Parameters
    ----------
    n_participants, seed, wave, anti_aligned_share, returning, returning_seed
        See :func:`tlsurvey.simulate.survey.simulate_wave`.
    out : path
        Output directory.
    fmt : str
        Export format, one of ``FORMATS``.

    Returns
    -------
    list of Path
        Every file written.
    """
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    out = Path(out)
    sim = simulate_wave(n_participants, seed, wave, anti_aligned_share, returning,
                        returning_seed)
    paths = WRITERS[fmt](sim["responses"], out, wave)
    paths.append(write_text(instrument_yaml(fmt), out / "instrument.yaml"))
    truth = out / "truth" / wave
    for name in ("participants", "text_codes", "negations", "term_senses", "pii"):
        paths.append(write_table(sim[name], truth / f"{name}.csv"))
    for name in ("effects", "counts"):
        paths.append(write_text(json.dumps(sim[name], indent=2) + "\n", truth / f"{name}.json"))
    ids = export_ids(sim["responses"], fmt)  # coder sheets name responses as the export does
    for coder, sheet in sim["coders"].items():
        sheet = sheet[sheet["response_id"].isin(ids)]
        sheet = sheet.assign(response_id=sheet["response_id"].map(ids))
        paths.append(write_table(sheet, out / "coders" / f"{wave}_{coder}.csv"))
    return paths


def cli(argv: list[str]) -> int:
    """``tlsurvey simulate``: parse ``argv`` and write a simulated wave."""
    parser = argparse.ArgumentParser(prog="tlsurvey simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=15, help="real people (>= 8)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wave", default="wave1", help="wave label (file stem)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--format", default="qualtrics-csv", choices=FORMATS)
    parser.add_argument("--anti-aligned-share", type=float, default=0.2)
    parser.add_argument("--returning", type=int, default=0,
                        help="people who also took the wave simulated with --returning-seed")
    parser.add_argument("--returning-seed", type=int, default=None)
    parser.add_argument("--design", help="design file (YAML): simulate a survey of that design")
    args = parser.parse_args(argv)
    if args.returning and args.returning_seed is None:
        parser.error("--returning needs --returning-seed")
    if args.design:
        if args.format != "qualtrics-csv" or args.returning:
            parser.error("--design writes a Qualtrics CSV without returning participants")
        from tlsurvey.simulate import design

        paths = design.simulate(args.design, args.participants, args.seed, args.wave, args.out)
        print(f"wrote {len(paths)} files under {args.out}")
        return 0
    paths = simulate(args.participants, args.seed, args.wave, args.out, args.format,
                     args.anti_aligned_share, args.returning, args.returning_seed)
    print(f"wrote {len(paths)} files under {args.out}")
    return 0
