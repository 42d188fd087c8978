"""JSON report: the versioned schema of :mod:`qbe.results.schema`, as UTF-8.

Small reports are indented for reading. Large ones (more than 2,000 rows)
are compact, and their ``schools`` array is built column-wise by
:mod:`qbe.results.fastjson`, because at national scale per-row dicts and
indentation alone would cost tens of seconds. So is the ``counties`` array
(90 MB at national scale, :mod:`qbe.results.county_json`). The rest of a large
report (the standard, the errors) is encoded by orjson when it is installed,
with the same bytes ``json.dumps`` writes (see :func:`compact_json`).
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...plugins import AppendTo
from ...results import json_arrays
from ...results.county_json import county_pieces
from ...results.fastjson import rows_json, school_checks_json

try:  # orjson encodes the report shell (counties, findings) several times faster than the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

BIG = 2000

_E, _MINUS = ord("e"), ord("-")


def _other_forms(data: bytes) -> np.ndarray:
    """Byte offsets where orjson's text may hold a number that ``json.dumps`` writes differently.

    Those are the numbers outside [1e-4, 1e16): orjson writes ``1e16``, ``1e-7`` and
    ``0.00005`` where Python writes ``1e+16``, ``1e-07`` and ``5e-05``. So: a digit, ``e``
    and a digit or minus sign, or ``0.0000``, anywhere. Looked for with array operations
    and ``bytes.find`` (a regular expression takes seconds on a national report); the same
    bytes inside a string (a hash, say) only send that part to the standard library,
    which is never wrong.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(buf[1:-1] == _E) + 1
    nxt, prev = buf[at + 1], buf[at - 1]
    hit = at[((nxt == _MINUS) | ((nxt >= 0x30) & (nxt <= 0x39))) & (prev >= 0x30) & (prev <= 0x39)]
    small = []
    i = data.find(b"0.0000")
    while i >= 0:
        small.append(i)
        i = data.find(b"0.0000", i + 6)
    return np.concatenate([hit, np.array(small, dtype=np.int64)]) if small else hit


