"""Time qbe against two hand-made baselines on a national-scale dataset.

Why: qbe's promise is that a whole country's returns evaluate interactively
(evaluation < 0.3 s, CSV-to-JSON run < 3 s on 2 cores). Absolute seconds
depend on the machine, so the run also times the same "resource" section done
by hand in numpy and in DuckDB on the same data, in the same process run, and
reports qbe's time as ratios to those. Ratios travel between machines far
better than seconds do.

Usage::

    python benchmarks/run.py [--data DIR] [--repeat 5] [--json FILE]

Without ``--data`` a dataset is generated into a temporary directory. Each
measurement is repeated ``--repeat`` times; best and median are reported, and
ratios use the best times (the least disturbed by other load on the machine).

qbe is run as a subprocess::

    qbe run --standard national-2017 --data DIR/schools.csv \\
        --county-data DIR/counties.csv --format json -o OUTDIR --timings

and its phase times are read from stdout lines such as ``evaluate: 0.123 s``
(``ms`` is accepted too). Its whole wall time, process start-up included, is
measured here. If ``qbe`` is not on PATH, ``python -m qbe`` is tried with the
repository's ``src`` on PYTHONPATH. If qbe fails, its stderr is printed and the
baselines are still timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import baseline_duckdb as dd
import baseline_numpy as ref
import duckdb
import generate
import numpy as np

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
PHASES = ("load", "compile", "evaluate", "write")
PHASE_LINE = re.compile(
    r"^\s*(load|compile|evaluate|write)\s*:\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)(?:\s*(ms|s)\b)?",
    re.MULTILINE,
)
#: The targets from the project brief, in seconds.
TARGET_EVALUATE = 0.3
TARGET_WHOLE = 3.0


def stats(samples: Sequence[float]) -> dict[str, float]:
    """Best and median of a list of seconds (best first: it is what ratios use)."""
    return {
        "best": min(samples),
        "median": statistics.median(samples),
        "runs": len(samples),
    }


def timed(fn: Callable[[], T], repeat: int) -> tuple[dict[str, float], T]:
    """Call ``fn`` ``repeat`` times; return its timing stats and last result."""
    samples: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    assert result is not None
    return stats(samples), result


def parse_phases(text: str) -> dict[str, float]:
    """Phase times (seconds) from qbe's ``--timings`` lines; later lines win."""
    found: dict[str, float] = {}
    for name, number, unit in PHASE_LINE.findall(text):
        found[name] = float(number) / (1000.0 if unit == "ms" else 1.0)
    return found


