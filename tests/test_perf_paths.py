"""The column-wise JSON (what large reports are written with) against the per-row dicts, byte for byte.

The per-row path (``Evaluation.row`` → ``json.dumps``) is the reference; the
fast path must give the same bytes for every row, whatever the numbers,
texts, statuses, reasons, remedies and data errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, read_with_engine, row, run_rows, varied_rows
from qbe.results import fastjson
from qbe.results.fastjson import JsonObjects, json_numbers, json_strings, lay_out, rows_json, school_checks_json


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def test_rows_json_is_byte_equal_to_the_row_dicts(national):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    by_row = ev.issues_by_row
    fast = rows_json(ev, by_row)
    assert len(fast) == ev.frame.n == 8
    for i, text in enumerate(fast):
        assert text == dumps(ev.row(i, by_row.get(i))), i
    # the cases the rows were made for are really there
    assert '"value":1e-05' in fast[3]
    assert "e+16" in fast[4] or "e+17" in fast[4]
    assert '"status":"tolerated","tolerated_by":' in fast[1]
    assert fast[5].endswith("]}") and '"errors":[]' not in fast[5]


def test_school_checks_json_is_byte_equal_to_the_school_dicts(national):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    fast = school_checks_json(ev)
    slow = ev._schools()
    assert len(fast) == len(slow) == ev.frame.n_school
    assert fast == [dumps(s) for s in slow]


def test_blocks_give_the_same_bytes_at_any_block_size(national, monkeypatch):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    whole = rows_json(ev, ev.issues_by_row)
    monkeypatch.setattr(fastjson, "BLOCK_ROWS", 3)
    ev2, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    assert rows_json(ev2, ev2.issues_by_row) == whole


def test_lay_out_drops_only_the_padding():
    nums = np.array([b"1", b"22", b""], dtype=bytes)
    strs = np.array([b'"a"', b"null", b'"\xe4\xb8\xad"'])
    parts = [b"[", lambda rows: nums[rows], b",", lambda rows: strs[rows], b"]"]
    assert b"".join(lay_out(parts, 0, 3, b"\n", block=2)) == '[1,"a"]\n[22,null]\n[,"中"]\n'.encode()
    assert b"".join(lay_out(parts, 1, 3, b"\n", block=1)) == '[22,null]\n[,"中"]\n'.encode()
    seq = JsonObjects(parts, 3)
    assert len(seq) == 3 and seq[-1] == '[,"中"]' and seq[0:2] == ['[1,"a"]', "[22,null]"] and list(seq)[1] == "[22,null]"
    assert b"".join(seq.blocks()) == '[1,"a"],[22,null],[,"中"]'.encode()


def _remedy_ev(national):
    """Three rows of one indicator, its statuses set by hand, with a remedy column beside them."""
    ev, _ = run_rows(national, [row(), row(school_code="S002"), row(school_code="S003")], [GOOD_COUNTY])
    rc = ev.row_columns()
    ind = rc["indicators"][0]
    ind["final"] = np.array([2, 2, 1], dtype=np.int8)  # not met, not met, met
    ind["raw"] = np.array([2, 2, 1], dtype=np.int8)
    return ev, rc, ind


def test_remedy_is_the_last_key_and_only_on_not_met_rows(national):
    ev, rc, ind = _remedy_ev(national)
    ind["remedy"] = {"input": "teachers_above_degree", "amount": np.array([3.0, np.nan, 5.0])}
    out = rows_json(ev)
    name = ind["name"]
    objs = [json.loads(t)["indicators"][name] for t in out]
    assert objs[0]["remedy"] == {"input": "teachers_above_degree", "amount": 3.0}
    assert list(objs[0])[-1] == "remedy"
    assert '"status":"not_met","remedy":{"input":"teachers_above_degree","amount":3.0}}' in out[0]
    # NaN amount: both null
    assert '"status":"not_met","remedy":{"input":null,"amount":null}}' in out[1]
    # a met row carries no remedy even though an amount is there
    assert "remedy" not in objs[2]
    # every other indicator is untouched
    assert out[0].count('"remedy"') == 1


def test_remedy_without_an_input_is_null_and_none_emits_nothing(national):
    ev, rc, ind = _remedy_ev(national)
    ind["remedy"] = {"input": None, "amount": np.array([3.0, 4.0, 5.0])}
    out = rows_json(ev)
    assert '"remedy":{"input":null,"amount":null}}' in out[0] and '"remedy":{"input":null,"amount":null}}' in out[1]
    ind["remedy"] = None
    ev._row_cols = rc
    assert all('"remedy"' not in t for t in rows_json(ev))
    del ind["remedy"]
    assert all('"remedy"' not in t for t in rows_json(ev))


def test_remedy_matches_the_row_dicts_on_a_real_shortfall(national):
    # two shortfalls so the 6-of-7 rule tolerates neither: both not met, both with a remedy
    ev, _ = run_rows(national, [row(teachers_above_degree=20, teaching_area_m2=2000)], [GOOD_COUNTY])
    fast = rows_json(ev)[0]
    assert fast == dumps(ev.row(0))
    assert fast.count('"remedy":') == 2


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(finite, st.none(), st.sampled_from([5e-05, 1e-07, 1e16, 1e22, -0.0, 0.0001, 9999999999999998.0])),
                min_size=1, max_size=40))
def test_numbers_are_written_as_json_dumps_writes_them(values):
    got = [b.decode() for b in json_numbers(values).tolist()]
    assert got == [dumps(v) for v in values]
    arr = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    assert [b.decode() for b in json_numbers(arr).tolist()] == got


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), st.none()), min_size=1, max_size=30))
def test_strings_are_written_as_json_dumps_writes_them(values):
    got = [b.decode("utf-8") for b in json_strings(values).tolist()]
    assert got == [dumps(v) for v in values]


POOL = [0.0, -0.0, 4.2, 1.0, 2000.0, 0.9, 1e-07, 1e16, math.nan, 0.30000000000000004]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=60), st.lists(finite, max_size=3))
def test_a_column_of_few_values_is_written_as_each_value_alone(picks, strays):
    """Few distinct values are encoded once and looked up; a value the sample missed (the strays,
    put at the end) makes the column be written value by value. Either way: json.dumps's bytes."""
    values = np.array(picks + strays, dtype=np.float64)
    old = fastjson.BLOCK_ROWS
    fastjson.BLOCK_ROWS = 2  # long enough for the lookup from 8 values on
    try:
        col = fastjson.numbers(values)
        got = [b.decode() for b in col(slice(0, values.size)).tolist()]
        picked = [b.decode() for b in col(np.arange(values.size)[::-1]).tolist()]
    finally:
        fastjson.BLOCK_ROWS = old
    want = [dumps(None if math.isnan(v) else v) for v in values.tolist()]
    assert got == want
    assert picked == want[::-1]


