"""Write the example dataset of a FICTIONAL county for the national-2019 ruleset.

示例区（虚构）: every county and school name, code and number is invented.

The data is the national-2017 example (../national-2017/schools.csv and
counties.csv, read as they are) with the columns the 2019 transitional
allowances need, and a few changes so that every allowance shows:

* school size: 江畔实验学校 (nine-year, 3224 pupils) was built in 2004, so its
  limit is 3000 and it is 224 over, as seed 000 reports ("超过指标224人");
  滨湖实验小学 (2661 pupils, built 2015, 30% migrant pupils) keeps the 2000
  limit and is 661 over; 新城小学 (62% migrant pupils) gets 2400;
* PE / art teachers: a new rural school, 溪口小学 (80 pupils), has no full-time
  PE or art teacher and one exchange teacher: 1 / 80 × 100 = 1.25 ≥ 0.9;
  白鹭小学 (rural, 500 pupils) reports 2 exchange teachers that do not count;
* sports grounds: 翠苑小学 (high-density city) has 7040 m² of its own grounds
  (6.4 m² per pupil, 85.3% of 7.5: tolerated under 2017) and 1500 m² on its
  roof: 8540 / 1100 = 7.76 ≥ 7.5; 锦绣学校 (nine-year, high-density) fills
  2100 m² of rented ground once, on its primary row, and it is apportioned to
  its two stages like its own grounds; 示例区第一实验小学 rents 1000 m² but is
  not in a high-density area, so it does not count;
* music / art rooms: 东湖小学 (built 2008) has rooms of 80 / 70 m² (≥ 73 / 67);
  溪口小学 (rural, largest class 24) has 60 / 65 m² (≥ 54 / 61).

Run it from anywhere; it writes schools.csv and counties.csv next to itself:

    python rulesets/examples/national-2019/make_example.py

Nothing is random; every property above is recomputed in plain Python and
asserted before writing. Stdlib only.
"""

from __future__ import annotations

import csv
import math
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE.parent / "national-2017"

NEW_SCHOOL_COLUMNS = ["built_year", "migrant_share", "high_density_city"]
NEW_ROW_COLUMNS = ["exchange_pe_art_teachers", "rented_sports_area_m2"]

# Per school: (建成年份, 随迁子女占比 as written in the file, 高密度城区).
# "" is a blank cell, which gives no allowance. migrant_share is written both
# ways the data may use: a fraction (0.3) or a percentage with its sign ("62%").
SCHOOL_FACTS = {
    "示例区第一实验小学": ("1998", "0.25", "no"),
    "滨湖实验小学": ("2015", "0.3", "yes"),
    "博雅小学": ("2012", "0.2", "no"),
    "长桥小学": ("2011", "0.15", "no"),
    "示例区第二实验小学": ("2003", "0.4", "no"),
    "星光小学": ("2014", "0.35", "no"),
    "文华小学": ("2017", "0.3", "no"),
    "明德小学": ("2013", "0.45", "no"),
    "育才小学": ("2018", "0.3", "no"),
    "启航小学": ("2019", "0.2", "no"),
    "新城小学": ("2017", "62%", "no"),
    "和乐小学": ("2012", "0.1", ""),
    "翠苑小学": ("2018", "0.35", "yes"),
    "东湖小学": ("2008", "0.2", "no"),
    "白鹭小学": ("2017", "0.05", "no"),
    "山前小学": ("2018", "0.05", "no"),
    "示例区第一中学": ("", "", ""),
    "示例区第二中学": ("2017", "0.3", "no"),
    "江滨初级中学": ("2018", "0.35", "no"),
    "文澜中学": ("2017", "0.25", "no"),
    "星河中学": ("2019", "0.3", "no"),
    "明远中学": ("2018", "0.2", "no"),
    "山前初级中学": ("2017", "0.05", "no"),
    "江畔实验学校": ("2004", "0.3", "no"),
    "示例区实验学校": ("2018", "0.3", "no"),
    "高新实验学校": ("2017", "0.4", "no"),
    "锦绣学校": ("2018", "0.35", "yes"),
    "云帆学校": ("2019", "0.25", "no"),
    "青山学校": ("2017", "0.05", "no"),
    "溪口小学": ("1998", "0.05", "no"),
}

# Per (school, stage): (交流或兼职体艺教师数, 租用或屋顶运动场地面积); "" is blank.
ROW_FACTS = {
    ("溪口小学", "primary"): ("1", ""),
    ("白鹭小学", "primary"): ("2", ""),
    ("翠苑小学", "primary"): ("", "1500"),
    ("锦绣学校", "primary"): ("", "2100"),
    ("示例区第一实验小学", "primary"): ("", "1000"),
}

# Changes to the national-2017 figures.
CHANGES = {
    ("翠苑小学", "primary"): {"sports_area_m2": "7040"},
    ("东湖小学", "primary"): {"music_room_min_area_m2": "80", "art_room_min_area_m2": "70"},
}

