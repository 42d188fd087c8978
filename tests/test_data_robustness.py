"""Any table yields a result or located data errors — never another exception.

Hypothesis builds sheets from the national-2017 headers (some dropped, some
doubled, some unknown) filled with junk: empty cells, 'NaN', 'inf', huge and
negative numbers, percentages, Chinese text, yes/no words. Validation, the
evaluation and every built-in writer must cope.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, GOOD_PRIMARY
from qbe.data.table import RawSheet
from qbe.data.validate import validate_sheet
from qbe.pipeline import evaluate
from qbe.plugins import get_plugin_manager, registry

JUNK = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "NaN", "nan", "inf", "-inf", "1e308", "-5", "0", "是", "否", "yes", "95%", "1,234", "—",
                     "primary", "小学", "初中", "nine_year", "九年一贯制", "teaching_point", "2661", "0.85", "abc", "１２"]),
    st.integers(-10, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
HEADERS = list(GOOD_PRIMARY)
WRITERS = None


def writers():
    global WRITERS
    if WRITERS is None:
        WRITERS = registry(get_plugin_manager(load_entry_points=False)).writers
    return WRITERS


@st.composite
def sheet(draw):
    headers = [h for h in HEADERS if draw(st.booleans()) or h in ("county_code", "school_code", "stage")]
    if draw(st.booleans()):
        headers.append(draw(st.sampled_from(["备注", "students", ""])))
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        row = []
        for h in headers:
            good = GOOD_PRIMARY.get(h)
            row.append(draw(st.one_of(st.just(good), JUNK)) if h else draw(JUNK))
        rows.append(row)
    return RawSheet("junk.csv", headers, rows, list(range(2, n + 2)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sheet(), st.booleans())
def test_any_table_gives_a_result_or_located_errors(national, raw, with_counties):
    table, issues = validate_sheet(raw, national.row_schema(), key=("school_code", "stage"))
    for i in issues:
        assert i.code and i.message_zh and i.message_en and i.source == "junk.csv"
        assert i.row is None or i.row in raw.row_numbers
        i.render("zh")
    counties = None
    if with_counties:
        counties, _ = validate_sheet(RawSheet("c.csv", list(GOOD_COUNTY), [[str(v) for v in GOOD_COUNTY.values()]], [2]),
                                     national.county_schema(), key=("county_code",))
    ev = evaluate(national, table, counties, issues)
    report = ev.to_dict()
    assert len(report["schools"]) == len(raw.rows)  # nothing dropped
    for fmt in ("json", "markdown", "terminal", "html", "xlsx"):
        if fmt not in writers():
            continue
        out = writers()[fmt][1].render(ev, report, "zh")
        if not isinstance(out, (str, bytes)):
            out = "".join(out)
        if fmt == "json":
            assert len(json.loads(out)["schools"]) == len(raw.rows)
