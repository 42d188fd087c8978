"""The ``schools`` and ``school_checks`` arrays of the JSON report, built column-wise.

At national scale (~220,000 rows, 300–450 MB of JSON) building one dict per
row and encoding it, or even joining eighty small strings per row in Python,
costs more than everything else in the run together. Here every field of the
row object becomes one numpy array of UTF-8 fragments (``S`` dtype: fixed
width, padded with NUL bytes), and a block of rows is laid out as a 2-D byte
matrix, one fragment column after another. Dropping the NUL padding from that
matrix (one boolean mask) leaves the rows' JSON back to back. JSON text never
holds a raw NUL byte (the encoder writes ``\\u0000``), so only padding goes.
With pyarrow installed, :mod:`.arrow_layout` joins the same fields with Arrow's
string kernels instead, without the padding; both give the same bytes.

Fields with few distinct values are lookups in small tables (:class:`_Lookup`),
and the fixed text around them is folded into those tables, so a row is put
together from about forty pieces rather than seventy.

The output is byte-for-byte what ``json.dumps(Evaluation.row(i),
ensure_ascii=False, separators=(",", ":"))`` gives, numbers included:
numbers are Python's shortest round-trip ``repr`` (``5e-05``, ``1e+16``), the
way the standard library writes them, whichever encoder made them here.
Tests hold the two paths equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from ..status import Status
from . import arrow_layout
from .assemble import STAGE_KEYS, STATUS_KEY, TYPE_KEYS, Evaluation, round_exact

try:  # orjson writes a whole float column in C; the standard library is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

#: Rows laid out per byte matrix: large enough for numpy to dominate, small enough to stay
#: a few tens of megabytes whatever the row width.
BLOCK_ROWS = 8192


def n_blocks(n: int) -> int:
    """How many blocks of :data:`BLOCK_ROWS` objects ``n`` objects make (:meth:`JsonObjects.block`)."""
    return -(-n // BLOCK_ROWS)

#: One field of every row: given some rows (see :data:`Rows`), their JSON fragments as an ``S``
#: array, or one ``bytes`` when all those rows have the same fragment (an absent optional key).
#: Built per block, so a report of millions of rows never holds all its fragments at once.
Column = Callable[[Any], "np.ndarray | bytes"]
Part = bytes | Column  # a literal shared by every row, or a column


def _strs(texts: Sequence[str]) -> np.ndarray:
    """Python strings (already JSON text) as one ``S`` array: one join, one encode, one split."""
    if not texts:
        return np.array([], dtype="S1")
    return np.array("\x00".join(texts).encode("utf-8").split(b"\x00"), dtype=bytes)


def json_strings(values: Sequence[str | None]) -> np.ndarray:
    """JSON text of each value (a string or None) as an ``S`` array: one encoder call per column.

    Splitting the encoded list on '","' is safe: inside an encoded string every
    quote is escaped, so that sequence only occurs between elements.
    """
    n = len(values)
    if n == 0:
        return np.array([], dtype="S1")
    have = [v is not None for v in values]
    if not all(have):
        out = np.full(n, b"null", dtype="S4")
        idx = [i for i, h in enumerate(have) if h]
        if idx:
            texts = json_strings([values[i] for i in idx])
            out = out.astype(texts.dtype) if texts.dtype.itemsize > 4 else out
            out[idx] = texts
        return out
    return np.char.add(np.char.add(b'"', json_contents(values)), b'"')


def json_contents(values: Sequence[str]) -> np.ndarray:
    """Strings as the inside of JSON strings (escaped, without their quotes) as an ``S`` array: the
    pieces of a longer text, or of :func:`json_strings`. One encoder call for the column, split on
    the quotes between elements."""
    if not values:
        return np.array([], dtype="S1")
    if _orjson is not None:
        pieces = _orjson.dumps(list(values))[2:-2].split(b'","')
    else:
        pieces = json.dumps(list(values), ensure_ascii=False)[2:-2].encode("utf-8").split(b'", "')
    return np.array(pieces, dtype=bytes)


def json_numbers(values: Any) -> np.ndarray:
    """Floats (NaN or None for missing) as JSON numbers, exactly as ``json.dumps`` writes them.

    orjson and the standard library agree on the digits (both shortest
    round-trip) but not on the form outside [1e-4, 1e16): orjson writes
    ``0.00005`` and ``1e-7`` where Python writes ``5e-05`` and ``1e-07``. Those
    few values are written again with ``repr``.
    """
    if isinstance(values, np.ndarray):
        a = values.astype(np.float64, copy=False)
    else:
        a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    n = a.size
    if n == 0:
        return np.array([], dtype="S1")
    a = np.where(np.isinf(a), np.nan, a)
    if _orjson is None:
        texts = [repr(v) if v == v else "null" for v in a.tolist()]
        return _strs(texts)
    out = _split_list(_orjson.dumps(a, option=_orjson.OPT_SERIALIZE_NUMPY), n)
    with np.errstate(invalid="ignore"):
        mag = np.abs(a)
        odd = np.nonzero((mag < 1e-4) & (mag > 0) | (mag >= 1e16))[0]
    if odd.size:
        fixed = np.array([repr(v).encode() for v in a[odd].tolist()], dtype=bytes)
        if fixed.dtype.itemsize > out.dtype.itemsize:
            out = out.astype(fixed.dtype)
        out[odd] = fixed
    return out


def _split_list(text: bytes, n: int) -> np.ndarray:
    """The ``n`` elements of a JSON array of numbers (``[1.5,null,…]``) as an ``S`` array.

    Cut out with array arithmetic rather than ``split``: each element's start
    and length come from the comma positions, and one gather copies every
    element into its padded slot.
    """
    buf = np.frombuffer(text, dtype=np.uint8)
    ends = np.empty(n, dtype=np.int64)
    ends[:-1] = np.flatnonzero(buf == ord(","))
    ends[-1] = buf.size - 1
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 1
    starts[1:] = ends[:-1] + 1
    lens = ends - starts
    width = max(1, int(lens.max()))
    offs = np.arange(width)
    m = buf[np.minimum(starts[:, None] + offs, buf.size - 1)]
    m[offs >= lens[:, None]] = 0
    return m.view(f"S{width}").ravel()


#: Status codes (1–6) as their quoted JSON keys, indexed by code.
_STATUS = np.array([b""] + [json.dumps(STATUS_KEY[i]).encode() for i in range(1, 7)], dtype=bytes)


def json_met(raw: Any) -> np.ndarray:
    """A judged status as the report's ``met``/``pass``: true, false, or null when not judged."""
    raw = np.asarray(raw)
    return np.where(np.isin(raw, (4, 5, 6)), b"null", np.where(raw == 1, b"true", b"false"))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ------------------------------------------------------------------------------ columns

