"""The seven resource indicators, the 6-of-7/85% rule, exact thresholds and apportioning,
each against values computed by hand."""

from __future__ import annotations

import pytest

from conftest import GOOD_COUNTY, row, run_rows


def ind(report, i, name):
    return report["schools"][i]["indicators"][name]


def test_each_indicator_primary_by_hand(national):
    _, rep = run_rows(national, [row()], [GOOD_COUNTY])
    expect = {
        "teachers_above_degree_per100": (5.0, 4.2),
        "backbone_teachers_per100": (1.5, 1.0),
        "pe_art_teachers_per100": (1.2, 0.9),
        "teaching_area_per_student": (5.0, 4.5),
        "sports_area_per_student": (8.0, 7.5),
        "equipment_value_per_student": (2500.0, 2000.0),
        "multimedia_rooms_per100": (3.0, 2.3),
    }
    for name, (value, required) in expect.items():
        r = ind(rep, 0, name)
        assert r["value"] == pytest.approx(value, rel=1e-12), name
        assert r["required"] == required, name
        assert r["ratio"] == pytest.approx(value / required, rel=1e-10)
        assert r["met"] is True and r["status"] == "met"
    assert rep["schools"][0]["pass"] is True


def test_each_indicator_junior_by_hand(national):
    # 800 junior students: 44 teachers above degree → 5.5 per 100 (≥ 5.3); 4600 m² → 5.75 (< 5.8)
    r = row(school_code="J1", school_type="junior", stage="junior", students=800, teachers_above_degree=44,
            backbone_teachers=8, pe_art_teachers=8, teaching_area_m2=4600, sports_area_m2=8160,
            equipment_value_yuan=2000000, multimedia_rooms=20, max_class_size=48)
    _, rep = run_rows(national, [r], [GOOD_COUNTY])
    got = {k: (v["value"], v["required"], v["status"]) for k, v in rep["schools"][0]["indicators"].items()}
    assert got["teachers_above_degree_per100"] == (5.5, 5.3, "met")
    assert got["backbone_teachers_per100"] == (1.0, 1.0, "met")  # exactly at the requirement
    assert got["pe_art_teachers_per100"] == (1.0, 0.9, "met")
    assert got["teaching_area_per_student"] == (5.75, 5.8, "tolerated")  # 99.1% of 5.8, tolerated by the rule
    assert got["sports_area_per_student"] == (10.2, 10.2, "met")  # 8160 / 800 = 10.2 exactly
    assert got["equipment_value_per_student"] == (2500.0, 2500.0, "met")
    assert got["multimedia_rooms_per100"] == (2.5, 2.4, "met")
    assert rep["schools"][0]["indicators"]["teaching_area_per_student"]["met"] is False
    assert rep["schools"][0]["indicators"]["teaching_area_per_student"]["tolerated_by"] == "resource_school_pass"


def test_exact_threshold_21_teachers_for_500_students(national):
    # 21 / 500 × 100 is 4.2 exactly: at the threshold, so it meets it
    _, rep = run_rows(national, [row(students=500, teachers_above_degree=21, classes=12, teaching_area_m2=2500,
                                     sports_area_m2=4000, equipment_value_yuan=1000000, multimedia_rooms=15,
                                     backbone_teachers=5, pe_art_teachers=5)], [GOOD_COUNTY])
    r = ind(rep, 0, "teachers_above_degree_per100")
    assert r["value"] == 4.2
    assert r["met"] is True and r["status"] == "met"


def test_exact_threshold_where_floating_point_falls_short(national):
    # 9 PE/art teachers for 1000 pupils is 0.9 per 100 exactly; in binary floating point
    # 9 / 1000 × 100 is 0.8999999999999999, below 0.9 — it must still meet the requirement
    assert 9 / 1000 * 100 < 0.9
    _, rep = run_rows(national, [row(pe_art_teachers=9)], [GOOD_COUNTY])
    r = ind(rep, 0, "pe_art_teachers_per100")
    assert r["value"] == 0.9
    assert r["met"] is True and r["status"] == "met"


