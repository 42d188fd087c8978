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