#: Rows of a column: a block ``slice(lo, hi)`` or, for fragments present on a few rows only,
#: an array of row indices.
Rows = slice | np.ndarray


def _get(part: Part, rows: Rows) -> np.ndarray | bytes:
    return part if isinstance(part, bytes) else part(rows)


def _indices(rows: Rows) -> np.ndarray:
    return np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows


def _pick(values: Sequence[Any], rows: Rows) -> Sequence[Any]:
    if isinstance(rows, slice):
        return values[rows]
    return [values[i] for i in rows.tolist()]


class _Col:
    """A column that can also give its fragments as an Arrow array (see :mod:`.arrow_layout`):
    ``arrow(rows)`` returns ``(array, ends_with_comma)``, or None to use the ``S`` array."""

    __slots__ = ("fragments", "arrow")

    def __init__(self, fragments: Callable[[Any], np.ndarray | bytes], arrow: Callable[[Any], Any] | None) -> None:
        self.fragments = fragments
        self.arrow = arrow

    def __call__(self, rows: Rows) -> np.ndarray | bytes:
        return self.fragments(rows)


class _Lookup(_Col):
    """Fragments taken by code from a small table (statuses, requirements, stages …).

    Tables are what make a row's many small fields cheap: the literals on
    either side of a lookup are folded into its table, and neighbouring
    lookups become one lookup on the pair of codes (:func:`_merge`), so a row
    is laid out from far fewer pieces.
    """

    __slots__ = ("table", "codes", "_arrow_table", "_stripped")

    def __init__(self, table: np.ndarray, codes: np.ndarray) -> None:
        super().__init__(self._fragments, self._arrow)
        self.table = np.asarray(table, dtype=bytes)
        self.codes = np.asarray(codes)
        self._arrow_table: Any = None
        self._stripped: Any = False

    def _fragments(self, rows: Rows) -> np.ndarray:
        return self.table[self.codes[rows]]

    def _arrow(self, rows: Rows) -> Any:
        if self._arrow_table is None:
            self._arrow_table = arrow_layout.table(self.table)
        return arrow_layout.take(self._arrow_table, self.codes[rows])

    def around(self, before: bytes = b"", after: bytes = b"") -> _Lookup:
        """The same column with ``before`` and ``after`` in every fragment."""
        return _Lookup(np.array([before + t + after for t in self.table.tolist()], dtype=bytes), self.codes)

    def then(self, other: _Lookup) -> _Lookup | None:
        """This column followed by ``other`` as one lookup, when the table of pairs stays small."""
        n1, n2 = len(self.table), len(other.table)
        if n1 * n2 > MAX_TABLE or not (self._in_range() and other._in_range()):
            return None
        pairs = np.array([a + b for a in self.table.tolist() for b in other.table.tolist()], dtype=bytes)
        return _Lookup(pairs, self.codes.astype(np.int64) * n2 + other.codes)

    def _in_range(self) -> bool:
        c = self.codes
        return not c.size or (int(c.min()) >= 0 and int(c.max()) < len(self.table))

    def without_comma(self) -> _Lookup | None:
        """The column without the comma every fragment starts with (None if one does not)."""
        if self._stripped is False:
            texts = self.table.tolist()
            self._stripped = None
            if all(t.startswith(b",") for t in texts):
                self._stripped = _Lookup(np.array([t[1:] for t in texts], dtype=bytes), self.codes)
        return self._stripped


