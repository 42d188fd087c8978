"""DuckDB baseline for the "resource" section of the 2017 standard.

Why a second baseline: the numpy one shows what hand-written array code
costs; this one shows what a mature, multi-threaded columnar SQL engine costs
for the same work, including its CSV reader. If qbe is much slower than
DuckDB on the whole CSV-to-result path, the gap is ours to explain.

The rules are the ones in ``baseline_numpy`` (seven indicators, 6-of-7 met
and none below 85% of its requirement, student-weighted CV per county and
stage). The comparison bounds are taken from ``baseline_numpy.thresholds()``
and written into the SQL as exact DOUBLE literals, so that both baselines
compare against bit-identical numbers: a SQL ``4.2`` would be a DECIMAL, and
``0.85 * 4.2`` in DECIMAL arithmetic differs from the same product in double
precision in the last bit.

:func:`load` reads the CSV into a table, :func:`compute` runs the queries;
they are separate so the benchmark can time them apart.

``python benchmarks/baseline_duckdb.py [schools.csv] [--verify]``: without a
file a small dataset is generated into a temporary directory; ``--verify``
checks agreement with the numpy baseline (same passing rows, same met counts
row by row, CVs equal to 1e-9).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import baseline_numpy as ref
import duckdb
import generate
import numpy as np

#: Absolute tolerance when comparing the CVs of the two baselines.
CV_TOLERANCE = 1e-9


def load(path: str | Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory database and read schools.csv into table ``schools``.

    Codes are forced to VARCHAR: auto-detection would make them integers and
    drop leading zeros, which real school codes can have.
    """
    con = duckdb.connect(":memory:")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    quoted = str(path).replace("'", "''")
    con.execute(
        "CREATE TABLE schools AS SELECT * FROM read_csv_auto("
        f"'{quoted}', header = true, "
        "types = {'county_code': 'VARCHAR', 'school_code': 'VARCHAR'})"
    )
    return con


def _double(x: float) -> str:
    """An exact DOUBLE literal (``repr`` round-trips every float)."""
    return f"CAST('{float(x)!r}' AS DOUBLE)"


def _bounds_cte() -> str:
    """A ``bounds`` CTE with one row per stage: met bounds, floor bounds, CV bound."""
    b = ref.thresholds()
    k = len(ref.NAMES)
    names = ", ".join(
        ["stage"]
        + [f"m{j}" for j in range(k)]
        + [f"f{j}" for j in range(k)]
        + ["cv_bound"]
    )
    rows = []
    for s, stage in enumerate(ref.STAGES):
        cells = [f"'{stage}'"]
        cells += [_double(b["met_bound"][s, j]) for j in range(k)]
        cells += [_double(b["floor_bound"][s, j]) for j in range(k)]
        cells.append(_double(b["cv_bound"][s]))
        rows.append("(" + ", ".join(cells) + ")")
    return f"bounds({names}) AS (VALUES {', '.join(rows)})"


def _values_cte() -> str:
    """A ``v`` CTE: raw amounts ``a{j}`` and indicator values ``x{j}`` per row.

    The value is computed as ``amount / students * factor``, the same
    operation order as numpy, so both give the same doubles.
    """
    parts = ["rowid AS rid", "county_code", "stage", "CAST(students AS DOUBLE) AS p"]
    for j, (column, factor, _, _) in enumerate(ref.INDICATORS.values()):
        parts.append(f"CAST({column} AS DOUBLE) AS a{j}")
        parts.append(
            f"CAST({column} AS DOUBLE) / CAST(students AS DOUBLE) * {_double(factor)} AS x{j}"
        )
    return f"v AS (SELECT {', '.join(parts)} FROM schools)"


def row_sql() -> str:
    """Per row (in file order): number of indicators met, and whether the row passes."""
    k = len(ref.NAMES)
    met = " + ".join(f"CAST(x{j} >= m{j} AS INTEGER)" for j in range(k))
    floors = " AND ".join(f"x{j} >= f{j}" for j in range(k))
    return (
        f"WITH {_bounds_cte()}, {_values_cte()}, "
        f"r AS (SELECT rid, {met} AS met_count, {floors} AS above_floor "
        "FROM v JOIN bounds USING (stage)) "
        f"SELECT met_count, met_count >= {ref.MIN_MET} AND above_floor AS row_pass "
        "FROM r ORDER BY rid"
    )


def group_sql() -> str:
    """Per (county, stage): the student-weighted CV of each indicator and its judgement.

    The CV is scale-free, so it is computed on ``amount / students`` without
    the ×100 of the per-100 indicators, exactly as the numpy baseline does.
    """
    k = len(ref.NAMES)
    means = ", ".join(f"SUM(a{j}) / SUM(p) AS xbar{j}" for j in range(k))
    cvs = ", ".join(
        f"CASE WHEN g.xbar{j} <> 0 THEN sqrt(SUM(v.p * (v.a{j} / v.p - g.xbar{j}) * (v.a{j} / v.p - g.xbar{j})) "
        f"/ g.ptot) / g.xbar{j} END AS cv{j}"
        for j in range(k)
    )
    keys = ", ".join(
        ["g.county_code", "g.stage", "g.ptot"] + [f"g.xbar{j}" for j in range(k)]
    )
    judged = ", ".join(
        f"CASE WHEN cv{j} IS NULL THEN -1 WHEN cv{j} <= cv_bound THEN 1 ELSE 0 END AS ok{j}"
        for j in range(k)
    )
    cv_cols = ", ".join(f"cv{j}" for j in range(k))
    return (
        f"WITH {_bounds_cte()}, {_values_cte()}, "
        f"g AS (SELECT county_code, stage, SUM(p) AS ptot, {means} FROM v GROUP BY county_code, stage), "
        f"c AS (SELECT g.county_code, g.stage, {cvs} FROM v JOIN g "
        f"ON v.county_code = g.county_code AND v.stage = g.stage GROUP BY {keys}) "
        f"SELECT c.county_code, c.stage, {cv_cols}, {judged} FROM c JOIN bounds USING (stage) "
        "ORDER BY c.county_code, CASE c.stage WHEN 'primary' THEN 0 ELSE 1 END"
    )