@pytest.mark.parametrize(
    ("area", "status", "passes"),
    [
        (3825, "tolerated", True),  # 3.825 / 4.5 = 85% exactly: tolerated
        (3824, "not_met", False),  # 84.98%: below 85%, the school fails the rule
        (4500, "met", True),  # exactly at the requirement
    ],
)
def test_85_percent_rule_at_and_just_under(national, area, status, passes):
    _, rep = run_rows(national, [row(teaching_area_m2=area)], [GOOD_COUNTY])
    r = ind(rep, 0, "teaching_area_per_student")
    assert r["status"] == status
    assert rep["schools"][0]["pass"] is passes
    assert rep["schools"][0]["status"] == ("met" if passes else "not_met")


def test_two_indicators_short_fails_even_above_85(national):
    # 6 of 7 must be met: two at 95% fails
    _, rep = run_rows(national, [row(teaching_area_m2=4275, sports_area_m2=7125)], [GOOD_COUNTY])
    assert ind(rep, 0, "teaching_area_per_student")["status"] == "not_met"
    assert ind(rep, 0, "sports_area_per_student")["status"] == "not_met"
    assert rep["schools"][0]["pass"] is False


def test_nine_year_school_two_stages(national):
    p = row(school_code="N1", school_type="nine_year", stage="primary", students=600, teachers_above_degree=27,
            backbone_teachers=6, pe_art_teachers=6, teaching_area_m2=2700, sports_area_m2=4500,
            equipment_value_yuan=1200000, multimedia_rooms=14, design_capacity=1500)
    j = row(school_code="N1", school_type="nine_year", stage="junior", students=400, teachers_above_degree=22,
            backbone_teachers=4, pe_art_teachers=4, teaching_area_m2=2400, sports_area_m2=4100,
            equipment_value_yuan=1000000, multimedia_rooms=10, max_class_size=50, design_capacity=1500)
    _, rep = run_rows(national, [p, j], [GOOD_COUNTY])
    prim, jun = rep["schools"]
    assert prim["stage"] == "primary" and jun["stage"] == "junior"
    # each stage against its own requirement: 27/600 = 4.5 ≥ 4.2 ; 22/400 = 5.5 ≥ 5.3
    assert ind(rep, 0, "teachers_above_degree_per100")["value"] == 4.5
    assert ind(rep, 0, "teachers_above_degree_per100")["required"] == 4.2
    assert ind(rep, 1, "teachers_above_degree_per100")["value"] == 5.5
    assert ind(rep, 1, "teachers_above_degree_per100")["required"] == 5.3
    # teaching area: 2700/600 = 4.5 (primary, met) ; 2400/400 = 6.0 (junior, met)
    assert ind(rep, 1, "teaching_area_per_student")["value"] == 6.0
    # the size limit is judged on the whole school: 1000 pupils ≤ 2500
    sc = rep["school_checks"][0]["checks"]["school_size"]
    assert sc["value"] == 1000 and sc["required"] == 2500 and sc["status"] == "met"


def test_apportioning_166_210(national):
    # a nine-year school reports its equipment once, on the primary row:
    # base = 23226 / (166 + 1.1 × 210) = 58.504…; primary 166 × base, junior 231 × base
    p = row(school_code="A1", school_type="nine_year", stage="primary", students=166, equipment_value_yuan=23226)
    j = row(school_code="A1", school_type="nine_year", stage="junior", students=210, equipment_value_yuan=None)
    _, rep = run_rows(national, [p, j], [GOOD_COUNTY])
    base = 23226 / (166 + 1.1 * 210)
    assert round(base, 2) == 58.50
    prim = ind(rep, 0, "equipment_value_per_student")["value"] * 166
    jun = ind(rep, 1, "equipment_value_per_student")["value"] * 210
    # 23226 × 166 / 397 = 9711.63 and 23226 × 231 / 397 = 13514.37 (published, rounded: 9,711 and 13,515)
    assert prim == pytest.approx(9711.627, abs=0.001)
    assert jun == pytest.approx(13514.373, abs=0.001)
    assert int(prim) == 9711 and abs(jun - 13515) < 1
    assert prim + jun == pytest.approx(23226)


def test_stage_figures_are_used_as_given_when_both_rows_filled(national):
    p = row(school_code="A2", school_type="nine_year", stage="primary", students=166, equipment_value_yuan=400000)
    j = row(school_code="A2", school_type="nine_year", stage="junior", students=210, equipment_value_yuan=630000)
    _, rep = run_rows(national, [p, j], [GOOD_COUNTY])
    assert ind(rep, 1, "equipment_value_per_student")["value"] == 3000.0