# A new rural school of 80 pupils, 4 classes, no full-time PE or art teacher.
NEW_SCHOOL = {
    "school_code": "9999010030",
    "school_name": "溪口小学",
    "school_type": "primary",
    "stage": "primary",
    "students": "80",
    "classes": "4",
    "max_class_size": "24",
    "teachers_above_degree": "5",
    "backbone_teachers": "1",
    "pe_art_teachers": "0",
    "teaching_area_m2": "480",
    "sports_area_m2": "800",
    "equipment_value_yuan": "200000",
    "multimedia_rooms": "2",
    "music_rooms": "1",
    "art_rooms": "1",
    "music_room_min_area_m2": "60",
    "art_room_min_area_m2": "65",
    "public_funds_yuan": "80000",
    "urban": "no",
    "design_capacity": "120",
    "training_spend_share": "0.1",
}

# indicator → (amount column, per 100 students, primary requirement, junior requirement)
INDICATORS = {
    "teachers_above_degree_per100": ("teachers_above_degree", True, Fraction("4.2"), Fraction("5.3")),
    "backbone_teachers_per100": ("backbone_teachers", True, Fraction(1), Fraction(1)),
    "pe_art_teachers_per100": ("pe_art_teachers", True, Fraction("0.9"), Fraction("0.9")),
    "teaching_area_per_student": ("teaching_area_m2", False, Fraction("4.5"), Fraction("5.8")),
    "sports_area_per_student": ("sports_area_m2", False, Fraction("7.5"), Fraction("10.2")),
    "equipment_value_per_student": ("equipment_value_yuan", False, Fraction(2000), Fraction(2500)),
    "multimedia_rooms_per100": ("multimedia_rooms", True, Fraction("2.3"), Fraction("2.4")),
}
CV_LIMIT = {"primary": 0.50, "junior": 0.45}
STAGE_WEIGHT = {"primary": Fraction(1), "junior": Fraction(11, 10)}


def read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def build() -> tuple[list[str], list[dict]]:
    columns, rows = read(BASE / "schools.csv")
    assert len(rows) == 35, "the national-2017 example has changed"
    template = dict(rows[0])
    new = {**template, **NEW_SCHOOL}
    rows.append(new)
    for row in rows:
        key = (row["school_name"], row["stage"])
        row.update(CHANGES.get(key, {}))
        built, migrant, dense = SCHOOL_FACTS[row["school_name"]]
        row["built_year"], row["migrant_share"], row["high_density_city"] = built, migrant, dense
        row["exchange_pe_art_teachers"], row["rented_sports_area_m2"] = ROW_FACTS.get(key, ("", ""))
    return columns + NEW_SCHOOL_COLUMNS + NEW_ROW_COLUMNS, rows


# ---------------------------------------------------------------------------
# the 2019 rules in plain Python, to check the example shows what it should
# ---------------------------------------------------------------------------


def num(cell: str) -> Fraction | None:
    if cell == "":
        return None
    if cell.endswith("%"):
        return Fraction(cell[:-1]) / 100
    return Fraction(cell)


def by_school(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["school_name"], []).append(row)
    return out


def size_limit(row: dict) -> int:
    built, migrant = num(row["built_year"]), num(row["migrant_share"])
    allowance = (built is not None and built <= 2010) or (migrant is not None and migrant > Fraction(1, 2))
    if row["school_type"] in ("nine_year", "twelve_year"):
        return 3000 if allowance else 2500
    return 2400 if allowance else 2000


def rented_share(row: dict, school_rows: list[dict]) -> Fraction:
    """The row's share of the school's rented grounds (apportioned 1 : 1.1 by students)."""
    filled = [r for r in school_rows if r["rented_sports_area_m2"] != ""]
    if not filled:
        return Fraction(0)
    if len(filled) == len(school_rows):
        return num(row["rented_sports_area_m2"])
    assert len(filled) == 1, row["school_name"]
    total = num(filled[0]["rented_sports_area_m2"])
    denom = sum(STAGE_WEIGHT[r["stage"]] * int(r["students"]) for r in school_rows)
    return total * STAGE_WEIGHT[row["stage"]] * int(row["students"]) / denom


def value(row: dict, indicator: str, schools: dict[str, list[dict]], year: int) -> Fraction:
    column, per100, _, _ = INDICATORS[indicator]
    students = int(row["students"])
    amount = num(row[column])
    if year == 2019 and indicator == "pe_art_teachers_per100":
        if row["urban"] == "no" and 50 <= students <= 99:
            amount += num(row["exchange_pe_art_teachers"]) or 0
    if year == 2019 and indicator == "sports_area_per_student" and row["high_density_city"] == "yes":
        amount += rented_share(row, schools[row["school_name"]])
    v = amount / students
    return v * 100 if per100 else v


def requirement(row: dict, indicator: str) -> Fraction:
    _, _, primary, junior = INDICATORS[indicator]
    return primary if row["stage"] == "primary" else junior