def test_the_lookup_is_used_for_a_long_column_of_few_values():
    values = np.tile([4.2, -0.0, math.nan, 2000.0], 4 * fastjson.BLOCK_ROWS)
    table, codes = fastjson._few_values(values)
    assert table.tolist() == [b"-0.0", b"4.2", b"2000.0", b"null"]
    assert [table[c] for c in codes[:4].tolist()] == [b"4.2", b"-0.0", b"null", b"2000.0"]
    assert fastjson._few_values(np.arange(4 * fastjson.BLOCK_ROWS, dtype=np.float64)) is None
    # 0.0 and -0.0 compare equal but are written differently: such a column is written value by value
    assert fastjson._few_values(np.tile([0.0, -0.0], 4 * fastjson.BLOCK_ROWS)) is None


def test_categories_write_each_key_and_null_outside_them():
    col = fastjson.categories(np.array([0, 2, -1, 1, 7]), ["primary", "初中", None])
    assert col(slice(0, 5)).tolist() == [b'"primary"', b"null", b"null", '"初中"'.encode(), b"null"]
    assert col(np.array([3, 0])).tolist() == ['"初中"'.encode(), b'"primary"']


def test_where_makes_each_side_for_its_own_rows_only():
    asked: list[list[int]] = []

    def spy(rows):
        idx = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        asked.append(idx.tolist())
        return np.array([str(i).encode() for i in idx.tolist()], dtype=bytes)

    mask = np.array([False, True, False, False, True, False])
    col = fastjson.where(mask, spy, b"-")
    assert col(slice(0, 6)).tolist() == [b"-", b"1", b"-", b"-", b"4", b"-"]
    assert asked == [[1, 4]]
    assert col(slice(2, 4)) == b"-" and asked == [[1, 4]]  # no row of the block wants it: not made at all
    inner = fastjson.where(np.arange(6) % 2 == 0, spy, b"odd")
    nested = fastjson.where(mask | (np.arange(6) == 0), inner, b"")
    assert nested(slice(0, 6)).tolist() == [b"0", b"odd", b"", b"", b"4", b""]
    assert asked[-1] == [0, 4]


