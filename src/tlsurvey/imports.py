"""Importing a package without optional dependencies it would load for nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def blocked(*names: str) -> Iterator[None]:
    """Make ``import name`` raise ModuleNotFoundError for each of ``names`` not yet imported,
    for the duration of the block only; afterwards they import as usual.

    For packages that guard an optional import (``try: import torch``) the process never uses.
    """
    names = [name for name in names if name not in sys.modules]
    sys.modules.update(dict.fromkeys(names))
    try:
        yield
    finally:
        for name in names:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
