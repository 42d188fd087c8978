"""Grade bands that overlap (a band no value can get) or leave gaps (values no band, or only the
worst band, gets between better ones).

Bands on a value (``合格 >= 85%, 基本合格 >= 80%, 不合格``) are tried in order and the first that
holds gives the grade, so with fixed thresholds the grade is a step function of the value. Its
steps change only at the thresholds (each widened by the executor's exact-threshold slack), so
evaluating the bands at every threshold and at one point between each pair of neighbouring
thresholds covers every value there is: what is found there is certain, for every dataset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...compiler.kernels import REL_TOL
from ...diagnostics import Diagnostic
from ...language import ast
from ..model import Model
from .common import finding, is_percent, num, range_text
from .intervals import Interval, Ranges


@dataclass(frozen=True)
class _Piece:
    lo: float  #: a point (lo == hi) or the open interval between lo and hi
    hi: float
    sample: float


def _holds(op: str, a: float, t: float) -> bool:
    """The executor's comparison of ``a op t`` (kernels.compare), on one number."""
    s = REL_TOL * max(abs(t), 1.0)
    return {">=": a >= t - s, "<=": a <= t + s, ">": a > t + s, "<": a < t - s,
            "==": abs(a - t) <= s, "!=": abs(a - t) > s}[op]


def grade_findings(m: Model, r: Ranges) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for d in m.decls.values():
        if d.grades and d.value is not None and all(b.condition is None for b in d.grades):
            out.extend(_bands(m, r, d))
    return out


def _bands(m: Model, r: Ranges, d: ast.Decl) -> list[Diagnostic]:
    value = r.of(d.value)
    if value is None:
        return []
    bands = [b for b in d.grades if b.threshold is not None]
    fallback = d.grades[-1] if d.grades[-1].threshold is None else None
    thresholds = []
    for b in bands:
        t = r.of(b.threshold)
        if t is None or not t.is_point:
            return []  # a threshold that varies by school or county: no fixed steps to reason about
        thresholds.append(t.lo)
    pct = is_percent(m, d.value)
    pieces = [p for p in _pieces(thresholds, value) if value.lo <= p.lo and p.hi <= value.hi]
    if not pieces:
        return []

    def grade(x: float) -> int | None:
        for i, (b, t) in enumerate(zip(bands, thresholds)):
            assert b.op is not None
            if _holds(b.op, x, t):
                return i
        return len(bands) if fallback is not None else None

    got = [grade(p.sample) for p in pieces]
    out: list[Diagnostic] = []
    for i, (b, t) in enumerate(zip(bands, thresholds)):
        if i in got:
            continue
        assert b.op is not None
        in_range = any(_holds(b.op, p.sample, t) for p in pieces)
        if in_range:
            first = next(bands[j].label for j in range(i) if any(_holds(b.op, p.sample, t) and got[k] == j
                                                                   for k, p in enumerate(pieces)))
            out.append(finding(
                "grade_unreachable", b.span,
                f"'{d.name}' 的等级 '{b.label}' 永远不会给出：满足 {b.op} {num(t, pct)} 的值都已得到前面的等级 '{first}'",
                f"grade '{b.label}' of '{d.name}' is never given: every value meeting {b.op} {num(t, pct)} already gets "
                f"the earlier grade '{first}'",
                "等级从高到低排列，按顺序取第一个满足的：调整分数线或顺序，使各档不重叠。",
                "bands are tried best first and the first that holds wins: fix the thresholds or the order so they do not overlap.",
            ))
        else:
            zh, en = range_text(value, pct)
            out.append(finding(
                "grade_unreachable", b.span,
                f"'{d.name}' 的等级 '{b.label}' 永远不会给出：按输入字段声明的取值范围，值为 {zh}，达不到 {b.op} {num(t, pct)}",
                f"grade '{b.label}' of '{d.name}' is never given: from the inputs' declared ranges the value is {en}, "
                f"which never meets {b.op} {num(t, pct)}",
                "核对分数线（百分数是否写错）和相关字段的 range。",
                "check the threshold (a percentage written wrongly?) and the fields' ranges.",
            ))
    if fallback is not None and len(bands) not in got:
        out.append(finding(
            "grade_unreachable", fallback.span,
            f"'{d.name}' 的最后一档 '{fallback.label}' 永远不会给出：每个可能的值都已落在前面的等级中",
            f"the last grade '{fallback.label}' of '{d.name}' is never given: every possible value gets an earlier grade",
            "核对分数线：前面的等级覆盖了全部取值范围。",
            "check the thresholds: the earlier bands cover the whole range of the value.",
        ))
    out.extend(_gaps(d, pieces, got, fallback, len(bands), pct))
    return out


