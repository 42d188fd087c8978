"""What every lint pass shares: building a finding, walking a model's formulas, showing numbers."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ...diagnostics import Diagnostic, Span
from ...language import ast
from ..model import Model
from .intervals import Interval


def finding(code: str, span: Span | None, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> Diagnostic:
    """A lint finding: a located warning with a stable code and a suggested fix, like a check warning."""
    return Diagnostic(code, "warning", span, zh, en, hint_zh, hint_en)


def clause_conditions(d: ast.Decl) -> Iterator[tuple[str, ast.Expr]]:
    """The conditions of a declaration, each with the clause it is written in."""
    if d.check is not None:
        yield "check", d.check
    if d.when is not None:
        yield "when", d.when
    if d.applies is not None:
        yield "applies", d.applies
    for cond, _ in d.exempt:
        yield "exempt", cond
    for cond, _ in d.tolerate:
        yield "tolerate", cond
    for band in d.grades:
        if band.condition is not None:
            yield "grade", band.condition


def decl_exprs(d: ast.Decl) -> Iterator[ast.Expr]:
    """Every expression a declaration holds (value, conditions, thresholds, grade bands)."""
    if d.value is not None:
        yield d.value
    for _, cond in clause_conditions(d):
        yield cond
    for r in d.requires:
        yield r.threshold
    for band in d.grades:
        if band.threshold is not None:
            yield band.threshold


def model_exprs(m: Model) -> Iterator[ast.Expr]:
    for let in m.lets.values():
        yield let.expr
    for d in m.decls.values():
        yield from decl_exprs(d)


def names_used(m: Model) -> set[str]:
    """Every name some formula, condition, threshold or balance of the model mentions."""
    used: set[str] = set()
    for e in model_exprs(m):
        used.update(n.name for n in ast.walk(e) if isinstance(n, ast.Name))
    for d in m.decls.values():
        used.update(n.name for n in d.indicators)
        if d.weight is not None:
            used.add(d.weight.name)
    return used


def reads_data(m: Model, e: ast.Expr) -> bool:
    """Whether ``e`` depends on any data (as opposed to literals and a year's params only)."""
    for n in ast.walk(e):
        if isinstance(n, ast.Name) and (n.name in m.fields or n.name in m.lets or n.name in m.decls):
            return True
        if isinstance(n, (ast.Call, ast.Graded, ast.Weighted, ast.Quantified, ast.QuantifiedPart,
                          ast.QuantifiedRows, ast.AtLeast, ast.Apportion)):
            if not isinstance(n, ast.Call) or not n.args or n.func in m.functions:
                return True
    return False


def mentions_param(m: Model, e: ast.Expr) -> bool:
    return any(isinstance(n, ast.Name) and n.name in m.params for n in ast.walk(e))


def is_percent(m: Model, e: ast.Expr) -> bool:
    """Whether a formula yields a percentage, so that its numbers are shown as 85% rather than 0.85."""
    if isinstance(e, ast.Pct):
        return True
    if isinstance(e, ast.Name):
        if e.name in m.fields:
            return m.fields[e.name].type.value == "percent"
        if e.name in m.params:
            return m.params[e.name].percent
        t = m.types.get(e.name)
        return bool(t is not None and t.percent)
    if isinstance(e, ast.Call):
        if e.func == "share":
            return True
        if e.func in ("min", "max", "coalesce", "mean", "wmean", "abs", "round", "ceil", "floor") and e.args:
            return is_percent(m, e.args[0])
        return False
    if isinstance(e, ast.BinOp) and e.op in "+-":
        return is_percent(m, e.left) or is_percent(m, e.right)
    if isinstance(e, ast.Neg):
        return is_percent(m, e.operand)
    if isinstance(e, ast.Cond):
        return is_percent(m, e.then) or is_percent(m, e.otherwise)
    return False


def num(x: float, percent: bool = False) -> str:
    if x == math.inf:
        return "∞"
    if x == -math.inf:
        return "-∞"
    if percent:
        return f"{x * 100:.6g}%"
    return f"{x:.6g}"


def range_text(r: Interval, percent: bool) -> tuple[str, str]:
    """A range in words, Chinese and English: '0 至 1', '不小于 0' …"""
    if r.lo == r.hi:
        return f"恒为 {num(r.lo, percent)}", f"always {num(r.lo, percent)}"
    if math.isfinite(r.lo) and math.isfinite(r.hi):
        return f"{num(r.lo, percent)} 至 {num(r.hi, percent)}", f"{num(r.lo, percent)} to {num(r.hi, percent)}"
    if math.isfinite(r.lo):
        return f"不小于 {num(r.lo, percent)}", f"at least {num(r.lo, percent)}"
    if math.isfinite(r.hi):
        return f"不大于 {num(r.hi, percent)}", f"at most {num(r.hi, percent)}"
    return "任意值", "any value"


def source_text(m: Model, span: Span | None) -> str:
    """The text a span covers, on one line (as written, for quoting in a message)."""
    if span is None or span.file not in m.sources:
        return ""
    lines = m.sources[span.file].splitlines()
    if not 0 < span.line <= len(lines):
        return ""
    if span.end_line is None or span.end_column is None:
        return lines[span.line - 1][span.column - 1:].strip()
    if span.end_line == span.line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:]]
    parts += lines[span.line:span.end_line - 1]
    parts.append(lines[span.end_line - 1][:span.end_column - 1])
    return " ".join(p.strip() for p in parts if p.strip())
