"""A column-wise CSV reader on pyarrow (``pip install 'qbe[fast]'``), giving what the csv module gives.

Why: reading a national CSV with the standard library makes one Python
string per cell (about eight million) and validation then turns rows back
into columns. pyarrow parses the file in C into one buffer per column.
Numeric columns are then parsed straight from those buffers (the same
vectorised decimal parser validation uses on joined text, so the numbers are
the same bits), and Python strings are only made for the columns that need
them (codes, names, categories) or for cells an error message quotes.

The result must be exactly the standard reader's, so this reader is used
only when the file is plain: no quote characters at all, no NUL bytes, every
record with the same number of fields, the header among the first rows.
Anything else (quoted cells, ragged rows, blank lines, a file pyarrow
rejects) returns ``None`` and the csv module reads the file as before. ``QBE_CSV_ENGINE=python`` forces the standard
reader; ``=arrow`` forces this one when possible (tests compare the two).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from .cells import blanks_to_none
from .table import RawSheet

#: Environment variable choosing the CSV engine: ``auto`` (default), ``arrow`` or ``python``.
CSV_ENGINE_ENV = "QBE_CSV_ENGINE"


def arrow_wanted() -> bool:
    """Whether to try pyarrow: installed, and not turned off with ``QBE_CSV_ENGINE=python``."""
    if os.environ.get(CSV_ENGINE_ENV, "").strip().lower() == "python":
        return False
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


#: Rows turned into Python strings at a time (bounds the copies alive at once).
_SLICE = 1 << 16

#: Digits a plain decimal may have (below 2**53, so exact), as validation's own parser allows.
_MAX_DIGITS = 15
_POW10 = 10.0 ** np.arange(_MAX_DIGITS + 1)


class ArrowCells(Sequence[Any]):
    """One column's cells, kept as pyarrow's UTF-8 buffer until a Python value is asked for.

    Reads like the standard reader's column: ``str`` cells, ``None`` for an
    empty cell. :meth:`plain_decimals` parses the whole column without making
    any Python object; iterating makes the strings once and keeps them.
    """

    def __init__(self, array: Any) -> None:
        self._array = array  # a pyarrow StringArray, offset 0 or not
        self._list: list[Any] | None = None

    def __len__(self) -> int:
        return len(self._array)

    def values(self) -> list[Any]:
        """The cells as Python values, made once."""
        if self._list is None:
            # Codes, stages and types repeat few values: keep one string object per distinct value
            # (a C-level pass per slice), which at millions of rows saves most of the column's memory.
            # Names and school codes are nearly all distinct: there the table of seen values would
            # only cost memory, so it is dropped after the first slice shows that.
            seen: dict[str, str] | None = {}
            cells: list[Any] = []
            for lo in range(0, len(self._array), _SLICE):
                part = self._array.slice(lo, _SLICE).to_pylist()
                if seen is None:
                    cells += part
                    continue
                cells += map(seen.setdefault, part, part)
                if len(seen) * 2 > len(part):
                    seen = None
            del seen
            blanks_to_none(cells)
            self._list = cells
        return self._list

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if self._list is not None or isinstance(i, slice):
            return self.values()[i]
        value = self._array[i].as_py()
        return None if value == "" else value

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values())

    def buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """The column's bytes and its ``n + 1`` cell offsets into them."""
        arr = self._array
        n = len(arr)
        bufs = arr.buffers()
        width = np.int64 if str(arr.type) == "large_string" else np.int32
        offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + n + 1].astype(np.int64)
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, dtype=np.uint8)
        return data[offsets[0] : offsets[-1]], offsets - offsets[0]

    def plain_decimals(self) -> np.ndarray | None:
        """The column as numbers when every cell is a plain decimal or empty (NaN), else ``None``.

        The same grammar and the same result as validation's parser of joined
        text (:func:`qbe.data.cells.parse_decimals`): ``[+-]digits[.digits]``
        with at most 15 digits, read as an exact integer divided by an exact
        power of ten. Here the cells are laid out as a fixed-width byte matrix
        (cells are short), so the digits accumulate one column of the matrix
        at a time instead of one byte of the file at a time.
        """
        data, offsets = self.buffers()
        n = len(offsets) - 1
        if n == 0:
            return np.empty(0)
        lens = np.diff(offsets)
        width = int(lens.max())
        if width == 0:
            return np.full(n, np.nan)
        if width > _MAX_DIGITS + 2 or bool((data >= 128).any()):
            return None
        pos = np.arange(width)
        inside = pos < lens[:, None]
        m = np.where(inside, data[np.minimum(offsets[:-1, None] + pos, data.size - 1)], 0).astype(np.uint8)
        digit = (m >= 48) & (m <= 57)
        dot = m == 46
        sign = (m == 45) | (m == 43)
        if not (digit | dot | sign | ~inside).all() or sign[:, 1:].any() or (np.count_nonzero(dot, axis=1) > 1).any():
            return None
        count = np.count_nonzero(digit, axis=1)
        filled = lens > 0
        if ((count == 0) & filled).any() or int(count.max()) > _MAX_DIGITS:
            return None
        acc = np.zeros(n, dtype=np.int64)
        for j in range(width):
            d = digit[:, j]
            acc = np.where(d, acc * 10 + (m[:, j].astype(np.int64) - 48), acc)
        values = acc.astype(np.float64)
        has_dot = dot.any(axis=1)
        if has_dot.any():
            at = np.where(has_dot, dot.argmax(axis=1), width)
            decimals = np.count_nonzero(digit & (pos > at[:, None]), axis=1)
            values /= _POW10[decimals]
        negative = m[:, 0] == 45
        values[negative] = -values[negative]
        values[~filled] = np.nan
        return values

    def nonempty(self) -> np.ndarray:
        """Which cells hold at least one character."""
        _, offsets = self.buffers()
        return np.diff(offsets) > 0

    def tail(self, first: int) -> ArrowCells:
        """The cells from row ``first`` on (no copy)."""
        return ArrowCells(self._array.slice(first))

    def take(self, rows: np.ndarray) -> ArrowCells:
        import pyarrow as pa

        return ArrowCells(self._array.take(pa.array(rows)))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