def _gaps(d: ast.Decl, pieces: list[_Piece], got: list[int | None], fallback, n: int, pct: bool) -> list[Diagnostic]:
    span = dict(d.clause_spans).get("grades", d.name_span)
    runs = _runs(pieces, got)
    for k, (g, lo, hi) in enumerate(runs):
        if g is None and math.isfinite(lo) and math.isfinite(hi):  # an unknown range proves no gap
            return [finding(
                "grade_gap", span,
                f"'{d.name}' 的等级有空档：值在 {num(lo, pct)} 与 {num(hi, pct)} 之间时没有任何等级（未评估）",
                f"the grades of '{d.name}' leave a gap: a value between {num(lo, pct)} and {num(hi, pct)} gets no grade "
                "(not assessed)",
                "补上这一段的等级，或在最后加一个没有条件的兜底等级（如 不合格）。",
                "add a band for these values, or end with a band without a condition (such as 不合格).",
            )]
        if g == n and fallback is not None and 0 < k < len(runs) - 1:
            below, above = runs[k - 1][0], runs[k + 1][0]
            if below is not None and above is not None and below < n and above < n:
                return [finding(
                    "grade_gap", span,
                    f"'{d.name}' 的等级有空档：值在 {num(lo, pct)} 与 {num(hi, pct)} 之间时得到最低档 '{fallback.label}'，"
                    "而比它高和比它低的值都得到更好的等级",
                    f"the grades of '{d.name}' leave a gap: a value between {num(lo, pct)} and {num(hi, pct)} gets the "
                    f"lowest grade '{fallback.label}', while values on both sides get better grades",
                    "核对各档的比较方向（>= 与 <=）和分数线，使等级随数值单调变化。",
                    "check the direction (>= or <=) and the thresholds of the bands so the grade moves one way with the value.",
                )]
    return []


def _runs(pieces: list[_Piece], got: list[int | None]) -> list[tuple[int | None, float, float]]:
    """Consecutive pieces with the same grade, merged: (grade, from, to)."""
    runs: list[tuple[int | None, float, float]] = []
    for p, g in zip(pieces, got):
        if runs and runs[-1][0] == g:
            runs[-1] = (g, runs[-1][1], p.hi)
        else:
            runs.append((g, p.lo, p.hi))
    return runs


def _pieces(thresholds: list[float], value: Interval) -> list[_Piece]:
    """The line cut at every threshold ± slack and the value's ends: each point, each open gap."""
    cuts = set()
    for t in thresholds:
        s = REL_TOL * max(abs(t), 1.0)
        cuts.update((t - s, t, t + s))
    for x in (value.lo, value.hi):
        if math.isfinite(x):
            cuts.add(x)
    pts = sorted(cuts)
    out = [_Piece(-math.inf, pts[0], pts[0] - max(1.0, abs(pts[0])))]
    for a, b in zip(pts, pts[1:]):
        out.append(_Piece(a, a, a))
        out.append(_Piece(a, b, a + (b - a) / 2))
    out.append(_Piece(pts[-1], pts[-1], pts[-1]))
    out.append(_Piece(pts[-1], math.inf, pts[-1] + max(1.0, abs(pts[-1]))))
    return out