def compute(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Run both queries; return numpy arrays shaped like ``baseline_numpy.compute``.

    Keys: ``met_count``, ``row_pass``, ``passing_rows``, ``group_county``,
    ``group_stage``, ``cv`` (g×7, NaN when not assessable), ``cv_ok`` (g×7).
    """
    k = len(ref.NAMES)
    rows = con.execute(row_sql()).fetchnumpy()
    groups = con.execute(group_sql()).fetchnumpy()
    # fetchnumpy returns a masked array where a column has NULLs; NULL -> NaN.
    cv = np.column_stack(
        [
            np.ma.filled(np.ma.asarray(groups[f"cv{j}"], dtype=np.float64), np.nan)
            for j in range(k)
        ]
    )
    cv_ok = np.column_stack(
        [np.asarray(groups[f"ok{j}"], dtype=np.int8) for j in range(k)]
    )
    row_pass = np.asarray(rows["row_pass"], dtype=bool)
    return {
        "met_count": np.asarray(rows["met_count"], dtype=np.int64),
        "row_pass": row_pass,
        "passing_rows": int(row_pass.sum()),
        "group_county": np.asarray(groups["county_code"], dtype=str),
        "group_stage": np.asarray(groups["stage"], dtype=str),
        "cv": cv,
        "cv_ok": cv_ok,
    }


def compare(numpy_result: dict[str, Any], duck_result: dict[str, Any]) -> list[str]:
    """Every disagreement between the two baselines, as readable lines (empty if none)."""
    problems: list[str] = []
    if numpy_result["passing_rows"] != duck_result["passing_rows"]:
        problems.append(
            f"passing rows differ: numpy {numpy_result['passing_rows']}, duckdb {duck_result['passing_rows']}"
        )
    a, b = numpy_result["met_count"], duck_result["met_count"]
    if a.shape != b.shape:
        problems.append(f"row counts differ: numpy {a.size}, duckdb {b.size}")
    elif (diff := np.flatnonzero(a != b)).size:
        problems.append(
            f"met counts differ on {diff.size} rows, first at data row {diff[0] + 1}"
        )
    keys_np = list(
        zip(
            numpy_result["group_county"].tolist(),
            numpy_result["group_stage"].tolist(),
            strict=True,
        )
    )
    keys_dd = list(
        zip(
            duck_result["group_county"].tolist(),
            duck_result["group_stage"].tolist(),
            strict=True,
        )
    )
    if keys_np != keys_dd:
        problems.append(f"groups differ: numpy {len(keys_np)}, duckdb {len(keys_dd)}")
        return problems
    cv_a, cv_b = numpy_result["cv"], duck_result["cv"]
    nan_mismatch = np.isnan(cv_a) != np.isnan(cv_b)
    if nan_mismatch.any():
        problems.append(
            f"not-assessable CVs differ in {int(nan_mismatch.sum())} places"
        )
    both = ~np.isnan(cv_a) & ~np.isnan(cv_b)
    worst = float(np.max(np.abs(cv_a[both] - cv_b[both]), initial=0.0))
    if worst > CV_TOLERANCE:
        problems.append(f"CVs differ by up to {worst:.3g} (> {CV_TOLERANCE})")
    if (mismatch := numpy_result["cv_ok"] != duck_result["cv_ok"]).any():
        problems.append(f"CV judgements differ in {int(mismatch.sum())} places")
    return problems


def verify(path: Path) -> bool:
    """Compute with both baselines on ``path``; print the outcome; True if they agree."""
    ref.selfcheck()
    numpy_result = ref.compute(ref.load(path))
    duck_result = compute(load(path))
    problems = compare(numpy_result, duck_result)
    if problems:
        print("verify FAILED:\n  " + "\n  ".join(problems))
        return False
    cv_a, cv_b = numpy_result["cv"], duck_result["cv"]
    both = ~np.isnan(cv_a)
    worst = float(np.max(np.abs(cv_a[both] - cv_b[both]), initial=0.0))
    print(
        f"verify ok: {numpy_result['passing_rows']} passing rows of {numpy_result['row_pass'].size} in both; "
        f"met counts equal on every row; {cv_a.shape[0]}×{cv_a.shape[1]} CVs agree "
        f"(largest difference {worst:.1e})"
    )
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: evaluate (and optionally verify) one schools.csv."""
    parser = argparse.ArgumentParser(
        description="DuckDB baseline of the resource section"
    )
    parser.add_argument(
        "schools",
        nargs="?",
        type=Path,
        help="schools.csv (default: generate a small one)",
    )
    parser.add_argument(
        "--verify", action="store_true", help="check agreement with the numpy baseline"
    )
    parser.add_argument(
        "--counties",
        type=int,
        default=300,
        help="counties to generate when no file is given",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qbe-bench-") as tmp:
        path = args.schools
        if path is None:
            generate.generate(Path(tmp), counties=args.counties, seed=1)
            path = Path(tmp) / "schools.csv"
        t0 = time.perf_counter()
        con = load(path)
        t1 = time.perf_counter()
        result = compute(con)
        t2 = time.perf_counter()
        print(ref.summary(result))
        print(f"load: {t1 - t0:.3f} s\nevaluate: {t2 - t1:.3f} s")
        if args.verify and not verify(path):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
