"""Write the example dataset of a FICTIONAL county for the national-2017 ruleset.

示例区（虚构）: every county and school name, code and number below is invented.
The county is only *shaped* like a real district's self-evaluation (seed 000:
2021年滨江区义务教育优质均衡发展自评报告, section 三): 29 schools (16 primary,
7 junior, 6 nine-year), about 41,000 students, two primary schools whose
teaching area reaches only 86% and 89% of the requirement, and two schools
over the size limit.

Run it from anywhere; it writes next to itself:

    python rulesets/examples/national-2017/make_example.py

    schools.csv    canonical English headers, one row per school per stage
    counties.csv   the county table, canonical English headers
    schools.xlsx   the same school data with the ruleset's Chinese labels
                   (sheet 学校, a title row above the header)
    counties.xlsx  the county table with Chinese labels (sheet 区县)

Nothing is random. Each row names a level (0–3) for each of the seven
resource indicators; the level picks a hand-chosen per-student value from
LEVELS, and the amount in the file is students × value (÷ 100 for the
"per 100 students" indicators), rounded half up to a whole number. Every
property the example is meant to show is recomputed below in plain Python
and asserted, so a change that breaks one fails loudly.

Stdlib + openpyxl only (numpy is not needed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent

#: Timestamp written into the workbooks (the date of the real report), for
#: byte-identical output from one run to the next.
FIXED_TIME = dt.datetime(2021, 11, 15)

COUNTY_CODE = "999901"
COUNTY_NAME = "示例区（虚构）"

# ---------------------------------------------------------------------------
# The seven resource indicators (order used in the level strings below).
#   key: (amount column, per 100 students?, requirement primary, requirement junior)
# ---------------------------------------------------------------------------
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

# Hand-chosen values per level (0 = about 7% above the requirement, 3 = about
# 35–40% above). Per 100 students for T, B, P, M; per student for A, S, E.
LEVELS = {
    "primary": {
        "T": ("4.5", "4.7", "5.6", "5.8"),
        "B": ("1.1", "1.15", "1.3", "1.35"),
        "P": ("1.0", "1.05", "1.15", "1.2"),
        "A": ("4.8", "5.0", "6.0", "6.3"),
        "S": ("8", "8.5", "10", "10.4"),
        "E": ("2200", "2300", "2700", "2800"),
        "M": ("2.5", "2.6", "3.0", "3.1"),
    },
    "junior": {
        "T": ("5.7", "6.0", "7.0", "7.3"),
        "B": ("1.1", "1.15", "1.3", "1.35"),
        "P": ("1.0", "1.05", "1.15", "1.2"),
        "A": ("6.2", "6.5", "7.8", "8.0"),
        "S": ("11", "11.5", "13.5", "14"),
        "E": ("2700", "2800", "3400", "3500"),
        "M": ("2.6", "2.7", "3.2", "3.25"),
    },
}

# Rows whose teaching area is set directly instead of by level ("*" in the
# level string): the two primary schools of the real report at 86% and 89%.
#   博雅小学 1000 students × 4.5 m² × 0.86 = 3870 m²  → 3.87 m²/student
#   长桥小学 1200 students × 4.5 m² × 0.89 = 4806 m²  → 4.005 m²/student
TEACHING_AREA_OVERRIDE = {"博雅小学": 3870, "长桥小学": 4806}

# ---------------------------------------------------------------------------
# The 29 fictional schools. (name, school_type, urban, design_capacity,
# training_spend_share, [(stage, students, levels T B P A S E M), ...])
# ---------------------------------------------------------------------------
SCHOOLS = [
    # 16 primary schools
    ("示例区第一实验小学", "primary", True, 1980, "0.06", [("primary", 1800, "3030303")]),
    ("滨湖实验小学", "primary", True, 2700, "0.06", [("primary", 2661, "0303030")]),
    ("博雅小学", "primary", True, 1080, "0.06", [("primary", 1000, "312*312")]),
    ("长桥小学", "primary", True, 1350, "0.06", [("primary", 1200, "203*203")]),
    ("示例区第二实验小学", "primary", True, 1800, "0.08", [("primary", 1600, "1302130")]),
    ("星光小学", "primary", True, 1620, "0.06", [("primary", 1500, "3021302")]),
    ("文华小学", "primary", True, 1620, "0.07", [("primary", 1400, "0213021")]),
    ("明德小学", "primary", True, 1980, "0.06", [("primary", 1800, "3300330")]),
    ("育才小学", "primary", True, 1800, "0.06", [("primary", 1700, "0033003")]),
    ("启航小学", "primary", True, 1350, "0.08", [("primary", 1300, "2130213")]),
    ("新城小学", "primary", True, 1980, "0.06", [("primary", 1900, "0330033")]),
    ("和乐小学", "primary", True, 1350, "0.06", [("primary", 1200, "3003300")]),
    ("翠苑小学", "primary", True, 1350, "0.07", [("primary", 1100, "1221122")]),
    ("东湖小学", "primary", True, 1080, "0.06", [("primary", 900, "3113311")]),
    ("白鹭小学", "primary", False, 540, "0.10", [("primary", 500, "0220022")]),
    ("山前小学", "primary", False, 540, "0.10", [("primary", 500, "2002200")]),
    # 7 junior schools
    ("示例区第一中学", "junior", True, 1200, "0.06", [("junior", 1000, "3030303")]),
    ("示例区第二中学", "junior", True, 1000, "0.06", [("junior", 900, "0303030")]),
    ("江滨初级中学", "junior", True, 1000, "0.07", [("junior", 900, "3300330")]),
    ("文澜中学", "junior", True, 900, "0.06", [("junior", 800, "0033003")]),
    ("星河中学", "junior", True, 900, "0.06", [("junior", 700, "2130213")]),
    ("明远中学", "junior", True, 750, "0.08", [("junior", 600, "1302130")]),
    ("山前初级中学", "junior", False, 750, "0.10", [("junior", 600, "3021302")]),
    # 6 nine-year schools, a primary row and a junior row each
    ("江畔实验学校", "nine_year", True, 3300, "0.06",
     [("primary", 2224, "3300303"), ("junior", 1000, "0303030")]),
    ("示例区实验学校", "nine_year", True, 2500, "0.06",
     [("primary", 1600, "0033030"), ("junior", 800, "3030303")]),
    ("高新实验学校", "nine_year", True, 2400, "0.07",
     [("primary", 1500, "3030330"), ("junior", 700, "0330033")]),
    ("锦绣学校", "nine_year", True, 2250, "0.06",
     [("primary", 1400, "0303003"), ("junior", 700, "3003300")]),
    ("云帆学校", "nine_year", True, 2000, "0.06",
     [("primary", 1300, "1212121"), ("junior", 600, "1221122")]),
    ("青山学校", "nine_year", False, 1800, "0.10",
     [("primary", 1200, "2121212"), ("junior", 500, "2112211")]),
]

# ---------------------------------------------------------------------------
# The county table (percent fields are fractions: 1 means 100%).
# ---------------------------------------------------------------------------
N = "（虚构）"
COUNTY = [
    ("layout_reasonable", True, "《示例区中小学布局规划（2021—2025）》" + N),
    ("unified_standards", True, "《示例区义务教育学校建设、编制、经费、装备标准统一文件》" + N),
    ("public_funds_standard_primary", 800),
    ("public_funds_standard_junior", 1000),
    ("special_ed_funding_per_student", 8000),
    ("teacher_avg_salary", 180000),
    ("civil_servant_avg_salary", 175000),
    ("performance_pay_approved", True, "示例区人社局、财政局绩效工资总量核定通知" + N),
    ("training_hours_completion", 1),
    ("staffing_managed_by_county", True, "《示例区中小学教职工编制统筹管理办法》" + N),
    ("rotation_share", 0.12),
    ("backbone_rotation_share", 0.25),
    ("certified_teacher_share", 1),
    ("nearby_admission_primary", 1),
    ("nearby_admission_junior", 0.97),
    ("quota_allocation_share", 0.55),
    ("quota_tilted_rural", True, "《示例区优质普通高中招生名额分配方案》" + N),
    ("left_behind_care_system", True, "示例区留守儿童关爱服务工作台账" + N),
    ("migrant_public_share", 0.92),
    ("junior_retention_rate", 0.99),
    ("disabled_enrolment_rate", 0.97),
    ("charter_and_digital", True, "全区学校章程汇编及智慧校园管理平台" + N),
    ("ict_use", True, "示例区教育信息化应用情况抽查报告" + N),
    ("moral_education_good", True, "示例区学校德育工作评估报告" + N),
    ("curriculum_complete", True, "示例区课程实施情况专项督导报告" + N),
    ("burden_controlled", True, "示例区“双减”工作专项督查报告" + N),
    ("monitoring_lowest_level", 3),
    ("monitoring_max_difference", 0.12),
    ("satisfaction_rate", 0.93),
    ("exam_based_admission", False, "招生工作专项检查：未发现以考试方式招生" + N),
    ("irregular_school_choice", False, "招生入学专项督查：未发现违规择校" + N),
    ("key_schools_or_classes", False, "分班情况抽查：未设重点学校、重点班" + N),
    ("unfilled_vacancies", False, "教职工编制使用情况核查：无有编不补" + N),
    ("major_safety_accident", False, "教育系统安全工作年度报告：未发生重大安全责任事故" + N),
    ("falsified_data", False, "自评数据复核记录：未发现弄虚作假" + N),
]

# Chinese labels, copied from rulesets/national-2017.qbe (checked against it below).
LABELS = {
    "county_code": "区县代码",
    "county_name": "区县名称",
    "school_code": "学校代码",
    "school_name": "学校名称",
    "school_type": "学校类型",
    "stage": "学段",
    "students": "在校生数",
    "classes": "班级数",
    "max_class_size": "最大班额",
    "teachers_above_degree": "高于规定学历教师数",
    "backbone_teachers": "县级及以上骨干教师数",
    "pe_art_teachers": "体育艺术专任教师数",
    "teaching_area_m2": "教学及辅助用房面积",
    "sports_area_m2": "体育运动场馆面积",
    "equipment_value_yuan": "教学仪器设备值",
    "multimedia_rooms": "网络多媒体教室数",
    "music_rooms": "音乐专用教室数",
    "art_rooms": "美术专用教室数",
    "music_room_min_area_m2": "音乐专用教室最小面积",
    "art_room_min_area_m2": "美术专用教室最小面积",
    "public_funds_yuan": "生均公用经费拨付总额",
    "urban": "城镇",
    "design_capacity": "设计规模",
    "training_spend_share": "教师培训经费占公用经费比例",
    "layout_reasonable": "学校规划布局合理",
    "unified_standards": "城乡学校四个标准统一",
    "public_funds_standard_primary": "小学生均公用经费基准定额",
    "public_funds_standard_junior": "初中生均公用经费基准定额",
    "special_ed_funding_per_student": "特殊教育学校生均公用经费",
    "teacher_avg_salary": "教师平均工资收入",
    "civil_servant_avg_salary": "当地公务员平均工资收入",
    "performance_pay_approved": "教师绩效工资总量核定到位",
    "training_hours_completion": "教师5年360学时培训完成率",
    "staffing_managed_by_county": "县级教育部门统筹分配编制岗位",
    "rotation_share": "教师交流轮岗比例",
    "backbone_rotation_share": "骨干教师占交流轮岗教师比例",
    "certified_teacher_share": "教师持证上岗率",
    "nearby_admission_primary": "小学划片就近入学比例",
    "nearby_admission_junior": "初中划片就近入学比例",
    "quota_allocation_share": "优质高中招生名额分配比例",
    "quota_tilted_rural": "名额分配向农村学校倾斜",
    "left_behind_care_system": "留守儿童关爱体系健全",
    "migrant_public_share": "随迁子女在公办学校和政府购买服务学校就读比例",
    "junior_retention_rate": "初中三年巩固率",
    "disabled_enrolment_rate": "残疾儿童少年入学率",
    "charter_and_digital": "学校章程与管理信息化",
    "ict_use": "教师信息技术应用与设备利用",
    "moral_education_good": "德育与校园文化良好",
    "curriculum_complete": "课程开齐开足、教学秩序规范",
    "burden_controlled": "学生课业负担合理",
    "monitoring_lowest_level": "质量监测各学科最低等级",
    "monitoring_max_difference": "质量监测最大校际差异率",
    "satisfaction_rate": "社会认可度",
    "exam_based_admission": "存在以考试方式招生",
    "irregular_school_choice": "存在违规择校行为",
    "key_schools_or_classes": "存在重点学校或重点班",
    "unfilled_vacancies": "存在有编不补或长期聘用编外教师",
    "major_safety_accident": "发生重大安全责任事故或严重违纪违规事件",
    "falsified_data": "存在弄虚作假行为",
}
TYPE_ZH = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}
STAGE_ZH = {"primary": "小学", "junior": "初中"}
PERCENT_FIELDS = {
    "training_spend_share", "training_hours_completion", "rotation_share",
    "backbone_rotation_share", "certified_teacher_share", "nearby_admission_primary",
    "nearby_admission_junior", "quota_allocation_share", "migrant_public_share",
    "junior_retention_rate", "disabled_enrolment_rate", "satisfaction_rate",
}

ROW_COLUMNS = [
    "county_code", "county_name", "school_code", "school_name", "school_type", "stage",
    "students", "classes", "max_class_size",
    "teachers_above_degree", "backbone_teachers", "pe_art_teachers",
    "teaching_area_m2", "sports_area_m2", "equipment_value_yuan", "multimedia_rooms",
    "music_rooms", "art_rooms", "music_room_min_area_m2", "art_room_min_area_m2",
    "public_funds_yuan",
    "urban", "design_capacity", "training_spend_share",
]

SIZE_LIMIT = {"primary": 2000, "junior": 2000, "nine_year": 2500}
CLASS_LIMIT = {"primary": 45, "junior": 50}
CV_LIMIT = {"primary": 0.50, "junior": 0.45}
FUNDS_PER_STUDENT = {"primary": 1000, "junior": 1200}


def half_up(x: Fraction) -> int:
    """Round a non-negative fraction to the nearest whole number, halves up."""
    return math.floor(x + Fraction(1, 2))


# ---------------------------------------------------------------------------
# build the rows
# ---------------------------------------------------------------------------


def build_rows() -> list[dict]:
    rows = []
    for number, (name, stype, urban, capacity, share, stages) in enumerate(SCHOOLS, start=1):
        code = f"{COUNTY_CODE}{number:04d}"
        for stage, students, levels in stages:
            assert len(levels) == 7, name
            classes = (students + 20) // 40  # students / 40, rounded half up
            rooms = -(-classes // 12)  # one music and one art room per 12 classes, rounded up
            row = {
                "county_code": COUNTY_CODE,
                "county_name": COUNTY_NAME,
                "school_code": code,
                "school_name": name,
                "school_type": stype,
                "stage": stage,
                "students": students,
                "classes": classes,
                # a few pupils above the average class, within 45 / 50
                "max_class_size": -(-students // classes) + (2 if stage == "primary" else 3),
                "music_rooms": rooms,
                "art_rooms": rooms,
                "music_room_min_area_m2": 96 if not urban else 100,
                "art_room_min_area_m2": 90 if not urban else 96,
                "public_funds_yuan": students * FUNDS_PER_STUDENT[stage],
                "urban": urban,
                "design_capacity": capacity,
                "training_spend_share": float(Fraction(share)),
            }
            for key, level in zip(ORDER, levels):
                column, per100, _, _ = INDICATORS[key]
                if level == "*":
                    row[column] = TEACHING_AREA_OVERRIDE[name]
                    continue
                value = Fraction(LEVELS[stage][key][int(level)])
                row[column] = half_up(value * students / 100 if per100 else value * students)
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# check every property the example is built to show
# ---------------------------------------------------------------------------


def indicator_value(row: dict, key: str) -> Fraction:
    column, per100, _, _ = INDICATORS[key]
    value = Fraction(row[column], row["students"])
    return value * 100 if per100 else value


def requirement(row: dict, key: str) -> Fraction:
    _, _, primary, junior = INDICATORS[key]
    return primary if row["stage"] == "primary" else junior


def weighted_cv(rows: list[dict], key: str) -> float:
    """Student-weighted coefficient of variation: X̄ = Σx/ΣP, S² = Σ P_i/P (X_i − X̄)²."""
    column, per100, _, _ = INDICATORS[key]
    total = sum(r["students"] for r in rows)
    mean = Fraction(sum(r[column] for r in rows), total) * (100 if per100 else 1)
    var = sum(Fraction(r["students"], total) * (indicator_value(r, key) - mean) ** 2 for r in rows)
    return math.sqrt(var) / float(mean)


def check(rows: list[dict]) -> dict[str, dict[str, float]]:
    assert len(SCHOOLS) == 29 and len(rows) == 35
    types = [s[1] for s in SCHOOLS]
    assert (types.count("primary"), types.count("junior"), types.count("nine_year")) == (16, 7, 6)

    # 1. resource indicators: 5–40 % above every requirement, except the two overrides
    for row in rows:
        for key in ORDER:
            ratio = indicator_value(row, key) / requirement(row, key)
            if key == "A" and row["school_name"] in TEACHING_AREA_OVERRIDE:
                continue
            assert Fraction(105, 100) <= ratio <= Fraction(140, 100), (
                row["school_name"], row["stage"], key, float(ratio))
    by_name = {(r["school_name"], r["stage"]): r for r in rows}
    assert indicator_value(by_name["博雅小学", "primary"], "A") / Fraction("4.5") == Fraction(86, 100)
    assert indicator_value(by_name["长桥小学", "primary"], "A") / Fraction("4.5") == Fraction(89, 100)

    # 2. school size
    schools: dict[str, list[dict]] = {}
    for row in rows:
        schools.setdefault(row["school_name"], []).append(row)
    over = {}
    for name, srows in schools.items():
        size = sum(r["students"] for r in srows)
        stype = srows[0]["school_type"]
        assert size >= 100
        if size > SIZE_LIMIT[stype]:
            over[name] = size - SIZE_LIMIT[stype]
        assert size <= srows[0]["design_capacity"], name
    assert over == {"滨湖实验小学": 661, "江畔实验学校": 724}, over
    assert sum(r["students"] for r in schools["滨湖实验小学"]) == 2661
    assert schools["滨湖实验小学"][0]["design_capacity"] == 2700
    assert sum(r["students"] for r in schools["江畔实验学校"]) == 3224
    assert schools["江畔实验学校"][0]["design_capacity"] == 3300

    # 4. classes, class size, art rooms, funds, school-level fields
    for row in rows:
        assert abs(row["students"] / row["classes"] - 40) <= 2, row["school_name"]
        assert row["students"] / row["classes"] <= row["max_class_size"] <= CLASS_LIMIT[row["stage"]]
        assert row["music_room_min_area_m2"] >= 96 and row["art_room_min_area_m2"] >= 90
        assert row["public_funds_yuan"] >= row["students"] * 1000
    for name, srows in schools.items():
        need = -(-sum(r["classes"] for r in srows) // 12)
        assert sum(r["music_rooms"] for r in srows) >= need, name
        assert sum(r["art_rooms"] for r in srows) >= need, name
        for field in ("urban", "design_capacity", "training_spend_share", "school_type"):
            assert len({r[field] for r in srows}) == 1, (name, field)
        assert srows[0]["training_spend_share"] >= 0.05

    # 3. coefficients of variation, per stage
    cvs: dict[str, dict[str, float]] = {}
    for stage in ("primary", "junior"):
        srows = [r for r in rows if r["stage"] == stage]
        cvs[stage] = {INDICATORS[k][0]: weighted_cv(srows, k) for k in ORDER}
        for column, cv in cvs[stage].items():
            assert cv <= CV_LIMIT[stage], (stage, column, cv)
            assert 0.05 <= cv <= 0.35, (stage, column, cv)

    # totals
    primary = sum(r["students"] for r in rows if r["stage"] == "primary")
    junior = sum(r["students"] for r in rows if r["stage"] == "junior")
    assert abs(primary - 31300) <= 100 and abs(junior - 9800) <= 100, (primary, junior)

    # 5. county table
    county = {item[0]: item[1] for item in COUNTY}
    good = ["layout_reasonable", "unified_standards", "performance_pay_approved",
            "staffing_managed_by_county", "quota_tilted_rural", "left_behind_care_system",
            "charter_and_digital", "ict_use", "moral_education_good", "curriculum_complete",
            "burden_controlled"]
    veto = ["exam_based_admission", "irregular_school_choice", "key_schools_or_classes",
            "unfilled_vacancies", "major_safety_accident", "falsified_data"]
    assert all(county[k] is True for k in good) and all(county[k] is False for k in veto)
    assert all(len(item) == 3 for item in COUNTY if isinstance(item[1], bool))
    return cvs


def check_labels() -> None:
    """The Chinese labels above must be the ruleset's own."""
    text = (HERE.parent.parent / "national-2017.qbe").read_text(encoding="utf-8")
    fixed = {"county_code", "county_name", "school_code", "school_name", "school_type", "stage"}
    for name, label in LABELS.items():
        if name not in fixed:
            assert f'"{label}"' in text and f"{name}:" in text, (name, label)


