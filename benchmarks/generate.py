"""Generate a synthetic, national-scale dataset for benchmarking qbe.

Why synthetic: real county returns are not public, and a benchmark must be
reproducible on any machine. The generator therefore draws a dataset with the
size and the rough shape of China's compulsory-education system (~2,850
counties, ~220,000 school-stage rows) from a seeded numpy generator, so the
same ``--seed`` always gives byte-identical files.

Shape choices, and why:

* Most schools meet the 2017 resource thresholds comfortably, a small share
  fall short on one or two indicators, and a few counties are unevenly
  resourced. That exercises every branch of the evaluation (met, near miss,
  fail, high coefficient of variation) without making the data unrealistic.
* About 1% of rows have one amount exactly on its threshold (the
  requirement times the students), because an exact boundary is where a
  naive floating-point comparison goes wrong.
* School-level fields (type, urban, design capacity, training share) are drawn
  once per school and repeated on each of its stage rows, as in real returns.

Usage::

    python benchmarks/generate.py --out DIR [--counties 2850] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Target number of school-stage rows for the default 2,850 counties.
ROWS_PER_COUNTY = 220_000 / 2_850

SCHOOL_TYPES = (
    "primary",
    "junior",
    "nine_year",
    "twelve_year",
    "complete_middle",
    "teaching_point",
)
#: Rough national mix of school types (shares of schools).
TYPE_SHARES = (0.55, 0.15, 0.08, 0.01, 0.03, 0.18)
HAS_PRIMARY = np.array([True, False, True, True, False, True])
HAS_JUNIOR = np.array([False, True, True, True, True, False])
TEACHING_POINT = SCHOOL_TYPES.index("teaching_point")

STAGES = ("primary", "junior")

#: The seven resource indicators: requirement for (primary, junior).
#: Duplicated in the baselines on purpose: the kit must stay independent of qbe.
REQUIRED = {
    "teachers_above_degree": (4.2, 5.3),  # per 100 students
    "backbone_teachers": (1.0, 1.0),  # per 100 students
    "pe_art_teachers": (0.9, 0.9),  # per 100 students
    "teaching_area_m2": (4.5, 5.8),  # per student
    "sports_area_m2": (7.5, 10.2),  # per student
    "equipment_value_yuan": (2000.0, 2500.0),  # per student
    "multimedia_rooms": (2.3, 2.4),  # per 100 students
}
PER_100 = {
    "teachers_above_degree",
    "backbone_teachers",
    "pe_art_teachers",
    "multimedia_rooms",
}
#: Decimal places each amount is written with (0 = whole number).
DECIMALS = {
    "teachers_above_degree": 0,
    "backbone_teachers": 0,
    "pe_art_teachers": 0,
    "teaching_area_m2": 1,
    "sports_area_m2": 1,
    "equipment_value_yuan": 0,
    "multimedia_rooms": 0,
}

SCHOOL_COLUMNS = (
    "county_code", "county_name", "school_code", "school_name", "school_type", "stage", "urban",
    "students", "classes", "max_class_size", "teachers_above_degree", "backbone_teachers",
    "pe_art_teachers", "teaching_area_m2", "sports_area_m2", "equipment_value_yuan",
    "multimedia_rooms", "music_rooms", "art_rooms", "design_capacity", "music_room_min_area_m2",
    "art_room_min_area_m2", "public_funds_yuan", "training_spend_share",
)  # fmt: skip

COUNTY_COLUMNS = (
    "county_code", "county_name", "layout_reasonable", "unified_standards",
    "special_ed_funding_per_student", "teacher_avg_salary", "civil_servant_avg_salary",
    "performance_pay_approved", "training_hours_completion", "staffing_managed_by_county",
    "rotation_share", "backbone_rotation_share", "certified_teacher_share",
    "nearby_admission_primary", "nearby_admission_junior", "quota_allocation_share",
    "quota_tilted_rural", "left_behind_care_system", "migrant_public_share",
    "public_funds_standard_primary", "public_funds_standard_junior", "junior_retention_rate",
    "disabled_enrolment_rate", "charter_and_digital", "ict_use", "moral_education_good",
    "curriculum_complete", "burden_controlled", "monitoring_lowest_level",
    "monitoring_max_difference", "satisfaction_rate", "exam_based_admission",
    "irregular_school_choice", "key_schools_or_classes", "unfilled_vacancies",
    "major_safety_accident", "falsified_data",
)  # fmt: skip

#: Province-level codes of the GB/T 2260 division list, so county codes look real.
PROVINCES = (
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
)  # fmt: skip
NAME_CHARS = (
    "安宁平和昌盛兴隆永新清河东西南北山水阳城丰泰华江台林云龙武德庆长乐福宝通济"
)
NAME_SUFFIXES = ("县", "区", "市", "旗")
SCHOOL_WORDS = {
    "primary": "小学",
    "junior": "中学",
    "nine_year": "九年一贯制学校",
    "twelve_year": "十二年一贯制学校",
    "complete_middle": "完全中学",
    "teaching_point": "教学点",
}


def yes_no(flags: np.ndarray) -> list[str]:
    """Render booleans as 是/否, the way county returns write them."""
    text: list[str] = np.where(flags, "是", "否").tolist()
    return text


def fmt(values: np.ndarray, decimals: int) -> list[str]:
    """Format numbers as CSV text; whole numbers without a decimal point.

    Python's own float formatting is used per value because it is several
    times faster than ``np.char.mod`` and gives the same text.
    """
    if decimals == 0:
        whole: list[str] = np.asarray(values).astype(np.int64).astype(str).tolist()
        return whole
    spec = f"{{:.{decimals}f}}"
    return [spec.format(v) for v in np.asarray(values, dtype=np.float64).tolist()]


def write_csv(path: Path, header: Sequence[str], columns: Sequence[list[str]]) -> None:
    """Write string columns as one CSV text in a single call.

    No field contains a comma, quote or newline (the generator controls every
    value), so plain joining is valid CSV and far faster than ``csv.writer``.
    """
    lines = [",".join(header)]
    lines.extend(map(",".join, zip(*columns, strict=True)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def county_frame(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw unique six-digit county codes (sorted) and Chinese-looking names."""
    # Every province gets at most 99 cities with 99 counties each; that is ample.
    province = rng.choice(np.array(PROVINCES), size=n * 2)
    city = rng.integers(1, 100, size=n * 2)
    county = rng.integers(1, 100, size=n * 2)
    codes = np.unique(province * 10_000 + city * 100 + county)
    while codes.size < n:  # pragma: no cover - only for absurd --counties values
        extra = rng.integers(110_101, 659_999, size=n)
        codes = np.unique(np.concatenate([codes, extra]))
    codes = np.sort(rng.choice(codes, size=n, replace=False))
    chars = np.array(list(NAME_CHARS))
    first = chars[rng.integers(0, chars.size, size=n)]
    second = chars[rng.integers(0, chars.size, size=n)]
    suffix = np.array(NAME_SUFFIXES)[rng.choice(4, size=n, p=(0.6, 0.3, 0.08, 0.02))]
    names = np.char.add(np.char.add(first, second), suffix)
    return codes.astype(str), names