class ColumnRows(Sequence[list[Any]]):
    """The rows of a column-wise sheet, for code that reads :attr:`RawSheet.rows`; made when asked for."""

    def __init__(self, columns: Sequence[Sequence[Any]], n: int) -> None:
        self._columns = columns
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return [c[i] for c in self._columns]

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


def read_csv_arrow(
    data: bytes, source: str, delimiter: str, known_headers: Iterable[str] | None, header_text: Any, find_header: Any
) -> RawSheet | None:
    """The sheet the standard reader would build from ``data`` (UTF-8, no BOM), or ``None`` to let it read.

    ``header_text`` and ``find_header`` are the standard reader's own helpers,
    so the header row and header texts are found by the same code.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - arrow_wanted() checked it
        return None
    if not data or data.isspace() or b'"' in data or b"\x00" in data:
        return None  # quoting and NUL bytes are where CSV parsers differ: the csv module decides those
    first_nl = data.find(b"\n")
    first_line = data if first_nl < 0 else data[:first_nl]
    if b"\r" in first_line.rstrip(b"\r"):
        return None  # old Mac line ends
    fields = first_line.rstrip(b"\r").count(delimiter.encode()) + 1
    names = [f"f{i}" for i in range(fields)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            # one block: one chunk per column, so no copy to combine chunks (2 cores gain little from threads)
            read_options=pacsv.ReadOptions(column_names=names, block_size=max(1 << 20, len(data) + 1), use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
        return None  # ragged rows, a blank line among several columns …: the csv module's business
    n_records = table.num_rows
    columns = [ArrowCells(table.column(i).combine_chunks()) for i in range(fields)]
    limit = csv.field_size_limit()
    if any(int(np.diff(c.buffers()[1]).max(initial=0)) > limit for c in columns):
        return None  # the csv module refuses such a cell, with its own message
    head = [[c[i] for c in columns] for i in range(min(n_records, 20))]
    header_index = find_header(head, known_headers)
    if header_index is None:
        return None
    headers = [header_text(cell) for cell in head[header_index]]
    while headers and not headers[-1]:
        headers.pop()
    first = header_index + 1
    body = [c.tail(first) for c in columns]
    filled = [c.nonempty() for c in body]
    keep = np.logical_or.reduce(filled) if filled else np.zeros(0, dtype=bool)
    numbers = np.arange(first + 1, n_records + 1, dtype=np.int64)
    if keep.size and not keep.all():
        rows = np.flatnonzero(keep)
        body = [c.take(rows) for c in body]
        filled = [f[rows] for f in filled]
        numbers = numbers[rows]
    n = int(numbers.size)
    width = len(headers)
    if n and width != fields:
        used = [j for j in range(fields) if filled[j].any()]
        width = max(width, (used[-1] + 1) if used else 0)
        headers.extend([""] * (width - len(headers)))
    body = body[:width]
    return RawSheet(source, headers, ColumnRows(body, n), numbers.tolist(), sheet=None, header_row=header_index + 1,
                    columns=body)  # fmt: skip
