"""The in-memory shapes data passes through: raw sheets, validated tables, issues.

A loader produces :class:`RawSheet` objects (header texts and cell values, as
found in the file). Validation turns a raw sheet into a :class:`Table` of typed
numpy columns, one entry per declared field, and a list of :class:`DataIssue`
for everything it could not accept. Nothing is dropped silently: a row with an
issue is still in the table, and the evaluator reports it as an error row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RawSheet:
    """Cells as a loader found them, before any typing or validation.

    ``rows`` holds one list of cell values per data row (strings, numbers,
    booleans or ``None`` for empty cells); ``row_numbers`` gives the 1-based
    row number a user would see for each of them in the source (so a CSV row
    right after the header is row 2).
    """

    source: str
    headers: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]
    sheet: str | None = None
    header_row: int = 1
    #: The same cells column by column, when the reader holds them that way (one sequence per header);
    #: validation then reads these and never transposes ``rows``.
    columns: list[Sequence[Any]] | None = None


@dataclass
class DataIssue:
    """One problem in the data, located so that a person can find and fix it."""

    code: str  #: stable machine-readable kind, e.g. ``missing_column``
    message_zh: str
    message_en: str
    source: str | None = None
    sheet: str | None = None
    row: int | None = None  #: 1-based row number in the source
    column: str | None = None  #: header text as written in the source
    value: Any = None
    severity: str = "error"  #: ``error`` or ``warning``

    def location(self) -> str:
        parts = [self.source or "<data>"]
        if self.sheet:
            parts.append(f"[{self.sheet}]")
        where = "".join(parts)
        if self.row is not None:
            where += f":{self.row}"
        if self.column is not None:
            where += f" 列/column '{self.column}'"
        return where

    def render(self, lang: str = "zh") -> str:
        msg = self.message_zh if lang == "zh" else self.message_en
        value = "" if self.value is None else f" (值/value: {self.value!r})"
        return f"{self.location()}: {self.severity}[{self.code}]: {msg}{value}"


@dataclass
class Table:
    """Validated, typed columns of one table.

    Column encodings (one numpy array of length ``n`` per declared field):

    * numeric types and yes/no: ``float64``; yes/no is 1.0 / 0.0; missing is NaN;
      percents are fractions (0.95 for 95%).
    * category: ``int16`` index into the field's declared values; -1 is missing.
    * text: ``object`` array of ``str`` (``""`` when missing).

    ``row_numbers`` locates each row in its source; ``bad_rows`` marks rows
    that have at least one error issue, so results can show them as errors.
    ``evidence`` holds the notes of material checks (field name → object array).
    ``present`` lists the declared fields that had a column in the source.
    """

    source: str
    n: int
    columns: dict[str, np.ndarray]
    row_numbers: np.ndarray
    sheet: str | None = None
    bad_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    evidence: dict[str, np.ndarray] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
