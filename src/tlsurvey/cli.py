"""Command-line entry point ``tlsurvey``: each subcommand lives in its stage's module.

A module named in COMMANDS defines ``cli(argv: list[str]) -> int`` with its own argparse parser;
it is imported only when its command runs, so start-up stays fast (keep heavy imports out of this
file and of the command modules' top level). Input errors are printed as one line and exit with
status 1.
"""

from __future__ import annotations

import importlib
import os
import sys

from tlsurvey.errors import InputError
from tlsurvey.io import all_or_nothing

COMMANDS = {
    "simulate": ("tlsurvey.simulate", "write a simulated survey export with planted truth"),
    "ingest": ("tlsurvey.ingest", "read exports through an instrument map into tidy tables"),
    "check-instrument": ("tlsurvey.ingest.check", "check an export against an instrument map"),
    "code": ("tlsurvey.coding", "code free-text answers (lexicon, topics, reliability, audit)"),
    "import-coding": ("tlsurvey.coding.sheets",
                      "read human codes back from a .qdpx coded in a QDA tool (coder sheet)"),
    "fit": ("tlsurvey.models.cli", "fit a mixed model given in lme4 formula syntax"),
    "compile-kernels": ("tlsurvey.coding.topics",
                        "compile the topic model's numba kernels once (make's set-up)"),
}


def usage() -> str:
    lines = ["usage: tlsurvey COMMAND [options]   (tlsurvey COMMAND --help for details)", ""]
    lines += [f"  {name:18s}{help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"tlsurvey: unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    try:
        with all_or_nothing():  # a failing command leaves none of its outputs
            return module.cli(argv[1:]) or 0
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
