"""Group aggregates per county and stage: sum, mean, count, share, min, max, cv, with requirements."""

from __future__ import annotations

import pytest

from conftest import assert_counties_laid_out_alike
from qbe.data.table import RawSheet
from qbe.data.validate import validate_sheet
from qbe.language.parser import parse_text
from qbe.pipeline import evaluate
from qbe.semantics import check_ruleset

RULESET = """
standard agg-test {
    title "汇总测试" version 2020
    stages { primary "小学" junior "初中" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
    rooms: count "教室数" unit "间" range 0..
}
inputs school { urban: yesno "城镇" }
indicator rooms_per100 "每百生教室" { value = rooms / students * 100 require primary >= 2, junior >= 3 }
aggregate total_students "学生总数" per county, stage { value = sum(students) info }
aggregate mean_rooms "校均教室" per county, stage { value = mean(rooms) require >= 10 }
aggregate schools_met "达标学校数" per county, stage { value = count(rooms_per100) info }
aggregate share_met "达标学校比例" per county, stage { value = share(rooms_per100) require >= 50% }
aggregate smallest "最小学校" per county, stage { value = min(students) info }
aggregate largest "最大学校" per county, stage { value = max(students) require <= 2000 }
aggregate rooms_cv "教室差异系数" per county, stage { value = cv(rooms_per100, students) require primary <= 0.5, junior <= 0.45 }
aggregate urban_schools "城镇学校数" per county { value = count(urban) info }
aggregate county_students "全县学生" per county { value = sum(students) require >= 1000 }
"""


def run(rows):
    rs = parse_text(RULESET, "agg.qbe")
    model, diags = check_ruleset(rs)
    assert model is not None, [d.render("en") for d in diags]
    headers = list(rows[0])
    raw = RawSheet("s.csv", headers, [[str(r[h]) for h in headers] for r in rows], list(range(2, len(rows) + 2)))
    t, issues = validate_sheet(raw, model.row_schema(), key=("school_code", "stage"))
    assert not [i for i in issues if i.severity == "error"], [i.render("en") for i in issues]
    ev = evaluate(model, t, None, issues)
    report = ev.to_dict()
    assert_counties_laid_out_alike(ev, report)
    return report


def r(code, stage, students, rooms, urban="是", stype=None):
    return {"county_code": "1", "school_code": code, "school_type": stype or stage, "stage": stage,
            "students": students, "rooms": rooms, "urban": urban}


def test_aggregates_by_hand():
    rep = run([
        r("A", "primary", 500, 10),  # 2.0 per 100: met
        r("B", "primary", 1000, 15),  # 1.5: not met
        r("C", "primary", 2500, 60),  # 2.4: met
        r("D", "junior", 400, 14, urban="否"),  # 3.5: met
    ])
    a = rep["counties"][0]["aggregates"]
    assert a["total_students"]["primary"]["value"] == 4000
    assert a["total_students"]["junior"]["value"] == 400
    assert a["mean_rooms"]["primary"]["value"] == pytest.approx(85 / 3)
    assert a["mean_rooms"]["primary"]["status"] == "met"
    assert a["schools_met"]["primary"]["value"] == 2
    assert a["share_met"]["primary"]["value"] == pytest.approx(2 / 3)
    assert a["share_met"]["primary"]["status"] == "met"
    assert a["smallest"]["primary"]["value"] == 500
    assert a["largest"]["primary"]["value"] == 2500
    assert a["largest"]["primary"]["status"] == "not_met"
    # weighted CV of 2.0, 1.5, 2.4 with weights 500, 1000, 2500: mean 85/4000×100 = 2.125
    mean = 2.125
    var = (500 * (2.0 - mean) ** 2 + 1000 * (1.5 - mean) ** 2 + 2500 * (2.4 - mean) ** 2) / 4000
    assert a["rooms_cv"]["primary"]["value"] == pytest.approx(var ** 0.5 / mean)
    assert a["rooms_cv"]["junior"]["value"] == 0.0
    assert a["urban_schools"]["all"]["value"] == 3
    assert a["county_students"]["all"]["value"] == 4400
    assert a["county_students"]["all"]["status"] == "met"


def test_share_of_two_schools_one_met():
    rep = run([r("A", "primary", 500, 10), {**r("B", "primary", 1000, 15)}])
    assert rep["counties"][0]["aggregates"]["share_met"]["primary"]["value"] == 0.5
