"""Row JSON laid out by Arrow's string kernels, when pyarrow is installed (the ``fast`` extra).

Why: :mod:`.fastjson` lays a block of rows out as a padded byte matrix and
then drops the padding; both passes touch every byte, and cutting an encoder's
output into padded fragments first costs as much again. Arrow keeps variable
length strings as one data buffer plus offsets, so a column of numbers or
texts encoded by orjson in one call becomes an Arrow array without copying
(the offsets are the positions of the commas), and one
``binary_join_element_wise`` joins the fragments and literals of every row. On
the national benchmark this takes about a third off laying out the row and
school arrays (1.69 s → 1.11 s CPU). The bytes are exactly those of the matrix
path: tests lay every report out both ways.

A fragment made from an encoder's list keeps the comma that followed it in
the list (``5.5,``). The layout drops the comma from the literal that follows
instead (``,"required":`` becomes ``"required":``) and, where no literal
starting with a comma follows, cuts it off the fragments.

Arrow is used through its system memory pool: the row array may be laid out
in a forked process (:mod:`.json_arrays`), and the C library's allocator is
safe after ``fork``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

_COMMA = ord(",")

#: Fewer rows than this are laid out by the matrix path: Arrow's per-call cost would dominate.
MIN_ROWS = 256


def arrow() -> Any:
    """pyarrow and the four compute functions used here (``pa``, ``pc``), or None when it is not installed."""
    global _MODULES
    if _MODULES is None:
        try:
            import pyarrow as pa
        except ImportError:  # pragma: no cover - depends on the environment
            _MODULES = False
        else:
            _MODULES = (pa, _Kernels())
    return _MODULES or None


_MODULES: Any = None


class _Kernels:
    """``take``, ``binary_slice``, ``binary_join_element_wise`` and ``cast``, called as
    ``pyarrow.compute`` calls them but without importing it: that module wraps every one of
    Arrow's several hundred functions in Python on import, ~0.07 s of every run's start. The
    functions live in ``pyarrow._compute``, which it re-exports (see :func:`qbe.data.arrow_csv._kernel`)."""

    def __init__(self) -> None:
        try:
            import pyarrow._compute as c
        except ImportError:  # pragma: no cover - a pyarrow that moved it
            import pyarrow.compute as c
        self._c = c

    def take(self, data: Any, indices: Any, memory_pool: Any = None) -> Any:
        return self._c.call_function("take", [data, indices], self._c.TakeOptions(boundscheck=True), memory_pool)

    def binary_slice(self, data: Any, start: int, stop: int, memory_pool: Any = None) -> Any:
        return self._c.call_function("binary_slice", [data], self._c.SliceOptions(start, stop), memory_pool)

    def binary_join_element_wise(self, *items: Any, memory_pool: Any = None) -> Any:
        *strings, sep = items
        if isinstance(sep, bytes):
            sep = arrow()[0].scalar(sep, type=arrow()[0].binary())
        return self._c.call_function("binary_join_element_wise", [*strings, sep], self._c.JoinOptions(), memory_pool)

    def cast(self, data: Any, target: Any, memory_pool: Any = None) -> Any:
        return self._c.call_function("cast", [data], self._c.CastOptions.safe(target), memory_pool)


def _numbers_of(values: Any, dtype: Any) -> pa.Array:
    """Whole numbers as an Arrow array over their own buffer. Why not ``pa.array``: it asks numpy
    whether the array is masked, which imports ``numpy.ma`` (~0.01 s) in each process of a run."""
    pa = arrow()[0]
    a = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), a.size, [None, pa.py_buffer(a)])


def _pool() -> Any:
    return arrow()[0].system_memory_pool()


def _listed(data: bytes, cuts: np.ndarray, n: int) -> pa.Array:
    """The ``n`` elements of an encoded JSON list ``[a,b,…]`` as an Arrow array, each with the comma
    after it; ``cuts`` are the positions of the commas between elements."""
    pa = arrow()[0]
    body = bytearray(data)
    body[-1] = _COMMA  # the closing bracket becomes the last element's comma
    offsets = np.empty(n + 1, dtype=np.int32)
    offsets[0] = 1
    offsets[1:-1] = cuts + 1
    offsets[-1] = len(body)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(body)])


def numbers(values: np.ndarray, orjson: Any) -> tuple[pa.Array, bool] | None:
    """Floats as JSON numbers (NaN and infinities: null), each with a comma; None where a value
    needs the standard library's form (outside [1e-4, 1e16)), for the caller's other path."""
    a = np.asarray(values, dtype=np.float64)
    n = a.size
    if n == 0 or orjson is None:
        return None
    with np.errstate(invalid="ignore"):
        mag = np.abs(a)
        if ((mag < 1e-4) & (mag > 0) | (mag >= 1e16) & np.isfinite(mag)).any():
            return None
    a = np.where(np.isinf(a), np.nan, a)
    data = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)
    buf = np.frombuffer(data, dtype=np.uint8)
    cuts = np.flatnonzero(buf == _COMMA)
    if cuts.size != n - 1:  # pragma: no cover - a number never holds a comma
        return None
    return _listed(data, cuts, n), True


def strings(values: list[Any], orjson: Any) -> tuple[pa.Array, bool] | None:
    """Strings (or None) as JSON strings, each with a comma; None when a value is None, for the
    caller's other path.

    Between two encoded strings the bytes are ``","``; inside one every quote is
    escaped, so ``","`` is always a boundary (the first quote ends an element).
    A ``null`` among them takes away the boundaries on its sides, so the count
    of boundaries tells whether every value was a string.
    """
    encoded = _string_list(values, orjson)
    if encoded is None:
        return None
    data, cuts = encoded
    return _listed(data, cuts, len(values)), True


def _string_list(values: list[Any], orjson: Any) -> tuple[bytes, np.ndarray] | None:
    """``values`` encoded as one JSON list, and the positions of the commas between its strings; None
    without orjson, for no values, or when a value is not a string (see :func:`strings`)."""
    n = len(values)
    if n == 0 or orjson is None:
        return None
    data = orjson.dumps(values)
    buf = np.frombuffer(data, dtype=np.uint8)
    cuts = np.flatnonzero((buf[1:-1] == _COMMA) & (buf[:-2] == 0x22) & (buf[2:] == 0x22)) + 1
    if cuts.size != n - 1 or data[:2] != b'["':
        return None
    return data, cuts


def contents(values: list[str], orjson: Any) -> tuple[pa.Array, bool] | None:
    """Strings as the inside of JSON strings (escaped, without their quotes), for pieces of a longer
    text; None without orjson or for a value that is not a string.

    Cut from one encoded list: each element runs to the ``","`` after it (the
    closing ``"]`` becomes ``","`` too), which one slice then takes off.
    """
    encoded = _string_list(values, orjson)
    if encoded is None:
        return None
    pa, pc = arrow()
    data, cuts = encoded
    n = len(values)
    body = data[:-1] + b',"'
    offsets = np.empty(n + 1, dtype=np.int32)
    offsets[0] = 2
    offsets[1:-1] = cuts + 2
    offsets[-1] = len(body)
    arr = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(body)])
    return pc.binary_slice(arr, 0, -3, memory_pool=_pool()), False


def table(texts: np.ndarray) -> pa.Array:
    """A small table of fragments (an ``S`` array) for :func:`take`."""
    pa = arrow()[0]
    return pa.array(texts.tolist(), type=pa.binary())


def take(tab: pa.Array, codes: np.ndarray) -> tuple[pa.Array, bool] | None:
    """The fragments of ``tab`` at ``codes``; None for a code outside the table."""
    c = np.asarray(codes)
    if c.size and (c.min() < 0 or c.max() >= len(tab)):
        return None
    pa, pc = arrow()
    return pc.take(tab, _numbers_of(c, np.int32), memory_pool=_pool()), False


def integers(values: np.ndarray) -> tuple[pa.Array, bool]:
    pa, pc = arrow()
    text = pc.cast(_numbers_of(values, np.int64), pa.string(), memory_pool=_pool())
    return text.view(pa.binary()), False


def fragments(column: Any, rows: Any) -> tuple[pa.Array | bytes, bool]:
    """A column's fragments for ``rows`` (a slice or row indices) and whether each ends with a comma:
    from its ``arrow`` method where it has one and it answers, else its ``S`` array converted. A
    ``bytes`` is the one fragment of every row."""
    got = column.arrow(rows) if getattr(column, "arrow", None) is not None else None
    if got is not None:
        return got
    f = column(rows)
    return (f if isinstance(f, bytes) else from_fixed(f)), False


def _fragments(part: Any, rows: Any) -> pa.Array:
    """A literal or a column's fragments for ``rows``, one per row, without trailing commas."""
    pa, pc = arrow()
    arr, comma = (part, False) if isinstance(part, bytes) else fragments(part, rows)
    if isinstance(arr, bytes):
        n = rows.stop - rows.start if isinstance(rows, slice) else len(rows)
        return pc.take(pa.array([arr], type=pa.binary()), _numbers_of(np.zeros(n, dtype=np.int32), np.int32))
    return pc.binary_slice(arr, 0, -1, memory_pool=_pool()) if comma else arr


def choose(mask: np.ndarray, at: np.ndarray, yes: Any, no: Any) -> tuple[pa.Array, bool]:
    """``yes`` where ``mask`` holds and ``no`` elsewhere (literals or columns), each made for its own
    rows (``at`` are the rows' indices), then put in row order with one ``take``; nothing elsewhere
    (an optional key) needs no ``take`` at all (:func:`_spread`)."""
    pa, pc = arrow()
    k = int(np.count_nonzero(mask))
    if isinstance(yes, bytes) and isinstance(no, bytes):
        both = pa.array([yes, no], type=pa.binary())
        return pc.take(both, _numbers_of(np.where(mask, 0, 1), np.int32), memory_pool=_pool()), False
    some = _fragments(yes, at[mask])
    if isinstance(no, bytes) and not no and some.type == pa.binary() and not some.null_count:
        return _spread(mask, some), False
    combined = pa.concat_arrays([some, _fragments(no, at[~mask])])
    order = np.empty(mask.size, dtype=np.int32)
    order[mask] = np.arange(k, dtype=np.int32)
    order[~mask] = np.arange(k, mask.size, dtype=np.int32)
    return pc.take(combined, _numbers_of(order, np.int32), memory_pool=_pool()), False


def _spread(mask: np.ndarray, some: pa.Array) -> pa.Array:
    """``some`` (one fragment per row where ``mask`` holds, in row order) with an empty fragment on
    every other row: the same data buffer under new offsets, nothing copied or taken."""
    pa = arrow()[0]
    k = len(some)
    own = np.frombuffer(some.buffers()[1], dtype=np.int32, count=k + 1, offset=some.offset * 4)
    lengths = np.zeros(mask.size, dtype=np.int32)
    lengths[mask] = np.diff(own)
    offsets = np.empty(mask.size + 1, dtype=np.int32)
    offsets[0] = own[0]
    np.cumsum(lengths, out=offsets[1:])
    offsets[1:] += own[0]
    data = some.buffers()[2] if some.buffers()[2] is not None else pa.py_buffer(b"")
    return pa.Array.from_buffers(pa.binary(), mask.size, [None, pa.py_buffer(offsets), data])


def from_fixed(s: np.ndarray) -> pa.Array:
    """An ``S`` array of fragments (padded with NUL bytes) as an Arrow array without the padding."""
    pa = arrow()[0]
    n, w = len(s), s.dtype.itemsize
    m = np.ascontiguousarray(s).view(np.uint8).reshape(n, w)
    keep = m != 0
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    data = m[keep]
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def block(parts: list[Any], rows: slice) -> memoryview:
    """Rows ``rows`` of ``parts`` (literals and columns, the row end last) as one buffer.

    A column gives Arrow fragments through its ``arrow`` method where it has
    one (None: not for these rows), else its ``S`` array is converted. A
    fragment's trailing comma is taken off the piece after it where that piece
    starts with one (a literal, or a lookup whose every entry does), else off
    the fragments themselves.
    """
    pa, pc = arrow()
    n = rows.stop - rows.start
    items: list[Any] = []
    strip_next = False
    for i, p in enumerate(parts):
        if strip_next:
            p = p[1:] if isinstance(p, bytes) else p.without_comma()
            strip_next = False
        if isinstance(p, bytes):
            if p:
                items.append(pa.scalar(p, type=pa.binary()))
            continue
        arr, comma = fragments(p, rows)
        if comma:
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            if isinstance(nxt, bytes) and nxt.startswith(b","):
                strip_next = True
            elif getattr(nxt, "without_comma", None) is not None and nxt.without_comma() is not None:
                strip_next = True
            else:
                arr = pc.binary_slice(arr, 0, -1, memory_pool=_pool())
        if isinstance(arr, bytes):  # the same fragment on every row of the block
            if arr:
                items.append(pa.scalar(arr, type=pa.binary()))
        else:
            items.append(arr)
    if not any(isinstance(x, pa.Array) for x in items):
        whole = b"".join(x.as_py() for x in items)
        return memoryview(whole * n)
    joined = pc.binary_join_element_wise(*items, b"", memory_pool=_pool())
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=len(joined) + 1, offset=joined.offset * 4)
    return memoryview(joined.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