def qbe_command(explicit: str | None) -> tuple[list[str], dict[str, str]]:
    """The command prefix that runs qbe, and the environment to run it in.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: with it every run compiles qbe's
    modules from source again (~0.3 s), which an installed qbe never does.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if explicit:
        return shlex.split(explicit), env
    if shutil.which("qbe"):
        return ["qbe"], env
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    return [sys.executable, "-m", "qbe"], env


RESOURCES_ONLY = Path(__file__).resolve().parent / "resources-only.qbe"


def time_qbe(data: Path, repeat: int, explicit: str | None, standard: str = "national-2017") -> dict[str, Any]:
    """Run qbe ``repeat`` times; return phase and wall stats, or the error.

    Stops at the first failure: a CLI that is missing or broken fails the
    same way every time, and its stderr is what the reader needs.
    """
    prefix, env = qbe_command(explicit)
    walls: list[float] = []
    cpus: list[float] = []
    phases: dict[str, list[float]] = {p: [] for p in PHASES}
    shown = " ".join(prefix)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="qbe-out-") as outdir:
            cmd = [
                *prefix, "run", "--standard", standard,
                "--data", str(data / "schools.csv"),
                *(["--county-data", str(data / "counties.csv")] if standard == "national-2017" else []),
                "--format", "json", "-o", outdir, "--timings",
            ]  # fmt: skip
            start = time.perf_counter()
            used = children_cpu()
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, env=env, check=False
                )
            except OSError as exc:
                return {"command": shown, "error": f"could not start {shown!r}: {exc}"}
            walls.append(time.perf_counter() - start)
            cpus.append(children_cpu() - used)
        if proc.returncode != 0:
            return {
                "command": shown,
                "error": f"exit status {proc.returncode}",
                "stderr": proc.stderr.strip(),
            }
        found = parse_phases(proc.stdout) or parse_phases(proc.stderr)
        for name, seconds in found.items():
            phases[name].append(seconds)
    out: dict[str, Any] = {"command": shown, "whole": stats(walls), "cpu": stats(cpus)}
    for name, samples in phases.items():
        if samples:
            out[name] = stats(samples)
    return out


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far.

    Why beside wall time: the machines these figures come from are shared, and
    another program's load stretches wall time but not the CPU time qbe uses.
    """
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either side is missing or b is zero."""
    if a is None or b is None or b <= 0:
        return None
    return a / b


def best(block: dict[str, Any], key: str) -> float | None:
    """Best seconds of ``block[key]``, or None when it was not measured."""
    entry = block.get(key)
    return None if entry is None else float(entry["best"])


def format_table(timings: dict[str, dict[str, Any]]) -> str:
    """A fixed-width table: engine, phase, best and median seconds."""
    lines = [f"{'engine':<9} {'phase':<9} {'best s':>9} {'median s':>9}"]
    lines.append("-" * len(lines[0]))
    for engine, block in timings.items():
        for phase in (*PHASES, "total", "whole", "cpu"):
            entry = block.get(phase)
            if isinstance(entry, dict):
                lines.append(
                    f"{engine:<9} {phase:<9} {entry['best']:>9.3f} {entry['median']:>9.3f}"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (if needed), time everything, print a table and ratios."""
    parser = argparse.ArgumentParser(
        description="benchmark qbe against numpy and DuckDB baselines"
    )
    parser.add_argument(
        "--data", type=Path, help="directory with schools.csv and counties.csv"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement (default 5)"
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--counties", type=int, default=2850, help="counties to generate without --data"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed to generate with without --data"
    )
    parser.add_argument(
        "--qbe", help="command prefix for qbe (default: qbe, else python -m qbe)"
    )
    parser.add_argument(
        "--skip-qbe", action="store_true", help="time the baselines only"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    with tempfile.TemporaryDirectory(prefix="qbe-bench-") as tmp:
        data: Path = args.data if args.data is not None else Path(tmp)
        if args.data is None:
            start = time.perf_counter()
            counts = generate.generate(data, counties=args.counties, seed=args.seed)
            print(f"generated {counts['rows']} rows in {counts['counties']} counties "
                  f"into {data} in {time.perf_counter() - start:.2f} s")  # fmt: skip
        schools = data / "schools.csv"
        if not schools.is_file():
            parser.error(f"{schools} not found")

        ref.selfcheck()
        timings: dict[str, dict[str, Any]] = {}
        np_load, cols = timed(lambda: ref.load(schools), args.repeat)
        np_eval, np_result = timed(lambda: ref.compute(cols), args.repeat)
        timings["numpy"] = {"load": np_load, "evaluate": np_eval}

        dd_load, con = timed(lambda: dd.load(schools), args.repeat)
        dd_eval, dd_result = timed(lambda: dd.compute(con), args.repeat)
        con.close()
        timings["duckdb"] = {"load": dd_load, "evaluate": dd_eval}
        totals = [
            a + b
            for a, b in (
                (dd_load["best"], dd_eval["best"]),
                (dd_load["median"], dd_eval["median"]),
            )
        ]
        timings["duckdb"]["total"] = {
            "best": totals[0],
            "median": totals[1],
            "runs": args.repeat,
        }

        problems = dd.compare(np_result, dd_result)
        for line in problems:
            print(f"WARNING: baselines disagree: {line}", file=sys.stderr)

        qbe: dict[str, Any] = {"skipped": True}
        if not args.skip_qbe:
            # "qbe": the same section as the baselines; "qbe-full": the whole 2017 standard
            for engine, standard in (("qbe", str(RESOURCES_ONLY)), ("qbe-full", "national-2017")):
                qbe = time_qbe(data, args.repeat, args.qbe, standard)
                if "error" in qbe:
                    sys.stdout.flush()  # keep the report and the error in order
                    print(f"qbe ({qbe['command']}) failed: {qbe['error']}", file=sys.stderr)
                    if qbe.get("stderr"):
                        print(qbe["stderr"], file=sys.stderr)
                    print("carrying on with the baselines only", file=sys.stderr)
                else:
                    timings[engine] = {k: v for k, v in qbe.items() if isinstance(v, dict)}

    rows = int(np_result["row_pass"].size)
    print(f"\n{rows} school-stage rows, {np_result['cv'].shape[0]} county-stage groups, "
          f"{np_result['passing_rows']} rows passing; {os.cpu_count()} CPUs; repeat {args.repeat}\n")  # fmt: skip
    print(format_table(timings))

    qbe_times = timings.get("qbe", {})
    qbe_eval, qbe_whole = best(qbe_times, "evaluate"), best(qbe_times, "whole")
    ratios = {
        "qbe_evaluate/numpy_evaluate": ratio(
            qbe_eval, best(timings["numpy"], "evaluate")
        ),
        "qbe_evaluate/duckdb_evaluate": ratio(
            qbe_eval, best(timings["duckdb"], "evaluate")
        ),
        "qbe_whole/duckdb_total": ratio(qbe_whole, best(timings["duckdb"], "total")),
        "qbe-full_evaluate/numpy_evaluate": ratio(
            best(timings.get("qbe-full", {}), "evaluate"), best(timings["numpy"], "evaluate")
        ),
        "qbe-full_whole/duckdb_total": ratio(
            best(timings.get("qbe-full", {}), "whole"), best(timings["duckdb"], "total")
        ),
    }
    targets = {
        "evaluate_under_0.3s": None if qbe_eval is None else qbe_eval < TARGET_EVALUATE,
        "whole_under_3s": None if qbe_whole is None else qbe_whole < TARGET_WHOLE,
    }
    print("\nratios (best times; < 1 means qbe is faster):")
    for name, value in ratios.items():
        print(f"  {name:<30} {'n/a' if value is None else f'{value:.2f}'}")
    print("targets:")
    for name, ok in targets.items():
        print(f"  {name:<30} {'n/a' if ok is None else ('met' if ok else 'MISSED')}")

    if args.json is not None:
        report = {
            "dataset": {
                "path": None if args.data is None else str(args.data),
                "generated": args.data is None,
                "counties_generated": args.counties if args.data is None else None,
                "seed": args.seed if args.data is None else None,
                "rows": rows,
                "groups": int(np_result["cv"].shape[0]),
                "passing_rows": int(np_result["passing_rows"]),
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "duckdb": duckdb.__version__,
                "platform": platform.platform(),
            },
            "repeat": args.repeat,
            "timings": timings,
            "qbe": {k: v for k, v in qbe.items() if not isinstance(v, dict)},
            "ratios": ratios,
            "targets": targets,
            "baselines_agree": not problems,
        }
        args.json.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"\nwrote {args.json}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
