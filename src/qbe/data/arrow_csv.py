"""A column-wise CSV reader on pyarrow (``pip install 'qbe[fast]'``), giving what the csv module gives.

Why: reading a national CSV with the standard library makes one Python
string per cell (about eight million) and validation then turns rows back
into columns. pyarrow parses the file in C into one buffer per column.
Numeric columns are then parsed straight from those buffers: their cells are
checked against the plain decimal grammar of validation's own parser with a few
numpy passes over the bytes, and Arrow's string-to-float cast (correctly
rounded, as the exact integer-over-power-of-ten of that parser is) turns them
into the same bits. Python strings are only made for the columns that need
them (codes, names, categories) or for cells an error message quotes, and a
column with few distinct values makes one string per distinct value.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from .table import RawSheet

#: Environment variable choosing the CSV engine: ``auto`` (default), ``arrow`` or ``python``.
CSV_ENGINE_ENV = "QBE_CSV_ENGINE"


def arrow_wanted() -> bool:
    """Whether to try pyarrow: installed, and not turned off with ``QBE_CSV_ENGINE=python``."""
    if os.environ.get(CSV_ENGINE_ENV, "").strip().lower() == "python":
        return False
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def valid_utf8(data: bytes) -> bool:
    """Whether ``data`` decodes as strict UTF-8, as ``data.decode("utf-8")`` would say, checked by
    Arrow's validator: a few times faster than decoding, and no Python string of the whole file."""
    import pyarrow as pa

    offsets = np.array([0, len(data)], dtype=np.int64)
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


#: Rows that tell whether a column repeats few values (see :meth:`ArrowCells.distinct`).
_SAMPLE = 1 << 14
#: Bytes pyarrow parses at a time.
_BLOCK = 1 << 20

#: Digits a plain decimal may have (below 2**53, so exact), as validation's own parser allows.
_MAX_DIGITS = 15
_POW10 = 10.0 ** np.arange(_MAX_DIGITS + 1)


#: The characters ``str.strip()`` takes off: those for which ``str.isspace()`` holds (a test
#: checks this list against every code point).
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _space_bytes(width: int) -> np.ndarray:
    """The UTF-8 encodings ``width`` bytes long among :data:`_SPACES`, as integers (big end first)."""
    return np.array(sorted(int.from_bytes(c.encode(), "big") for c in _SPACES if len(c.encode()) == width), dtype=np.int64)


_SPACE_ASCII = _space_bytes(1)
_SPACE_PAIRS = _space_bytes(2)
_SPACE_TRIPLES = _space_bytes(3)


def _spaced(data: np.ndarray, at: np.ndarray, size: np.ndarray, at_end: bool) -> np.ndarray:
    """For cells of ``size`` bytes starting (or, ``at_end``, ending) at ``at``: whether the first (last)
    character is one of :data:`_SPACES`, read from its one, two or three UTF-8 bytes."""
    def byte(k: int) -> np.ndarray:  # the k-th byte from that end (0: the outermost); 0 past the cell
        pos = at - 1 - k if at_end else at + k
        return np.where(size > k, data[np.where(size > k, pos, 0)], 0).astype(np.int64)

    b0, b1, b2 = byte(0), byte(1), byte(2)
    one = b0
    two = (b1 << 8) | b0 if at_end else (b0 << 8) | b1
    three = (b2 << 16) | (b1 << 8) | b0 if at_end else (b0 << 16) | (b1 << 8) | b2
    return (np.isin(one, _SPACE_ASCII) | (size >= 2) & np.isin(two, _SPACE_PAIRS)
            | (size >= 3) & np.isin(three, _SPACE_TRIPLES))  # fmt: skip


