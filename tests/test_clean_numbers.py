"""Report figures are rounded to 12 significant digits: binary noise goes, the figure stays.

Hand-made cases, then properties against Python's own decimal formatting
(``%.12g`` rounds the exact binary value; the report's rounding may differ from
it only on a tie in the 13th digit, by one unit of the 12th).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qbe.results.assemble import clean_array


def test_binary_noise_is_removed_and_clean_figures_stay():
    got = clean_array(np.array([4.199999999999999, 21 / 500 * 100, 0.1 + 0.2, 1759.0, -2.5e-7, 0.0, -0.0]), 7)
    assert got.tolist() == [4.2, 4.2, 0.3, 1759.0, -2.5e-7, 0.0, -0.0]
    assert math.copysign(1, got[-1]) == -1


def test_missing_and_infinite_become_nan_and_huge_or_tiny_stay():
    got = clean_array(np.array([np.nan, np.inf, -np.inf, 1.2345678901234567e40, 1.2345678901234567e-25, 1.2345678901234567e25]), 6)
    assert np.isnan(got[:3]).all()
    # a scale past 10^22 is not an exact double: such figures are left alone
    assert got[3] == 1.2345678901234567e40 and got[4] == 1.2345678901234567e-25
    assert got[5] == 1.23456789012e25  # scaled down by 10^14
    assert clean_array(None, 3).shape == (3,) and np.isnan(clean_array(None, 3)).all()
    assert clean_array(np.float64(0.30000000000000004), 2).tolist() == [0.3, 0.3]


def _twelve(v: float) -> float:
    return float(f"{v:.12g}")


figures = st.floats(min_value=1e-10, max_value=1e21, allow_nan=False) | st.floats(min_value=-1e21, max_value=-1e-10)


@settings(max_examples=500, deadline=None)
@given(st.lists(figures, min_size=1, max_size=50))
def test_rounding_is_to_twelve_digits(values):
    got = clean_array(np.array(values), len(values))
    for v, g in zip(values, got.tolist()):
        want = _twelve(v)
        if g != want:  # a tie in the 13th digit, rounded the other way: one unit of the 12th apart
            unit = 10.0 ** (math.floor(math.log10(abs(want))) - 11)
            assert abs(g - want) <= unit * 1.0000001, (v, g, want)


@settings(max_examples=500, deadline=None)
@given(st.lists(figures, min_size=1, max_size=50))
def test_a_figure_of_twelve_digits_is_kept_as_it_is(values):
    clean = [_twelve(v) for v in values]
    assert clean_array(np.array(clean), len(clean)).tolist() == clean


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(min_value=2.2250738585072014e-308, max_value=1.7976931348623157e308), min_size=1, max_size=50))
def test_the_decimal_exponent_puts_a_figure_between_two_powers_of_ten(values):
    from qbe.results.assemble import _DECADES, _decimal_exponent

    d = _decimal_exponent(np.array(values))
    for v, k in zip(values, d.tolist()):
        assert _DECADES[k + 330] <= v, (v, k)
        assert k + 331 >= _DECADES.size or v < _DECADES[k + 331], (v, k)


def test_the_decimal_exponent_at_the_edges_of_a_decade():
    from qbe.results.assemble import _decimal_exponent

    tens = np.array([1e-5, 1e-1, 1.0, 10.0, 1e11, 1e22, 1e300])
    assert _decimal_exponent(tens).tolist() == [-5, -1, 0, 1, 11, 22, 300]
    below = np.nextafter(tens, 0)
    assert _decimal_exponent(below).tolist() == [-6, -2, -1, 0, 10, 21, 299]
    assert _decimal_exponent(np.array([2.2250738585072014e-308, 1.7976931348623157e308])).tolist() == [-308, 308]


def test_a_checks_excess_in_the_column_layout_is_rounded_as_the_dicts_round_it():
    """``clean_array`` and ``_f`` part at ties in the 13th digit; the JSON's excess or shortfall of a
    check must be the dicts' (``_f``), so the column layout rounds it with ``round_exact``."""
    import json

    from qbe.results.assemble import _f, round_exact
    from qbe.results.fastjson import _check_parts, lay_out

    value = np.array([3.354509208245, 5.0])  # 3.35450920824|5: at a tie in the 13th digit
    required = np.array([0.0, 4.0])
    gap = value - required
    assert clean_array(gap, 2)[0] != _f(gap[0])  # the two roundings differ here
    assert round_exact(gap).tolist() == [_f(g) for g in gap.tolist()]
    a = {"value": value, "required": required, "ratio": np.array([np.nan, 1.25]), "codes": np.array([2, 2]),
         "op": "max", "reason": None, "grade": None}  # fmt: skip
    text = b"".join(bytes(b) for b in lay_out(_check_parts(a, 2), 0, 2)).decode()
    excess = [json.loads('{"value":' + line)["excess"] for line in text.splitlines()]
    assert excess == [_f(g) for g in gap.tolist()]


REQUIRED_RULESET = """
standard req-test {
    title "要求测试" version 2020
    stages { primary "小学" junior "初中" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
    rooms: count "教室数" unit "间" range 0..
    quota: count "定额" unit "间" range 0..
}
indicator by_stage "每百生教室" { value = rooms / students * 100 require primary >= 0.30000000000000004, junior >= 4.2 }
indicator one_for_all "教室" { value = rooms require >= 7.1 }
indicator from_figures "定额教室" { value = rooms require >= quota * 0.7 }
"""


def test_a_requirement_chosen_by_stage_is_rounded_as_every_other_figure():
    """The row columns round a stage's constant requirement once (``Evaluation._clean_choice``):
    bit for bit what rounding every row gives, for constants, for a requirement that is a
    formula of the row's figures, and for a row whose stage could not be read."""
    from qbe.data.table import RawSheet
    from qbe.data.validate import validate_sheet
    from qbe.language.parser import parse_text
    from qbe.pipeline import evaluate
    from qbe.semantics import check_ruleset

    model, diags = check_ruleset(parse_text(REQUIRED_RULESET, "req.qbe"))
    assert model is not None, [d.render("en") for d in diags]
    rows = [("A", "primary", 500, 3, 5), ("B", "junior", 700, 40, 7), ("C", "初中", 333, 9, 3), ("D", "幼儿园", 10, 1, 1)]
    raw = RawSheet("s.csv", ["county_code", "school_code", "school_type", "stage", "students", "rooms", "quota"],
                   [["1", c, "primary", s, str(n), str(r), str(q)] for c, s, n, r, q in rows], [2, 3, 4, 5])
    table, issues = validate_sheet(raw, model.row_schema(), key=("school_code", "stage"))
    ev = evaluate(model, table, None, issues)
    required = {ind["name"]: ind["required"] for ind in ev.row_columns()["indicators"]}
    for d in model.indicators():
        o = ev.decl(d.name)
        want = clean_array(ev.arr(o.required, "row"), ev.frame.n)
        assert required[d.name].view(np.int64).tolist() == want.view(np.int64).tolist(), d.name
    assert required["by_stage"][:3].tolist() == [0.3, 4.2, 4.2]
    assert np.isnan(required["by_stage"][3])  # no stage read: no requirement
    assert required["one_for_all"].tolist() == [7.1] * 4
    assert required["from_figures"][:3].tolist() == [3.5, 4.9, 2.1]  # 7 × 0.7 is 4.8999999999999995 in binary
