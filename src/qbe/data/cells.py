"""Reading one cell as a number, a yes/no or a text, the way county spreadsheets write them.

Numbers arrive as "1,234", "95%", "１２３" (full width), "—" for nothing, or
as real numbers from Excel; a national table has millions of such cells, so a
whole column is first tried with a vectorised decimal parser and the per-cell
parser only runs where that refuses. Nothing here decides whether a value is
acceptable for a field: that is :mod:`qbe.data.validate`'s job.
"""

from __future__ import annotations

import gc
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Reading and checking a national dataset creates millions of strings,
    lists and tuples that cannot form cycles; letting the collector rescan
    them again and again more than doubles the time. The previous state is
    restored on exit. (Shared by the readers and the validation.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()



def blanks_to_none(cells: list[Any]) -> None:
    """Replace every "" in ``cells`` by None, in place: an empty CSV cell is a missing value.

    ``count`` and ``index`` run in C, and most rows or columns have few empty
    cells, so this avoids a Python-level pass over every cell."""
    at = -1
    for _ in range(cells.count("")):
        at = cells.index("", at + 1)
        cells[at] = None



# ---------------------------------------------------------------------------
# cell parsing
# ---------------------------------------------------------------------------

#: Placeholders people write for "no value"; treated exactly like an empty cell.
MISSING_MARKERS = frozenset({"-", "--", "—", "——", "－", "/", "n/a", "na", "null", "none", "nan"})

_YES = frozenset({"是", "有", "yes", "y", "true", "1", "√", "✓", "✔"})
_NO = frozenset({"否", "无", "no", "n", "false", "0", "×", "✗", "✘"})

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")

OK, MISSING, BAD = 0, 1, 2
_NONE_TYPE = type(None)
_FAST_TYPES = frozenset({str, int, float, _NONE_TYPE})


def _clean(text: str) -> str:
    """Cell text for parsing: NFKC (full-width digits, ％, ，), no whitespace."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split())


def parse_number(cell: Any, allow_percent: bool) -> tuple[int, float, bool]:
    """Parse one numeric cell: ``(status, value, written_with_percent_sign)``.

    "95%" becomes 0.95 by parsing "95e-2", which gives exactly the float
    nearest to 0.95 (dividing a parsed 95.5 by 100 may be one unit off).
    """
    if cell is None:
        return MISSING, np.nan, False
    if isinstance(cell, bool):
        return BAD, np.nan, False
    if isinstance(cell, (int, float)):
        value = float(cell)
        if math.isnan(value):
            return MISSING, np.nan, False
        if math.isinf(value):
            return BAD, np.nan, False
        return OK, value, False
    if not isinstance(cell, str):
        return BAD, np.nan, False
    text = _clean(cell)
    if not text or text.lower() in MISSING_MARKERS:
        return MISSING, np.nan, False
    percent = allow_percent and text.endswith("%")
    if percent:
        text = text[:-1]
    if "," in text:
        if _THOUSANDS.match(text) is None:
            return BAD, np.nan, False
        text = text.replace(",", "")
    try:
        value = float(text + "e-2" if percent else text)
    except ValueError:
        return BAD, np.nan, False
    if not math.isfinite(value):
        return BAD, np.nan, False
    return OK, value, percent


_POW10 = 10.0 ** np.arange(23)
#: Most significant digits the vectorised parser accepts; below 2**53, so exact.
_MAX_DIGITS = 15


def parse_decimals(blob: str, n: int) -> np.ndarray | None:
    """Parse ``n`` newline-terminated plain decimals at once, or return ``None``.

    Accepts only ``[+-]digits[.digits]`` with at most 15 digits, and empty
    fields (NaN). Why not ``np.array(strings, float)``: that calls ``float``
    once per cell and is three to four times slower on a national column.
    The result is exactly ``float(text)``: the digits form an integer below
    2**53, and dividing it by an exact power of ten rounds correctly once.
    """
    if not blob.isascii():
        return None
    b = np.frombuffer(blob.encode("ascii"), dtype=np.uint8)
    newline = b == 10
    ends = np.flatnonzero(newline)
    if ends.size != n:
        return None  # a cell holds a line break
    digit = (b >= 48) & (b <= 57)
    dot = b == 46
    sign = (b == 45) | (b == 43)
    if not (digit | dot | sign | newline).all():
        return None
    starts = np.empty(n, dtype=np.int64)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    if sign.any():
        at_start = np.zeros(b.size, dtype=bool)
        at_start[starts] = True
        if (sign & ~at_start).any():
            return None
    before = np.zeros(b.size + 1, dtype=np.int64)  # digits before each position
    np.cumsum(digit, out=before[1:])
    count = before[ends] - before[starts]
    empty = ends == starts
    if ((count == 0) & ~empty).any() or count.max(initial=0) > _MAX_DIGITS:
        return None  # "-", "." or too many digits: leave them to the careful parser
    field = np.cumsum(newline) - newline  # which cell each byte belongs to
    dots = np.flatnonzero(dot)
    dot_field = field[dots]
    if dot_field.size > 1 and (dot_field[1:] == dot_field[:-1]).any():
        return None  # two dots in one cell
    at = np.flatnonzero(digit)
    of = field[at]
    power = before[ends[of]] - before[at + 1]  # digits after this one in its cell
    values = np.bincount(of, weights=(b[at] - 48) * _POW10[power], minlength=n)
    values = values.astype(np.float64, copy=False)  # all-empty input gives int64
    if dots.size:
        decimals = np.zeros(n, dtype=np.int64)
        decimals[dot_field] = before[ends[dot_field]] - before[dots + 1]
        values /= _POW10[decimals]
    filled = np.flatnonzero(~empty)
    negative = filled[b[starts[filled]] == 45]
    values[negative] = -values[negative]
    values[empty] = np.nan
    return values


def fast_floats(cells: Sequence[Any]) -> np.ndarray | None:
    """Convert a whole column at once, or ``None`` if any cell needs care.

    Plain decimal strings go through :func:`parse_decimals`; other numeric
    text and numbers through numpy. Empty cells become NaN. Text numpy reads
    but a person would not mean as a number ("nan", "inf") and booleans send
    the column to the per-cell parser, which reports them.
    """
    plain = getattr(cells, "plain_decimals", None)  # a column-wise reader's cells: parse its buffer directly
    if plain is not None:
        values = plain()
        if values is not None:
            return values
        cells = cells.values()
    try:
        blob: str | None = "\n".join(cells)  # also the cheapest "all str?" test
    except TypeError:
        blob = None
        kinds = set(map(type, cells))
        if kinds <= {str, _NONE_TYPE}:
            blob = "\n".join([c if c is not None else "" for c in cells])
        elif not kinds <= _FAST_TYPES:
            return None  # bool, datetime, dict … need a message per cell
    if blob is not None:
        values = parse_decimals(blob + "\n", len(cells))
        if values is not None:
            return values
    try:
        values = np.array(cells, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None
    if values.shape != (len(cells),):
        return None
    odd = np.flatnonzero(~np.isfinite(values))
    if odd.size and any(cells[i] is not None for i in odd.tolist()):
        return None
    return values


def yes_no(cell: Any) -> float:
    """1.0, 0.0, NaN for missing, or -1.0 for "not a yes/no value"."""
    if cell is None:
        return np.nan
    if isinstance(cell, bool):
        return 1.0 if cell else 0.0
    if isinstance(cell, (int, float)):
        if math.isnan(cell):
            return np.nan
        return float(cell) if cell in (0, 1) else -1.0
    if not isinstance(cell, str):
        return -1.0
    text = _clean(cell).lower()
    if not text or text in MISSING_MARKERS:
        return np.nan
    if text in _YES:
        return 1.0
    if text in _NO:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        return -1.0
    return number if number in (0.0, 1.0) else -1.0


def cell_text(cell: Any) -> str:
    """Text of a cell; an integral float (Excel's 3301.0) is written "3301"."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


class _Memo(dict[Any, Any]):
    """A dict that computes missing entries, so ``map(memo.__getitem__, cells)``
    converts a column at C speed when it has few distinct values."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self._compute(key)
        self[key] = value
        return value


def memo_map(compute: Callable[[Any], Any], cells: Sequence[Any]) -> list[Any]:
    by_value = getattr(cells, "map_distinct", None)  # a column-wise reader's cells know their distinct values
    if by_value is not None:
        found = by_value(compute)
        if found is not None:
            return found
    memo = _Memo(compute)
    try:
        return list(map(memo.__getitem__, cells))
    except TypeError:  # an unhashable cell (a list from JSON, say)
        return [compute(cell) for cell in cells]


def format_cell(value: Any) -> str:
    """A number for a message: no ``.0`` on whole numbers, no float noise."""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.10g}"
    return str(value)
