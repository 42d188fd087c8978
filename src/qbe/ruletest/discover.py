"""From the paths on the command line to (test file, ruleset) pairs, by the naming convention.

Convention: the tests of ``rulesets/national-2017.qbe`` are in
``rulesets/tests/national-2017.test.toml`` (a ``tests`` folder beside the
ruleset); ``rulesets/national-2017.test.toml`` right beside it is accepted
too. A test file may name its standard with ``standard = "…"`` (an id, or a
path relative to the test file); otherwise the name before ``.test.toml``
is the ruleset file beside it (or in the folder above ``tests/``), or a
standard id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

SUFFIX = ".test.toml"


@dataclass(frozen=True)
class Job:
    """One test file and, when the command line fixed it, the ruleset to test it against."""

    test_file: Path
    ruleset: Path | None = None


def tests_of(ruleset: Path) -> list[Path]:
    """The test files of a ruleset file, by the naming convention."""
    stem = ruleset.name.removesuffix(".qbe")
    found = [ruleset.parent / "tests" / f"{stem}{SUFFIX}", ruleset.parent / f"{stem}{SUFFIX}"]
    return [p for p in found if p.is_file()]


def standard_for(test_file: Path, declared: str | None) -> str:
    """What to load for a test file: its ``standard`` (a path made relative to the file), or by its name."""
    if declared:
        if declared.endswith(".qbe"):
            return str((test_file.parent / declared) if not Path(declared).is_absolute() else Path(declared))
        return declared
    stem = test_file.name.removesuffix(SUFFIX) if test_file.name.endswith(SUFFIX) else test_file.stem
    for cand in (test_file.parent / f"{stem}.qbe", test_file.parent.parent / f"{stem}.qbe"):
        if cand.is_file():
            return str(cand)
    return stem


def discover(paths: list[str]) -> tuple[list[Job], list[Path]]:
    """Jobs for the given paths, and rulesets found in given folders that have no tests.

    A path that does not exist, or a ruleset file without tests, is a usage error.
    """
    jobs: list[Job] = []
    untested: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise UsageError(f"找不到：{p}", f"not found: {p}")
        if p.is_dir():
            files = sorted(x for x in p.rglob(f"*{SUFFIX}") if x.is_file())
            jobs += [Job(f) for f in files]
            for rs in sorted(p.glob("*.qbe")):
                if not tests_of(rs):
                    untested.append(rs)
            if not files:
                raise UsageError(f"{p} 中没有测试文件（*{SUFFIX}）", f"no test files (*{SUFFIX}) in {p}")
        elif p.suffix == ".qbe":
            found = tests_of(p)
            if not found:
                stem = p.name.removesuffix(".qbe")
                raise UsageError(
                    f"规则文件 {p} 没有测试文件：应为 {p.parent / 'tests' / (stem + SUFFIX)}",
                    f"the ruleset {p} has no tests: expected {p.parent / 'tests' / (stem + SUFFIX)}",
                )
            jobs += [Job(f, p) for f in found]
        else:
            jobs.append(Job(p))
    seen: set[Path] = set()
    unique = []
    for j in jobs:
        key = j.test_file.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(j)
    return unique, untested
