"""Hand-written numpy baseline for the "resource" section of the 2017 standard.

Why it exists: qbe evaluates rules written in its own language, and the
benchmark needs a yardstick for how fast that *could* be. This module is the
straightforward thing a careful programmer would write by hand for the same
seven indicators: vectorised numpy, no framework. qbe's evaluate time is
compared with :func:`compute` here (and with the DuckDB baseline).

Loading and evaluation are separate functions so they can be timed apart:
:func:`load` reads ``schools.csv`` with the standard ``csv`` module into numpy
columns (no pandas, which the project does not depend on), :func:`compute`
does the arithmetic.

Rules implemented (per school-stage row):

* seven indicators, each ``value = amount / students`` (times 100 for the
  per-100-students ones), met when ``value >= required`` with a relative
  tolerance of 1e-9, so a value exactly on the threshold meets it even when
  the division rounds a hair below;
* the row passes when at least 6 of 7 are met and none is below 85% of its
  requirement;
* per (county, stage), the student-weighted coefficient of variation of each
  indicator: ``Xbar = sum(x)/sum(P)``, ``S = sqrt(sum(P_i/P (X_i - Xbar)^2))``,
  ``CV = S/Xbar``, judged ``<= 0.50`` (primary) / ``<= 0.45`` (junior); a group
  whose ``Xbar`` is 0 is not assessable (CV is NaN, judgement -1).

Run ``python benchmarks/baseline_numpy.py [schools.csv]`` for the self-check
and, given a file, a summary with timings.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("primary", "junior")

#: indicator name -> (amount column, multiplier, required primary, required junior)
INDICATORS: dict[str, tuple[str, float, float, float]] = {
    "teachers_above_degree_per100": ("teachers_above_degree", 100.0, 4.2, 5.3),
    "backbone_teachers_per100": ("backbone_teachers", 100.0, 1.0, 1.0),
    "pe_art_teachers_per100": ("pe_art_teachers", 100.0, 0.9, 0.9),
    "teaching_area_per_student": ("teaching_area_m2", 1.0, 4.5, 5.8),
    "sports_area_per_student": ("sports_area_m2", 1.0, 7.5, 10.2),
    "equipment_value_per_student": ("equipment_value_yuan", 1.0, 2000.0, 2500.0),
    "multimedia_rooms_per100": ("multimedia_rooms", 100.0, 2.3, 2.4),
}
NAMES = tuple(INDICATORS)
#: Relative tolerance of every threshold comparison.
TOLERANCE = 1e-9
#: Share of its requirement that every indicator must reach for the row to pass.
FLOOR_SHARE = 0.85
#: Indicators that must be met for the row to pass (of seven).
MIN_MET = 6
#: Largest acceptable coefficient of variation, by stage (primary, junior).
CV_LIMIT = (0.50, 0.45)

NUMERIC_COLUMNS = ("students", *(spec[0] for spec in INDICATORS.values()))
NEEDED_COLUMNS = ("county_code", "stage", *NUMERIC_COLUMNS)


def thresholds() -> dict[str, np.ndarray]:
    """Comparison bounds, shape (2 stages, 7 indicators), tolerance included.

    Computed once here, and reused by the DuckDB baseline, so both compare
    against bit-identical numbers and can be checked for exact agreement.
    """
    req = np.array([[spec[2], spec[3]] for spec in INDICATORS.values()]).T
    return {
        "required": req,
        "met_bound": req * (1.0 - TOLERANCE),
        "floor_bound": req * FLOOR_SHARE * (1.0 - TOLERANCE),
        "cv_bound": np.array(CV_LIMIT) * (1.0 + TOLERANCE),
    }


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Read schools.csv into columns: numeric ones as float64, text as str arrays.

    Only the columns the resource section needs are converted. When the file
    has no quote character (true of the generated data and of most exports),
    the whole body is split on commas in one call and columns are taken as
    strided slices: about three times faster than ``csv.reader`` plus a
    transposition, which is the fallback for quoted files.
    """
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    header_line, _, body = text.partition("\n")
    body = body.rstrip("\n")
    if '"' in text:
        header = next(csv.reader([header_line]))
        rows = list(csv.reader(body.split("\n"))) if body else []
        width = len(header)
        if any(len(r) != width for r in rows):
            raise ValueError(f"{path}: rows do not all have {width} fields")
        cols: list[Sequence[str]] = (
            [list(c) for c in zip(*rows)] if rows else [[] for _ in header]
        )
    else:
        header = header_line.split(",")
        width = len(header)
        flat = body.replace("\n", ",").split(",") if body else []
        if len(flat) % width:
            raise ValueError(f"{path}: rows do not all have {width} fields")
        # Slice only the columns used; the other slots stay empty.
        wanted = {i for i, name in enumerate(header) if name.strip() in NEEDED_COLUMNS}
        cols = [flat[i::width] if i in wanted else [] for i in range(width)]
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in NEEDED_COLUMNS if c not in index]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    out: dict[str, np.ndarray] = {
        "county_code": np.array(cols[index["county_code"]], dtype=str),
        "stage": np.array(cols[index["stage"]], dtype=str),
    }
    for name in NUMERIC_COLUMNS:
        out[name] = np.array(cols[index[name]], dtype=np.float64)
    return out


