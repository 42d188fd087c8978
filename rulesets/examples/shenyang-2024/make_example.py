"""Write the example dataset of a FICTIONAL county for the shenyang-2024 ruleset.

示例县（虚构·沈阳编码示例）: every name, code and number below is invented and
describes no real county or school. The dataset exists to show, by hand-
checkable numbers, what the Shenyang encoding changes against national-2017:

* an old school (built 2012) with an 80 m² music room and a 70 m² art room:
  enough under shenyang-2024 (73 / 67 m² for schools built in 2016 or
  earlier), not enough under national-2017 (96 / 90 m²);
* a school built in exactly 2016 with rooms of exactly 73 / 67 m² (the
  boundary is inclusive);
* a small rural school (85 pupils, largest class 18) with 60 / 58 m² rooms:
  exempt from the regular area under shenyang-2024 and judged against the
  54 m² minimum for small rural primary schools instead;
* a school with no year of construction: judged against 96 / 90 m², which its
  rooms meet;
* per-student public funds of 1200 / 1400 yuan (≥ 1150 / 1350), special
  education 8500 yuan (≥ 8000), and the tutoring veto answered 否.

Under shenyang-2024 the county is met; under national-2017 the same data is
not met, for guarantee item 3 only (three schools' room areas).

Run it from anywhere; it writes schools.csv and counties.csv next to itself:

    python rulesets/examples/shenyang-2024/make_example.py

Nothing is random. Each row gives, for each of the seven resource indicators,
a multiplier of the requirement (A = 1.10, B = 1.20, C = 1.30); the amount in
the file is students × requirement × multiplier (÷ 100 for the "per 100
students" indicators), rounded UP, so every row meets every requirement. The
properties above are recomputed and asserted before anything is written.
Standard library only.
"""

from __future__ import annotations

import csv
import math
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent

COUNTY_CODE = "999902"
COUNTY_NAME = "示例县（虚构·沈阳编码示例）"

# indicator key: (amount column, per 100 students?, requirement primary, requirement junior)
INDICATORS = {
    "T": ("teachers_above_degree", True, Fraction("4.2"), Fraction("5.3")),
    "B": ("backbone_teachers", True, Fraction("1"), Fraction("1")),
    "P": ("pe_art_teachers", True, Fraction("0.9"), Fraction("0.9")),
    "A": ("teaching_area_m2", False, Fraction("4.5"), Fraction("5.8")),
    "S": ("sports_area_m2", False, Fraction("7.5"), Fraction("10.2")),
    "E": ("equipment_value_yuan", False, Fraction("2000"), Fraction("2500")),
    "M": ("multimedia_rooms", True, Fraction("2.3"), Fraction("2.4")),
}
ORDER = "TBPASEM"
MULTIPLIER = {"A": Fraction("1.10"), "B": Fraction("1.20"), "C": Fraction("1.30")}

# Per-student public funds actually allocated (yuan), above 1150 / 1350.
FUNDS_PER_STUDENT = {"primary": 1200, "junior": 1400}

# (name, school_type, urban, built_year or None, design_capacity,
#  [(stage, students, classes, max_class_size, music_rooms, art_rooms,
#    music_min_m2, art_min_m2, multipliers T B P A S E M), ...])
SCHOOLS = [
    ("示例县第一小学", "primary", True, 2012, 1300,
     [("primary", 1200, 30, 42, 3, 3, 80, 70, "BCABCAB")]),
    ("示例县实验小学", "primary", True, 2019, 1100,
     [("primary", 960, 24, 41, 2, 2, 100, 95, "CABCABC")]),
    ("示例县东山小学", "primary", False, 2016, 450,
     [("primary", 400, 10, 40, 1, 1, 73, 67, "ABCABCA")]),
    ("示例县柳屯小学", "primary", False, 2008, 120,
     [("primary", 85, 6, 18, 1, 1, 60, 58, "BBBBBBB")]),
    ("示例县第一中学", "junior", True, 2018, 1000,
     [("junior", 900, 18, 50, 2, 2, 98, 92, "BCABCAB")]),
    ("示例县第二中学", "junior", True, None, 900,
     [("junior", 800, 16, 50, 2, 2, 96, 90, "CABCABC")]),
    ("示例县河湾学校", "nine_year", True, 2020, 1200,
     [("primary", 600, 15, 40, 2, 2, 100, 92, "ABCABCA"),
      ("junior", 450, 10, 45, 1, 1, 100, 92, "BCABCAB")]),
]

