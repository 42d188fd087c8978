"""Peak memory of qbe on a ten-year national dataset (about 2.2 million school-stage rows).

Why: a province or the ministry may evaluate ten years of returns at once.
Evaluation is vectorised, so its memory grows with the number of rows; this
script measures how much, as the peak resident set size (RSS) of a child
process, and checks it against a stated bound.

Usage::

    python benchmarks/large.py [--data DIR] [--counties 28500] [--mode evaluate|json] [--bound-gb GIB]

Without ``--data`` the dataset is generated (``generate.py`` with ten times
the national number of counties) into a temporary directory. Two modes:

* ``evaluate`` (default): in a child process, read both CSVs, compile the
  2017 standard and evaluate every row, as ``qbe run`` does before writing;
* ``json``: the whole ``qbe run ... --format json`` in a child process,
  report writing included (the JSON file is several gigabytes).

The peak RSS comes from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``
after the child exits (kilobytes on Linux), so it includes the interpreter
and every import. Exit status 1 when the peak is over ``--bound-gb``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generate

REPO = Path(__file__).resolve().parent.parent

#: The bounds qbe holds to for 2.2 million rows (docs/data.md): with ``qbe[fast]`` (pyarrow reads the
#: CSV column-wise), and with the base install (every cell a Python string).
BOUND_FAST_GB = 3.5
BOUND_BASE_GB = 6.0

#: What the child runs in ``evaluate`` mode: the run's load, compile and evaluate stages, no writer.
EVALUATE_CHILD = """
import sys, time
from qbe.compiler import compile_model
from qbe.pipeline import choose_year, evaluate, load_model, load_table, stage_issues
from qbe.plugins import registry
data = sys.argv[1]
reg = registry()
t0 = time.perf_counter()
model = load_model("national-2017", reg)
rows, issues = load_table(data + "/schools.csv", model.row_schema(), ("school_code", "stage"), reg)
counties, more = load_table(data + "/counties.csv", model.county_schema(), ("county_code",), reg)
issues = issues + more + stage_issues(model, rows)
t1 = time.perf_counter()
ev = evaluate(model, rows, counties, issues, compile_model(model, choose_year(model, None, rows)))
t2 = time.perf_counter()
print(f"rows: {rows.n}")
print(f"load: {t1 - t0:.3f} s")
print(f"evaluate: {t2 - t1:.3f} s")
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def measure(data: Path, mode: str, out: Path) -> dict:
    """Run one child; return its wall time, peak RSS and what it printed."""
    if mode == "evaluate":
        cmd = [sys.executable, "-c", EVALUATE_CHILD, str(data)]
    else:
        cmd = [sys.executable, "-m", "qbe", "run", "--standard", "national-2017", "--data", str(data / "schools.csv"),
               "--county-data", str(data / "counties.csv"), "--format", "json", "-o", str(out), "--timings"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), check=False)
    wall = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = used.ru_maxrss
    if proc.returncode not in (0, 4):  # 4: the data has (expected, synthetic) errors; reports are still written
        raise SystemExit(f"qbe failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result = {"mode": mode, "wall_s": round(wall, 2), "cpu_s": round(used.ru_utime + used.ru_stime, 2),
              "peak_rss_mb": round(peak_kb / 1024, 1), "stdout": proc.stdout.strip()}
    report = out / "national-2017.json"
    if report.is_file():
        result["json_bytes"] = report.stat().st_size
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="peak memory of qbe on a ten-year national dataset")
    parser.add_argument("--data", type=Path, help="directory with schools.csv and counties.csv")
    parser.add_argument("--counties", type=int, default=28_500, help="counties to generate without --data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("evaluate", "json"), default="evaluate")
    parser.add_argument("--bound-gb", type=float, default=None,
                        help=f"the memory bound to check, GiB (default {BOUND_FAST_GB:g} with pyarrow installed, else {BOUND_BASE_GB:g})")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.bound_gb is None:
        args.bound_gb = BOUND_FAST_GB if importlib.util.find_spec("pyarrow") else BOUND_BASE_GB
    with tempfile.TemporaryDirectory(prefix="qbe-large-") as tmp:
        data = args.data or Path(tmp) / "data"
        if args.data is None:
            t = time.perf_counter()
            counts = generate.generate(data, counties=args.counties, seed=args.seed)
            print(f"generated {counts['rows']} rows in {counts['counties']} counties in {time.perf_counter() - t:.1f} s")
        result = measure(data, args.mode, Path(tmp) / "out")
    rows = next((int(x.split()[1]) for x in result["stdout"].splitlines() if x.startswith("rows:")), None)
    result["rows"] = rows
    result["bound_gb"] = args.bound_gb
    result["within_bound"] = result["peak_rss_mb"] <= args.bound_gb * 1024
    print(result["stdout"])
    print(f"mode {args.mode}: wall {result['wall_s']} s, CPU {result['cpu_s']} s, peak RSS {result['peak_rss_mb']:.0f} MB "
          f"(bound {args.bound_gb:g} GiB: {'within' if result['within_bound'] else 'EXCEEDED'})")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["within_bound"] else 1


if __name__ == "__main__":
    sys.exit(main())
