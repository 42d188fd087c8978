"""The range of values a formula can take, from the declared ranges of the inputs it reads.

Interval arithmetic over the expression tree: every input field contributes the ``range`` its
declaration gives (a value outside it is a data error and never reaches evaluation), literals
and a year's params are single points, and each operator maps the ranges of its operands to a
range that contains every result. The ranges are *over*-approximations: a claim such as "this
value never reaches 1.5" made from them holds for every dataset that passes validation, which is
what lets ``qbe lint`` report only what is certain. Where nothing is known the range is the whole
line, and no claim follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...data.schema import FieldType
from ...language import ast
from ..model import Model

INF = math.inf

#: field types that hold numbers (the others are conditions, categories or text)
NUMERIC = {FieldType.COUNT, FieldType.AREA, FieldType.MONEY, FieldType.PERCENT, FieldType.NUMBER}


def _mul(x: float, y: float) -> float:
    """Endpoint product where 0 × ∞ is 0: an unbounded side times an exact zero is still zero."""
    return 0.0 if x == 0 or y == 0 else x * y


@dataclass(frozen=True)
class Interval:
    """The closed hull ``[lo, hi]`` of the values an expression can take; ends may be infinite."""

    lo: float
    hi: float

    @staticmethod
    def point(x: float) -> Interval:
        return Interval(x, x)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi and math.isfinite(self.lo)

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def __add__(self, o: Interval) -> Interval:
        return Interval(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o: Interval) -> Interval:
        return Interval(self.lo - o.hi, self.hi - o.lo)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __mul__(self, o: Interval) -> Interval:
        ps = [_mul(a, b) for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        return Interval(min(ps), max(ps))

    def __truediv__(self, o: Interval) -> Interval:
        """Quotients over divisors other than zero (division by zero gives no value at all)."""
        if o.lo > 0 or o.hi < 0:
            return self * Interval(1 / o.hi if o.hi != INF else 0.0, 1 / o.lo if o.lo != -INF else 0.0)
        if o.lo == 0 and o.hi > 0:
            return self * Interval(1 / o.hi if o.hi != INF else 0.0, INF)
        if o.hi == 0 and o.lo < 0:
            return self * Interval(-INF, 1 / o.lo if o.lo != -INF else 0.0)
        return UNBOUNDED


UNBOUNDED = Interval(-INF, INF)
NONNEG = Interval(0.0, INF)


class Ranges:
    """Ranges of the numeric expressions of one model, with the params of one year (or all years).

    ``of(e)`` is the range of a numeric expression, or None when ``e`` is not a number (a
    condition, a category); an unknown number gives :data:`UNBOUNDED`.
    """

    def __init__(self, model: Model, params: dict[str, float] | None = None) -> None:
        self.m = model
        self.params = params
        self._names: dict[str, Interval | None] = {}
        self._busy: set[str] = set()

    # ------------------------------------------------------------------ names
    def name(self, n: str) -> Interval | None:
        if n in self._names:
            return self._names[n]
        if n in self._busy:  # cannot happen in a checked model; stay sound if it does
            return UNBOUNDED
        self._busy.add(n)
        out = self._name(n)
        self._busy.discard(n)
        self._names[n] = out
        return out

    def _name(self, n: str) -> Interval | None:
        m = self.m
        if n in m.fields:
            spec = m.fields[n]
            if spec.type not in NUMERIC:
                return None
            lo = -INF if spec.minimum is None else float(spec.minimum)
            hi = INF if spec.maximum is None else float(spec.maximum)
            return Interval(lo, hi)
        if n in m.lets:
            return self.of(m.lets[n].expr)
        if n in m.params:
            if self.params is not None and n in self.params:
                return Interval.point(self.params[n])
            vals = [v.value for v in m.params[n].values]
            return Interval(min(vals), max(vals))
        if n in m.decls:
            d = m.decls[n]
            if d.kind == "balance":
                return None
            t = m.types.get(n)
            if d.value is None or t is None or t.kind != "num":
                return None
            return self.of(d.value)
        return None

    def balance_value(self, d: ast.Decl) -> Interval:
        """A CV: never negative when every listed indicator's values are (a mean of 0 has no CV)."""
        for n in d.indicators:
            r = self.name(n.name)
            if r is None or r.lo < 0:
                return UNBOUNDED
        return NONNEG

    # ------------------------------------------------------------------ expressions
    def of(self, e: ast.Expr) -> Interval | None:
        f = getattr(self, "_" + type(e).__name__, None)
        return f(e) if f is not None else None

    def _Num(self, e: ast.Num) -> Interval:
        return Interval.point(e.value)

    def _Pct(self, e: ast.Pct) -> Interval:
        return Interval.point(e.value)

    def _Name(self, e: ast.Name) -> Interval | None:
        return self.name(e.name)

    def _Neg(self, e: ast.Neg) -> Interval | None:
        r = self.of(e.operand)
        return None if r is None else -r

    def _BinOp(self, e: ast.BinOp) -> Interval | None:
        a, b = self.of(e.left), self.of(e.right)
        if a is None or b is None:
            return None
        return {"+": a.__add__, "-": a.__sub__, "*": a.__mul__, "/": a.__truediv__}[e.op](b)

    def _Cond(self, e: ast.Cond) -> Interval | None:
        a, b = self.of(e.then), self.of(e.otherwise)
        if a is None or b is None:
            return None
        return a.hull(b)

    def _Graded(self, e: ast.Graded) -> Interval:
        return NONNEG

    def _Weighted(self, e: ast.Weighted) -> Interval:
        return UNBOUNDED

    def _Apportion(self, e: ast.Apportion) -> Interval:
        # a share of the amount (weights are positive, students and the extra count never negative),
        # or the amount itself where every row is filled
        amount, by = self.name(e.amount.name), self.name(e.by.name)
        extra = self.name(e.extra.name) if e.extra is not None else NONNEG
        if amount is None or amount.lo < 0 or by is None or by.lo < 0 or extra is None or extra.lo < 0:
            return UNBOUNDED
        return Interval(0.0, amount.hi)

    def _Call(self, e: ast.Call) -> Interval | None:
        f, args = e.func, e.args
        if f in self.m.functions and f not in _BUILTIN:
            return UNBOUNDED
        rs = [self.of(a) for a in args]
        if f == "count":
            return NONNEG
        if f == "share":
            return Interval(0.0, 1.0)
        if any(r is None for r in rs) or not rs:
            return UNBOUNDED
        if f in ("min", "max") and len(rs) >= 2:
            pick = min if f == "min" else max
            return Interval(pick(r.lo for r in rs), pick(r.hi for r in rs))
        if f in ("min", "max", "mean"):
            return rs[0]
        if f == "sum":
            r = rs[0]
            return NONNEG if r.lo >= 0 else (Interval(-INF, 0.0) if r.hi <= 0 else UNBOUNDED)
        if f == "wmean":
            return rs[0] if rs[1].lo >= 0 else UNBOUNDED
        if f == "cv":
            return NONNEG if rs[0].lo >= 0 and rs[1].lo >= 0 else UNBOUNDED
        if f == "abs":
            r = rs[0]
            if r.lo >= 0:
                return r
            if r.hi <= 0:
                return -r
            return Interval(0.0, max(-r.lo, r.hi))
        if f in ("ceil", "floor", "round"):
            r = rs[0]
            if f == "round" and len(args) > 1:
                digits = rs[1]
                if not digits.is_point:
                    return UNBOUNDED
                half = 0.5 * 10 ** (-digits.lo)
                return Interval(r.lo - half, r.hi + half)
            return Interval(math.floor(r.lo) if math.isfinite(r.lo) else r.lo,
                            math.ceil(r.hi) if math.isfinite(r.hi) else r.hi)
        if f == "per100":
            return (rs[0] / rs[1]) * Interval.point(100.0)
        if f == "coalesce":
            out = rs[0]
            for r in rs[1:]:
                out = out.hull(r)
            return out
        return UNBOUNDED