def test_the_standard_library_fallback_gives_the_same_bytes(national, monkeypatch):
    ev, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    with_orjson = rows_json(ev, ev.issues_by_row)
    monkeypatch.setattr(fastjson, "_orjson", None)
    ev2, _ = run_rows(national, varied_rows(), [GOOD_COUNTY], allow_errors=True)
    assert rows_json(ev2, ev2.issues_by_row) == with_orjson
    assert json_numbers([5e-05, None, 1.5]).tolist() == [b"5e-05", b"null", b"1.5"]


def test_counties_stay_out_of_a_large_dict_only_when_no_writer_reads_them(tmp_path):
    """Above 2,000 rows a JSON-only run leaves the counties out of the report dict (the JSON writer
    lays them out from the evaluation); with a writer that reads them they are there, with their
    findings. The JSON report is the same bytes either way."""
    import csv

    from conftest import GOOD_COUNTY
    from qbe import pipeline
    from qbe.plugins import registry

    reg = registry()
    assert not pipeline._need_counties(["json"], reg)
    assert pipeline._need_counties(["json", "markdown"], reg)
    rows = [row(school_code=f"S{i:04d}", county_code=f"99000{i % 3 + 1}", school_name=f"第{i}小学",
                teaching_area_m2=4300 if i % 7 == 0 else 5000, max_class_size=46 if i % 11 == 0 else 40)
            for i in range(2100)]  # fmt: skip
    counties = [{**GOOD_COUNTY, "county_code": f"99000{k}"} for k in (1, 2, 3)]
    for name, table in (("schools.csv", rows), ("counties.csv", counties)):
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(table[0]))
            w.writeheader()
            w.writerows(table)
    from qbe.results.assemble import Evaluation

    made = {}
    real = Evaluation._counties
    for formats in (["json"], ["json", "markdown"]):
        out = tmp_path / "+".join(formats)
        calls: list[int] = []
        Evaluation._counties = lambda self, calls=calls: calls.append(1) or real(self)
        try:
            result = pipeline.run("national-2017", str(tmp_path / "schools.csv"), str(tmp_path / "counties.csv"),
                                  formats=formats, output=out, echo=lambda *a, **k: None)  # fmt: skip
            made[len(formats)] = (len(calls), result.report, (out / "national-2017.json").read_bytes())
        finally:
            Evaluation._counties = real
    (made_alone, alone, alone_json), (made_both, both, both_json) = made[1], made[2]
    assert (made_alone, made_both) == (0, 1)  # no county dicts for the JSON writer alone
    assert alone_json == both_json
    # the run's report is whole either way: what the writers did without is made when it is read
    assert alone["counties"] == both["counties"] == json.loads(alone_json)["counties"]
    assert all(c["findings"] for c in alone["counties"])  # every county has tolerated and oversized classes


# ------------------------------------------------------------------------------ CSV engines

CELLS = ["", " ", "0", "12", "-3", "+5", "4.5", "007", ".5", "5.", "1e5", "95%", "abc", "１２", "是", "否", "primary",
         "junior", "小学", "3301.0", "1.000000000000001", "12345678901234567", "-", "nan", "inf", "a b", "\t", "x\ry", "1\r",
         "-0", "+.5", "1.2.3", "--1", "99999999999999.9", "123456789012345", "0.000000000000001"]


def _engine_read(path: Path, engine: str, monkeypatch, known=None):
    from qbe.data.readers import read_csv

    monkeypatch.setenv("QBE_CSV_ENGINE", engine)
    return read_csv(path, known)[0]


def _same_sheet(a, b) -> None:
    assert a.headers == b.headers
    assert list(a.rows) == list(b.rows)
    assert list(a.row_numbers) == list(b.row_numbers)
    assert a.header_row == b.header_row


def _same_table(a, b) -> None:
    ta, ia = a
    tb, ib = b
    assert ta.n == tb.n and ta.present == tb.present
    assert set(ta.columns) == set(tb.columns)
    for k in ta.columns:
        x, y = ta.columns[k], tb.columns[k]
        assert x.dtype == y.dtype, k
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True) and np.array_equal(np.signbit(x), np.signbit(y)), k
        else:
            assert x.tolist() == y.tolist(), k
    assert ta.bad_rows.tolist() == tb.bad_rows.tolist()
    assert [i.render("en") for i in ia] == [i.render("en") for i in ib]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