def _stdlib(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


#: Lists at least this long are written element by element and checked in one pass, so a
#: number in another form costs only its own element a second pass (a national report's
#: ``counties`` has thousands).
SPLIT_LIST = 64

Piece = bytes | memoryview


def compact_json(obj: Any) -> bytes:
    """``json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` as UTF-8, faster.

    orjson gives the same bytes for strings, integers, containers and every
    float in [1e-4, 1e16). Where its text may hold a number outside that range,
    the object is split into its members and each is written the same way, so
    only the few innermost objects holding such a number go to the standard
    library; so do objects orjson cannot encode (a key that is not a string,
    an integer past 64 bits).
    """
    out: list[Piece] = []
    json_pieces(obj, out)
    return out[0] if len(out) == 1 and isinstance(out[0], bytes) else b"".join(out)


def json_pieces(obj: Any, out: list[Piece], whole: bool = True) -> None:
    """:func:`compact_json` of ``obj`` appended to ``out`` as pieces, to be written one after another.

    Pieces rather than one ``bytes``: at national scale every join is a copy of
    tens of megabytes. ``whole=False`` splits a dict into its members before
    trying it whole (the report, whose members differ widely in size).
    """
    if _orjson is None:
        out.append(_stdlib(obj))
        return
    named = isinstance(obj, dict) and len(obj) > 1 and all(type(k) is str for k in obj)
    if named and not whole:
        _members(obj, out)
        return
    if isinstance(obj, (list, tuple)) and len(obj) >= SPLIT_LIST:
        _elements(obj, out)
        return
    try:
        data = _orjson.dumps(obj)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        out.append(_stdlib(obj))
        return
    if not _other_forms(data).size:
        out.append(data)
    elif named:
        _members(obj, out)
    elif isinstance(obj, (list, tuple)) and len(obj) > 1:
        _elements(obj, out)
    else:
        out.append(_stdlib(obj))


def _members(obj: dict, out: list[Piece]) -> None:
    """A dict with string keys, member by member."""
    sep = b"{"
    for k, v in obj.items():
        out.append(sep + compact_json(k) + b":")
        json_pieces(v, out)
        sep = b","
    out.append(b"}")


#: Items of a long list encoded, joined and checked together: a bounded chunk rather than the whole
#: list, so a national ``counties`` array (~90 MB, ~900 MB for ten years) is never joined twice over.
CHUNK_ITEMS = 512


def _elements(items: list | tuple, out: list[Piece]) -> None:
    """A list written by orjson item by item and checked a chunk at a time; items in another form written again."""
    for at in range(0, len(items), CHUNK_ITEMS):
        out.append(b"," if at else b"[")
        _chunk(items[at : at + CHUNK_ITEMS], out)
    if not items:
        out.append(b"[")
    out.append(b"]")


def _chunk(items: list | tuple, out: list[Piece]) -> None:
    parts = []
    for v in items:
        try:
            parts.append(_orjson.dumps(v))
        except TypeError:
            parts.append(_stdlib(v))
    data = b",".join(parts)
    odd = _other_forms(data)
    if not odd.size:
        out.append(data)
        return
    lengths = np.array([len(p) for p in parts], dtype=np.int64)
    starts = np.cumsum(lengths + 1) - lengths - 1  # after the commas before each item
    view, at = memoryview(data), 0
    for i in np.unique(np.searchsorted(starts, odd, side="right") - 1).tolist():
        out.append(view[at : int(starts[i])])
        json_pieces(items[i], out)
        at = int(starts[i] + lengths[i])
    out.append(view[at:])


def _counties(evaluation) -> list[Piece]:
    """The ``counties`` array of a large report, laid out from the evaluation (:mod:`qbe.results.county_json`):
    the same bytes as the report dict's counties encoded, without making them."""
    counties = county_pieces(evaluation)
    out: list[Piece] = [b"["]
    for at in range(0, len(counties), CHUNK_ITEMS):
        pieces: list[bytes] = []
        for i, county in enumerate(counties[at : at + CHUNK_ITEMS], start=at):
            if i:
                pieces.append(b",")
            pieces += county
        out.append(b"".join(pieces))
    out.append(b"]")
    return out


class JsonWriter:
    format = "json"
    extension = ".json"
    #: a report of more than 2,000 rows has its counties laid out from the evaluation (:func:`_counties`)
    counties_from_evaluation = True
    description = "JSON 结果（带版本的模式，见 qbe schema）/ JSON results (versioned schema, see qbe schema)"

    def prepare(self, evaluation, folder: Path, stem: str) -> None:
        """Start laying out a large report's row arrays in a second process (see :mod:`qbe.results.json_arrays`),
        which also writes the report's opening members, known already."""
        if not json_arrays.usable() or evaluation.frame.n < json_arrays.MIN_ROWS:
            return
        opening = _shell([*evaluation.report_head().items(), ("schools", None)], ("schools",))
        job = json_arrays.start(evaluation, folder, stem, b"".join(opening[:-1]))  # up to the array's place
        if job is not None:
            evaluation.__dict__[json_arrays.JOB_KEY] = job

    def discard(self, evaluation) -> None:
        """Stop the second process :meth:`prepare` started, if :meth:`render` did not take it over."""
        json_arrays.discard(evaluation)

    def render(self, evaluation, report: dict, lang: str = "zh") -> str | Iterator[bytes | AppendTo]:
        n = report["summary"]["rows"]
        if n <= BIG and len(report["schools"]) == n and len(report["counties"]) == evaluation.frame.n_county:
            json_arrays.discard(evaluation)
            return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        return self._stream(evaluation, report)

    def _stream(self, evaluation, report: dict) -> Iterator[bytes | AppendTo]:
        """Compact JSON in pieces: the two large arrays are built column-wise and never joined whole.

        The rest (the shell: counties with their findings, the standard, the
        errors) is encoded first, member by member, so a report that cannot be
        written fails before any array is built. With a second process
        (:meth:`prepare`) the report continues the file the child wrote (the
        opening and its blocks): this process adds the blocks it took from the
        end and the rest of the shell, and the file is renamed into place.
        """
        job = evaluation.__dict__.pop(json_arrays.JOB_KEY, None)
        try:
            arrays = {
                "schools": lambda: rows_json(evaluation, getattr(evaluation, "issues_by_row", {})),
                "school_checks": lambda: school_checks_json(evaluation),
            }
            shell = _shell(report.items(), arrays, {"counties": _counties(evaluation)})
            shell.append(b"}\n")
            if job is not None:  # the child lays out the arrays meanwhile: take what it has not reached
                done = None
                at = [i for i, p in enumerate(shell) if isinstance(p, str)]
                if len(at) == 2 and shell[at[0]] == "schools" and shell[at[0] + 1 : at[1]] == [json_arrays.BETWEEN]:
                    job.steal()
                    done = job.finish(b"".join(shell[: at[0]]))
                if done is not None:
                    path, middle = done
                    yield AppendTo(path)
                    yield from middle
                    shell = shell[at[1] + 1 :]
            for piece in shell:
                if isinstance(piece, str):
                    yield from arrays[piece]().as_array()
                else:
                    yield bytes(piece) if isinstance(piece, memoryview) else piece  # bytes for every consumer
        finally:
            if job is not None:
                job.close()


def _shell(members: Iterable[tuple[Any, Any]], arrays: Container[str],
           made: dict[str, list[Piece]] | None = None) -> list[Piece | str]:
    """``{`` and the members as compact JSON pieces, without the closing brace; the value of a member
    named in ``arrays`` is left out and its name put in its place, for the array to go there. A
    member in ``made`` is written as the pieces given there."""
    shell: list[Piece | str] = [b"{"]
    for j, (key, value) in enumerate(members):
        shell.append((b"," if j else b"") + _key(key) + b":")
        if key in arrays:
            shell.append(key)
        elif made and key in made:
            shell += made[key]
        else:
            json_pieces(value, shell)
    return shell


def _key(key: Any) -> bytes:
    """A member name as ``json.dumps`` writes it (a key that is not a string is converted its way)."""
    if isinstance(key, str):
        return compact_json(key)
    return _stdlib({key: 0})[1:-3]