_BUILTIN = {"min", "max", "abs", "ceil", "floor", "round", "per100", "coalesce",
            "sum", "mean", "count", "share", "cv", "wmean"}


# ---------------------------------------------------------------------------- comparisons

def tol_margin(b: Interval) -> float:
    """Twice the executor's exact-threshold slack (1e-9 × max(|b|, 1)) over every b in the range."""
    return 2e-9 * max(abs(b.lo), abs(b.hi), 1.0)


def compare_outcomes(op: str, a: Interval, b: Interval) -> tuple[bool, bool]:
    """(can be met, can fail) for ``a op b`` with ``a`` anywhere in its range and ``b`` in its own.

    Mirrors :func:`qbe.compiler.kernels.compare` (a value at a threshold meets it, within a slack
    of 1e-9 × max(|b|, 1)); an answer of False is certain, True only means "not excluded".
    """
    m = tol_margin(b)
    if op == ">=":
        return not (a.hi < b.lo - m), not (a.lo >= b.hi)
    if op == ">":
        return not (a.hi <= b.lo), not (a.lo > b.hi + m)
    if op == "<=":
        return not (a.lo > b.hi + m), not (a.hi <= b.lo)
    if op == "<":
        return not (a.lo >= b.hi), not (a.hi < b.lo - m)
    same = a.is_point and b.is_point and a.lo == b.lo
    apart = a.hi < b.lo - m or a.lo > b.hi + m
    if op == "==":
        return not apart, not same
    if op == "!=":
        return not same, not apart
    return True, True
