"""The preschool-2020 ruleset (县域学前教育普及普惠督导评估办法) and its example data, end to end.

Every expected figure below is computed by hand from the example CSVs in
rulesets/examples/preschool-2020/ (see its README); none is read back from
qbe's own output.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "preschool-2020.qbe"
EXAMPLE = ROOT / "rulesets" / "examples" / "preschool-2020"

COUNTY_OK = "999901"  # 示例县（虚构）: every item 合格
COUNTY_FAIL = "999902"  # 示例区（虚构）: four items 不合格

ITEMS = [
    "gross_enrolment", "inclusive_coverage", "public_share",
    "public_funding", "inclusive_subsidy", "non_staff_pay",
    "outdoor_rate_new", "outdoor_rate_old", "activity_room_rate_new", "activity_room_rate_old",
    "building_rate_new", "building_rate_old", "class_size", "teacher_child_ratio", "certification_rate",
    "recognition",
]

#: item → value, by hand from the example CSVs
VALUES_OK = {
    "gross_enrolment": 0.92,
    "inclusive_coverage": 1590 / 1750,  # public 1200 + inclusive private 240 + 150
    "public_share": 1200 / 1750,  # 360 + 270 + 300 + 180 + 90
    "public_funding": 600,
    "inclusive_subsidy": 500,  # exactly on the threshold
    "non_staff_pay": 56250 / 75000,  # exactly 75%
    "outdoor_rate_new": 1.0,  # 3 of 3 post-2017 kindergartens
    "outdoor_rate_old": 3 / 5,  # 9999010003 and 9999010008 at 3.5 m²
    "activity_room_rate_new": 1.0,
    "activity_room_rate_old": 3 / 5,  # 9999010005 at 8.0, 9999010008 at 7.0
    "building_rate_new": 1.0,
    "building_rate_old": 3 / 5,  # 9999010005 at 10.0, 9999010008 at 9.0
    "class_size": 0.88,
    "teacher_child_ratio": 1750 / 121,
    "certification_rate": 1.0,  # 121 teachers + 8 principals, all certified
    "recognition": 0.91,
}

VALUES_FAIL = {
    **VALUES_OK,
    "gross_enrolment": 1.11,  # given as "111%": rates above 100% are allowed
    "inclusive_coverage": 1620 / 1780,  # 示例区第二幼儿园 has 300 children instead of 270
    "public_share": 1230 / 1780,
    "non_staff_pay": 52500 / 75000,  # 70%
    "activity_room_rate_new": 2 / 3,  # 2430 / 300 = 8.1 m² < 8.17
    "building_rate_new": 2 / 3,  # 3105 / 300 = 10.35 m² < 10.44
    "teacher_child_ratio": 1780 / 121,
    "certification_rate": 128 / 129,  # one of 博苑双语幼儿园's 12 teachers is not certified
}
FAILING = {"non_staff_pay", "activity_room_rate_new", "building_rate_new", "certification_rate"}


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def run_json(tmp_path: Path, *args: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix="report-", dir=tmp_path))
    res = invoke("run", *args, "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    return json.loads((out / "preschool-2020.json").read_text(encoding="utf-8"))


def by_code(report: dict) -> dict[str, dict]:
    return {c["county_code"]: c for c in report["counties"]}


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> dict[str, dict]:
    return by_code(run_json(tmp_path_factory.mktemp("preschool"), "--standard", "preschool-2020", "--example"))


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


# ---------------------------------------------------------------- the ruleset


def test_check_passes_without_errors_or_warnings():
    res = invoke("check", str(RULESET))
    assert res.exit_code == 0, res.output
    assert "0 个错误，0 个警告" in res.output


def test_standard_is_installed_with_its_example():
    res = invoke("standards")
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("preschool-2020\t"))
    assert "[example]" in line


def test_every_judged_declaration_has_a_tagged_source():
    model = load_model("preschool-2020")
    for d in model.decls.values():
        if d.kind in ("check", "item", "verdict") and not d.info:
            assert d.source and d.source_tag in {"V", "S", "R"}, d.name


def test_items_parts_and_unverified_split():
    model = load_model("preschool-2020")
    items = [d for d in model.decls.values() if d.kind == "item"]
    assert [d.name for d in items] == ITEMS
    parts = {d.name: d.part.name for d in items}
    assert {k for k, v in parts.items() if v == "coverage"} == {"gross_enrolment", "inclusive_coverage", "public_share"}
    assert {k for k, v in parts.items() if v == "guarantee"} == {"public_funding", "inclusive_subsidy", "non_staff_pay"}
    assert parts["recognition"] == "recognition"
    # the 100% / 50% split by planning before / after 2017 is garbled in the source: [R]
    split = {d.name for d in items if d.name.endswith(("_new", "_old"))}
    assert len(split) == 6
    assert all(model.decls[n].source_tag == "R" for n in split)
    assert all(model.decls[n].source_tag == "V" for n in set(ITEMS) - split)


# ---------------------------------------------------------------- the example, by hand


def test_example_county_that_passes(example):
    c = example[COUNTY_OK]
    assert c["county_name"] == "示例县（虚构）"
    assert c["grades"] == {"overall": "合格"}
    assert c["verdict"] == "met"
    assert c["parts"] == {"coverage": "met", "guarantee": "met", "quality": "met", "recognition": "met"}
    assert list(c["items"]) == ITEMS
    for name, value in VALUES_OK.items():
        it = c["items"][name]
        assert it["value"] == pytest.approx(value), name
        assert (it["status"], it["grade"]) == ("met", "合格"), name


def test_example_county_that_fails(example):
    c = example[COUNTY_FAIL]
    assert c["county_name"] == "示例区（虚构）"
    assert c["grades"] == {"overall": "不合格"}
    assert c["verdict"] == "not_met"
    assert c["parts"] == {"coverage": "met", "guarantee": "not_met", "quality": "not_met", "recognition": "met"}
    for name, value in VALUES_FAIL.items():
        it = c["items"][name]
        assert it["value"] == pytest.approx(value), name
        expected = ("not_met", "不合格") if name in FAILING else ("met", "合格")
        assert (it["status"], it["grade"]) == expected, name
    assert sum(it["grade"] == "不合格" for it in c["items"].values()) == 4


def test_required_values_are_the_published_ones(example):
    required = {k: v["required"] for k, v in example[COUNTY_OK]["items"].items()}
    assert required == pytest.approx({
        "gross_enrolment": 0.85, "inclusive_coverage": 0.80, "public_share": 0.50,
        "public_funding": 500, "inclusive_subsidy": 500, "non_staff_pay": 0.75,
        "outdoor_rate_new": 1.0, "outdoor_rate_old": 0.5, "activity_room_rate_new": 1.0,
        "activity_room_rate_old": 0.5, "building_rate_new": 1.0, "building_rate_old": 0.5,
        "class_size": 0.85, "teacher_child_ratio": 15, "certification_rate": 1.0, "recognition": 0.85,
    })


def test_grade_agrees_with_status_everywhere(example):
    for c in example.values():
        for name, it in c["items"].items():
            assert it["grade"] == {"met": "合格", "not_met": "不合格"}[it["status"]], name


def test_kindergarten_below_4_m2_outdoor_is_reported_with_its_code(example):
    c = example[COUNTY_OK]
    low = {f["school_code"]: f for f in c["findings"] if f["item"] == "outdoor_area_old"}
    # 1050 m² / 300 children and 560 m² / 160 children: 3.5 m² each
    assert set(low) == {"9999010003", "9999010008"}
    f = low["9999010003"]
    assert f["kind"] == "check" and f["status"] == "not_met"
    assert f["school_name"] == "城关镇中心幼儿园"
    assert f["value"] == pytest.approx(3.5) and f["required"] == pytest.approx(4)
    assert "9999010003" not in {f["school_code"] for f in c["findings"] if f["item"] == "outdoor_area_new"}


def test_per_kindergarten_checks(tmp_path):
    report = run_json(tmp_path, "--standard", "preschool-2020", "--example")
    rows = {r["school_code"]: r for r in report["schools"]}
    assert len(rows) == 16
    assert all(r["stage"] == "kindergarten" for r in rows.values())  # no stage column in the data
    chk = rows["9999010003"]["checks"]
    assert chk["outdoor_area_old"]["status"] == "not_met"
    assert chk["outdoor_area_new"]["status"] == "not_applicable"  # planned before 2017
    # 300 children / 20 teachers = exactly 15: meets 1:15
    assert chk["teacher_child_ratio_kg"]["value"] == pytest.approx(15)
    assert chk["teacher_child_ratio_kg"]["status"] == "met"
    # 童心幼儿园: 240 / 15 = 16 per teacher, listed but not counted (the county ratio is 14.46)
    assert rows["9999010006"]["checks"]["teacher_child_ratio_kg"]["status"] == "not_met"
    over = {f["school_code"] for f in by_code(report)[COUNTY_OK]["findings"] if f["item"] == "teacher_child_ratio_kg"}
    assert over == {"9999010006"}
    # 博苑双语幼儿园: 12 teachers, 11 certified
    unc = rows["9999020008"]["checks"]["uncertified"]
    assert (unc["value"], unc["status"]) == (1, "not_met")
    assert rows["9999020002"]["checks"]["activity_room_area_new"]["value"] == pytest.approx(8.1)


# ---------------------------------------------------------------- variations of the example


def test_county_without_post_2017_kindergartens(tmp_path):
    """Groups with no kindergarten are not applicable and leave the verdict alone."""
    rows = [dict(r, planned_after_2017="no") for r in read_csv(EXAMPLE / "schools.csv") if r["county_code"] == COUNTY_OK]
    counties = [r for r in read_csv(EXAMPLE / "counties.csv") if r["county_code"] == COUNTY_OK]
    c = by_code(run_json(tmp_path, "-s", str(RULESET), "-d", str(write_csv(tmp_path / "s.csv", rows)),
                         "-c", str(write_csv(tmp_path / "c.csv", counties))))[COUNTY_OK]
    for name in ("outdoor_rate_new", "activity_room_rate_new", "building_rate_new"):
        assert c["items"][name]["status"] == "not_applicable", name
        assert c["items"][name]["value"] is None
        assert c["items"][name]["grade"] is None  # not applicable: no grade, not counted
    # all 8 kindergartens are now pre-2017: 6 of 8 have ≥ 4 m² outdoors, 6 of 8 enough rooms and building
    for name in ("outdoor_rate_old", "activity_room_rate_old", "building_rate_old"):
        assert c["items"][name]["value"] == pytest.approx(6 / 8), name
    assert c["grades"] == {"overall": "合格"} and c["verdict"] == "met"


@pytest.mark.parametrize(("column", "value", "item"), [
    ("gross_enrolment_rate", "84.9%", "gross_enrolment"),
    ("inclusive_subsidy_per_child", "499", "inclusive_subsidy"),
    ("non_staff_teacher_avg_pay", "56249", "non_staff_pay"),
    ("class_size_compliance_rate", "0.84", "class_size"),
    ("satisfaction_rate", "84%", "recognition"),
])
def test_one_county_rate_below_its_threshold_fails_the_county(tmp_path, column, value, item):
    rows = [r for r in read_csv(EXAMPLE / "schools.csv") if r["county_code"] == COUNTY_OK]
    counties = [dict(r, **{column: value}) for r in read_csv(EXAMPLE / "counties.csv") if r["county_code"] == COUNTY_OK]
    c = by_code(run_json(tmp_path, "-s", str(RULESET), "-d", str(write_csv(tmp_path / "s.csv", rows)),
                         "-c", str(write_csv(tmp_path / "c.csv", counties))))[COUNTY_OK]
    assert {k for k, v in c["items"].items() if v["grade"] != "合格"} == {item}
    assert c["items"][item]["status"] == "not_met"
    assert c["grades"] == {"overall": "不合格"} and c["verdict"] == "not_met"


def test_old_group_below_half_fails(tmp_path):
    """A third pre-2017 kindergarten below 4 m² outdoors: 2 of 5 = 40% < 50%."""
    rows = [r for r in read_csv(EXAMPLE / "schools.csv") if r["county_code"] == COUNTY_OK]
    for r in rows:
        if r["school_code"] == "9999010006":  # 240 children: 900 m² is 3.75 m² each
            r["outdoor_play_area_m2"] = "900"
    counties = [r for r in read_csv(EXAMPLE / "counties.csv") if r["county_code"] == COUNTY_OK]
    c = by_code(run_json(tmp_path, "-s", str(RULESET), "-d", str(write_csv(tmp_path / "s.csv", rows)),
                         "-c", str(write_csv(tmp_path / "c.csv", counties))))[COUNTY_OK]
    it = c["items"]["outdoor_rate_old"]
    assert it["value"] == pytest.approx(2 / 5)
    assert (it["status"], it["grade"]) == ("not_met", "不合格")
    assert c["grades"] == {"overall": "不合格"}