# ---------------------------------------------------------------------------
# write the files
# ---------------------------------------------------------------------------


def csv_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def zh_value(column: str, value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if column == "school_type":
        return TYPE_ZH[value]
    if column == "stage":
        return STAGE_ZH[value]
    return value


def county_columns() -> list[str]:
    cols = ["county_code", "county_name"]
    for item in COUNTY:
        cols.append(item[0])
        if len(item) == 3:
            cols.append(item[0] + "_note")
    return cols


def county_record() -> dict:
    rec = {"county_code": COUNTY_CODE, "county_name": COUNTY_NAME}
    for item in COUNTY:
        rec[item[0]] = item[1]
        if len(item) == 3:
            rec[item[0] + "_note"] = item[2]
    return rec


def zh_header(column: str) -> str:
    if column.endswith("_note"):
        return LABELS[column[: -len("_note")]] + "（佐证）"
    return LABELS[column]


def write_csv(path: Path, columns: list[str], records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for rec in records:
            w.writerow([csv_value(rec[c]) for c in columns])


def write_xlsx(path: Path, sheet: str, title: str, columns: list[str], records: list[dict]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=2, column=j, value=zh_header(column))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, rec in enumerate(records, start=3):
        for j, column in enumerate(columns, start=1):
            cell = ws.cell(row=i, column=j, value=zh_value(column, rec[column]))
            if column in PERCENT_FIELDS:
                cell.number_format = "0%"
    for j, column in enumerate(columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = 30 if column.endswith("_note") or column == "school_name" else 12
    ws.freeze_panes = "A3"
    wb.properties.creator = "qbe make_example.py"
    wb.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack a workbook with fixed timestamps so every run writes the same bytes.

    openpyxl stamps the save time into docProps/core.xml and into each zip entry.
    """
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + stamp.encode() + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def main() -> None:
    check_labels()
    rows = build_rows()
    cvs = check(rows)

    write_csv(HERE / "schools.csv", ROW_COLUMNS, rows)
    write_csv(HERE / "counties.csv", county_columns(), [county_record()])
    write_xlsx(HERE / "schools.xlsx", "学校", f"{COUNTY_NAME}义务教育学校基本情况", ROW_COLUMNS, rows)
    write_xlsx(HERE / "counties.xlsx", "区县", f"{COUNTY_NAME}义务教育优质均衡发展县级数据",
               county_columns(), [county_record()])

    primary = sum(r["students"] for r in rows if r["stage"] == "primary")
    junior = sum(r["students"] for r in rows if r["stage"] == "junior")
    print(f"29 schools, {len(rows)} rows, {primary + junior} students "
          f"({primary} primary stage, {junior} junior stage)")
    print("student-weighted coefficients of variation (limit 0.50 primary, 0.45 junior):")
    for key in ORDER:
        column = INDICATORS[key][0]
        print(f"  {column:24s} primary {cvs['primary'][column]:.4f}   junior {cvs['junior'][column]:.4f}")
    print("wrote", ", ".join(p for p in ("schools.csv", "counties.csv", "schools.xlsx", "counties.xlsx")),
          "in", HERE)


if __name__ == "__main__":
    main()