def weighted_cv(
    amounts: np.ndarray, students: np.ndarray, group: np.ndarray, n_groups: int
) -> np.ndarray:
    """Student-weighted coefficient of variation of ``amounts/students`` per group.

    Two passes (mean first, then squared deviations) rather than the
    one-pass ``E[X^2] - E[X]^2`` formula, which loses precision when the
    spread is small next to the mean.
    """
    p_sum = np.bincount(group, weights=students, minlength=n_groups)
    x_sum = np.bincount(group, weights=amounts, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = x_sum / p_sum
        dev = amounts / students - xbar[group]
        var = (
            np.bincount(group, weights=students * dev * dev, minlength=n_groups) / p_sum
        )
        cv = np.sqrt(var) / xbar
    cv[~(xbar != 0)] = np.nan  # Xbar == 0 (or undefined): not assessable
    return cv


def compute(columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """Evaluate the resource section; return per-row and per-group results.

    Returned keys: ``values`` (n×7 indicator values), ``met`` (n×7 bool),
    ``met_count`` (n), ``row_pass`` (n bool), ``passing_rows`` (int),
    ``group_county`` / ``group_stage`` (g), ``cv`` (g×7, NaN when not
    assessable), ``cv_ok`` (g×7 int8: 1 ok, 0 too uneven, -1 not assessable).
    Groups are ordered by county code, then stage (primary before junior).
    """
    bounds = thresholds()
    students = columns["students"]
    stage_names = columns["stage"]
    stage = (stage_names == "junior").astype(np.intp)  # 0 primary, 1 junior
    n = students.size

    values = np.empty((n, len(NAMES)), dtype=np.float64)
    for j, (column, factor, _, _) in enumerate(INDICATORS.values()):
        values[:, j] = columns[column] / students * factor
    met = values >= bounds["met_bound"][stage]
    above_floor = values >= bounds["floor_bound"][stage]
    met_count = met.sum(axis=1)
    row_pass = (met_count >= MIN_MET) & above_floor.all(axis=1)

    counties, county_idx = np.unique(columns["county_code"], return_inverse=True)
    combined = county_idx * 2 + stage
    present, group = np.unique(combined, return_inverse=True)
    n_groups = present.size
    cv = np.empty((n_groups, len(NAMES)), dtype=np.float64)
    for j, (column, _, _, _) in enumerate(INDICATORS.values()):
        cv[:, j] = weighted_cv(columns[column], students, group, n_groups)
    group_stage = present % 2
    ok = cv <= bounds["cv_bound"][group_stage][:, None]
    cv_ok = np.where(np.isnan(cv), -1, ok.astype(np.int8)).astype(np.int8)

    return {
        "values": values,
        "met": met,
        "met_count": met_count,
        "row_pass": row_pass,
        "passing_rows": int(row_pass.sum()),
        "group_county": counties[present // 2],
        "group_stage": np.array(STAGES)[group_stage],
        "cv": cv,
        "cv_ok": cv_ok,
    }


def selfcheck() -> None:
    """Check the CV formula on the published five-school example (CV 0.51526).

    The example is one group of five primary schools: students 45, 37, 89,
    76, 55 with amounts 279, 137, 935, 160, 402. A formula slip (unweighted
    mean, sample variance, wrong weights) moves the fifth decimal.
    """
    students = np.array([45, 37, 89, 76, 55], dtype=np.float64)
    amounts = np.array([279, 137, 935, 160, 402], dtype=np.float64)
    cv = weighted_cv(amounts, students, np.zeros(5, dtype=np.intp), 1)[0]
    if round(float(cv), 5) != 0.51526:
        raise AssertionError(f"weighted CV is {cv!r}, expected 0.51526")
    # The same numbers through compute(), as the teaching-area indicator.
    cols: dict[str, np.ndarray] = {
        "county_code": np.array(["000001"] * 5),
        "stage": np.array(["primary"] * 5),
        "students": students,
    }
    for column, _, _, _ in INDICATORS.values():
        cols[column] = amounts
    result = compute(cols)
    if not np.allclose(result["cv"], cv, rtol=0, atol=1e-15):
        raise AssertionError(f"compute() gives CVs {result['cv']!r}, expected {cv!r}")
    if result["cv_ok"][0, 0] != 0:  # 0.515 > 0.50
        raise AssertionError("a CV of 0.515 must not be judged acceptable for primary")
    # Exact-threshold values meet despite rounding of the division.
    on_line = {
        "county_code": np.array(["000001", "000001"]),
        "stage": np.array(["junior", "primary"]),
        "students": np.array([37.0, 1000.0]),
        "teachers_above_degree": np.array([2.0, 42.0]),
        "backbone_teachers": np.array([1.0, 10.0]),
        "pe_art_teachers": np.array([1.0, 9.0]),
        "teaching_area_m2": np.array([214.6, 4500.0]),
        "sports_area_m2": np.array([377.4, 7500.0]),
        "equipment_value_yuan": np.array([92500.0, 2_000_000.0]),
        "multimedia_rooms": np.array([1.0, 23.0]),
    }
    got = compute(on_line)
    if not (got["met"][:, 3:].all() and got["met"][1].all()):
        raise AssertionError(
            f"values exactly on a threshold must meet it: {got['met']!r}"
        )


def summary(result: dict[str, Any]) -> str:
    """One-paragraph human summary of a result, for the command line."""
    n = result["row_pass"].size
    cv_ok = result["cv_ok"]
    return (
        f"rows {n}, passing {result['passing_rows']} ({result['passing_rows'] / max(n, 1):.1%}); "
        f"groups {cv_ok.shape[0]}, indicator CVs too uneven {(cv_ok == 0).sum()}, "
        f"not assessable {(cv_ok == -1).sum()}, groups with every CV ok {(cv_ok == 1).all(axis=1).sum()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Self-check, then (given a file) load, compute and time once."""
    parser = argparse.ArgumentParser(
        description="numpy baseline of the resource section"
    )
    parser.add_argument("schools", nargs="?", type=Path, help="schools.csv to evaluate")
    args = parser.parse_args(argv)
    selfcheck()
    print("selfcheck ok: weighted CV of the published example is 0.51526")
    if args.schools is None:
        return 0
    t0 = time.perf_counter()
    cols = load(args.schools)
    t1 = time.perf_counter()
    result = compute(cols)
    t2 = time.perf_counter()
    print(summary(result))
    print(f"load: {t1 - t0:.3f} s\nevaluate: {t2 - t1:.3f} s")
    worst = np.nanmax(result["cv"]) if not np.isnan(result["cv"]).all() else math.nan
    print(f"largest CV {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
