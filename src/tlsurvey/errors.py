"""Errors raised on bad input, formatted as one line naming file, row and column."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: ``path:row:column: message`` (row and column may be omitted)."""

    def __init__(self, path, message: str, row: int | None = None, column: str | None = None):
        self.path, self.row, self.column, self.message = str(path), row, column, message
        where = self.path
        if row is not None:
            where += f":row {row}"
        if column is not None:
            where += f":column {column}"
        super().__init__(f"{where}: {message}")