@pytest.mark.parametrize("sep", [",", "\t"])
def test_both_csv_engines_read_every_encoding_alike(tmp_path, monkeypatch, encoding, sep):
    """UTF-8 is checked without decoding it for the Arrow reader; other encodings are decoded and
    re-encoded for it. Either way the sheet is the standard library's."""
    text = sep.join(["区县代码", "学校代码", "学校名称", "学段", "在校生数"]) + "\n"
    text += "".join(sep.join(["110101", f"S{i}", f"第{i}小学", "小学", str(100 + i)]) + "\n" for i in range(5))
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    fast = _engine_read(path, "arrow", monkeypatch)
    slow = _engine_read(path, "python", monkeypatch)
    assert fast.columns is not None and slow.columns is None  # the Arrow reader really read it
    _same_sheet(fast, slow)
    assert fast.headers[2] == "学校名称" and list(fast.rows)[0][2] == "第0小学"


def test_the_arrow_reader_is_used_and_agrees_on_the_example(national, monkeypatch, tmp_path):
    from qbe.data.validate import known_headers, validate_sheet

    src = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017" / "schools.csv"
    known = known_headers(national.row_schema())
    a = _engine_read(src, "arrow", monkeypatch, known)
    b = _engine_read(src, "python", monkeypatch, known)
    assert a.columns is not None and b.columns is None  # the fast path really ran
    _same_sheet(a, b)
    schema = national.row_schema()
    _same_table(validate_sheet(a, schema, {}, ("school_code", "stage")), validate_sheet(b, schema, {}, ("school_code", "stage")))


@settings(max_examples=150, deadline=None)
@given(
    header=st.lists(st.sampled_from(["county_code", "school_code", "stage", "students", "teachers_above_degree",
                                     "sports_area_m2", "urban", "", "学生数", "备注"]), min_size=1, max_size=6),
    body=st.lists(st.lists(st.sampled_from(CELLS), min_size=0, max_size=7), min_size=0, max_size=8),
    title=st.booleans(),
    crlf=st.booleans(),
    tail=st.booleans(),
    ragged=st.booleans(),
)
def test_both_csv_engines_give_the_same_sheet_and_table(national, tmp_path_factory, header, body, title, crlf, tail, ragged):
    from qbe.data.validate import known_headers, validate_sheet

    if not ragged:  # regular rows: the shape the arrow reader takes on
        body = [(r + [""] * len(header))[: len(header)] for r in body]
    nl = "\r\n" if crlf else "\n"
    lines = (["某县数据表" + "," * (len(header) - 1)] if title else []) + [",".join(header)] + [",".join(r) for r in body]
    text = nl.join(lines) + (nl if tail else "")
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    known = known_headers(national.row_schema())
    a = read_with_engine(path, "arrow", known)
    b = read_with_engine(path, "python", known)
    _same_sheet(a, b)
    schema = national.row_schema()
    _same_table(validate_sheet(a, schema, {}, ()), validate_sheet(b, schema, {}, ()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["", "-0", "+.5", "5.", "007", ".25", "-3.75", "123456789012345", "1.2.3", "-", "1e5"]),
                          st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**9, max_value=10**9).map(str)),
                min_size=1, max_size=30))
def test_the_column_parser_reads_numbers_as_the_text_parser_does(cells):
    import pyarrow as pa

    from qbe.data.arrow_csv import ArrowCells
    from qbe.data.cells import parse_decimals

    fast = ArrowCells(pa.array(cells, type=pa.string())).plain_decimals()
    slow = parse_decimals("\n".join(cells) + "\n", len(cells))
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert np.array_equal(fast, slow, equal_nan=True) and np.array_equal(np.signbit(fast), np.signbit(slow))


def test_the_column_parser_on_a_known_column():
    import pyarrow as pa

    from qbe.data.arrow_csv import ArrowCells

    got = ArrowCells(pa.array(["12", "", "-0", "+.5", "5.", "007", "-3.75"])).plain_decimals()
    assert got is not None
    assert got[0] == 12.0 and np.isnan(got[1]) and got[2] == 0.0 and np.signbit(got[2])
    assert got.tolist()[3:] == [0.5, 5.0, 7.0, -3.75]
    assert ArrowCells(pa.array(["1", "abc"])).plain_decimals() is None