def generate(out: Path, counties: int = 2850, seed: int = 1) -> dict[str, int]:
    """Write ``out/schools.csv`` and ``out/counties.csv``; return row counts."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)

    # ---- counties -------------------------------------------------------
    c_codes, c_names = county_frame(rng, counties)
    urban_share = rng.beta(2.0, 4.0, size=counties)
    # A county's unevenness: most are even, about 8% clearly uneven.
    uneven = rng.random(counties) < 0.08
    spread = np.where(
        uneven, rng.uniform(0.5, 0.9, counties), rng.uniform(0.04, 0.12, counties)
    )
    county_level = rng.normal(
        1.28, 0.06, size=counties
    )  # typical multiple of the requirement

    # ---- schools ----------------------------------------------------------
    mean_schools = ROWS_PER_COUNTY / (1 + TYPE_SHARES[2] + TYPE_SHARES[3])
    weights = rng.gamma(2.5, 1.0, size=counties)
    per_county = np.maximum(3, np.rint(weights / weights.mean() * mean_schools)).astype(
        np.int64
    )
    n_schools = int(per_county.sum())
    s_county = np.repeat(np.arange(counties), per_county)
    s_number = (
        np.arange(n_schools)
        - np.repeat(np.cumsum(per_county) - per_county, per_county)
        + 1
    )
    s_type = rng.choice(len(SCHOOL_TYPES), size=n_schools, p=TYPE_SHARES)
    s_urban = (rng.random(n_schools) < urban_share[s_county]) & (
        s_type != TEACHING_POINT
    )
    s_training = np.where(
        rng.random(n_schools) < 0.05,
        rng.uniform(0.02, 0.05, n_schools),
        rng.uniform(0.05, 0.10, n_schools),
    )

    # ---- rows: one per school per stage, grouped by school ---------------
    prim = np.flatnonzero(HAS_PRIMARY[s_type])
    jun = np.flatnonzero(HAS_JUNIOR[s_type])
    r_school = np.concatenate([prim, jun])
    r_stage = np.concatenate(
        [np.zeros(prim.size, np.int64), np.ones(jun.size, np.int64)]
    )
    order = np.lexsort((r_stage, r_school))
    r_school, r_stage = r_school[order], r_stage[order]
    n = r_school.size
    r_county = s_county[r_school]
    r_type = s_type[r_school]
    r_urban = s_urban[r_school]

    tp = r_type == TEACHING_POINT
    size = rng.lognormal(np.log(np.where(r_urban, 1100.0, 450.0)), 0.6)
    students = np.where(tp, rng.integers(10, 100, n), np.clip(np.rint(size), 100, 3000))
    students = students.astype(np.int64)
    # About 1% of rows get one amount exactly on its threshold. Their students
    # are made a multiple of 1000, so that every requirement times the
    # students is a whole number of teachers or rooms (9 of 1000 is 0.9 per
    # 100 only up to rounding: 9 / 1000 * 100 is 0.8999999999999999).
    exact = (rng.random(n) < 0.01) & ~tp
    exact_which = rng.integers(0, len(REQUIRED), size=n)
    on_thousand = np.clip(np.rint(students / 1000.0), 1, 3) * 1000
    students = np.where(exact, on_thousand, students).astype(np.int64)
    class_size = rng.uniform(35.0, 45.0, n)
    classes = np.where(
        tp,
        np.clip(np.rint(students / 15.0), 1, 6),
        np.maximum(1, np.rint(students / class_size)),
    ).astype(np.int64)
    limit = np.where(r_stage == 0, 45, 50)
    max_class = np.minimum(np.ceil(students / classes) + rng.integers(0, 5, n), limit)
    big = rng.random(n) < 0.02  # a few oversized classes, as in real returns
    max_class = np.clip(np.where(big, rng.integers(46, 56, n), max_class), 20, 55)

    # Per row, each indicator is the requirement times a multiple. Most
    # multiples are at or above 1; a small share of rows are pushed below.
    stage_col = r_stage  # 0 primary, 1 junior
    amounts: dict[str, np.ndarray] = {}
    n_ind = len(REQUIRED)
    multiple = county_level[r_county, None] * np.exp(
        rng.normal(0.0, 1.0, (n, n_ind)) * spread[r_county, None]
    )
    # Even counties: every row above the line (a short draw is redrawn just above it) …
    multiple = np.where(multiple < 1.0, rng.uniform(1.0, 1.1, (n, n_ind)), multiple)
    multiple = np.minimum(multiple, 3.0)  # no school has 3 times the requirement
    multiple = np.where(
        uneven[r_county, None] & (rng.random((n, n_ind)) < 0.06),
        rng.uniform(0.5, 1.0, (n, n_ind)),
        multiple,
    )  # … uneven counties: some rows well below
    near = rng.random((n, n_ind)) < 0.015  # near misses: 88–99.9% of the requirement
    multiple = np.where(near, rng.uniform(0.88, 0.999, (n, n_ind)), multiple)
    far = rng.random((n, n_ind)) < 0.003  # clear failures: 60–85%
    multiple = np.where(far, rng.uniform(0.6, 0.85, (n, n_ind)), multiple)

    for j, (name, req) in enumerate(REQUIRED.items()):
        required = np.where(stage_col == 0, req[0], req[1])
        rate = required * multiple[:, j]
        raw = students * rate / (100.0 if name in PER_100 else 1.0)
        scale = 10.0 ** DECIMALS[name]
        # Round towards the side of the line the multiple is on, so rounding
        # never moves a row across the threshold.
        above = multiple[:, j] >= 1.0
        amount = (
            np.where(above, np.ceil(raw * scale - 1e-6), np.floor(raw * scale)) / scale
        )
        on_line = exact & (exact_which == j)
        per = 100.0 if name in PER_100 else 1.0
        exact_amount = np.round(students * required / per * scale) / scale
        amount = np.where(on_line, exact_amount, amount)
        amounts[name] = amount

    # rooms: one per 12 classes or more for most rows; ~3% a room short
    short = (rng.random(n) < 0.03).astype(np.int64)
    music = np.maximum(0, np.ceil(classes / 12.0) + rng.integers(0, 2, n) - short)
    art = np.maximum(0, np.ceil(classes / 12.0) + rng.integers(0, 2, n) - short)
    school_students = np.bincount(r_school, weights=students, minlength=n_schools)
    capacity = np.where(
        rng.random(n_schools) < 0.04,
        school_students * rng.uniform(0.8, 1.0, n_schools),
        school_students * rng.uniform(1.0, 1.35, n_schools),
    )
    capacity = np.ceil(capacity / 45.0) * 45.0  # designs come in whole classes
    funds_rate = np.where(
        stage_col == 0, rng.uniform(800, 1200, n), rng.uniform(1000, 1400, n)
    )
    # small schools are funded as if they had 100 pupils, except a few (~5%)
    funded = np.where((students < 100) & (rng.random(n) >= 0.05), 100, students)
    funds = np.rint(funded * funds_rate)

    school_codes = np.char.add(
        c_codes[s_county], np.char.zfill(s_number.astype(str), 4)
    )
    type_words = np.array([SCHOOL_WORDS[t] for t in SCHOOL_TYPES])
    school_names = [
        f"{cn}第{k}{w}"
        for cn, k, w in zip(
            c_names[s_county].tolist(),
            s_number.tolist(),
            type_words[s_type].tolist(),
            strict=True,
        )
    ]
    names_arr = np.array(school_names, dtype=object)

    columns: list[list[str]] = [
        c_codes[r_county].tolist(),
        c_names[r_county].tolist(),
        school_codes[r_school].tolist(),
        names_arr[r_school].tolist(),
        np.array(SCHOOL_TYPES)[r_type].tolist(),
        np.array(STAGES)[r_stage].tolist(),
        yes_no(r_urban),
        fmt(students, 0),
        fmt(classes, 0),
        fmt(max_class, 0),
        *(fmt(amounts[name], DECIMALS[name]) for name in REQUIRED),
        fmt(music, 0),
        fmt(art, 0),
        fmt(capacity[r_school], 0),
        fmt(np.where(rng.random(n) < 0.05, rng.uniform(60, 96, n), rng.uniform(96, 130, n)), 1),
        fmt(np.where(rng.random(n) < 0.05, rng.uniform(60, 90, n), rng.uniform(90, 120, n)), 1),
        fmt(funds, 0),
        fmt(s_training[r_school], 3),
    ]
    write_csv(out / "schools.csv", SCHOOL_COLUMNS, columns)

    # ---- county table --------------------------------------------------------
    m = counties

    def flag(p_yes: float) -> list[str]:
        """是 with probability ``p_yes``."""
        return yes_no(rng.random(m) < p_yes)

    def share(lo: float, hi: float, p_low: float, low_lo: float) -> list[str]:
        """A fraction mostly in [lo, hi], with a share ``p_low`` in [low_lo, lo)."""
        vals = np.where(
            rng.random(m) < p_low, rng.uniform(low_lo, lo, m), rng.uniform(lo, hi, m)
        )
        return fmt(np.minimum(vals, 1.0), 3)

    civil = rng.uniform(60_000, 140_000, m)
    teacher = civil * np.where(
        rng.random(m) < 0.05, rng.uniform(0.9, 1.0, m), rng.uniform(1.0, 1.1, m)
    )
    county_cols: list[list[str]] = [
        c_codes.tolist(),
        c_names.tolist(),
        flag(0.97),  # layout_reasonable
        flag(0.96),  # unified_standards
        fmt(
            np.where(
                rng.random(m) < 0.04,
                rng.uniform(4000, 6000, m),
                rng.uniform(6000, 9000, m),
            ),
            0,
        ),
        fmt(np.rint(teacher), 0),
        fmt(np.rint(civil), 0),
        flag(0.97),  # performance_pay_approved
        share(0.95, 1.0, 0.04, 0.8),  # training_hours_completion
        flag(0.97),  # staffing_managed_by_county
        share(0.10, 0.25, 0.05, 0.03),  # rotation_share
        share(0.20, 0.40, 0.05, 0.08),  # backbone_rotation_share
        share(0.95, 1.0, 0.03, 0.85),  # certified_teacher_share
        share(0.995, 1.0, 0.0, 0.99),  # nearby_admission_primary
        share(0.95, 1.0, 0.04, 0.88),  # nearby_admission_junior
        share(0.50, 0.70, 0.05, 0.30),  # quota_allocation_share
        flag(0.96),  # quota_tilted_rural
        flag(0.98),  # left_behind_care_system
        share(0.85, 1.0, 0.05, 0.7),  # migrant_public_share
        fmt(rng.choice(np.array([650, 700, 750, 800]), m), 0),
        fmt(rng.choice(np.array([850, 900, 950, 1000]), m), 0),
        share(0.95, 1.0, 0.04, 0.9),  # junior_retention_rate
        share(0.95, 1.0, 0.05, 0.8),  # disabled_enrolment_rate
        flag(0.97),  # charter_and_digital
        flag(0.97),  # ict_use
        flag(0.98),  # moral_education_good
        flag(0.97),  # curriculum_complete
        flag(0.97),  # burden_controlled
        fmt(rng.choice(np.arange(1, 5), m, p=(0.03, 0.12, 0.45, 0.40)), 0),
        fmt(rng.uniform(0.05, 0.2, m), 3),
        share(0.85, 0.99, 0.05, 0.7),  # satisfaction_rate
        flag(0.01),  # exam_based_admission
        flag(0.02),  # irregular_school_choice
        flag(0.01),  # key_schools_or_classes
        flag(0.03),  # unfilled_vacancies
        flag(0.005),  # major_safety_accident
        flag(0.003),  # falsified_data
    ]
    write_csv(out / "counties.csv", COUNTY_COLUMNS, county_cols)
    return {"counties": m, "schools": n_schools, "rows": n}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: parse options, generate, report what was written."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write into"
    )
    parser.add_argument("--counties", type=int, default=2850, help="number of counties")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args(argv)
    if args.counties < 1:
        parser.error("--counties must be at least 1")
    start = time.perf_counter()
    counts = generate(args.out, args.counties, args.seed)
    took = time.perf_counter() - start
    print(
        f"wrote {args.out / 'schools.csv'} ({counts['rows']} rows, {counts['schools']} schools) "
        f"and {args.out / 'counties.csv'} ({counts['counties']} counties) in {took:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
