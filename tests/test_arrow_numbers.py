"""The column-wise CSV reader's numbers: Arrow's cast against the exact decimal parsers, bit for bit.

:meth:`ArrowCells.plain_decimals` checks the plain decimal grammar on the
column's bytes and lets Arrow's string-to-float cast read the numbers. It must
accept and refuse exactly the columns the byte-matrix parser
(:meth:`ArrowCells.matrix_decimals`) and validation's parser of joined text
(:func:`qbe.data.cells.parse_decimals`) accept and refuse, and give the same
bits, since both read an integer below 2**53 over an exact power of ten and
round once. Python's ``float`` (correctly rounded) is the independent oracle
for the values; a regular expression written from the grammar is the oracle
for what is accepted.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")

from conftest import read_with_engine  # noqa: E402
from qbe.data import arrow_csv  # noqa: E402
from qbe.data.arrow_csv import ArrowCells, plain_decimal_cells  # noqa: E402
from qbe.data.cells import memo_map, parse_decimals  # noqa: E402

#: The grammar, written independently of the parsers: optional sign, digits with an optional dot, or a dot and digits.
PLAIN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def plain(cell: str) -> bool:
    return cell == "" or (PLAIN.fullmatch(cell) is not None and sum(ch.isdigit() for ch in cell) <= 15)


def bits(values: np.ndarray) -> list[int]:
    return values.view(np.int64).tolist()


def column(cells: list[str]) -> ArrowCells:
    return ArrowCells(pa.array(cells, type=pa.string()))


# ------------------------------------------------------------------------------ cell strategies

digits = st.text(alphabet="0123456789", max_size=17)
#: Every shape the grammar has, and its near misses: signs, leading zeros, "-0", "5.", ".5", "-", ".", 16 and 17 digits.
decimal_text = st.builds(lambda sign, whole, dot, part: sign + whole + ("." if dot else "") + part,
                         st.sampled_from(["", "+", "-"]), digits, st.booleans(), digits)  # fmt: skip


@st.composite
def scaled(draw) -> str:
    """An accepted decimal: an integer below 10**15 with its point ``k`` places from the right, leading zeros kept."""
    m = draw(st.integers(0, 10**15 - 1))
    k = draw(st.integers(0, 14))
    text = str(m).rjust(k + 1, "0") if k else str(m)
    text = text if not k else f"{text[:-k]}.{text[-k:]}"
    return draw(st.sampled_from(["", "+", "-"])) + text


junk = st.text(alphabet="0123456789.+-eEinfa ,%\t_x１é\r", max_size=8)
near = st.sampled_from(["1e5", "inf", "nan", "-0", "+.5", "5.", "007", "1.2.3", "..5", "1..", "-1.2", "+-1", "5-", "-", "."])
cell = st.one_of(decimal_text, scaled(), st.just(""), junk, near)


# ------------------------------------------------------------------------------ properties


@settings(max_examples=600, deadline=None)
@given(st.lists(cell, min_size=1, max_size=40))
def test_the_cast_accepts_and_reads_as_both_exact_parsers_do(cells):
    fast = column(cells).plain_decimals()
    matrix = column(cells).matrix_decimals()
    text = parse_decimals("\n".join(cells) + "\n", len(cells))  # no cell holds a line break
    assert (fast is None) == (matrix is None) == (text is None) == (not all(plain(c) for c in cells))
    if fast is not None:
        assert bits(fast) == bits(matrix) == bits(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(cell, min_size=1, max_size=40))
def test_the_byte_check_is_the_grammar(cells):
    # on its own: a column the check wrongly let through would still be refused by the cast and the matrix after it
    data, offsets = column(cells).buffers()
    assert plain_decimal_cells(data, offsets) == all(plain(c) for c in cells)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(scaled(), decimal_text.filter(plain), st.just("")), min_size=1, max_size=40))
def test_accepted_cells_are_the_correctly_rounded_float_of_their_text(cells):
    got = column(cells).plain_decimals()
    assert got is not None
    want = np.array([float(c) if c else np.nan for c in cells])
    assert bits(got) == bits(want)  # same bits, so -0.0 stays -0.0 and NaN is the one NaN the parsers write


@settings(max_examples=300, deadline=None)
@given(st.lists(cell, min_size=2, max_size=30), st.integers(0, 5), st.booleans())
def test_sliced_taken_and_large_columns_read_like_fresh_ones(cells, skip, large):
    skip = min(skip, len(cells) - 1)
    whole = ArrowCells(pa.array(cells, type=pa.large_string() if large else pa.string()))
    rest = whole.tail(skip)
    fresh = column(cells[skip:])
    a, b = rest.plain_decimals(), fresh.plain_decimals()
    assert (a is None) == (b is None)
    if a is not None:
        assert bits(a) == bits(b)
    order = np.arange(len(cells) - skip)[::-1]
    taken = rest.take(order)
    c, d = taken.plain_decimals(), column([cells[skip:][i] for i in order]).plain_decimals()
    assert (c is None) == (d is None)
    if c is not None:
        assert bits(c) == bits(d)


# ------------------------------------------------------------------------------ known columns


def test_a_known_column_has_the_hand_computed_values():
    got = column(["0.1", "", "-0", "+.5", "5.", "007", "123456789012345", "-3.75", "0.00000000000001"]).plain_decimals()
    assert got is not None
    assert got[0] == float.fromhex("0x1.999999999999ap-4")  # the double nearest to 0.1
    assert np.isnan(got[1])
    assert got[2] == 0.0 and np.signbit(got[2])
    assert got[3:8].tolist() == [0.5, 5.0, 7.0, 123456789012345.0, -3.75]
    assert got[8] == 1e-14  # 15 digits, the most a cell may have


def test_the_public_compute_module_serves_when_the_private_one_is_gone(monkeypatch):
    import sys

    import pyarrow.compute  # noqa: F401 - loaded first, as a pyarrow without the private module would have it

    monkeypatch.setitem(sys.modules, "pyarrow._compute", None)  # importing it now fails
    got = column(["0.1", "", "-3.75"]).plain_decimals()
    assert got is not None and got[0] == 0.1 and np.isnan(got[1]) and got[2] == -3.75


@pytest.mark.parametrize("bad", ["1e5", "inf", "nan", "NaN", " 5", "5 ", "\t5", "1234567890123456", "0000000000000001",
                                 "1.2.3", "5-", "--5", "+-1", "-", "+", ".", "-.", "1,234", "95%", "１２", "٣", "0x10", "1_0"])
def test_what_the_grammar_refuses(bad):
    assert not plain_decimal_cells(*column(["12", bad, ""]).buffers())
    assert column(["12", bad, ""]).plain_decimals() is None
    assert column(["12", bad, ""]).matrix_decimals() is None


def test_empty_columns():
    assert column([]).plain_decimals().tolist() == []
    got = column(["", "", ""]).plain_decimals()
    assert got is not None and np.isnan(got).all()


def test_the_byte_check_alone():
    data = np.frombuffer(b"12-3.5+7", dtype=np.uint8)
    assert plain_decimal_cells(data, np.array([0, 2, 6, 6, 8], dtype=np.int32))  # "12", "-3.5", "", "+7"
    assert not plain_decimal_cells(data, np.array([0, 2, 5, 5, 8], dtype=np.int32))  # "12", "-3.", "", "5+7"
    assert not plain_decimal_cells(data, np.array([0, 3, 8], dtype=np.int64))  # "12-", "3.5+7"


# ------------------------------------------------------------------------------ the fallback


def test_a_column_the_cast_refuses_is_read_by_the_byte_matrix(monkeypatch):
    cells = ["12", "", "-0", "3.25", "007"]
    want = column(cells).plain_decimals()

    def refuse(name, *args, options=None):
        raise pa.ArrowInvalid(f"{name} refused")

    monkeypatch.setattr(arrow_csv, "_kernel", refuse)
    got = column(cells).plain_decimals()
    assert got is not None and bits(got) == bits(want)


def test_the_cast_really_reads_plain_columns(monkeypatch):
    def no_matrix(self):
        raise AssertionError("the byte matrix should not be needed")

    monkeypatch.setattr(ArrowCells, "matrix_decimals", no_matrix)
    got = column(["1", "2.5", ""]).plain_decimals()
    assert got is not None and got[:2].tolist() == [1.0, 2.5] and np.isnan(got[2])


# ------------------------------------------------------------------------------ few-valued text columns


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["是", "否", "", "primary", " junior ", "1"]), min_size=0, max_size=60),
       st.lists(st.text(max_size=4), min_size=0, max_size=20))  # fmt: skip
def test_cells_and_lookups_are_those_of_the_plain_strings(few, many):
    for cells in (few, many, few + many):
        want = [c or None for c in cells]
        assert column(cells).values() == want
        calls: list = []

        def upper(value, calls=calls):
            calls.append(value)
            return None if value is None else value.upper()

        got = memo_map(upper, column(cells))
        assert got == [None if c is None else c.upper() for c in want]
        assert len(calls) == len(set(calls)) == len(set(want))  # once per distinct value


def test_a_few_valued_column_is_looked_up_per_distinct_value():
    cells = ArrowCells(pa.array(["是", "否", ""] * 1000))
    assert cells.distinct() is not None
    seen: list = []
    assert cells.map_distinct(lambda v: seen.append(v) or v) == ["是", "否", None] * 1000
    assert seen == ["是", "否", None]
    names = ArrowCells(pa.array([f"学校{i}" for i in range(1000)]))
    assert names.distinct() is None and names.map_distinct(str) is None  # nearly all distinct: made cell by cell


# ------------------------------------------------------------------------------ end to end: both CSV engines

HEADER = ["county_code", "school_code", "stage", "urban", "students", "teachers_above_degree", "sports_area_m2",
          "training_spend_share"]  # fmt: skip


def _digest(table, issues):
    columns = {k: (str(v.dtype), bits(v) if v.dtype.kind == "f" else v.tolist()) for k, v in table.columns.items()}
    found = [(i.code, i.message_zh, i.message_en, i.source, i.sheet, i.row, i.column, repr(i.value), i.severity) for i in issues]
    return table.n, columns, table.row_numbers.tolist(), table.bad_rows.tolist(), found


numeric_cell = st.one_of(scaled(), decimal_text, junk, st.just(""), st.sampled_from(["1e5", "inf", "nan", "1,234", "95%"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["110101", "110102"]), st.sampled_from(["primary", "junior", "小学", "x"]),
                          st.sampled_from(["是", "否", "", "maybe"]), numeric_cell, numeric_cell, numeric_cell, numeric_cell),
                min_size=1, max_size=25),
       st.lists(st.sampled_from(["S1", "S2", "学校3", " S1", "S2 ", ""]), min_size=25, max_size=25) | st.none())  # fmt: skip
def test_both_engines_give_the_same_numbers_and_issues(national, tmp_path_factory, rows, codes):
    """Both CSV engines give the same table and issues. School codes are all distinct, or drawn from
    a few (some padded, some empty): shared schools, duplicate keys and missing codes alike."""
    from qbe.data.validate import known_headers, validate_sheet

    code = (lambda i: codes[i]) if codes is not None else (lambda i: f"S{i:04d}")
    body = [[county, code(i), stage, urban, *numbers] for i, (county, stage, urban, *numbers) in enumerate(rows)]
    if any("," in c or "\r" in c or '"' in c for r in body for c in r):
        body = [[c.replace(",", "").replace("\r", "") for c in r] for r in body]  # keep the file plain, one field per cell
    path = tmp_path_factory.mktemp("csv") / "schools.csv"
    path.write_text("\n".join(",".join(r) for r in [HEADER, *body]) + "\n", encoding="utf-8")
    schema = national.row_schema()
    known = known_headers(schema)
    arrow, python = read_with_engine(path, "arrow", known), read_with_engine(path, "python", known)
    assert arrow.columns is not None and python.columns is None  # the column-wise reader really read it
    key = ("school_code", "stage")
    assert _digest(*validate_sheet(arrow, schema, {}, key)) == _digest(*validate_sheet(python, schema, {}, key))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=40),
                 st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.lists(st.sampled_from([b"a", b"\xe4\xb8\xad", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80",
                                           b"\xf0\x9f\x98\x80", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\x00"]),
                          max_size=8).map(b"".join)))
def test_the_utf8_check_agrees_with_decoding(data):
    from qbe.data.arrow_csv import valid_utf8

    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert valid_utf8(data) == decodes


# ---------------------------------------------------------------------------- text columns

#: characters that make a cell's ends interesting: every white space str.strip takes off, its UTF-8
#: neighbours, and Chinese
EDGE_CHARS = arrow_csv._SPACES + "a9学校〇\u3001\u2010\u200b\u00a1\u1681\ufeff"


def test_the_spaces_are_those_str_strip_takes_off():
    assert sorted(arrow_csv._SPACES) == sorted(chr(c) for c in range(0x110000) if chr(c).isspace())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=4), min_size=1, max_size=40),
       st.booleans())
def test_text_cells_are_stripped_as_validation_strips_them(cells, repeat):
    """``texts()`` gives ``str.strip`` of every cell (``""`` for an empty one) and which are empty, or
    declines (None) when a cell has white space at an end; it never declines a column without."""
    if repeat:  # a column of few values: each distinct value is stripped once
        cells = (cells * (2 * arrow_csv._SAMPLE // len(cells) + 2))[: 2 * arrow_csv._SAMPLE]
    got = ArrowCells(pa.array(cells, type=pa.string())).texts()
    padded = any(c != c.strip() for c in cells)
    if got is None:
        assert padded and not repeat
        return
    values, empty = got
    assert values.dtype == object and values.tolist() == [c.strip() for c in cells]
    assert empty.tolist() == [c.strip() == "" for c in cells]


def test_names_without_padding_are_made_by_arrow():
    names = ["博文小学", "第一中学（分校）", "", "Xīnhuá School", "育才小学\u3001东校区"]
    got = ArrowCells(pa.array(names)).texts()
    assert got is not None and got[0].tolist() == names and got[1].tolist() == [False, False, True, False, False]
    for padded in (" 博文小学", "博文小学\u3000", "博文小学\u00a0", "\t1", "1\u2028"):
        assert ArrowCells(pa.array([*names, padded])).texts() is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab学 "), max_size=3), max_size=60) | st.lists(st.sampled_from(["a", "b", "学", ""]), max_size=60))
def test_text_cells_group_as_validation_groups_them(cells):
    """``first_rows()`` (Arrow's hashing) numbers equal texts by their first row, -1 for an empty cell,
    exactly as validation's dictionary pass over the strings does."""
    from qbe.data.validate import _factorize

    column = ArrowCells(pa.array(cells, type=pa.string()))
    assert column.first_rows() is None  # not before texts() has seen that the cells need no stripping
    made = column.texts()
    got = column.first_rows()
    if made is None or any(c != c.strip() for c in cells):  # padded cells group only once stripped
        assert got is None
        return
    if not cells:
        assert got is None
        return
    assert got.tolist() == _factorize(np.array(cells, dtype=object))[0].tolist()
    assert got.tolist() == [-1 if c == "" else cells.index(c) for c in cells]