def weighted_cv(rows: list[dict], indicator: str, schools, year: int) -> float:
    total = sum(int(r["students"]) for r in rows)
    xs = [(int(r["students"]), value(r, indicator, schools, year)) for r in rows]
    mean = sum(p * x for p, x in xs) / total
    var = sum(Fraction(p, total) * (x - mean) ** 2 for p, x in xs)
    return math.sqrt(var) / float(mean)


def room_minimum(school_rows: list[dict]) -> tuple[int, int]:
    first = school_rows[0]
    largest = max(int(r["max_class_size"]) for r in school_rows)
    built = num(first["built_year"])
    if first["urban"] == "no" and largest < 30:
        return 54, 61
    if built is not None and built <= 2016:
        return 73, 67
    return 96, 90


def check(rows: list[dict]) -> dict:
    schools = by_school(rows)
    assert len(schools) == 30 and len(rows) == 36
    for name, srows in schools.items():
        for column in NEW_SCHOOL_COLUMNS + ["urban", "school_type"]:
            assert len({r[column] for r in srows}) == 1, (name, column)

    # school size, 2019 limits
    over = {}
    for name, srows in schools.items():
        size = sum(int(r["students"]) for r in srows)
        if size > size_limit(srows[0]):
            over[name] = size - size_limit(srows[0])
    assert over == {"滨湖实验小学": 661, "江畔实验学校": 224}, over
    assert size_limit(schools["江畔实验学校"][0]) == 3000
    assert size_limit(schools["新城小学"][0]) == 2400
    assert size_limit(schools["示例区第一中学"][0]) == 2000

    # every indicator met under 2019 on every row
    for row in rows:
        for ind in INDICATORS:
            assert value(row, ind, schools, 2019) >= requirement(row, ind) or (
                ind == "teaching_area_per_student" and row["school_name"] in ("博雅小学", "长桥小学")
            ), (row["school_name"], ind)
    xikou = schools["溪口小学"][0]
    assert value(xikou, "pe_art_teachers_per100", schools, 2017) == 0
    assert value(xikou, "pe_art_teachers_per100", schools, 2019) == Fraction(5, 4)
    bailu = schools["白鹭小学"][0]
    assert value(bailu, "pe_art_teachers_per100", schools, 2019) == Fraction(6, 5)  # exchange not counted
    cuiyuan = schools["翠苑小学"][0]
    assert value(cuiyuan, "sports_area_per_student", schools, 2017) == Fraction("6.4")
    assert Fraction(85, 100) <= Fraction("6.4") / Fraction("7.5") < 1
    assert value(cuiyuan, "sports_area_per_student", schools, 2019) == Fraction(8540, 1100)
    first = schools["示例区第一实验小学"][0]
    assert value(first, "sports_area_per_student", schools, 2019) == Fraction("10.4")
    jinxiu = {r["stage"]: r for r in schools["锦绣学校"]}
    assert rented_share(jinxiu["primary"], schools["锦绣学校"]) == Fraction(2100 * 1400, 2170)
    assert rented_share(jinxiu["junior"], schools["锦绣学校"]) == Fraction(2100 * 770, 2170)

    # music / art rooms
    for name, srows in schools.items():
        classes = sum(int(r["classes"]) for r in srows)
        need = -(-classes // 12)
        assert sum(int(r["music_rooms"]) for r in srows) >= need
        assert sum(int(r["art_rooms"]) for r in srows) >= need
        music, art = room_minimum(srows)
        assert min(int(r["music_room_min_area_m2"]) for r in srows) >= music, name
        assert min(int(r["art_room_min_area_m2"]) for r in srows) >= art, name
    assert room_minimum(schools["东湖小学"]) == (73, 67)
    assert room_minimum(schools["溪口小学"]) == (54, 61)

    # small rural school funded as 100 pupils (800 yuan per pupil in the county table)
    assert int(xikou["public_funds_yuan"]) >= 100 * 800

    # coefficients of variation under both years stay within the limits
    cvs = {}
    for year in (2017, 2019):
        for stage in ("primary", "junior"):
            srows = [r for r in rows if r["stage"] == stage]
            for ind in INDICATORS:
                cv = weighted_cv(srows, ind, schools, year)
                assert cv <= CV_LIMIT[stage], (year, stage, ind, cv)
                cvs[year, stage, ind] = cv
    return cvs


def write(path: Path, columns: list[str], records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, columns, lineterminator="\n")
        w.writeheader()
        for rec in records:
            w.writerow({c: rec[c] for c in columns})


def main() -> None:
    columns, rows = build()
    cvs = check(rows)
    write(HERE / "schools.csv", columns, rows)
    county_columns, counties = read(BASE / "counties.csv")
    write(HERE / "counties.csv", county_columns, counties)
    print(f"{len(by_school(rows))} schools, {len(rows)} rows")
    print("student-weighted CVs under 2019 (limit 0.50 primary, 0.45 junior):")
    for ind in INDICATORS:
        print(f"  {ind:30s} primary {cvs[2019, 'primary', ind]:.4f}   junior {cvs[2019, 'junior', ind]:.4f}")
    print("wrote schools.csv, counties.csv in", HERE)


if __name__ == "__main__":
    main()
