"""The shenyang-2024 and qiantang-2022 rulesets and their example data, end to end.

Every expected figure below is computed by hand from the example CSVs (see the
README in each example folder) or copied from the source table (seed 004 for
Qiantang); none is read back from qbe's own output.
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
RULESETS = ROOT / "rulesets"
SHENYANG_EX = RULESETS / "examples" / "shenyang-2024"
QIANTANG_EX = RULESETS / "examples" / "qiantang-2022"
NATIONAL_EX = RULESETS / "examples" / "national-2017"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def run_json(tmp_path: Path, standard: str, *extra: str) -> dict:
    """``qbe run … -f json -o tmp`` must exit 0; returns the JSON report."""
    out = Path(tempfile.mkdtemp(prefix="report-", dir=tmp_path))
    res = invoke("run", "--standard", standard, *extra, "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    return json.loads((out / f"{standard}.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def county(report: dict) -> dict:
    assert len(report["counties"]) == 1
    return report["counties"][0]


def not_met_items(report: dict) -> set[str]:
    return {k for k, v in county(report)["items"].items() if v["status"] != "met"}


def school_checks(report: dict, name: str) -> dict:
    return next(s["checks"] for s in report["school_checks"] if s["school_name"] == name)


# ---------------------------------------------------------------------------- qbe check


@pytest.mark.parametrize("name", ["shenyang-2024.qbe", "qiantang-2022.qbe"])
def test_ruleset_passes_qbe_check(name):
    res = invoke("check", str(RULESETS / name))
    assert res.exit_code == 0, res.output
    assert "0 个错误，0 个警告" in res.output


@pytest.mark.parametrize("standard", ["shenyang-2024", "qiantang-2022"])
def test_found_by_id_with_its_example(standard):
    res = invoke("standards")
    assert res.exit_code == 0
    line = next(x for x in res.output.splitlines() if x.startswith(standard + "\t"))
    assert line.endswith("[example]")


# ---------------------------------------------------------------------------- qiantang-2022

#: Seed 004, table “钱塘优学”全方位综合提质主要指标, transcribed by hand a second time
#: (independently of the ruleset): param → (2022, 2023, 2024). Percentages as fractions.
SEED_004 = {
    "target_01": (2000, 2100, 2200),
    "target_02_senior": (0.79, 0.795, 0.80),
    "target_02_junior": (0.44, 0.45, 0.46),
    "target_02_primary": (0.92, 0.95, 0.97),
    "target_03": (0.92, 0.95, 0.98),
    "target_04": (0.90, 0.95, 0.98),
    "target_05": (0.40, 0.50, 0.60),
    "target_06": (7, 8, 9),
    "target_07": (0.88, 0.90, 0.92),
    "target_08_awards": (400, 500, 600),
    "target_08_first": (0.15, 0.20, 0.25),
    "target_09_rate": (0.40, 0.50, 0.60),
    "target_09_first": (0.15, 0.20, 0.25),
    "target_10": (200, 220, 250),
    "target_11": (0.90, 0.95, 1.00),
    "target_12": (10, 20, 10),
    "target_13": (8, 9, 10),
    "target_14": (16, 18, 20),
    "target_15": (19, 20, 22),
    "cv_limit_junior": (0.45, 0.35, 0.25),
    "cv_limit_primary": (0.50, 0.40, 0.30),
    "target_18": (4500, 6000, 12000),
    "target_19": (0.90, 0.92, 0.95),
    "target_20_visits": (4.1, 4.2, 4.5),
    "target_20_elderly": (2000, 2100, 2200),
    "target_21": (12, 12, 12),
    "target_22_scenarios": (1, 1, 1),
    "target_22_users": (1.5, 3.0, 5.0),
    "target_23": (0.88, 0.90, 0.92),
    "target_24_kindergarten": (1050, 1150, 1250),
    "target_24_primary": (1350, 1450, 1550),
    "target_24_junior": (1500, 1600, 1600),
    "target_25": (0.03, 0.03, 0.03),
    "target_26": (300, 400, 500),
    "target_27": (200, 300, 500),
    "grade_a_required": (0, 0, 1),  # B等 / 保B争A / A等
}

#: The 2024 shortfalls of the example district: item → (figure, 2024 target).
FAIL_2024 = {
    "t01_good_youth": (2150, 2200),
    "t02_excellent_senior": (0.796, 0.80),
    "t02_excellent_primary": (0.96, 0.97),
    "t17_cv_junior": (0.31, 0.25),
    "t24_funds_primary": (1500, 1550),
    "t28_modernisation_grade": (None, None),  # grade B, A required in 2024
}


def test_qiantang_targets_match_seed_004():
    model = load_model("qiantang-2022")
    assert model.standard.years == (2022, 2024)
    assert set(model.params) == set(SEED_004)
    for i, year in enumerate((2022, 2023, 2024)):
        values = model.param_values(year)
        for name, expected in SEED_004.items():
            assert values[name].value == pytest.approx(expected[i]), (name, year)
    for name, p in model.params.items():
        assert all(v.source_tag == "V" for v in p.values if v.source), name
        assert p.values[0].source, name


def test_qiantang_every_item_cites_its_row():
    model = load_model("qiantang-2022")
    items = [d for d in model.decls.values() if d.kind == "item"]
    assert len(items) == 37
    rows = set()
    for d in items:
        assert d.source_tag == "V" and "主要指标表第" in d.source, d.name
        rows.add(int(d.source.split("主要指标表第")[1].split("项")[0]))
    assert rows == set(range(1, 29))  # all 28 indicators of the table


def test_qiantang_2022_met(tmp_path):
    r = run_json(tmp_path, "qiantang-2022", "--example", "--year", "2022")
    assert r["standard"]["year"] == 2022
    c = county(r)
    assert c["verdict"] == "met"
    assert len(c["items"]) == 37 and not_met_items(r) == set()
    # thresholds in force in 2022
    assert c["items"]["t17_cv_junior"]["required"] == pytest.approx(0.45)
    assert c["items"]["t17_cv_primary"]["required"] == pytest.approx(0.50)
    assert c["items"]["t24_funds_primary"]["required"] == pytest.approx(1350)


def test_qiantang_2023_fails_only_the_campus_target(tmp_path):
    c = county(run_json(tmp_path, "qiantang-2022", "--example", "--year", "2023"))
    assert c["verdict"] == "not_met"
    assert {k for k, v in c["items"].items() if v["status"] != "met"} == {"t12_beautiful_campus"}
    item = c["items"]["t12_beautiful_campus"]
    assert (item["value"], item["required"], item["shortfall"]) == (18, 20, 2)
    assert c["parts"]["schools"] == "not_met" and c["parts"]["students"] == "met"


def test_qiantang_2024_not_met_with_the_six_items(tmp_path):
    r = run_json(tmp_path, "qiantang-2022", "--example", "--year", "2024")
    assert r["standard"]["year"] == 2024
    c = county(r)
    assert c["verdict"] == "not_met"
    assert not_met_items(r) == set(FAIL_2024)
    for name, (value, required) in FAIL_2024.items():
        item = c["items"][name]
        assert item["status"] == "not_met"
        if value is not None:
            assert item["value"] == pytest.approx(value) and item["required"] == pytest.approx(required), name
    assert c["items"]["t01_good_youth"]["shortfall"] == pytest.approx(50)
    assert c["items"]["t17_cv_junior"]["excess"] == pytest.approx(0.06)
    # exactly at the 2024 target is met (inclusive): 98%, 25%, 1600 yuan, 10 schools
    for name in ("t04_mental_health", "t09_research_first", "t24_funds_junior", "t13_provincial_schools"):
        assert c["items"][name]["status"] == "met", name
        assert c["items"][name]["ratio"] == pytest.approx(1.0), name
    # the 2024 campus target (≥ 10) is lower than 2023's (≥ 20): met again
    assert c["items"]["t12_beautiful_campus"]["status"] == "met"
    assert c["parts"] == {"students": "not_met", "teachers": "met", "schools": "not_met",
                          "services": "met", "environment": "not_met"}


@pytest.mark.parametrize("year", ["2021", "2025"])
def test_qiantang_year_outside_the_plan_is_a_usage_error(tmp_path, year):
    res = invoke("run", "--standard", "qiantang-2022", "--example", "--year", year, "-f", "json", "-o", str(tmp_path))
    assert res.exit_code == 2
    assert "2022–2024" in res.output and year in res.output
    assert not (tmp_path / "qiantang-2022.json").exists()


def test_qiantang_needs_a_year(tmp_path):
    res = invoke("run", "--standard", "qiantang-2022", "--example", "-f", "json", "-o", str(tmp_path))
    assert res.exit_code == 2
    assert "--year" in res.output and "2022–2024" in res.output


def test_qiantang_compare_2022_with_2024():
    res = invoke("compare", "--standards", "qiantang-2022@2022,qiantang-2022@2024", "--example", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    a, b = "qiantang-2022@2022", "qiantang-2022@2024"
    assert data["standards"] == [a, b]
    c = data["counties"][0]
    assert c["verdicts"] == {a: "met", b: "not_met"} and c["changed"] is True
    items = {d["item"]: d["statuses"] for d in c["differences"] if d["kind"] == "item"}
    assert set(items) == set(FAIL_2024)
    assert all(s == {a: "met", b: "not_met"} for s in items.values())
    parts = {d["item"] for d in c["differences"] if d["kind"] == "part"}
    assert parts == {"students", "schools", "environment"}


def test_qiantang_grade_item_follows_the_year(tmp_path):
    """Grade A passes every year; grade C fails every year; B passes until 2023."""
    rows = read_csv(QIANTANG_EX / "counties.csv")
    schools = str(QIANTANG_EX / "schools.csv")
    for grade, expected in (("A", ("met", "met", "met")), ("C", ("not_met", "not_met", "not_met")),
                            ("B", ("met", "met", "not_met"))):
        rows[0]["modernisation_grade"] = grade
        cpath = write_csv(tmp_path / f"counties-{grade}.csv", rows)
        got = []
        for year in ("2022", "2023", "2024"):
            r = run_json(tmp_path, "qiantang-2022", "-d", schools, "-c", str(cpath), "--year", year)
            got.append(county(r)["items"]["t28_modernisation_grade"]["status"])
        assert tuple(got) == expected, grade


# ---------------------------------------------------------------------------- shenyang-2024


def test_shenyang_example_met(tmp_path):
    r = run_json(tmp_path, "shenyang-2024", "--example")
    c = county(r)
    assert c["verdict"] == "met"
    assert not_met_items(r) == set()
    assert c["items"]["guarantee_07"]["required"] == 8000 and c["items"]["guarantee_07"]["value"] == 8500
    assert c["items"]["veto_offcampus_tutoring"]["status"] == "met"
    assert c["items"]["guarantee_02b"]["status"] == "met"
    # 柳屯小学: 85 pupils funded as 100 × 1200 = 120,000 yuan → 1411.76 per pupil ≥ 1150
    row = next(s for s in r["schools"] if s["school_name"] == "示例县柳屯小学")
    funds = row["checks"]["public_funds_per_student"]
    assert funds["value"] == pytest.approx(120000 / 85) and funds["required"] == 1150
    junior = next(s for s in r["schools"] if s["school_name"] == "示例县第一中学")
    assert junior["checks"]["public_funds_per_student"]["required"] == 1350


def test_old_school_80m2_music_room_passes_shenyang_not_national(tmp_path):
    data = ("-d", str(SHENYANG_EX / "schools.csv"), "-c", str(SHENYANG_EX / "counties.csv"))
    sy = run_json(tmp_path, "shenyang-2024", *data)
    na = run_json(tmp_path, "national-2017", *data)
    old = "示例县第一小学"  # built 2012; music 80 m², art 70 m²
    checks = school_checks(sy, old)
    assert checks["music_room_area"] == {"value": 80, "required": 73, "ratio": pytest.approx(80 / 73), "status": "met"}
    assert checks["art_room_area"]["value"] == 70 and checks["art_room_area"]["required"] == 67
    assert checks["art_room_area"]["status"] == "met"
    assert checks["arts_rooms"]["status"] == "met"
    assert school_checks(na, old)["arts_rooms"]["status"] == "not_met"
    # county: only guarantee item 3 differs
    assert county(sy)["verdict"] == "met"
    assert county(na)["verdict"] == "not_met"
    assert not_met_items(na) == {"guarantee_03"}
    failing = {s["school_name"] for s in na["school_checks"] if s["checks"]["arts_rooms"]["status"] == "not_met"}
    assert failing == {"示例县第一小学", "示例县东山小学", "示例县柳屯小学"}


def test_shenyang_room_area_boundaries_and_missing_year(tmp_path):
    r = run_json(tmp_path, "shenyang-2024", "--example")
    east = school_checks(r, "示例县东山小学")  # built 2016 exactly, rooms 73 / 67
    assert (east["music_room_area"]["required"], east["music_room_area"]["status"]) == (73, "met")
    assert (east["art_room_area"]["required"], east["art_room_area"]["status"]) == (67, "met")
    second = school_checks(r, "示例县第二中学")  # no year of construction: held to 96 / 90
    assert (second["music_room_area"]["value"], second["music_room_area"]["required"]) == (96, 96)
    assert (second["art_room_area"]["value"], second["art_room_area"]["required"]) == (90, 90)
    assert second["music_room_area"]["status"] == "met"


def test_shenyang_small_rural_school_is_exempt_from_regular_area(tmp_path):
    r = run_json(tmp_path, "shenyang-2024", "--example")
    small = school_checks(r, "示例县柳屯小学")  # rural, largest class 18, rooms 60 / 58
    for name in ("music_room_area", "art_room_area"):
        assert small[name]["status"] == "exempt"
        assert "农村小规模学校" in small[name]["reason"]
    assert small["music_room_area"]["value"] == 60
    assert small["arts_room_area_small_rural"]["status"] == "met"  # 60, 58 ≥ 54 (primary)
    assert small["arts_rooms"]["status"] == "met"  # the room count is not exempted
    others = [s["checks"]["arts_room_area_small_rural"]["status"] for s in r["school_checks"]
              if s["school_name"] != "示例县柳屯小学"]
    assert others and set(others) == {"not_applicable"}


def _shenyang_variant(tmp_path: Path, school_edits=None, county_edits=None) -> dict:
    schools = read_csv(SHENYANG_EX / "schools.csv")
    counties = read_csv(SHENYANG_EX / "counties.csv")
    for name, stage, column, value in school_edits or []:
        for row in schools:
            if row["school_name"] == name and row["stage"] == stage:
                row[column] = value
    for column, value in (county_edits or {}).items():
        counties[0][column] = value
    where = Path(tempfile.mkdtemp(prefix="data-", dir=tmp_path))
    s = write_csv(where / "schools.csv", schools)
    c = write_csv(where / "counties.csv", counties)
    return run_json(tmp_path, "shenyang-2024", "-d", str(s), "-c", str(c))


def test_shenyang_old_school_below_73_fails(tmp_path):
    r = _shenyang_variant(tmp_path, [("示例县第一小学", "primary", "music_room_min_area_m2", "72")])
    music = school_checks(r, "示例县第一小学")["music_room_area"]
    assert (music["status"], music["shortfall"]) == ("not_met", 1)
    assert county(r)["verdict"] == "not_met" and not_met_items(r) == {"guarantee_03"}


def test_shenyang_newer_school_gets_no_allowance(tmp_path):
    r = _shenyang_variant(tmp_path, [("示例县第一小学", "primary", "built_year", "2017")])
    music = school_checks(r, "示例县第一小学")["music_room_area"]
    assert (music["value"], music["required"], music["status"]) == (80, 96, "not_met")


def test_shenyang_small_rural_school_still_needs_54m2(tmp_path):
    r = _shenyang_variant(tmp_path, [("示例县柳屯小学", "primary", "music_room_min_area_m2", "50")])
    small = school_checks(r, "示例县柳屯小学")
    assert small["music_room_area"]["status"] == "exempt"
    assert small["arts_room_area_small_rural"]["status"] == "not_met"
    assert county(r)["items"]["guarantee_03"]["status"] == "not_met"


def test_shenyang_small_rural_needs_largest_class_under_30(tmp_path):
    r = _shenyang_variant(tmp_path, [("示例县柳屯小学", "primary", "max_class_size", "30")])
    small = school_checks(r, "示例县柳屯小学")
    assert small["music_room_area"]["status"] == "not_met"  # 60 < 73 (built 2008), no exemption at 30
    assert small["arts_room_area_small_rural"]["status"] == "not_applicable"


def test_shenyang_tutoring_veto(tmp_path):
    r = _shenyang_variant(tmp_path, county_edits={"offcampus_tutoring_ineffective": "yes"})
    c = county(r)
    assert c["items"]["veto_offcampus_tutoring"]["status"] == "not_met"
    assert c["parts"]["veto"] == "not_met" and c["verdict"] == "not_met"


def test_shenyang_funding_thresholds(tmp_path):
    r = _shenyang_variant(tmp_path, county_edits={"public_funds_standard_primary": "1100",
                                                  "special_ed_funding_per_student": "7000"})
    assert not_met_items(r) == {"guarantee_02", "guarantee_07"}
    assert county(r)["items"]["guarantee_07"]["shortfall"] == 1000
    # 7000 still meets the national 6000
    s = read_csv(SHENYANG_EX / "counties.csv")
    s[0]["special_ed_funding_per_student"] = "7000"
    c = write_csv(tmp_path / "counties-7000.csv", s)
    na = run_json(tmp_path, "national-2017", "-d", str(SHENYANG_EX / "schools.csv"), "-c", str(c))
    assert county(na)["items"]["guarantee_07"]["status"] == "met"


def test_shenyang_per_school_allocation(tmp_path):
    # 示例县第一中学 900 pupils: 1,200,000 yuan → 1333.33 per pupil < 1350
    r = _shenyang_variant(tmp_path, [("示例县第一中学", "junior", "public_funds_yuan", "1200000")])
    row = next(s for s in r["schools"] if s["school_name"] == "示例县第一中学")
    funds = row["checks"]["public_funds_per_student"]
    assert funds["status"] == "not_met" and funds["value"] == pytest.approx(1200000 / 900)
    assert not_met_items(r) == {"guarantee_02b"}


def test_shenyang_on_national_data_leaves_the_new_veto_not_assessed(tmp_path):
    r = run_json(tmp_path, "shenyang-2024", "-d", str(NATIONAL_EX / "schools.csv"), "-c", str(NATIONAL_EX / "counties.csv"))
    c = county(r)
    assert c["items"]["veto_offcampus_tutoring"]["status"] == "not_assessed"
    # national example: base standards 800 / 1000 yuan, below 1150 / 1350
    assert c["items"]["guarantee_02"]["status"] == "not_met"
    assert c["verdict"] == "not_met"


def test_shenyang_overrides_state_their_source():
    model = load_model("shenyang-2024")
    for name in ("guarantee_02", "guarantee_03", "guarantee_07", "arts_rooms"):
        d = model.decls[name]
        assert d.source.startswith("第三方编码") and d.source_tag == "S", name
    assert model.decls["veto_offcampus_tutoring"].part.name == "veto"
    assert model.fields["built_year"].optional and model.fields["offcampus_tutoring_ineffective"].optional
