"""Write the example dataset of a FICTIONAL county for the hebei-2017 ruleset.

示例区（虚构）: every county and school name, code and number is invented.

The data is the national-2017 example (../national-2017/schools.csv and
counties.csv, read as they are) with three changes:

* the two schools over the size limit are made smaller, so that size no longer
  fails the county: 滨湖实验小学 2661 → 1990 pupils, 江畔实验学校's primary
  stage 2224 → 1480 (2480 in all, within 2500); their amounts are scaled with
  the pupils (rounded half up), so every per-pupil value stays about the same;
* 石门教学点, a rural teaching point of 30 pupils, meets only one of the seven
  resource indicators: under national-2017 it fails the 6-of-7 rule and so the
  county fails; under hebei-2017 it is left out (seven indicators exempt, the
  rule not applicable) and the county passes;
* 岭下教学点, a rural teaching point of exactly 50 pupils, is not "under 50": it is
  judged as usual under both standards, and meets everything.

Both teaching points are given one music and one art room and funds for 100
pupils, so the guarantee items (which Hebei does not change) are met.

    python rulesets/examples/hebei-2017/make_example.py

Nothing is random; every property is recomputed and asserted before writing.
Stdlib only.
"""

from __future__ import annotations

import csv
import math
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE.parent / "national-2017"

#: (school, stage) → new number of pupils
RESIZE = {("滨湖实验小学", "primary"): 1990, ("江畔实验学校", "primary"): 1480}
SCALED = ["teachers_above_degree", "backbone_teachers", "pe_art_teachers", "teaching_area_m2",
          "sports_area_m2", "equipment_value_yuan", "multimedia_rooms", "public_funds_yuan"]

TEACHING_POINTS = [
    {   # 30 pupils: 1 of 7 indicators met
        "school_code": "9999010030", "school_name": "石门教学点", "school_type": "teaching_point",
        "stage": "primary", "students": "30", "classes": "3", "max_class_size": "12",
        "teachers_above_degree": "1",   # 3.33 per 100  (79% of 4.2)
        "backbone_teachers": "0",       # 0             (0% of 1)
        "pe_art_teachers": "0",         # 0             (0% of 0.9)
        "teaching_area_m2": "120",      # 4.0 m²        (89% of 4.5)
        "sports_area_m2": "200",        # 6.67 m²       (89% of 7.5)
        "equipment_value_yuan": "45000",  # 1500 yuan   (75% of 2000)
        "multimedia_rooms": "1",        # 3.33 per 100  (met, ≥ 2.3)
        "music_rooms": "1", "art_rooms": "1",
        "music_room_min_area_m2": "96", "art_room_min_area_m2": "90",
        "public_funds_yuan": "80000", "urban": "no", "design_capacity": "60", "training_spend_share": "0.1",
    },
    {   # exactly 50 pupils: not exempt, every indicator met
        "school_code": "9999010031", "school_name": "岭下教学点", "school_type": "teaching_point",
        "stage": "primary", "students": "50", "classes": "3", "max_class_size": "20",
        "teachers_above_degree": "3", "backbone_teachers": "1", "pe_art_teachers": "1",
        "teaching_area_m2": "300", "sports_area_m2": "500", "equipment_value_yuan": "125000",
        "multimedia_rooms": "2",
        "music_rooms": "1", "art_rooms": "1",
        "music_room_min_area_m2": "96", "art_room_min_area_m2": "90",
        "public_funds_yuan": "80000", "urban": "no", "design_capacity": "90", "training_spend_share": "0.1",
    },
]

INDICATORS = {
    "teachers_above_degree_per100": ("teachers_above_degree", True, Fraction("4.2"), Fraction("5.3")),
    "backbone_teachers_per100": ("backbone_teachers", True, Fraction(1), Fraction(1)),
    "pe_art_teachers_per100": ("pe_art_teachers", True, Fraction("0.9"), Fraction("0.9")),
    "teaching_area_per_student": ("teaching_area_m2", False, Fraction("4.5"), Fraction("5.8")),
    "sports_area_per_student": ("sports_area_m2", False, Fraction("7.5"), Fraction("10.2")),
    "equipment_value_per_student": ("equipment_value_yuan", False, Fraction(2000), Fraction(2500)),
    "multimedia_rooms_per100": ("multimedia_rooms", True, Fraction("2.3"), Fraction("2.4")),
}
SIZE_LIMIT = {"primary": 2000, "junior": 2000, "teaching_point": 2000, "nine_year": 2500}
CV_LIMIT = {"primary": 0.50, "junior": 0.45}


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def build() -> tuple[list[str], list[dict]]:
    columns, rows = read(BASE / "schools.csv")
    assert len(rows) == 35, "the national-2017 example has changed"
    for row in rows:
        new = RESIZE.get((row["school_name"], row["stage"]))
        if new is None:
            continue
        old = int(row["students"])
        for column in SCALED:
            row[column] = str(half_up(Fraction(int(row[column]) * new, old)))
        classes = (new + 20) // 40
        row["students"], row["classes"] = str(new), str(classes)
        row["max_class_size"] = str(-(-new // classes) + 2)
    template = rows[0]
    for tp in TEACHING_POINTS:
        rows.append({**template, **tp})
    return columns, rows


def value(row: dict, indicator: str) -> Fraction:
    column, per100, _, _ = INDICATORS[indicator]
    v = Fraction(int(row[column]), int(row["students"]))
    return v * 100 if per100 else v


def requirement(row: dict, indicator: str) -> Fraction:
    _, _, primary, junior = INDICATORS[indicator]
    return primary if row["stage"] == "primary" else junior


def counted(row: dict) -> bool:
    """Hebei: teaching points under 50 pupils are left out of the resource indicators."""
    return not (row["school_type"] == "teaching_point" and int(row["students"]) < 50)


def weighted_cv(rows: list[dict], indicator: str) -> float:
    total = sum(int(r["students"]) for r in rows)
    xs = [(int(r["students"]), value(r, indicator)) for r in rows]
    mean = sum(p * x for p, x in xs) / total
    var = sum(Fraction(p, total) * (x - mean) ** 2 for p, x in xs)
    return math.sqrt(var) / float(mean)


def school_passes(row: dict) -> bool:
    """The 6-of-7 rule with the rest at 85% or more."""
    short = [value(row, i) / requirement(row, i) for i in INDICATORS if value(row, i) < requirement(row, i)]
    return len(short) <= 1 and all(r >= Fraction(85, 100) for r in short)


def check(rows: list[dict]) -> dict:
    schools: dict[str, list[dict]] = {}
    for row in rows:
        schools.setdefault(row["school_name"], []).append(row)
    assert len(schools) == 31 and len(rows) == 37
    for name, srows in schools.items():
        size = sum(int(r["students"]) for r in srows)
        assert size <= SIZE_LIMIT[srows[0]["school_type"]], name
        assert size <= int(srows[0]["design_capacity"]), name
        classes = sum(int(r["classes"]) for r in srows)
        assert sum(int(r["music_rooms"]) for r in srows) >= -(-classes // 12), name
        assert sum(int(r["art_rooms"]) for r in srows) >= -(-classes // 12), name
    assert sum(int(r["students"]) for r in schools["江畔实验学校"]) == 2480
    for row in rows:
        assert int(row["max_class_size"]) <= (45 if row["stage"] == "primary" else 50)
        if int(row["students"]) < 100 and row["urban"] == "no":
            assert int(row["public_funds_yuan"]) >= 100 * 800  # funded as 100 pupils
    # every row passes the 6-of-7 rule, except the teaching point of 30
    failing = [r["school_name"] for r in rows if not school_passes(r)]
    assert failing == ["石门教学点"], failing
    shimen = schools["石门教学点"][0]
    met = [i for i in INDICATORS if value(shimen, i) >= requirement(shimen, i)]
    assert met == ["multimedia_rooms_per100"], met
    assert not counted(shimen) and counted(schools["岭下教学点"][0])
    # CVs within the limits, with the small teaching point (national) and without (Hebei)
    cvs = {}
    for label, keep in (("national-2017", lambda r: True), ("hebei-2017", counted)):
        for stage in ("primary", "junior"):
            srows = [r for r in rows if r["stage"] == stage and keep(r)]
            for ind in INDICATORS:
                cv = weighted_cv(srows, ind)
                assert cv <= CV_LIMIT[stage], (label, stage, ind, cv)
                cvs[label, stage, ind] = cv
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
    print(f"{len(rows)} rows")
    print("primary-stage CVs, national-2017 (with 石门教学点) / hebei-2017 (without):")
    for ind in INDICATORS:
        print(f"  {ind:30s} {cvs['national-2017', 'primary', ind]:.4f} / {cvs['hebei-2017', 'primary', ind]:.4f}")
    print("wrote schools.csv, counties.csv in", HERE)


if __name__ == "__main__":
    main()
