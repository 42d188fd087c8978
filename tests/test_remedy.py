"""整改清单: the amount that would meet each unmet indicator and what raising the lowest schools does to a CV,
each against hand computation, and held to qbe's own comparison with hypothesis."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, row, run_rows
from qbe.pipeline import evaluate, load_model
from qbe.results.remedy import balance_remedy, solve_amounts
from qbe.results.schema import SCHEMA_VERSION, Report


def ind(rep, i, name):
    return rep["schools"][i]["indicators"][name]


#: a 500-pupil primary row that meets everything except where a test says otherwise
SMALL = dict(students=500, classes=12, teachers_above_degree=25, backbone_teachers=5, pe_art_teachers=5,
             teaching_area_m2=2500, sports_area_m2=4000, equipment_value_yuan=1000000, multimedia_rooms=15)


def test_20_teachers_for_500_need_exactly_one_more(national):
    # 0.042 × 500 is 21.000000000000004 in binary; 21 / 500 × 100 is exactly 4.2, which meets ≥ 4.2.
    # Two shortfalls (teachers and area) so the 6-of-7 rule cannot tolerate either.
    _, rep = run_rows(national, [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000})], [GOOD_COUNTY])
    t = ind(rep, 0, "teachers_above_degree_per100")
    assert t["status"] == "not_met"
    assert t["remedy"] == {"input": "teachers_above_degree", "amount": 1.0}
    assert list(t)[-1] == "remedy"
    # area is not a count: 500 × 4.5 − 2000 = 250 m², and with a fraction it stays a fraction
    assert ind(rep, 0, "teaching_area_per_student")["remedy"] == {"input": "teaching_area_m2", "amount": 250.0}
    _, rep = run_rows(national, [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000.5})], [GOOD_COUNTY])
    assert ind(rep, 0, "teaching_area_per_student")["remedy"]["amount"] == 249.5


def test_counts_round_up_per_stage(national):
    # junior 800 pupils, 40 teachers: 5.3 × 8 = 42.4 → 43 → +3; backbone 2 of 1 × 8 → +6
    r = row(school_code="J1", school_type="junior", stage="junior", **{**SMALL, "students": 800, "teachers_above_degree": 40,
            "backbone_teachers": 2, "teaching_area_m2": 5000, "sports_area_m2": 9000, "equipment_value_yuan": 2400000,
            "multimedia_rooms": 20, "pe_art_teachers": 8})
    _, rep = run_rows(national, [r], [GOOD_COUNTY])
    assert ind(rep, 0, "teachers_above_degree_per100")["remedy"] == {"input": "teachers_above_degree", "amount": 3.0}
    assert ind(rep, 0, "backbone_teachers_per100")["remedy"] == {"input": "backbone_teachers", "amount": 6.0}
    # met and tolerated indicators carry no remedy
    assert "remedy" not in ind(rep, 0, "pe_art_teachers_per100")
    # 2400000 / 800 = 3000 < 2500? no: met; 9000 / 800 = 11.25 ≥ 10.2: met
    assert "remedy" not in ind(rep, 0, "equipment_value_per_student")


def test_apportioned_area_is_added_to_the_school_figure(national):
    # nine-year school, area filled once on the primary row: T = 3000 m² shared 600 : 400 × 1.1.
    # primary gets T·600/1040 for 600 pupils → T/1040 ≥ 4.5 needs T = 4680 → +1680
    # junior gets T·440/1040 for 400 pupils → 1.1·T/1040 ≥ 5.8 needs T = 5483.6363… → +2483.6363…
    p = row(school_code="N1", school_type="nine_year", stage="primary", **{**SMALL, "students": 600,
            "teachers_above_degree": 30, "backbone_teachers": 6, "pe_art_teachers": 6, "teaching_area_m2": 3000,
            "sports_area_m2": 10000, "equipment_value_yuan": 3000000, "multimedia_rooms": 30, "design_capacity": 1500})
    j = row(school_code="N1", school_type="nine_year", stage="junior", **{**SMALL, "students": 400,
            "teachers_above_degree": 22, "backbone_teachers": 4, "pe_art_teachers": 4, "teaching_area_m2": None,
            "sports_area_m2": None, "equipment_value_yuan": None, "multimedia_rooms": None, "max_class_size": 44,
            "design_capacity": 1500})
    _, rep = run_rows(national, [p, j], [GOOD_COUNTY])
    a0, a1 = ind(rep, 0, "teaching_area_per_student"), ind(rep, 1, "teaching_area_per_student")
    assert a0["status"] == a1["status"] == "not_met"
    assert a0["remedy"]["input"] == "teaching_area_m2"
    assert a0["remedy"]["amount"] == pytest.approx(1680, rel=1e-11)
    assert a1["remedy"]["amount"] == pytest.approx(5.8 * 400 * 1040 / 440 - 3000, rel=1e-11)


RULESET = """standard rm-1 { version 2020 stages { primary "小学" junior "初中" } }
inputs row {
    students: count "在校生数" unit "人" range 1..
    teachers: count "教师数"   unit "人" range 0..
    area:     area  "面积"     unit "m²" range 0..
    rented:   area  "租用面积" unit "m²" range 0..
    classes:  count "班级数"   unit "个" range 1..
}
indicator floor100 "按不少于100人核定" { value = teachers / max(students, 100) * 100  require >= 5 }
indicator squared  "非线性"           { value = teachers * teachers / students       require >= 1 }
indicator size     "平均班额"         { value = students / classes                    require <= 45 }
indicator both     "两项合计"         { value = (area + rented) / students            require >= 3 }
"""


def _run_text(tmp_path, rows):
    from conftest import tables

    p = tmp_path / "rm.qbe"
    p.write_text(RULESET, encoding="utf-8")
    m = load_model(str(p))
    base = {"county_code": "1", "school_type": "primary", "stage": "primary"}
    t, c, issues = tables(m, [{**base, "school_code": f"S{i}", **r} for i, r in enumerate(rows)])
    ev = evaluate(m, t, c, issues)
    return ev, ev.to_dict()


def test_linear_nonlinear_and_reduce_only(tmp_path):
    # 40 pupils, 1 teacher, 50 m², 1 class of 40 … and 2 classes of 100 each for the size case
    ev, rep = _run_text(tmp_path, [dict(students=40, teachers=1, area=50, rented=1, classes=1),
                                   dict(students=200, teachers=1, area=100, rented=0, classes=2)])
    a, b = rep["schools"]
    # max(40, 100) = 100: 1 / 100 × 100 = 1 < 5 → +4 teachers (the floor, not the 40 pupils, divides)
    assert a["indicators"]["floor100"]["remedy"] == {"input": "teachers", "amount": 4.0}
    # teachers² / students: not linear in any input → not derivable
    assert a["indicators"]["squared"]["remedy"] == {"input": None, "amount": None}
    # 200 / 2 = 100 > 45: more pupils only makes it worse, classes divide → not derivable
    assert b["indicators"]["size"]["status"] == "not_met"
    assert b["indicators"]["size"]["remedy"] == {"input": None, "amount": None}
    # (area + rented) / students ≥ 3 is linear in both; the first input read (area) is named:
    # 40 × 3 − 51 = 69 m²
    assert a["indicators"]["both"]["remedy"] == {"input": "area", "amount": 69.0}
    assert "remedy" not in a["indicators"]["size"]  # 40 / 1 ≤ 45: met


def test_row_columns_interface_and_schema(national):
    rows = [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000}), row(school_code="S2", **SMALL)]
    ev, rep = run_rows(national, rows, [GOOD_COUNTY])
    assert rep["schema_version"] == SCHEMA_VERSION == "1.2"
    Report.model_validate(rep)
    inds = {x["name"]: x for x in ev.row_columns()["indicators"]}
    r = inds["teachers_above_degree_per100"]["remedy"]
    assert r["input"] == "teachers_above_degree"
    assert r["amount"].dtype == np.float64 and len(r["amount"]) == 2
    assert r["amount"][0] == 1.0 and math.isnan(r["amount"][1])
    assert inds["multimedia_rooms_per100"]["remedy"] is None  # no row short of it
    # the row object is what json.dumps writes; the remedy key comes last
    text = json.dumps(ev.row(0), ensure_ascii=False)
    assert '"status": "not_met", "remedy": {"input": "teachers_above_degree", "amount": 1.0}}' in text


def test_the_findings_do_not_work_out_remedies(national):
    """Remedies are shown in the row array only; the findings (made by the other process of a large
    JSON report) read the row columns without them, and asking for the row columns adds them."""
    from qbe.results.assemble import Evaluation
    from qbe.results.findings import findings_json

    rows = [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000}), row(school_code="S2", **SMALL)]
    ev, _ = run_rows(national, rows, [GOOD_COUNTY])
    fresh = Evaluation(ev.plan, ev.frame, ev.values, ev.issues)
    findings_json(fresh)
    assert fresh.notable_rows().tolist() == [0]
    base = fresh.row_columns_base()
    assert all("remedy" not in ind for ind in base["indicators"])
    full = fresh.row_columns()
    assert full is base and all(list(ind)[-1] == "remedy" for ind in full["indicators"])
    assert full["indicators"][0]["remedy"]["amount"][0] == 1.0  # 20 → 21 teachers for 500 pupils


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(students=st.integers(1, 4000), share=st.floats(0, 0.999), junior=st.booleans())
def test_count_amount_meets_and_one_less_does_not(national, students, share, junior):
    # rerun the whole evaluation with the input raised by the amount, and by one less
    need = 5.3 if junior else 4.2
    have = int(share * need * students / 100)
    stage = dict(school_code="H1", school_type="junior", stage="junior") if junior else {}
    base = {**SMALL, **stage, "students": students, "backbone_teachers": 0, "teachers_above_degree": have}

    def judged(teachers):
        _, rep = run_rows(national, [row(**{**base, "teachers_above_degree": teachers})], [GOOD_COUNTY])
        return ind(rep, 0, "teachers_above_degree_per100")

    first = judged(have)
    if first["met"]:
        return
    amount = first["remedy"]["amount"]
    assert amount == int(amount) and amount >= 1
    assert judged(have + int(amount))["met"] is True
    assert judged(have + int(amount) - 1)["met"] is False
    # by hand with exact fractions: the smallest whole number of teachers reaching need per hundred
    from fractions import Fraction

    want = math.ceil(Fraction(str(need)) * students / 100) - have
    assert amount == want


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(area=st.decimals(0, 4000, places=2), students=st.integers(200, 900))
def test_area_amount_is_exact_and_meets(national, area, students):
    # teaching area is not a count: the amount is students × 4.5 − area exactly, and it meets the requirement
    base = {**SMALL, "students": students, "backbone_teachers": 0, "teaching_area_m2": float(area),
            "sports_area_m2": students * 8, "equipment_value_yuan": students * 2500, "multimedia_rooms": students,
            "teachers_above_degree": students, "pe_art_teachers": students}

    def judged(a):
        _, rep = run_rows(national, [row(**{**base, "teaching_area_m2": a})], [GOOD_COUNTY])
        return ind(rep, 0, "teaching_area_per_student")

    first = judged(float(area))
    if first["met"]:
        assert float(area) >= students * 4.5 * (1 - 1e-9)
        return
    amount = first["remedy"]["amount"]
    assert amount == pytest.approx(students * 4.5 - float(area), rel=1e-11, abs=1e-9)
    assert judged(float(area) + amount)["met"] is True
    assert judged(float(area) + amount - 0.01)["met"] is False


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p_students=st.integers(100, 900), j_students=st.integers(100, 900), rooms=st.integers(0, 20))
def test_apportioned_count_meets_and_one_less_does_not(national, p_students, j_students, rooms):
    # multimedia rooms reported once for a nine-year school and apportioned 1 : 1.1: the amount is added to that
    # one figure; after adding it this stage meets ≥ 2.3 (primary) per hundred, one room less it does not
    common = {**SMALL, "school_code": "N9", "school_type": "nine_year", "backbone_teachers": 0,
              "design_capacity": 5000}
    big = dict(teachers_above_degree=100, pe_art_teachers=100, teaching_area_m2=10000, sports_area_m2=20000,
               equipment_value_yuan=5_000_000)

    def judged(n):
        p = row(**{**common, **big, "stage": "primary", "students": p_students, "multimedia_rooms": n})
        j = row(**{**common, **big, "stage": "junior", "students": j_students, "multimedia_rooms": None,
                   "teaching_area_m2": None, "sports_area_m2": None, "equipment_value_yuan": None,
                   "max_class_size": 40})
        _, rep = run_rows(national, [p, j], [GOOD_COUNTY])
        return ind(rep, 0, "multimedia_rooms_per100"), ind(rep, 1, "multimedia_rooms_per100")

    prim, jun = judged(rooms)
    for k_, res in ((0, prim), (1, jun)):
        if res["met"]:
            continue
        amount = res["remedy"]["amount"]
        assert res["remedy"]["input"] == "multimedia_rooms" and amount == int(amount) and amount >= 1
        assert judged(rooms + int(amount))[k_]["met"] is True
        assert judged(rooms + int(amount) - 1)[k_]["met"] is False


@given(value=st.floats(0, 1e6), req=st.floats(0.01, 1e6), slope=st.floats(1e-4, 1e3),
       whole=st.booleans(), op=st.sampled_from([">=", ">"]))
def test_solve_amounts_is_the_smallest_by_the_comparison(value, req, slope, whole, op):
    from qbe.compiler import kernels as k

    ops = np.array([op], dtype=object)
    amt = solve_amounts(ops, np.array([value]), np.array([slope]), np.array([req]), whole)[0]
    met_now = k.compare(op, value, req) == k.MET
    if met_now:
        assert math.isnan(amt)
        return
    assert amt > 0
    assert k.compare(op, value + slope * amt, req) == k.MET
    if whole:
        assert amt == int(amt)
        assert amt == 1 or k.compare(op, value + slope * (amt - 1), req) != k.MET
    else:
        # continuous: the exact amount (req − value) / slope; for '>' just past the slack above req
        edge = req + (2 * k.tol(req) if op == ">" else 0.0)
        assert amt <= (edge - value) / slope * (1 + 1e-12) + 1e-12


def test_decrease_needed_is_not_derivable():
    # value ≤ requirement with a positive slope: only a reduction would help
    amt = solve_amounts(np.array(["<="], dtype=object), np.array([50.0]), np.array([0.5]), np.array([45.0]), True)
    assert math.isnan(amt[0])
    # with a negative slope an increase helps: 50 − 0.5 Δ ≤ 45 → Δ = 10
    amt = solve_amounts(np.array(["<="], dtype=object), np.array([50.0]), np.array([-0.5]), np.array([45.0]), True)
    assert amt[0] == 10


def _cv(xs, ws):
    """Reference: the weighted CV, written out plainly."""
    sw = sum(ws)
    m = sum(w * x for x, w in zip(xs, ws)) / sw
    return math.sqrt(sum(w * (x - m) ** 2 for x, w in zip(xs, ws)) / sw) / m


def test_cv_contributors_and_raising_by_hand(national):
    # two primary schools: 20/500 teachers → 4.0, 10/800 → 1.25 per hundred
    rows = [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000}),
            row(school_code="S2", school_name="二小", **{**SMALL, "students": 800, "teachers_above_degree": 10,
                "teaching_area_m2": 4000, "sports_area_m2": 6400, "equipment_value_yuan": 1600000,
                "multimedia_rooms": 24, "backbone_teachers": 8, "pe_art_teachers": 8})]
    _, rep = run_rows(national, rows, [GOOD_COUNTY])
    b = rep["counties"][0]["balance"]["primary"]["teachers_above_degree_per100"]
    # mean (2000 + 1000) / 1300 = 30/13; shares 500·(4 − 30/13)² : 800·(1.25 − 30/13)² = 8 : 5
    assert b["status"] == "not_met" and b["mean"] == pytest.approx(30 / 13)
    r = b["remedy"]
    assert [c["school_code"] for c in r["contributors"]] == ["S001", "S2"]
    assert r["contributors"][0]["share"] == pytest.approx(8 / 13, rel=1e-10)
    assert r["contributors"][1]["share"] == pytest.approx(5 / 13, rel=1e-10)
    assert r["below_mean"] == 1
    raised = _cv([4.0, 30 / 13], [500, 800])
    assert r["cv_if_raised"] == pytest.approx(raised, rel=1e-10) and raised < 0.5
    assert r["raise_lowest"] == 1 and r["cv_after"] == pytest.approx(raised, rel=1e-10)
    # a CV within its limit has no remedy
    assert "remedy" not in rep["counties"][0]["balance"]["primary"]["pe_art_teachers_per100"]


def test_raise_lowest_finds_the_fewest_and_says_when_not_enough():
    xs = [1.0, 2.0, 3.0, 10.0, 10.0, 10.0, 1.0, 1.0, 20.0]
    ws = [1.0] * 9
    codes = np.array([0] * 6 + [1] * 3)
    means = [sum(xs[:6]) / 6, sum(xs[6:]) / 3]
    lim = np.array([0.3, 0.5])
    br = balance_remedy(np.array(xs), np.array(ws), np.ones(9, dtype=bool), codes, 2, np.array(means), lim,
                        np.array(["<=", "<="], dtype=object))
    # group 0, mean 6: raise 1 → [6,2,3,10,10,10], raise 1,2 → [6,6,3,…], raise all three → [6,6,6,10,10,10]
    by_hand = []
    for k_ in (1, 2, 3):
        v = [means[0] if i < k_ else x for i, x in enumerate(xs[:6])]
        by_hand.append(_cv(v, [1.0] * 6))
    fewest = next(k_ + 1 for k_, c in enumerate(by_hand) if c <= 0.3)
    assert br.raise_lowest[0] == fewest
    assert br.cv_after[0] == pytest.approx(by_hand[fewest - 1], rel=1e-10)
    assert br.cv_if_raised[0] == pytest.approx(by_hand[2], rel=1e-10)
    # group 1, mean 22/3: raising both 1s gives [22/3, 22/3, 20], CV ≈ 0.516 > 0.5: not enough
    assert br.cv_if_raised[1] == pytest.approx(_cv([22 / 3, 22 / 3, 20.0], [1, 1, 1]), rel=1e-10)
    assert br.cv_if_raised[1] > 0.5 and br.raise_lowest[1] == -1 and math.isnan(br.cv_after[1])
    assert br.below.tolist() == [3, 2]


# ---------------------------------------------------------------------- the reports


def _write_csv(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _two_short_schools(path) -> None:
    """S001 one teacher and 250 m² short; 二小 (S002) short of teachers above degree and of backbone teachers."""
    _write_csv(path, [row(**{**SMALL, "teachers_above_degree": 20, "teaching_area_m2": 2000}),
                      row(school_code="S002", school_name="二小", students=800, teachers_above_degree=10,
                          backbone_teachers=2)])


@pytest.fixture()
def shortfall_run(tmp_path):
    """Two primary schools: 20 teachers for 500 pupils and 2000 m² (+1 teacher, +250 m²); 10 teachers and
    2 backbone teachers for 800 (+24, +6). Both teacher CVs are over 0.5."""
    from qbe.pipeline import run

    _two_short_schools(tmp_path / "s.csv")
    _write_csv(tmp_path / "c.csv", [GOOD_COUNTY])
    lines: list[str] = []
    res = run("national-2017", str(tmp_path / "s.csv"), str(tmp_path / "c.csv"),
              ["terminal", "markdown", "html", "docx", "xlsx"], tmp_path / "o", echo=lines.append)
    return res, "\n".join(lines), tmp_path / "o"


def test_reports_carry_the_remediation_list(shortfall_run):
    res, terminal, out = shortfall_run
    Report.model_validate(res.report)  # the CV remedies fit the published schema too
    # four unmet indicators and two CVs over their limit
    assert "整改清单 6 项" in terminal
    md = (out / "national-2017.md").read_text(encoding="utf-8")
    sec = md[md.index("### 整改清单"):]
    assert "| 测试小学 | 小学 | 每百名学生拥有高于规定学历教师数 | 4 人/百名学生 | 4.2 | 高于规定学历教师数增加 1 人 |" in sec
    assert "教学及辅助用房面积增加 250 m²" in sec
    assert "高于规定学历教师数增加 24 人" in sec and "县级及以上骨干教师数增加 6 人" in sec
    # CV: shares 8/13 ≈ 62% and 5/13 ≈ 38%; raising 二小 to the mean 30/13 gives 0.278
    assert "测试小学（4，占 62%）、二小（1.25，占 38%）" in sec and "只需将最低的 1 所学校提高到均值，差异系数即降为 0.278" in sec
    html = (out / "national-2017.html").read_text(encoding="utf-8")
    assert html.count('<details class="trace">') == 4
    assert "整改：高于规定学历教师数增加 1 人" in html  # the explain trace inside the details
    assert "20 / 500 * 100 = 4" in html


def test_word_appendix_and_excel_sheet(shortfall_run):
    import docx
    import openpyxl

    _, _, out = shortfall_run
    paras = [p.text for p in docx.Document(str(out / "national-2017.docx")).paragraphs]
    start = paras.index("附录：未达标指标的计算说明")
    appendix = paras[start:]
    assert "测试小学（S001）" in appendix and "二小（S002）" in appendix
    assert "整改：县级及以上骨干教师数增加 6 人" in appendix
    ws = openpyxl.load_workbook(str(out / "national-2017.xlsx"))["整改清单"]
    got = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[2]]
    assert [(r[2], r[6], r[8]) for r in got] == [("S001", "teachers_above_degree", 1), ("S001", "teaching_area_m2", 250),
                                               ("S002", "teachers_above_degree", 24), ("S002", "backbone_teachers", 6)]


def test_word_appendix_is_bounded(tmp_path, monkeypatch):
    import docx

    from qbe.default_plugins.writers import word
    from qbe.pipeline import run

    monkeypatch.setattr(word, "MAX_TRACE_SCHOOLS", 1)
    _two_short_schools(tmp_path / "s.csv")
    run("national-2017", str(tmp_path / "s.csv"), None, ["docx"], tmp_path / "o", echo=lambda *_: None)
    paras = [p.text for p in docx.Document(str(tmp_path / "o" / "national-2017.docx")).paragraphs]
    assert "测试小学（S001）" in paras and "二小（S002）" not in paras
    assert any(p.startswith("另有 1 所学校有未达标指标，说明从略") for p in paras)


def test_explain_shows_the_remedy(tmp_path):
    from qbe.explain import explain

    _two_short_schools(tmp_path / "s.csv")
    _write_csv(tmp_path / "c.csv", [GOOD_COUNTY])
    text = explain("national-2017", str(tmp_path / "s.csv"), str(tmp_path / "c.csv"), school="S001")
    assert "整改：高于规定学历教师数增加 1 人" in text and "整改：教学及辅助用房面积增加 250 m²" in text
    en = explain("national-2017", str(tmp_path / "s.csv"), str(tmp_path / "c.csv"), school="S001", lang="en")
    assert "to meet it: +1 人 teachers_above_degree" in en
    county = explain("national-2017", str(tmp_path / "s.csv"), str(tmp_path / "c.csv"), county="990001",
                     indicator="resource_cv")
    assert "若将低于县域均值（2.308）的 1 所学校都提高到均值，差异系数为 0.278" in county


#: A CV near 0 (every school raised to almost the same value) is the square root of a tiny
#: variance; the vectorised sums and the plain loop then differ by a few 1e-12 in absolute terms
#: (seen: 0.0024857475781 against 0.0024857475753), far below the 3 decimals a CV is reported to.
CV_ABS = 1e-10


@given(groups=st.lists(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 500)), min_size=1, max_size=7),
                       min_size=1, max_size=4),
       limit=st.sampled_from([0.05, 0.2, 0.35, 0.5]))
@example(groups=[[(1, 15), (52, 64)], [(1, 1), (2, 33)]], limit=0.05)  # a CV of 0.0025 after raising
def test_raise_lowest_against_brute_force(groups, limit):
    # values x/10 with weights w; reference: raise the k lowest to the present mean for k = 1, 2 … in plain Python
    xs = [x / 10 for g in groups for x, _ in g]
    ws = [float(w) for g in groups for _, w in g]
    codes = np.array([gi for gi, g in enumerate(groups) for _ in g])
    means = [sum(w * x / 10 for x, w in g) / sum(w for _, w in g) for g in groups]
    br = balance_remedy(np.array(xs), np.array(ws), np.ones(len(xs), dtype=bool), codes, len(groups), np.array(means),
                        np.full(len(groups), limit), np.array(["<="] * len(groups), dtype=object))
    from qbe.compiler import kernels as k

    for gi, g in enumerate(groups):
        vals = sorted(((x / 10, float(w)) for x, w in g), key=lambda v: (v[0], -v[1]))  # ties: larger school first
        below = [v for v in vals if v[0] < means[gi]]
        assert br.below[gi] == len(below)
        want = -1
        for k_ in range(1, len(below) + 1):
            raised = [(means[gi], w) for _, w in below[:k_]] + below[k_:] + [v for v in vals if v[0] >= means[gi]]
            c = _cv([x for x, _ in raised], [w for _, w in raised])
            if k.compare("<=", c, limit) == k.MET:
                want = k_
                assert br.cv_after[gi] == pytest.approx(c, rel=1e-9, abs=CV_ABS)
                break
        assert br.raise_lowest[gi] == want
        if below:
            allr = [(means[gi], w) for _, w in below] + [v for v in vals if v[0] >= means[gi]]
            assert br.cv_if_raised[gi] == pytest.approx(_cv([x for x, _ in allr], [w for _, w in allr]), rel=1e-9, abs=CV_ABS)


def test_html_says_how_many_explanations_were_left_out(tmp_path, monkeypatch):
    from qbe.default_plugins.writers.html import HtmlWriter
    from qbe.pipeline import run

    monkeypatch.setattr(HtmlWriter, "max_explanations", 1)
    _two_short_schools(tmp_path / "s.csv")
    run("national-2017", str(tmp_path / "s.csv"), None, ["html"], tmp_path / "o", echo=lambda *_: None)
    html = (tmp_path / "o" / "national-2017.html").read_text(encoding="utf-8")
    assert html.count('<details class="trace">') == 1
    assert "整改清单中的逐项说明只附前 1 项，其余 3 项可用 qbe explain --school 查看。" in html


def test_raise_lowest_only_searched_in_the_groups_asked_for():
    # two groups with the same values: 1, 2, 9 (weights 1); the CV of each is far above 0.1
    xs = np.array([1.0, 2.0, 9.0, 1.0, 2.0, 9.0])
    codes = np.array([0, 0, 0, 1, 1, 1])
    means = np.array([4.0, 4.0])
    args = (xs, np.ones(6), np.ones(6, dtype=bool), codes, 2, means, np.array([0.5, 0.5]),
            np.array(["<=", "<="], dtype=object))
    every = balance_remedy(*args)
    only_second = balance_remedy(*args, groups=np.array([False, True]))
    # raising 1 to the mean 4 leaves 4, 2, 9: mean 5, sd sqrt(26/3) = 2.944, CV 0.589 > 0.5; raising 1 and 2 leaves
    # 4, 4, 9: mean 17/3, sd sqrt(50/9) = 2.357, CV 0.416 <= 0.5, so two schools in each group
    assert every.raise_lowest.tolist() == [2, 2]
    assert only_second.raise_lowest.tolist() == [-1, 2]
    assert np.isnan(only_second.cv_after[0]) and only_second.cv_after[1] == pytest.approx(every.cv_after[1])
    assert only_second.below.tolist() == every.below.tolist() == [2, 2]


@given(st.lists(st.tuples(st.integers(1, 999), st.integers(1, 3000)), min_size=2, max_size=12),
       st.lists(st.tuples(st.integers(1, 999), st.integers(1, 3000)), min_size=2, max_size=40))
def test_a_groups_figures_do_not_depend_on_the_groups_before_it(mine, others):
    # the same county-stage group alone, and after another group with large sums: the same bits
    def run(groups):
        xs = np.array([x / 7 for grp in groups for x, _ in grp])
        ws = np.array([float(w) for grp in groups for _, w in grp])
        codes = np.array([gi for gi, grp in enumerate(groups) for _ in grp])
        means = np.array([sum(w * x / 7 for x, w in grp) / sum(w for _, w in grp) for grp in groups])
        n = len(groups)
        return balance_remedy(xs, ws, np.ones(len(xs), dtype=bool), codes, n, means, np.full(n, 0.05),
                              np.array(["<="] * n, dtype=object))

    alone, after = run([mine]), run([others, mine])
    assert alone.raise_lowest[0] == after.raise_lowest[1]
    assert np.array_equal(alone.cv_after[:1], after.cv_after[1:], equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 999), st.integers(1, 3000), st.booleans()), min_size=1, max_size=8),
                min_size=1, max_size=8),
       st.data())
def test_the_remedy_of_the_groups_over_their_limit_is_that_of_every_group(groups, data):
    """The report works the CV remedy out on the rows of the groups it shows only: their figures must be
    bit for bit those of the computation over every row; the other groups get the empty values."""
    from qbe.results.remedy import balance_remedy_of

    order = data.draw(st.permutations(range(sum(len(g) for g in groups))))  # groups' rows interleaved
    rows = [(gi, x, w, m) for gi, grp in enumerate(groups) for x, w, m in grp]
    rows = [rows[i] for i in order]
    codes = np.array([r[0] for r in rows])
    xs = np.array([r[1] / 7 for r in rows])
    ws = np.array([float(r[2]) for r in rows])
    member = np.array([r[3] for r in rows])
    n = len(groups)
    means = np.array([sum(w * x / 7 for x, w, _ in grp) / sum(w for _, w, _ in grp) for grp in groups])
    limits, ops = np.full(n, 0.05), np.array(["<="] * n, dtype=object)
    wanted = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    whole = balance_remedy(xs, ws, member, codes, n, means, limits, ops, wanted)
    part = balance_remedy_of(xs, ws, member, codes, means, limits, ops, wanted)
    on = wanted[codes]
    assert np.array_equal(part.share[on], whole.share[on], equal_nan=True) and np.isnan(part.share[~on]).all()
    for name in ("below", "cv_if_raised", "raise_lowest", "cv_after"):
        a, b = getattr(part, name), getattr(whole, name)
        assert np.array_equal(a[wanted], b[wanted], equal_nan=True), name
    assert (part.raise_lowest[~wanted] == -1).all() and (part.below[~wanted] == 0).all()