N = "（虚构）"
# (field, value[, evidence note]); percentages as fractions (1 = 100%)
COUNTY = [
    ("layout_reasonable", True, "《示例县中小学布局规划（2023—2027）》" + N),
    ("unified_standards", True, "《示例县城乡义务教育学校四个标准统一的通知》" + N),
    ("public_funds_standard_primary", 1200),
    ("public_funds_standard_junior", 1400),
    ("special_ed_funding_per_student", 8500),
    ("teacher_avg_salary", 132000),
    ("civil_servant_avg_salary", 128000),
    ("performance_pay_approved", True, "示例县绩效工资总量核定通知" + N),
    ("training_hours_completion", 1),
    ("staffing_managed_by_county", True, "《示例县中小学教职工编制统筹管理办法》" + N),
    ("rotation_share", 0.12),
    ("backbone_rotation_share", 0.25),
    ("certified_teacher_share", 1),
    ("nearby_admission_primary", 1),
    ("nearby_admission_junior", 0.97),
    ("quota_allocation_share", 0.55),
    ("quota_tilted_rural", True, "《示例县优质普通高中招生名额分配方案》" + N),
    ("left_behind_care_system", True, "示例县留守儿童关爱服务台账" + N),
    ("migrant_public_share", 0.9),
    ("junior_retention_rate", 0.98),
    ("disabled_enrolment_rate", 0.96),
    ("charter_and_digital", True, "全县学校章程汇编及管理平台截图" + N),
    ("ict_use", True, "示例县教育信息化应用抽查报告" + N),
    ("moral_education_good", True, "示例县德育工作评估报告" + N),
    ("curriculum_complete", True, "示例县课程实施专项督导报告" + N),
    ("burden_controlled", True, "示例县作业管理专项督查报告" + N),
    ("monitoring_lowest_level", 3),
    ("monitoring_max_difference", 0.11),
    ("satisfaction_rate", 0.91),
    ("exam_based_admission", False, "招生工作专项检查：未发现以考试方式招生" + N),
    ("irregular_school_choice", False, "招生入学专项督查：未发现违规择校" + N),
    ("key_schools_or_classes", False, "分班抽查：未设重点学校、重点班" + N),
    ("unfilled_vacancies", False, "编制使用核查：无有编不补" + N),
    ("major_safety_accident", False, "教育系统安全年度报告：无重大安全责任事故" + N),
    ("falsified_data", False, "自评数据复核记录：未发现弄虚作假" + N),
    ("offcampus_tutoring_ineffective", False, "“双减”校外培训治理专项督查报告：治理到位" + N),
]

ROW_COLUMNS = [
    "county_code", "county_name", "school_code", "school_name", "school_type", "stage",
    "students", "classes", "max_class_size",
    "teachers_above_degree", "backbone_teachers", "pe_art_teachers",
    "teaching_area_m2", "sports_area_m2", "equipment_value_yuan", "multimedia_rooms",
    "music_rooms", "art_rooms", "music_room_min_area_m2", "art_room_min_area_m2",
    "public_funds_yuan",
    "urban", "design_capacity", "training_spend_share", "built_year",
]


def build_rows() -> list[dict]:
    rows = []
    for number, (name, stype, urban, built, capacity, stages) in enumerate(SCHOOLS, start=1):
        for stage, students, classes, max_class, music, art, music_m2, art_m2, mult in stages:
            small_rural = not urban and students < 100
            row = {
                "county_code": COUNTY_CODE,
                "county_name": COUNTY_NAME,
                "school_code": f"{COUNTY_CODE}{number:04d}",
                "school_name": name,
                "school_type": stype,
                "stage": stage,
                "students": students,
                "classes": classes,
                "max_class_size": max_class,
                "music_rooms": music,
                "art_rooms": art,
                "music_room_min_area_m2": music_m2,
                "art_room_min_area_m2": art_m2,
                # schools under 100 pupils are funded as 100 (national item 6)
                "public_funds_yuan": max(students, 100 if small_rural else 0) * FUNDS_PER_STUDENT[stage],
                "urban": urban,
                "design_capacity": capacity,
                "training_spend_share": 0.06,
                "built_year": built,
            }
            for key, m in zip(ORDER, mult):
                column, per100, primary, junior = INDICATORS[key]
                req = primary if stage == "primary" else junior
                amount = req * MULTIPLIER[m] * students / (100 if per100 else 1)
                row[column] = math.ceil(amount)
            rows.append(row)
    return rows