class ArrowCells(Sequence[Any]):
    """One column's cells, kept as pyarrow's UTF-8 buffer until a Python value is asked for.

    Reads like the standard reader's column: ``str`` cells, ``None`` for an
    empty cell. :meth:`plain_decimals` parses the whole column without making
    any Python object; iterating makes the strings once and keeps them.
    """

    def __init__(self, array: Any) -> None:
        self._array = array  # a pyarrow StringArray, offset 0 or not
        self._list: list[Any] | None = None
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None
        self._lengths: np.ndarray | None = None
        self._distinct: tuple[list[Any], np.ndarray] | None | bool = False  # False: not looked at yet
        self._as_is = False  # the cells are validation's text values unchanged (found by texts())

    def __len__(self) -> int:
        return len(self._array)

    def values(self) -> list[Any]:
        """The cells as Python values, made once.

        A column that repeats few values (codes, stages, types) makes one
        string per distinct value, shared by its cells: at a quarter of a
        million rows that saves most of the time and memory. Names and school
        codes are nearly all distinct and are made cell by cell, in C.
        """
        if self._list is None:
            distinct = self.distinct()
            if distinct is not None:
                words, codes = distinct
                self._list = np.array(words, dtype=object)[codes].tolist()
            else:
                self._list = _python_cells(self._array, self.lengths() == 0)
        return self._list

    def distinct(self) -> tuple[list[Any], np.ndarray] | None:
        """The column's distinct values (``None`` for the empty cell) and each cell's index into them.

        ``None`` when the column's first rows show it hardly repeats a value
        (names, school codes): there the distinct values would be the cells.
        """
        if self._distinct is False:
            self._distinct = _distinct_values(self._array)
        return self._distinct  # type: ignore[return-value]

    def map_distinct(self, compute: Callable[[Any], Any]) -> list[Any] | None:
        """``[compute(cell) for cell in self]``, calling ``compute`` once per distinct value.

        For the few-valued columns validation reads through a lookup (yes/no,
        categories): no string is made per cell, and the per-cell step is one
        numpy take. ``None`` when the column does not repeat values, or its
        strings are made already (a lookup over them is as cheap).
        """
        distinct = None if self._list is not None else self.distinct()
        if distinct is None:
            return None
        words, codes = distinct
        results = np.empty(len(words), dtype=object)
        for k, word in enumerate(words):
            results[k] = compute(word)
        return results[codes].tolist()

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

    def _offsets(self) -> np.ndarray:
        """The ``n + 1`` cell offsets as Arrow holds them (int32, or int64 for a large string column): no copy."""
        arr = self._array
        width = np.int64 if str(arr.type) == "large_string" else np.int32
        return np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]

    def buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """The column's bytes and its ``n + 1`` cell offsets into them (from 0), worked out once.

        The offsets keep Arrow's integer width and are only copied when they
        do not start at 0 (a slice): a national table has dozens of columns of
        a quarter of a million cells, and every fresh array costs page faults.
        """
        if self._buffers is None:
            offsets = self._offsets()
            start = int(offsets[0])
            buf = self._array.buffers()[2]
            data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, dtype=np.uint8)
            self._buffers = data[start : int(offsets[-1])], (offsets - offsets.dtype.type(start) if start else offsets)
        return self._buffers

    def lengths(self) -> np.ndarray:
        """Each cell's length in bytes, worked out once."""
        if self._lengths is None:
            self._lengths = np.diff(self._offsets())
        return self._lengths

    def plain_decimals(self) -> np.ndarray | None:
        """The column as numbers when every cell is a plain decimal or empty (NaN), else ``None``.

        The same grammar and the same result as validation's parser of joined
        text (:func:`qbe.data.cells.parse_decimals`): ``[+-]digits[.digits]``
        (``.5`` and ``5.`` included) with at most 15 digits, read as an exact
        integer divided by an exact power of ten. :func:`plain_decimal_cells`
        checks the grammar on the bytes; Arrow's cast reads the numbers. Both
        that division and the cast round the same decimal correctly, so they
        give the same bits. Should the cast ever refuse a checked column, the
        byte-matrix parser (:meth:`matrix_decimals`) reads it instead.
        """
        data, offsets = self.buffers()
        n = len(offsets) - 1
        if n == 0:
            return np.empty(0)
        if data.size == 0:
            return np.full(n, np.nan)
        lengths = self.lengths()
        if not plain_decimal_cells(data, offsets, lengths):
            return None
        values = _cast_decimals(data, offsets, lengths)
        return values if values is not None else self.matrix_decimals()

    def matrix_decimals(self) -> np.ndarray | None:
        """:meth:`plain_decimals` without Arrow's cast: the digits of a fixed-width byte matrix.

        Cells are short, so the digits accumulate one column of the matrix at
        a time instead of one byte of the file at a time. Slower than the
        cast; kept for a column the cast refuses and as the reference the
        tests compare the cast with.
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

    def texts(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The cells as validation reads text, ``str.strip``-ed with ``""`` for an empty cell, in an
        object array, and which of them are empty; None when a cell may have white space at either
        end (then the caller strips cell by cell).

        Why: a quarter of a million school names and codes stripped one by one,
        then gathered into an array, take a tenth of a second. Arrow makes the
        strings in C, and the bytes at both ends of every cell show at once that
        stripping would change none of them. A column of few values strips each
        distinct value once.
        """
        distinct = self.distinct()
        if distinct is not None:
            words, codes = distinct
            stripped = ["" if w is None else w.strip() for w in words]
            self._as_is = stripped == ["" if w is None else w for w in words]
            table = np.array(stripped or [""], dtype=object)
            return table[codes], (table == "")[codes]
        if not self._unpadded():
            return None
        self._as_is = True
        arr = self._array
        if arr.null_count:
            arr = arr.fill_null("")
        values = arr.to_numpy(zero_copy_only=False)
        return values, ~self.nonempty()

    def first_rows(self) -> np.ndarray | None:
        """For each cell, the first row holding the same text, -1 for an empty cell: validation's
        grouping of a text column (:func:`qbe.data.validate._factorize`), by Arrow's hashing instead
        of a dictionary pass over Python strings. Only for cells that are their own values
        (:meth:`texts` found nothing to strip): None otherwise, and for a column without cells.

        Arrow numbers the distinct values in order of first appearance, so a
        cell whose number exceeds every earlier one is its value's first row.
        """
        n = len(self._array)
        if n == 0 or not self._as_is:
            return None
        arr = self._array.fill_null("") if self._array.null_count else self._array
        number = np.asarray(_kernel("dictionary_encode", arr).indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        seen = np.maximum.accumulate(number)
        new = np.ones(n, dtype=bool)
        new[1:] = seen[1:] > seen[:-1]
        first = np.flatnonzero(new)  # the first row of value 0, 1, 2, …
        codes = first[number]
        codes[self.lengths() == 0] = -1
        return codes

    def _unpadded(self) -> bool:
        """Whether no cell starts or ends with a character ``str.strip`` takes off (:data:`_SPACES`)."""
        data, offsets = self.buffers()
        filled = self.nonempty()
        if not filled.any():
            return True
        starts = offsets[:-1][filled].astype(np.int64)
        ends = offsets[1:][filled].astype(np.int64)
        size = ends - starts
        return not (_spaced(data, starts, size, at_end=False) | _spaced(data, ends, size, at_end=True)).any()

    def nonempty(self) -> np.ndarray:
        """Which cells hold at least one character."""
        return self.lengths() > 0

    def tail(self, first: int) -> ArrowCells:
        """The cells from row ``first`` on (no copy)."""
        rest = ArrowCells(self._array.slice(first))
        if self._lengths is not None:
            rest._lengths = self._lengths[first:]
        return rest

    def take(self, rows: np.ndarray) -> ArrowCells:
        import pyarrow as pa

        return ArrowCells(_kernel("take", self._array, pa.array(rows)))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


def plain_decimal_cells(data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray | None = None) -> bool:
    """Whether every cell is empty or ``[+-]?(digits[.digits]|.digits)`` with 1 to 15 digits.

    ``data`` holds the cells' bytes back to back, ``offsets`` the ``n + 1``
    cell bounds (from 0), ``lengths`` their differences when already known. Why bytes and not a regular expression: a pattern
    per cell costs about as much as the parse itself, while a number column
    has almost only digits, so a few comparisons over the bytes clear it, and
    a running count of the other bytes (signs, dots) gives how many each cell
    holds.
    """
    if data.size == 0:
        return True
    if int(data.max()) > 57:
        return False  # letters ("1e5", "inf", "nan"), ":" to "~", and every non-ASCII byte
    if lengths is None:
        lengths = np.diff(offsets)
    if int(data.min()) >= 48:
        digits = lengths  # digits only: the common whole-number column, checked without a byte-sized array
    else:
        other = data < 48
        dot = data == 46
        sign = (data == 43) | (data == 45)
        if bool((other & ~(dot | sign)).any()):
            return False  # a space, a tab, a comma, a slash …
        filled = lengths > 0
        first = data[offsets[:-1][filled]]
        signed = np.zeros(lengths.size, dtype=np.int32)
        signed[filled] = (first == 43) | (first == 45)
        if int(np.count_nonzero(sign)) != int(np.count_nonzero(signed)):
            return False  # a sign not at its cell's start ("5-", "+-1", "--5")
        running = np.zeros(data.size + 1, dtype=np.int32 if data.size < 2**31 else np.int64)
        np.cumsum(other, out=running[1:])
        others = running[offsets[1:]] - running[offsets[:-1]]  # signs and dots in each cell
        if bool((others - signed > 1).any()):
            return False  # two dots in one cell
        digits = lengths - others
    if bool(((digits == 0) & (lengths > 0)).any()):
        return False  # "-", "+", ".", "-.": no digit at all
    return int(digits.max()) <= _MAX_DIGITS


def _cast_decimals(data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """Arrow's correctly rounded string-to-float cast of checked cells; empty cells NaN.

    The buffers are lent to Arrow as they are (no copy); empty cells are
    marked null, since the cast refuses an empty string. ``None`` when the
    cast refuses anyway.
    """
    import pyarrow as pa

    filled = lengths > 0
    validity = None if filled.all() else pa.py_buffer(np.packbits(filled, bitorder="little"))
    kind = pa.StringArray if offsets.dtype == np.int32 else pa.LargeStringArray
    text = kind.from_buffers(filled.size, pa.py_buffer(np.ascontiguousarray(offsets)), pa.py_buffer(np.ascontiguousarray(data)),
                             validity)  # fmt: skip
    try:
        numbers = _kernel("cast", text, options=_cast_options(pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if numbers.type != pa.float64() or len(numbers) != filled.size:
        return None
    buffer = numbers.buffers()[1]
    if numbers.offset == 0 and buffer is not None and buffer.is_mutable:
        values = np.frombuffer(buffer, dtype=np.float64)[: filled.size]  # the cast's own new buffer, writable: no copy
    else:
        values = np.array(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not values.flags.writeable:
        values = values.copy()  # callers scale and blank values in place
    values[~filled] = np.nan  # a null's slot holds no number: write the one NaN the other parsers write
    return values


def _python_cells(array: Any, empty: np.ndarray) -> list[Any]:
    """A string column as the csv module gives it: ``str`` cells, ``None`` where ``empty``."""
    if len(array) == 0:
        return []
    if array.null_count:
        array = array.fill_null("")
    cells = array.to_numpy(zero_copy_only=False)
    if not cells.flags.writeable:
        cells = cells.copy()
    cells[empty] = None
    return cells.tolist()


def _distinct_values(array: Any) -> tuple[list[Any], np.ndarray] | None:
    """:meth:`ArrowCells.distinct`: Arrow's dictionary encoding, in order of first appearance.

    Whether a column repeats few values is judged on its first rows, so a
    column of names costs one small encoding, not a full one thrown away.
    """
    if len(array) == 0:
        return None
    if array.null_count:
        array = array.fill_null("")
    sample = array.slice(0, _SAMPLE)
    if len(_kernel("dictionary_encode", sample).dictionary) * 2 > len(sample):
        return None
    encoded = _kernel("dictionary_encode", array)
    words = [None if word == "" else word for word in encoded.dictionary.to_pylist()]
    return words, encoded.indices.to_numpy(zero_copy_only=False)


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


def _kernel(name: str, *args: Any, options: Any = None) -> Any:
    """Run Arrow's compute function ``name``.

    Why not ``pyarrow.compute``: importing it wraps every one of Arrow's
    several hundred functions in Python, about 0.06 s of a national load that
    uses three of them. The functions themselves live in ``pyarrow._compute``,
    which that module re-exports; it is used when present.
    """
    try:
        from pyarrow._compute import call_function
    except ImportError:  # a pyarrow that moved it
        from pyarrow.compute import call_function
    return call_function(name, list(args), options)


def _cast_options(target: Any) -> Any:
    """Options of a safe cast to ``target`` (see :func:`_kernel` for where they come from)."""
    try:
        from pyarrow._compute import CastOptions
    except ImportError:  # see _kernel
        from pyarrow.compute import CastOptions
    return CastOptions.safe(target)


def _one_chunk(column: Any) -> Any:
    """A chunked column as one array (copied only when there are several chunks)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def read_csv_arrow(
    data: bytes, source: str, delimiter: str, known_headers: Iterable[str] | None, header_text: Any, find_header: Any
) -> RawSheet | None:
    """The sheet the standard reader would build from ``data`` (valid UTF-8, no BOM), or ``None`` to let it read.

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
            # blocks of 1 MiB stay in the CPU's cache: a third less CPU time than one block, even with the copy that
            # joins the chunks; threads gain nothing measurable on 2 cores shared with other work, and cost CPU time
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=False, ignore_empty_lines=False),
            # check_utf8: the caller decoded the text strictly (read_csv) and hands over valid UTF-8; checking it again
            # costs a pass over every cell
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names}, check_utf8=False,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
        return None  # ragged rows, a blank line among several columns …: the csv module's business
    n_records = table.num_rows
    columns = [ArrowCells(_one_chunk(table.column(i))) for i in range(fields)]
    limit = csv.field_size_limit()
    if any(int(c.lengths().max(initial=0)) > limit for c in columns):
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
    keep = filled[0].copy() if filled else np.zeros(0, dtype=bool)  # rows with any cell: in place, no stacked copy
    for more in filled[1:]:
        keep |= more
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
