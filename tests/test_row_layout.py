"""The two ways a block of row JSON is laid out (numpy byte matrix; Arrow string kernels) and the
folding of literals into lookup tables give the bytes json.dumps gives, row for row."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, layout, row, run_rows, varied_rows
from qbe.results import arrow_layout, fastjson
from qbe.results.fastjson import lay_out, rows_json, school_checks_json

pytestmark = pytest.mark.skipif(arrow_layout.arrow() is None, reason="the Arrow layout needs pyarrow (qbe[fast])")


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@pytest.mark.parametrize("which", ["numpy", "arrow"])
def test_rows_and_school_checks_are_the_row_dicts_in_either_layout(national, which):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    by_row = ev.issues_by_row
    with layout(which):
        rows = list(rows_json(ev, by_row))
        checks = list(school_checks_json(ev))
        body = b"".join(bytes(b) for b in rows_json(ev, by_row).blocks())
    assert rows == [dumps(ev.row(i, by_row.get(i))) for i in range(ev.frame.n)]
    assert checks == [dumps(s) for s in ev._schools()]
    assert body == ",".join(rows).encode()


@pytest.mark.parametrize("which", ["numpy", "arrow"])
def test_a_shortfall_with_its_remedy_and_a_tolerated_one_in_either_layout(national, which):
    rows = [row(teachers_above_degree=20, teaching_area_m2=2000), row(school_code="S002", teaching_area_m2=4300),
            row(school_code="S003"), row(school_code="S004", school_name="")]
    ev, _ = run_rows(national, rows, [GOOD_COUNTY])
    with layout(which):
        got = list(rows_json(ev))
    assert got == [dumps(ev.row(i)) for i in range(4)]
    assert got[0].count('"remedy":') == 2 and '"tolerated_by":' in got[1] and '"school_name":null' in got[3]


def test_arrow_without_orjson_gives_the_same_bytes(national, monkeypatch):
    """With pyarrow but not orjson the fragments come from the standard library's encoder."""
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    by_row = ev.issues_by_row
    monkeypatch.setattr(fastjson, "_orjson", None)
    with layout("arrow"):
        rows = list(rows_json(ev, by_row))
    assert rows == [dumps(ev.row(i, by_row.get(i))) for i in range(ev.frame.n)]


def test_the_arrow_layout_is_the_one_used_for_large_blocks(monkeypatch, national):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    used = []
    real = arrow_layout.block
    monkeypatch.setattr(arrow_layout, "block", lambda *a: used.append(1) or real(*a))
    monkeypatch.setattr(arrow_layout, "MIN_ROWS", 4)
    list(rows_json(ev, ev.issues_by_row))
    assert used  # 8 rows, at least 4: Arrow
    used.clear()
    monkeypatch.setattr(arrow_layout, "MIN_ROWS", 9)
    list(rows_json(ev, ev.issues_by_row))
    assert not used


# ------------------------------------------------------------------------------ pieces, merged or not

LITERALS = st.sampled_from([b"", b",", b'"a":', b',"b":', b"}", b"{", '"中":'.encode(), b",x"])


@st.composite
def pieces(draw):
    """A row template: literals, lookups on small tables, number and string columns, optional keys."""
    n = draw(st.integers(1, 12))
    parts, columns = [], []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["literal", "lookup", "numbers", "strings", "where", "contents", "texts"]))
        if kind == "literal":
            parts.append(draw(LITERALS))
            continue
        if kind == "lookup":
            table = draw(st.lists(st.sampled_from([b"", b",1", b'"x"', b",true", b"null"]), min_size=1, max_size=4))
            codes = np.array(draw(st.lists(st.integers(0, len(table) - 1), min_size=n, max_size=n)))
            col = fastjson._Lookup(np.array(table, dtype=bytes), codes)
            texts = [table[c] for c in codes.tolist()]
        elif kind == "numbers":
            values = draw(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([5e-05, 1e16, -0.0])),
                                   min_size=n, max_size=n))
            col = fastjson.numbers(values)
            texts = [dumps(None if (math.isnan(v) or math.isinf(v)) else v).encode() for v in values]
        elif kind == "strings":
            values = draw(st.lists(st.one_of(st.text(max_size=4), st.none()), min_size=n, max_size=n))
            col = fastjson.strings(values)
            texts = [dumps(v).encode() for v in values]
        elif kind == "contents":  # pieces of a longer JSON string
            values = draw(st.lists(st.text(max_size=4), min_size=n, max_size=n))
            col = fastjson.contents(values)
            texts = [dumps(v)[1:-1].encode() for v in values]
        elif kind == "texts":
            table = draw(st.lists(st.text(max_size=3), min_size=1, max_size=4))
            codes = np.array(draw(st.lists(st.integers(0, len(table) - 1), min_size=n, max_size=n)))
            col = fastjson.texts_table(table, codes)
            texts = [dumps(table[c])[1:-1].encode() for c in codes.tolist()]
        else:
            mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
            values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
            # otherwise a literal, or nothing (an optional key: the fragments are spread, not taken),
            # or a literal either way (a lookup)
            no = draw(st.sampled_from([b'"none"', b""]))
            if draw(st.booleans()):
                col = fastjson.where(mask, fastjson.numbers(values), no)
                texts = [dumps(v).encode() if m else no for v, m in zip(values, mask.tolist())]
            else:
                col = fastjson.where(mask, b',"key":1', no)
                texts = [b',"key":1' if m else no for m in mask.tolist()]
        parts.append(col)
        columns.append(texts)
    return n, parts, columns


def _expected(n, parts) -> bytes:
    rows = [b"" for _ in range(n)]
    for p in parts:
        frag = [p] * n if isinstance(p, bytes) else [bytes(x) for x in np.broadcast_to(p(slice(0, n)), (n,)).tolist()]
        rows = [r + f for r, f in zip(rows, frag)]
    return b"".join(r + b"\n" for r in rows)


@settings(max_examples=200, deadline=None)
@given(pieces(), st.sampled_from(["numpy", "arrow"]), st.integers(1, 5))
def test_merged_pieces_lay_out_the_same_rows(drawn, which, block):
    n, parts, columns = drawn
    # each column's own fragments are the JSON the standard library writes
    own = [[bytes(x) for x in np.broadcast_to(p(slice(0, n)), (n,)).tolist()] for p in parts if not isinstance(p, bytes)]
    assert own == columns
    want = _expected(n, parts)
    with layout(which):
        assert b"".join(bytes(b) for b in lay_out(parts, 0, n, b"\n", block=block)) == want
        assert b"".join(bytes(b) for b in lay_out(fastjson._merge(parts), 0, n, b"\n", block=block)) == want


def test_literals_fold_into_lookups_and_neighbouring_lookups_combine():
    a = fastjson._Lookup(np.array([b"1", b"2"]), np.array([0, 1, 1]))
    b = fastjson._Lookup(np.array([b"x", b"y", b"z"]), np.array([2, 0, 1]))
    merged = fastjson._merge([b"{", a, b",", b, b"}"])
    assert len(merged) == 1 and isinstance(merged[0], fastjson._Lookup)
    assert merged[0](slice(0, 3)).tolist() == [b"{1,z}", b"{2,x}", b"{2,y}"]
    assert merged[0].without_comma() is None
    # a table of pairs larger than MAX_TABLE stays two lookups
    big = fastjson._Lookup(np.array([str(i).encode() for i in range(300)]), np.arange(3))
    assert len(fastjson._merge([a, big])) == 2