def value(row: dict, key: str) -> Fraction:
    column, per100, _, _ = INDICATORS[key]
    return Fraction(row[column], row["students"]) * (100 if per100 else 1)


def weighted_cv(rows: list[dict], key: str) -> float:
    column, per100, _, _ = INDICATORS[key]
    total = sum(r["students"] for r in rows)
    mean = Fraction(sum(r[column] for r in rows), total) * (100 if per100 else 1)
    var = sum(Fraction(r["students"], total) * (value(r, key) - mean) ** 2 for r in rows)
    return math.sqrt(var) / float(mean)


def area_rule(school: list[dict], old_ok: bool) -> bool:
    """The regular room-area rule: 73 / 67 m² for old schools when old_ok, else 96 / 90 m²."""
    built = school[0]["built_year"]
    old = old_ok and built is not None and built <= 2016
    need_music, need_art = (73, 67) if old else (96, 90)
    return all(r["music_room_min_area_m2"] >= need_music and r["art_room_min_area_m2"] >= need_art for r in school)


def check(rows: list[dict]) -> dict:
    schools: dict[str, list[dict]] = {}
    for r in rows:
        schools.setdefault(r["school_name"], []).append(r)
        for key in ORDER:
            _, _, primary, junior = INDICATORS[key]
            assert value(r, key) >= (primary if r["stage"] == "primary" else junior), (r["school_name"], key)
        assert r["max_class_size"] <= (45 if r["stage"] == "primary" else 50)
        assert r["public_funds_yuan"] / r["students"] >= (1150 if r["stage"] == "primary" else 1350)

    national_fail, shenyang_fail, exempt = [], [], []
    for name, school in schools.items():
        need = math.ceil(sum(r["classes"] for r in school) / 12)
        assert sum(r["music_rooms"] for r in school) >= need and sum(r["art_rooms"] for r in school) >= need
        size = sum(r["students"] for r in school)
        assert size <= (2500 if school[0]["school_type"] == "nine_year" else 2000) and size <= school[0]["design_capacity"]
        small_rural = not school[0]["urban"] and max(r["max_class_size"] for r in school) < 30
        if not area_rule(school, old_ok=False):
            national_fail.append(name)
        if small_rural:
            exempt.append(name)
            assert all(r["music_room_min_area_m2"] >= (61 if r["stage"] == "junior" else 54)
                       and r["art_room_min_area_m2"] >= (61 if r["stage"] == "junior" else 54) for r in school)
        elif not area_rule(school, old_ok=True):
            shenyang_fail.append(name)
    assert national_fail == ["示例县第一小学", "示例县东山小学", "示例县柳屯小学"], national_fail
    assert shenyang_fail == [], shenyang_fail
    assert exempt == ["示例县柳屯小学"], exempt

    cvs = {}
    for stage, limit in (("primary", 0.50), ("junior", 0.45)):
        srows = [r for r in rows if r["stage"] == stage]
        cvs[stage] = {INDICATORS[k][0]: weighted_cv(srows, k) for k in ORDER}
        assert all(cv <= limit for cv in cvs[stage].values()), cvs[stage]
    county = {c[0]: c[1] for c in COUNTY}
    assert county["public_funds_standard_primary"] >= 1150 and county["public_funds_standard_junior"] >= 1350
    assert county["special_ed_funding_per_student"] >= 8000
    return cvs


def cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def write(rows: list[dict]) -> None:
    with open(HERE / "schools.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(ROW_COLUMNS)
        for r in rows:
            w.writerow([cell(r[c]) for c in ROW_COLUMNS])
    header, values = ["county_code", "county_name"], [COUNTY_CODE, COUNTY_NAME]
    for entry in COUNTY:
        header.append(entry[0])
        values.append(cell(entry[1]))
        if len(entry) == 3:
            header.append(entry[0] + "_note")
            values.append(entry[2])
    with open(HERE / "counties.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerow(values)


def main() -> None:
    rows = build_rows()
    cvs = check(rows)
    write(rows)
    for stage, by in cvs.items():
        for column, cv in by.items():
            print(f"{stage:8} {column:24} CV {cv:.4f}")


if __name__ == "__main__":
    main()
