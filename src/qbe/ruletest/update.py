"""Rewrite the expected results of a test file after a deliberate change to a ruleset.

Only the value of an expectation that failed is replaced, on its own line, so
comments, order, spacing and the author's wording (达标 or met, 4.2 or "85%")
stay as written. With ``record``, every result a block does not state yet is
added under it (and cases with no ``[[case.expect]]`` get one block per school
row and county), so a new case can be written as data only and filled in.
"""

from __future__ import annotations

import re
from typing import Any

from ..plugins import atomic_write
from ..status import Status
from .casefile import Expectation, TestFile, decimals
from .runner import CaseResult

_VALUE = r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s,}#]+)"


def format_value(e: Expectation | None, got: Any) -> str | None:
    """``got`` written the way ``e`` was written (Chinese or English status, same decimals); None if TOML cannot hold it."""
    if got is None:
        return None
    if isinstance(got, bool):
        return "true" if got else "false"
    if isinstance(got, str):
        s = next((x for x in Status if x.key == got), None)
        if s is not None and e is not None and isinstance(e.written, str) and not e.written.isascii():
            return f'"{s.zh}"'
        return '"' + got.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(got, (int, float)):
        if e is None:
            return repr(round(float(got), 4)).removesuffix(".0") if float(got).is_integer() else repr(round(float(got), 4))
        d = decimals(e.written)
        if isinstance(e.written, str):  # "85%"
            return f'"{got * 100:.{max(d - 2, 0)}f}%"'
        if isinstance(e.written, int) and float(got).is_integer():
            return str(int(got))
        return f"{got:.{max(d, 1) if not float(got).is_integer() or d else 0}f}"
    return None


def _replace_on_line(line: str, key: str, new: str) -> str | None:
    pat = re.compile(r"((?<![\w\"'-])(?:" + re.escape(key) + r"|\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"')\s*=\s*)" + _VALUE)
    hits = list(pat.finditer(line))
    if len(hits) != 1:
        return None
    m = hits[0]
    return line[: m.start(2)] + new + line[m.end(2):]


def _key_text(part: str) -> str:
    return part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else '"' + part + '"'


def _all_results(res: CaseResult, report: dict, target_kind: str, name: str, stage: str | None) -> list[tuple[tuple[str, ...], Any]]:
    """Every result a [[case.expect]] block for this school row or county could state."""
    out: list[tuple[tuple[str, ...], Any]] = []
    if target_kind == "county":
        c = next((c for c in report["counties"] if c["county_code"] == name), None)
        if c is None:
            return out
        out.append((("verdict",), c["verdict"]))
        for p, v in c["parts"].items():
            out.append((("parts", p), v))
        for n, v in c["items"].items():
            out.append((("items", n), v["status"]))
        for st, inds in c["balance"].items():
            for n, v in inds.items():
                out.append((("balance", st, n), v["status"]))
        return out
    rows = [r for r in report["schools"] if (r["school_code"] == name or r.get("school_name") == name)
            and (stage is None or r["stage"] == stage)]
    if len(rows) != 1:
        return out
    r = rows[0]
    if res.evaluation is not None and res.evaluation.resource_rule():
        out.append((("pass",), r["pass"] if r["pass"] is not None else r["status"]))
    for n, v in r["indicators"].items():
        out.append((("indicators", n), v["status"]))
    for n, v in r["rules"].items():
        out.append((("rules", n), v))
    for n, v in r["checks"].items():
        out.append((("checks", n), v["status"]))
    sc = next((s for s in report["school_checks"] if s["school_code"] == r["school_code"]), None)
    for n, v in (sc or {}).get("checks", {}).items():
        out.append((("checks", n), v["status"]))
    return out


def update_file(tf: TestFile, results: list[CaseResult], record: bool = False) -> tuple[int, int, list[int]]:
    """Rewrite ``tf`` in place; returns (values changed, expectations added, lines that could not be rewritten)."""
    lines = tf.text.splitlines(keepends=True)
    changed, added, skipped = 0, 0, []
    inserts: dict[int, list[str]] = {}  # after this line number: new lines
    for res in results:
        for f in res.failures:
            e = f.expectation
            if e is None or f.target is None:
                continue
            new = format_value(e, f.got)
            key = next(p for p in reversed(e.path) if p)
            if e.path[0] in ("balance", "cv"):
                key = e.path[-1]
            line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
            replaced = _replace_on_line(line, key, new) if new is not None else None
            if replaced is None:
                skipped.append(e.line)
                continue
            lines[e.line - 1] = replaced
            changed += 1
        if not record or res.report is None:
            continue
        for t in res.case.targets:
            stated = {e.path for e in t.expectations}
            extra = []
            for path, got in _all_results(res, res.report, t.kind, t.name, t.stage):
                if path in stated or format_value(None, got) is None:
                    continue
                extra.append(".".join(_key_text(p) for p in path) + " = " + format_value(None, got) + "\n")
            if extra:
                inserts.setdefault(t.end_line, []).extend(extra)
                added += len(extra)
        if not res.case.targets:
            extra = []
            for r in res.report["schools"]:
                block = _all_results(res, res.report, "school", r["school_code"], r["stage"])
                extra.append("\n[[case.expect]]\n")
                extra.append(f'school = "{r["school_code"]}"\nstage = "{r["stage"]}"\n')
                extra += [".".join(_key_text(p) for p in path) + " = " + format_value(None, got) + "\n"
                          for path, got in block if format_value(None, got) is not None]
                added += len(block)
            for c in res.report["counties"]:
                block = _all_results(res, res.report, "county", c["county_code"], None)
                extra.append("\n[[case.expect]]\n")
                extra.append(f'county = "{c["county_code"]}"\n')
                extra += [".".join(_key_text(p) for p in path) + " = " + format_value(None, got) + "\n"
                          for path, got in block if format_value(None, got) is not None]
                added += len(block)
            inserts.setdefault(res.case.end_line, []).extend(extra)
    for after in sorted(inserts, reverse=True):
        pos = min(after, len(lines))
        if pos and not lines[pos - 1].endswith("\n"):
            lines[pos - 1] += "\n"
        lines[pos:pos] = inserts[after]
    if changed or added:
        atomic_write(tf.path, "".join(lines))
    return changed, added, skipped
