"""Logging set-up shared by the CLI and the workflow scripts."""

from __future__ import annotations

import logging
import sys


def setup(log_path=None, level=logging.INFO) -> logging.Logger:
    """Send ``tlsurvey`` log records to stderr, and to ``log_path`` when given (Snakemake log)."""
    logger = logging.getLogger("tlsurvey")
    logger.setLevel(level)
    logger.handlers.clear()
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger
