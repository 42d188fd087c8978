"""Write the example dataset of two FICTIONAL counties for the zhejiang-2020 ruleset.

示例区（虚构） and 示例县（虚构）: every county and school name, code and number is
invented.

Both counties have the same 29 schools: the national-2017 example
(../national-2017/schools.csv, read as it is) with its two schools over the
size limit made smaller (滨湖实验小学 2661 → 1990 pupils, 江畔实验学校's primary
stage 2224 → 1480; their amounts scaled with the pupils, rounded half up), so
that every national requirement is met. The county table is the national-2017
one with two more columns:

    county     passed the provincial basic-modernisation evaluation   assessed   gap
    999901     2019                                                    2021       2 years  → eligible
    999902     2021                                                    2021       0 years  → not eligible

So under national-2017 both counties pass; under zhejiang-2020 示例区 passes and
示例县 fails on the eligibility condition alone.

    python rulesets/examples/zhejiang-2020/make_example.py

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

RESIZE = {("滨湖实验小学", "primary"): 1990, ("江畔实验学校", "primary"): 1480}
SCALED = ["teachers_above_degree", "backbone_teachers", "pe_art_teachers", "teaching_area_m2",
          "sports_area_m2", "equipment_value_yuan", "multimedia_rooms", "public_funds_yuan"]

#: county code → (name, year the provincial evaluation was passed, year of this assessment)
COUNTIES = {
    "999901": ("示例区（虚构）", 2019, 2021),
    "999902": ("示例县（虚构）", 2021, 2021),
}

INDICATORS = {
    "teachers_above_degree": (True, Fraction("4.2"), Fraction("5.3")),
    "backbone_teachers": (True, Fraction(1), Fraction(1)),
    "pe_art_teachers": (True, Fraction("0.9"), Fraction("0.9")),
    "teaching_area_m2": (False, Fraction("4.5"), Fraction("5.8")),
    "sports_area_m2": (False, Fraction("7.5"), Fraction("10.2")),
    "equipment_value_yuan": (False, Fraction(2000), Fraction(2500)),
    "multimedia_rooms": (True, Fraction("2.3"), Fraction("2.4")),
}
SIZE_LIMIT = {"primary": 2000, "junior": 2000, "nine_year": 2500}


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def one_county(rows: list[dict]) -> list[dict]:
    """The national-2017 schools with the two oversized ones made smaller."""
    out = []
    for row in rows:
        row = dict(row)
        new = RESIZE.get((row["school_name"], row["stage"]))
        if new is not None:
            old = int(row["students"])
            for column in SCALED:
                row[column] = str(half_up(Fraction(int(row[column]) * new, old)))
            classes = (new + 20) // 40
            row["students"], row["classes"] = str(new), str(classes)
            row["max_class_size"] = str(-(-new // classes) + 2)
        out.append(row)
    return out


def rename(text: str, code: str) -> str:
    return text if code == "999901" else text.replace("示例区", "示例县")


def build():
    columns, base = read(BASE / "schools.csv")
    assert len(base) == 35, "the national-2017 example has changed"
    county_columns, counties = read(BASE / "counties.csv")
    assert len(counties) == 1
    schools = []
    county_rows = []
    for code, (name, passed, assessed) in COUNTIES.items():
        for row in one_county(base):
            row["county_code"], row["county_name"] = code, name
            row["school_code"] = code + row["school_code"][len("999901"):]
            row["school_name"] = rename(row["school_name"], code)
            schools.append(row)
        county = {c: rename(v, code) for c, v in counties[0].items()}
        county["county_code"], county["county_name"] = code, name
        county["basic_modernisation_year"], county["evaluation_year"] = str(passed), str(assessed)
        county_rows.append(county)
    return columns, schools, county_columns + ["basic_modernisation_year", "evaluation_year"], county_rows


def check(schools: list[dict], counties: list[dict]) -> None:
    assert len(schools) == 70 and len(counties) == 2
    assert len({(r["school_code"], r["stage"]) for r in schools}) == 70
    by_school: dict[str, list[dict]] = {}
    for row in schools:
        by_school.setdefault(row["school_code"], []).append(row)
    for code, srows in by_school.items():
        size = sum(int(r["students"]) for r in srows)
        assert size <= SIZE_LIMIT[srows[0]["school_type"]], code
        classes = sum(int(r["classes"]) for r in srows)
        assert sum(int(r["music_rooms"]) for r in srows) >= -(-classes // 12), code
    for row in schools:
        short = []
        for column, (per100, primary, junior) in INDICATORS.items():
            v = Fraction(int(row[column]), int(row["students"])) * (100 if per100 else 1)
            need = primary if row["stage"] == "primary" else junior
            if v < need:
                short.append(v / need)
        # the 6-of-7 rule, the rest at 85% or more
        assert len(short) <= 1 and all(r >= Fraction(85, 100) for r in short), row["school_name"]
    gaps = {c["county_code"]: int(c["evaluation_year"]) - int(c["basic_modernisation_year"]) for c in counties}
    assert gaps == {"999901": 2, "999902": 0}, gaps


def write(path: Path, columns: list[str], records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, columns, lineterminator="\n")
        w.writeheader()
        for rec in records:
            w.writerow({c: rec[c] for c in columns})


def main() -> None:
    columns, schools, county_columns, counties = build()
    check(schools, counties)
    write(HERE / "schools.csv", columns, schools)
    write(HERE / "counties.csv", county_columns, counties)
    print(f"{len(counties)} counties, {len(schools)} rows; wrote schools.csv, counties.csv in {HERE}")


if __name__ == "__main__":
    main()