#: Largest table two lookups are combined into.
MAX_TABLE = 256


def numbers(values: Any) -> Column:
    a = np.asarray(values, dtype=np.float64)
    few = _few_values(a)
    if few is not None:
        return _Lookup(*few)
    return _Col(lambda rows: json_numbers(a[rows]), lambda rows: arrow_layout.numbers(a[rows], _orjson))


def _few_values(a: np.ndarray, most: int = 16) -> tuple[np.ndarray, np.ndarray] | None:
    """``(texts, codes)`` when a long column holds at most ``most`` distinct values (a requirement
    that depends on the stage only, say), so each is written once instead of once per row.

    A sample decides cheaply whether to look; the whole column is then checked value by value.
    """
    if a.size < 4 * BLOCK_ROWS:
        return None
    sample = a[:: max(1, a.size // 256)]
    missing = np.isnan(a)
    for _ in range(2):  # a value the sample missed gets one more look
        u = np.sort(sample[~np.isnan(sample)])  # np.unique, without its masked-array check (an import)
        u = u[np.concatenate(([True], u[1:] != u[:-1]))] if u.size else u
        if u.size > most or u.size == 0:
            return None
        codes = np.minimum(np.searchsorted(u, a), u.size - 1)
        hit = u[codes].view(np.int64) == a.view(np.int64)  # bit for bit: -0.0 is not 0.0 here
        hit |= missing
        if hit.all():
            codes[missing] = u.size
            return json_numbers(np.append(u, np.nan)), codes
        sample = np.concatenate([u, a[~hit][: 4 * most]])
    return None


def strings(values: Sequence[str | None]) -> Column:
    def arrow(rows: Rows) -> Any:
        return arrow_layout.strings(list(_pick(values, rows)), _orjson)

    return _Col(lambda rows: json_strings(_pick(values, rows)), arrow)


def contents(values: Sequence[str]) -> Column:
    """Strings as pieces of a longer JSON string (see :func:`json_contents`)."""

    def arrow(rows: Rows) -> Any:
        return arrow_layout.contents(list(_pick(values, rows)), _orjson)

    return _Col(lambda rows: json_contents(_pick(values, rows)), arrow)


def texts_table(texts: Sequence[str], codes: Any) -> _Lookup:
    """Pieces of a longer JSON string taken by code from ``texts`` (escaped once each)."""
    return _Lookup(json_contents(list(texts)) if len(texts) else np.array([b""]), np.asarray(codes))


def categories(codes: Any, keys: Sequence[str | None]) -> Column:
    """A column of few distinct strings (school type, stage, county) given as integer codes into
    ``keys``: each key is encoded once. A code outside ``keys`` is ``null``."""
    table = json_strings([*keys, None])
    c = np.asarray(codes, dtype=np.int64)
    return _Lookup(table, np.where((c >= 0) & (c < len(keys)), c, len(keys)))


def statuses(codes: Any) -> Column:
    return _Lookup(_STATUS, np.asarray(codes))


def mets(codes: Any) -> Column:
    c = np.asarray(codes).astype(np.int64)
    return _Lookup(json_met(np.arange(7)), np.where((c >= 0) & (c < 7), c, 0))  # json_met: anything else is false


def texts(values: Sequence[str]) -> Column:
    """Fragments already in JSON form (Python strings), one per row."""
    return lambda rows: _strs(_pick(values, rows))


def row_numbers(values: Any) -> Column:
    """Whole numbers (the input's row numbers) as JSON."""
    a = np.asarray(values, dtype=np.int64)
    return _Col(lambda rows: a[rows].astype(bytes), lambda rows: arrow_layout.integers(a[rows]))


def where(mask: np.ndarray, yes: Part, no: Part = b"") -> Column:
    """``yes`` on the rows where ``mask`` holds, ``no`` elsewhere (literals or columns).

    Optional keys (``tolerated_by``, ``remedy``) are on a few rows only: each
    side is made for its own rows, and a block without any of them costs one
    ``any``. Two literals are a lookup, which folds into its neighbours (:func:`_merge`).
    """
    if isinstance(yes, bytes) and isinstance(no, bytes):
        return _Lookup(np.array([no, yes]), np.asarray(mask, dtype=bool).astype(np.int64))

    def col(rows: Rows) -> np.ndarray | bytes:
        m = mask[rows]
        if not m.any():
            return _get(no, rows)
        if m.all():
            return _get(yes, rows)
        at = _indices(rows)
        y, o = _get(yes, at[m]), _get(no, at[~m])
        width = max(len(x) if isinstance(x, bytes) else x.dtype.itemsize for x in (y, o))
        out = np.empty(m.size, dtype=f"S{max(1, width)}")
        out[m] = y
        out[~m] = o
        return out

    def arrow(rows: Rows) -> Any:
        m = mask[rows]
        if m.all() or not m.any():
            part = yes if m.all() else no
            return (part, False) if isinstance(part, bytes) else arrow_layout.fragments(part, rows)
        return arrow_layout.choose(m, _indices(rows), yes, no)

    return _Col(col, arrow)


def joined(*parts: Part) -> Column:
    """Several parts as one column (for a fragment that is present or absent as a whole)."""

    def col(rows: Rows) -> np.ndarray | bytes:
        out: Any = b""
        for p in parts:
            out = np.char.add(out, _get(p, rows))
        if isinstance(out, np.ndarray) and out.ndim == 0:  # literals only: the same for every row
            return out.item()
        return out

    return col


# ------------------------------------------------------------------------------ layout


def _merge(parts: list[Part]) -> list[Part]:
    """The same rows from fewer pieces: neighbouring literals joined, literals folded into the
    lookup beside them, neighbouring lookups combined; empty literals dropped."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, bytes):
            if not p:
                continue
            if out and isinstance(out[-1], _Lookup):
                out[-1] = out[-1].around(after=p)
                continue
            if out and isinstance(out[-1], bytes):
                out[-1] += p
                continue
        elif isinstance(p, _Lookup):
            if out and isinstance(out[-1], bytes):
                p = p.around(before=out.pop())
            if out and isinstance(out[-1], _Lookup):
                both = out[-1].then(p)
                if both is not None:
                    out[-1] = both
                    continue
        out.append(p)
    return out


def _with_end(parts: list[Part], end: bytes) -> list[Part]:
    """``parts`` followed by the row end, folded into the last piece where that is a literal or a
    lookup (parts are merged once, when the rows are set up; this touches the last piece only)."""
    if not end:
        return list(parts)
    if parts and isinstance(parts[-1], bytes):
        return [*parts[:-1], parts[-1] + end]
    if parts and isinstance(parts[-1], _Lookup):
        return [*parts[:-1], parts[-1].around(after=end)]
    return [*parts, end]


def _made(c: np.ndarray | bytes) -> np.ndarray | bytes:
    return c if isinstance(c, bytes) else np.ascontiguousarray(c)


def lay_out(parts: list[Part], lo: int, hi: int, end: bytes = b"\n", block: int | None = None) -> Iterator[bytes | memoryview]:
    """Rows ``lo:hi``, each its parts in order followed by ``end``, back to back, in blocks of bytes."""
    parts = _with_end(parts, end)
    step = block or BLOCK_ROWS
    for a in range(lo, hi, step):
        b = min(hi, a + step)
        if b - a >= arrow_layout.MIN_ROWS and arrow_layout.arrow() is not None:
            yield arrow_layout.block(parts, slice(a, b))
            continue
        cols = [p if isinstance(p, bytes) else _made(p(slice(a, b))) for p in parts]
        widths = [len(c) if isinstance(c, bytes) else c.dtype.itemsize for c in cols]
        m = np.zeros((b - a, sum(widths)), dtype=np.uint8)
        at = 0
        for c, w in zip(cols, widths):
            if isinstance(c, bytes):
                m[:, at : at + w] = np.frombuffer(c, dtype=np.uint8)
            else:
                m[:, at : at + w] = c.view(np.uint8).reshape(b - a, w)
            at += w
        del cols
        yield m[m != 0].tobytes()


class JsonObjects(Sequence[str]):
    """One compact JSON object per row, made when asked for, a slice at a time.

    Why a sequence and not a list: the JSON writer joins the array in slices
    of a few thousand objects, and at millions of rows holding every object
    as a Python string at once would take gigabytes. Built from the same
    parts, ``blocks()`` gives the whole array body as UTF-8 without any
    Python string per row.
    """

    def __init__(self, parts: list[Part], n: int) -> None:
        self._parts = _merge(parts)
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            lo, hi, step = i.indices(self._n)
            if step != 1:
                return [self[j] for j in range(lo, hi, step)]
            return self._texts(lo, hi) if hi > lo else []
        j = i + self._n if i < 0 else i
        if not 0 <= j < self._n:
            raise IndexError(i)
        return self._texts(j, j + 1)[0]

    def __iter__(self) -> Iterator[str]:
        for lo in range(0, self._n, BLOCK_ROWS):
            yield from self._texts(lo, min(self._n, lo + BLOCK_ROWS))

    def _texts(self, lo: int, hi: int) -> list[str]:
        out: list[str] = []
        for b in lay_out(self._parts, lo, hi):
            out += str(b, "utf-8").split("\n")[:-1]
        return out

    def blocks(self, sep: bytes = b",") -> Iterator[bytes]:
        """The objects joined by ``sep``, as UTF-8 blocks (no brackets)."""
        held: bytes | None = None
        for b in lay_out(self._parts, 0, self._n, sep):
            if held is not None:
                yield held
            held = b
        if held is not None:
            yield held[: len(held) - len(sep)]

    def each(self) -> list[bytes]:
        """Every object as its own ``bytes`` (for objects that are put in another order, or inside others)."""
        if not self._n:
            return []
        return b"".join(self.blocks(b"\n")).split(b"\n")

    def as_array(self) -> Iterator[bytes]:
        """``[…]``: the objects joined by commas inside brackets, as UTF-8 blocks (no Python string per row)."""
        yield b"["
        yield from self.blocks()
        yield b"]"

    def block(self, i: int, sep: bytes = b",") -> bytes:
        """Block ``i`` alone, every object followed by ``sep``: blocks can be laid out in any order
        (by two processes at once) and put together afterwards."""
        lo = i * BLOCK_ROWS
        return b"".join(lay_out(self._parts, lo, min(self._n, lo + BLOCK_ROWS), sep))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


# ------------------------------------------------------------------------------ rows


def _remedy_parts(remedy: dict | None, fin: np.ndarray) -> Part:
    """``,"remedy":{...}`` on rows whose indicator is not met (final status 2), nothing elsewhere."""
    if remedy is None:
        return b""
    not_met = fin == int(Status.NOT_MET)
    if not not_met.any():
        return b""
    unknown = b',"remedy":{"input":null,"amount":null}'
    amount = np.asarray(remedy["amount"], dtype=np.float64)
    if remedy.get("input") is None:
        return where(not_met, unknown)
    known = np.isfinite(amount)
    head = b',"remedy":{"input":' + _dumps(remedy["input"]).encode() + b',"amount":'
    full = joined(head, numbers(np.where(known, amount, 0.0)), b"}")
    return where(not_met, where(known, full, unknown))


def _indicator_parts(ind: dict, n: int) -> list[Part]:
    fin = np.asarray(ind["final"])
    parts: list[Part] = [
        f'"{ind["name"]}":{{"value":'.encode(), numbers(ind["value"]),
        b',"required":', numbers(ind["required"]),
        b',"ratio":', numbers(ind["ratio"]),
        b',"met":', mets(ind["raw"]),
        b',"status":', statuses(fin),
    ]  # fmt: skip
    tail: Part = where(fin == int(Status.TOLERATED), (',"tolerated_by":' + _dumps(ind["tolerated_by"])).encode())
    if ind["reason"] is not None:
        reasons = list(ind["reason"])
        has = np.array([r is not None for r in reasons], dtype=bool)
        if has.any():
            tail = where(has, texts([',"reason":' + _dumps(r) if r is not None else "" for r in reasons]), tail)
    parts += [tail, _remedy_parts(ind.get("remedy"), fin), b"}"]
    return parts


def _row_parts(ev: Evaluation, issues_by_row: dict[int, list[dict]]) -> tuple[list[Part], int]:
    rc = ev.row_columns()
    n = rc["n"]
    rownum = np.asarray(rc["row"], dtype=np.int64)
    fr = ev.frame
    stype = fr.rows.columns.get("school_type")
    parts: list[Part] = [
        b'{"row":', row_numbers(rownum),
        b',"county_code":', categories(fr.row_county, fr.county_codes.tolist()),
        b',"school_code":', strings(rc["school_code"]),
        b',"school_name":', strings(rc["school_name"]),
        b',"school_type":', categories(stype, TYPE_KEYS) if stype is not None else b"null",
        b',"stage":', categories(fr.stage, STAGE_KEYS),
    ]  # fmt: skip
    parts += [b',"students":', numbers(rc["students"]), b',"indicators":{']
    for j, ind in enumerate(rc["indicators"]):
        parts += [b"," if j else b"", *_indicator_parts(ind, n)]
    parts += [b'},"pass":', mets(rc["rule_status"]), b',"status":', statuses(rc["rule_status"]), b',"rules":{']
    for j, (r, v) in enumerate(rc["rules"].items()):
        parts += [f'{"," if j else ""}"{r}":'.encode(), statuses(v)]
    parts.append(b'},"checks":{')
    for j, (d, a) in enumerate(rc["checks"]):
        parts += [f'{"," if j else ""}"{d.name}":{{"value":'.encode(), *_check_parts(a, n)]
    parts.append(b'},"errors":')
    if issues_by_row:
        errs = ["[]"] * n
        for i, lst in issues_by_row.items():
            errs[i] = _dumps(lst)
        parts.append(texts(errs))
    else:
        parts.append(b"[]")
    parts.append(b"}")
    return parts, n


def rows_json(ev: Evaluation, issues_by_row: dict[int, list[dict]] | None = None) -> JsonObjects:
    """One compact JSON object per input row, in input order (made a slice at a time)."""
    parts, n = _row_parts(ev, issues_by_row or {})
    return JsonObjects(parts, n)


# ------------------------------------------------------------------------------ schools


def _check_parts(a: dict, n: int, end: bytes = b"}") -> list[Part]:
    """A check's result on each of ``n`` entities after its ``"value":`` (see ``Evaluation._checks_at``),
    then ``end``."""
    st = a["codes"]
    out: list[Part] = [numbers(a["value"]), b',"required":', numbers(a["required"]),
                       b',"ratio":', numbers(a["ratio"]), b',"status":', statuses(st)]  # fmt: skip
    if a.get("reason") is not None:
        out.append(texts(["" if r is None else ',"reason":' + _dumps(r) for r in a["reason"]]))
    if a.get("grade") is not None:
        out.append(texts([',"grade":' + _dumps(g) for g in a["grade"]]))
    key = {"max": "excess", "min": "shortfall"}.get(a["op"])
    if key is not None:
        v = np.asarray(a["value"], dtype=np.float64)
        q = np.asarray(a["required"], dtype=np.float64)
        show = (st == int(Status.NOT_MET)) & ~np.isnan(v) & ~np.isnan(q)
        if show.any():  # rounded as the dicts round it (_f), not as clean_array, which differs at ties
            diff = round_exact(v - q if key == "excess" else q - v)
            out.append(where(show, joined(f',"{key}":'.encode(), numbers(diff))))
    if end:
        out.append(end)
    return out


def school_checks_json(ev: Evaluation) -> JsonObjects:
    """One compact JSON object per school (its whole-school checks), in report order."""
    fr = ev.frame
    n = fr.n_school
    if n == 0:
        return JsonObjects([], 0)
    cols = fr.rows.columns
    first = fr.school_first
    names = cols.get("school_name")
    stype = cols["school_type"][first] if "school_type" in cols else np.full(n, -1)
    parts: list[Part] = [
        b'{"county_code":', categories(fr.school_county, fr.county_codes.tolist()),
        b',"school_code":', strings(cols["school_code"][first].tolist()),
        b',"school_name":', strings([x or None for x in names[first].tolist()] if names is not None else [None] * n),
        b',"school_type":', categories(stype, TYPE_KEYS),
        b',"checks":{',
    ]  # fmt: skip
    checks = [d for d in ev.model.decls.values() if d.kind == "check" and d.entity == "school"]
    for j, d in enumerate(checks):
        parts += [f'{"," if j else ""}"{d.name}":{{"value":'.encode(), *_check_parts(ev._check_arrays(d, "school"), n)]
    parts.append(b"}}")
    return JsonObjects(parts, n)
