"""County findings worded a column at a time: checked by hand on two small counties.

The findings are made for every county at once (rows, schools and county
items as columns, then sorted into each county's report order). These tests
build two counties whose findings can be written down from the inputs alone,
and check each county gets exactly its own, in report order: its rows' (row
order; within a row its indicators, data errors, then checks), its schools',
its CVs', then its county items'. The helpers that write many numbers at once
are checked against the one-number functions they stand in for.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, layout, row, run_rows
from qbe.results import arrow_layout
from qbe.results.assemble import _f, f_list
from qbe.results.findings import _num_texts, _percents, findings_lists, num, pct_floor

A = {"county_code": "990001", "county_name": "甲县"}
B = {"county_code": "990002", "county_name": "乙县"}
RULE = "每所学校至少6项指标达到要求，余项不低于要求的85%"


def junior(**over) -> dict:
    """A junior-stage school meeting every junior requirement (5.3 teachers, 5.8 m², 10.2 m² per pupil)."""
    r = row(**A, school_type="junior", stage="junior", teachers_above_degree=60, teaching_area_m2=6000,
            sports_area_m2=11000, max_class_size=45)
    r.update(over)
    return r


ROWS = [
    # 4.0 m² per pupil of 4.5: 88%, the other six met, so the 85% rule tolerates it
    row(**A, school_code="A1", school_name="甲一小学", teaching_area_m2=4000),
    # a cell that is not a number: the row cannot be assessed, nor county B's primary CVs and school-check items
    row(**B, school_code="B1", school_name="乙一小学", multimedia_rooms="abc"),
    # 6.0 m² of 7.5: 80%, below 85%, so the rule fails; and a class of 46 (limit 45)
    row(**A, school_code="A2", school_name="甲二小学", sports_area_m2=6000, max_class_size=46),
    row(**A, school_code="A3", school_name="甲三小学", max_class_size=48),
    # 3% of the public funds for training, 5% required: 0.02 short
    row(**B, school_code="B2", school_name="乙二小学", training_spend_share=0.03),
    # 2400 pupils (limit 2000) within a design capacity of 2500; every per-pupil figure as the others'
    row(**A, school_code="A4", school_name="甲四小学", students=2400, teachers_above_degree=120, backbone_teachers=36,
        pe_art_teachers=29, teaching_area_m2=12000, sports_area_m2=19200, equipment_value_yuan=6_000_000,
        multimedia_rooms=72, design_capacity=2500),
    # equipment 3000 and 9000 yuan per pupil, 1000 pupils each: CV = 6000 / 12000 = 0.5 > 0.45
    junior(school_code="J1", school_name="甲一中学", equipment_value_yuan=3_000_000),
    junior(school_code="J2", school_name="甲二中学", equipment_value_yuan=9_000_000),
]
COUNTIES = [
    dict(GOOD_COUNTY, **A, special_ed_funding_per_student=5000, exam_based_admission="是"),
    dict(GOOD_COUNTY, **B),
]

#: the seven resource indicators, in the order of the CV declaration
INDICATORS = {
    "teachers_above_degree_per100": "每百名学生拥有高于规定学历教师数",
    "backbone_teachers_per100": "每百名学生拥有县级及以上骨干教师数",
    "pe_art_teachers_per100": "每百名学生拥有体育、艺术（美术、音乐）专任教师数",
    "teaching_area_per_student": "生均教学及辅助用房面积",
    "sports_area_per_student": "生均体育运动场馆面积",
    "equipment_value_per_student": "生均教学仪器设备值",
    "multimedia_rooms_per100": "每百名学生拥有网络多媒体教室数",
}


#: county A's findings, in report order
COUNTY_A = [
    ("indicator",
     f"甲一小学（小学）生均教学及辅助用房面积 4 m²/生，为要求（4.5）的88%，未100%达标，但符合“{RULE}”条件",
     "甲一小学 (primary) teaching_area_per_student 4 m²/生, 88% of the requirement (4.5): not fully met, "
     "but within the rule 'resource_school_pass'"),
    ("indicator",
     f"甲二小学（小学）生均体育运动场馆面积 6 m²/生，为要求（7.5）的80%，未达标，不符合“{RULE}”条件",
     "甲二小学 (primary) sports_area_per_student 6 m²/生, 80% of the requirement (7.5): not met, "
     "and the rule 'resource_school_pass' is not satisfied"),
    # the same row's check after its indicator
    ("check", "甲二小学（小学）班额 46人，超过指标1人（要求不超过45人）", "甲二小学 (primary) class_size 46, 1 over the limit of 45"),
    ("check", "甲三小学（小学）班额 48人，超过指标3人（要求不超过45人）", "甲三小学 (primary) class_size 48, 3 over the limit of 45"),
    # a school check, with the unjudged check about the same figures beside it
    ("check", "甲四小学办学规模 2400人，超过指标400人（要求不超过2000人）（在校生数未超过学校设计规模）",
     "甲四小学 school_size 2400, 400 over the limit of 2000; within_design_capacity: met"),
    ("balance", "初中“生均教学仪器设备值”校际差异系数 0.500，超过 0.45",
     "junior secondary equipment_value_per_student: CV 0.500 exceeds 0.45"),
    # county items in declaration order: two that fail through the schools, one with figures, one veto
    ("item", "政府保障程度“学校规模：小学、初中不超过2000人，九年一贯制、十二年一贯制不超过2500人”未达标", "guarantee_04: not met"),
    ("item", "政府保障程度“班额：小学不超过45人，初中不超过50人”未达标", "guarantee_05: not met"),
    ("item", "政府保障程度“特殊教育学校生均公用经费不低于6000元”未达标（5000元/生·年，要求 6000元/生·年）",
     "guarantee_07: not met"),
    ("item", "一票否决：以考试方式招生", "veto: veto_exam_admission applies"),
]


@pytest.fixture(scope="module")
def report(national):
    ev, rep = run_rows(national, ROWS, COUNTIES, allow_errors=True)
    return ev, {c["county_code"]: c for c in rep["counties"]}


def texts(county: dict) -> list[tuple[str, str, str]]:
    return [(f["kind"], f["text_zh"], f["text_en"]) for f in county["findings"]]


def test_county_a_in_report_order(report):
    _, by_code = report
    assert texts(by_code["990001"]) == COUNTY_A


@pytest.mark.parametrize("which", ["numpy", "arrow"])
def test_findings_are_put_in_report_order_in_either_layout(national, report, which):
    """The findings are laid out a kind at a time for every county at once (in either row layout)
    and then put in report order; the rows above interleave the two counties."""
    if which == "arrow" and arrow_layout.arrow() is None:
        pytest.skip("the Arrow layout needs pyarrow (qbe[fast])")
    with layout(which):
        _, rep = run_rows(national, ROWS, COUNTIES, allow_errors=True)
    _, want = report
    assert texts(rep["counties"][0]) == COUNTY_A
    assert rep["counties"][1]["findings"] == want["990002"]["findings"]


def test_county_b_only_its_own(report):
    _, by_code = report
    expected = [
        ("data", "乙一小学（小学）数据有误，未能评估（1 处）", "乙一小学 (primary): data errors, not assessed (1)"),
        ("check", "乙二小学学校年度公用经费预算总额的5%以上用于教师培训 0.03，低于要求0.02（要求不低于0.05）",
         "乙二小学 training_spend 0.03, 0.02 below the requirement of 0.05"),
    ]
    expected += [
        ("balance", f"小学“{label}”校际差异系数无法计算（均值为0或数据缺失），未评估",
         f"primary {name}: CV cannot be computed (mean 0 or missing data), not assessed")
        for name, label in INDICATORS.items()
    ]
    # the unreadable row leaves B's school-check items without a verdict; B2's training share fails quality_04
    expected += [
        ("item", "政府保障程度“每12个班级配备音乐、美术专用教室1间以上，每间面积分别不小于96、90平方米”未评估（无数据）",
         "guarantee_03: not assessed (no data)"),
        ("item", "政府保障程度“学校规模：小学、初中不超过2000人，九年一贯制、十二年一贯制不超过2500人”未评估（无数据）",
         "guarantee_04: not assessed (no data)"),
        ("item", "政府保障程度“班额：小学不超过45人，初中不超过50人”未评估（无数据）", "guarantee_05: not assessed (no data)"),
        ("item", "政府保障程度“村小学和教学点不足100名学生的按100名学生核定公用经费”未评估（无数据）",
         "guarantee_06: not assessed (no data)"),
        ("item", "教育质量“所有学校按照不低于学校年度公用经费预算总额的5%安排教师培训经费”未达标", "quality_04: not met"),
    ]
    assert texts(by_code["990002"]) == expected
    codes = {f.get("school_code") for f in by_code["990002"]["findings"]} - {None}
    assert codes == {"B1", "B2"}


def test_finding_fields(report):
    _, by_code = report
    a, b = by_code["990001"]["findings"], by_code["990002"]["findings"]
    tolerated = a[0]
    assert list(tolerated) == ["kind", "item", "label", "status", "school_code", "school_name", "stage", "value",
                               "required", "ratio", "rule", "text_zh", "text_en"]
    assert {k: tolerated[k] for k in list(tolerated)[:11]} == {
        "kind": "indicator", "item": "teaching_area_per_student", "label": "生均教学及辅助用房面积", "status": "tolerated",
        "school_code": "A1", "school_name": "甲一小学", "stage": "primary", "value": 4.0, "required": 4.5,
        "ratio": 0.888888888889,  # 4 / 4.5 to 12 significant digits
        "rule": "resource_school_pass",
    }
    assert a[1]["status"] == "not_met" and a[1]["ratio"] == 0.8
    row_check = a[2]
    assert list(row_check) == ["kind", "item", "label", "status", "school_code", "school_name", "stage", "value",
                               "required", "ratio", "excess", "text_zh", "text_en"]
    assert (row_check["item"], row_check["label"], row_check["stage"], row_check["value"], row_check["required"],
            row_check["excess"]) == ("class_size", "班额", "primary", 46.0, 45.0, 1.0)
    school_check = a[4]
    assert (school_check["item"], school_check["school_code"], school_check["school_name"], school_check["stage"],
            school_check["value"], school_check["required"], school_check["ratio"], school_check["excess"]) == (
        "school_size", "A4", "甲四小学", None, 2400.0, 2000.0, 1.2, 400.0)
    cv = a[5]
    assert cv == {"kind": "balance", "item": "equipment_value_per_student", "label": "生均教学仪器设备值",
                  "status": "not_met", "stage": "junior", "value": 0.5, "required": 0.45,
                  "text_zh": cv["text_zh"], "text_en": cv["text_en"]}
    item = a[8]
    assert list(item) == ["kind", "item", "label", "status", "value", "required", "text_zh", "text_en"]
    assert (item["item"], item["status"], item["value"], item["required"]) == ("guarantee_07", "not_met", 5000.0, 6000.0)
    data = b[0]
    assert list(data) == ["kind", "item", "label", "status", "school_code", "school_name", "stage", "text_zh", "text_en"]
    assert (data["item"], data["label"], data["status"], data["school_code"]) == ("row", "数据有误", "not_assessed", "B1")
    # a shortfall under a minimum: no excess
    assert (b[1]["value"], b[1]["required"], b[1]["excess"], b[1]["stage"]) == (0.03, 0.05, None, None)
    assert b[2]["value"] is None and b[2]["required"] == 0.5  # a CV that cannot be computed


def test_each_report_has_its_own_findings(report):
    ev, by_code = report
    again = {c["county_code"]: c for c in ev.to_dict(include_rows=False)["counties"]}
    for code, c in by_code.items():
        assert again[code]["findings"] == c["findings"]
        # new dicts for a new report: a writer changing one report's findings leaves the other's alone
        assert all(x is not y for x, y in zip(again[code]["findings"], c["findings"]))
    # a county's findings asked for directly are the report's
    codes = [str(x) for x in ev.frame.county_codes.tolist()]
    assert findings_lists(ev)[codes.index("990002")] == by_code["990002"]["findings"]


def test_a_county_with_no_shortfall_has_no_findings(national):
    good = row(**A, school_code="A1", school_name="甲一小学")
    _, rep = run_rows(national, [good, row(**B, school_code="B1", school_name="乙一小学", max_class_size=47)],
                      [dict(GOOD_COUNTY, **A), dict(GOOD_COUNTY, **B)])
    by_code = {c["county_code"]: c for c in rep["counties"]}
    assert by_code["990001"]["findings"] == []
    assert [f["item"] for f in by_code["990002"]["findings"]] == ["class_size", "guarantee_05"]


def test_pct_floor_rounds_down():
    assert pct_floor(0.85) == 85  # 0.85 * 100 is 84.99999999999999 in floating point
    assert pct_floor(0.8499) == 84
    assert pct_floor(0.996) == 99
    assert pct_floor(1.0) == 100


# ------------------------------------------------------------------------------ many numbers at once

EDGES = [0.0, -0.0, 1.0, 2.5, -2.5, 1 - 1e-10, 1 + 1e-10, 1 + 2e-9, 99.99, 99.9999999999, 100.0, 100.05, 0.01, 0.00999,
         0.0099999999, 0.004, 1e-12, 5e-324, 123456.789, -0.015, 2.0**53, 2.0**62, 2.0**63, 1e19, 1e300, 0.125, 0.0005]
finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(finite, st.sampled_from(EDGES), st.just(math.nan),
                    st.floats(min_value=-200, max_value=200, allow_nan=False),
                    st.integers(min_value=-10**6, max_value=10**6).map(lambda n: n + 0.0005 * (n % 7)))


@settings(max_examples=300, deadline=None)
@given(st.lists(numbers, max_size=40))
def test_num_texts_are_num(xs):
    assert _num_texts(np.array(xs, dtype=np.float64)) == [num(None if x != x else x) for x in xs]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.just(math.nan),
                          st.sampled_from([0.85, 0.8499999, 0.9999999999, 1.0, 0.0, -0.0, 0.29, 0.57])), max_size=40))
def test_percents_are_pct_floor(rs):
    texts, which = _percents(np.array(rs, dtype=np.float64))
    assert [texts[i] for i in which.tolist()] == ["None" if r != r else str(pct_floor(r)) for r in rs]


#: Figures with 13 significant digits ending in 5: a tie at the 12th digit in decimal, which
#: the binary value rounds one way or the other.
ties = st.builds(lambda m, e: float(f"{m * 10 + 5}e{e}"), st.integers(10**11, 10**12 - 1), st.integers(-25, 15))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(finite, st.just(math.nan), st.integers(min_value=-10**13, max_value=10**13).map(float),
                          st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), ties, st.just(-0.0),
                          st.just(math.inf)), max_size=40))
def test_f_list_is_f(xs):
    got = f_list(np.array(xs, dtype=np.float64))
    want = [_f(x) for x in xs]
    assert got == want
    assert [math.copysign(1, g) if g == 0 else None for g in got] == [math.copysign(1, w) if w == 0 else None for w in want]
