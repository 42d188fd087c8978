"""What it would take to meet an unmet requirement: the 整改清单 (remediation list).

Two kinds of remedy are derived here, both from the compiled plan and the
arrays an evaluation already holds, for all rows or groups at once.

**Indicators** (per school-stage row). An indicator's value is a formula of
the school's inputs. If, with the other inputs fixed, the formula is affine
in one input ``x`` (``value(x + Δ) = value + slope·Δ``) and the requirement
does not depend on ``x``, the smallest ``Δ ≥ 0`` that meets the requirement
has a closed form. The slope is found by walking the plan nodes from the
input to the value (sums, differences, products and quotients by things not
depending on ``x``, the apportioning of a whole-school figure among stages,
``if`` with a test not depending on ``x``); anything else (``x`` in a
denominator, ``min``/``max`` of ``x``, an aggregate, a plugin function, an
``applies when`` reading ``x``) makes the indicator *not derivable*.

Which input is named when the formula is affine in several: the first one,
in the order the formula reads them, whose increase moves the value toward
the requirement. ``students`` sits in the denominator of every per-student
indicator, so the input named is the resource (teachers, area, equipment …).
Only increases are proposed: an indicator that needs an input *reduced*
(a maximum exceeded by a resource, say) is not derivable.

Amounts of inputs typed ``count`` are whole numbers, rounded up; other types
(area, money …) are the exact amount. Both are checked with the same
comparison the evaluation uses (:func:`qbe.compiler.kernels.compare`, which
allows a relative slack of 1e-9 at the threshold): after adding the amount
the requirement is met, and for counts one unit less is not. So 20 teachers
for 500 pupils against 4.2 per hundred need exactly +1 (21 / 500 × 100 is
4.2), not +2 from the binary rounding of 0.042 × 500.

For an input reported once for a multi-stage school and apportioned among
its stages, the amount is what to add to the school's one figure, of which
this stage receives its share. Each unmet row is solved on its own: two
stages of one school each short of area each state their own amount.

**Balance (CV) limits** (per county × stage × indicator). The weighted CV is
``sqrt(Σ P_i (X_i − X̄)² / Σ P_i) / X̄``; the share of school ``i`` in it is
``P_i (X_i − X̄)² / Σ P_j (X_j − X̄)²``. For a CV over its limit the remedy
names the schools with the largest shares, the CV if every school below the
mean were raised to the (present) mean, and the smallest number of the
lowest schools that, raised to that mean, bring the CV within the limit
(None when raising every school below the mean is not enough; between
schools of equal value the one with more students is raised first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler import kernels as k
from ..compiler.execute import apportion_like, lift_array
from ..data.schema import FieldType
from ..language import ast

#: number of schools named as the largest contributors to a CV
TOP_CONTRIBUTORS = 3


@dataclass(frozen=True)
class IndicatorRemedy:
    """The remedy of one indicator for every row.

    ``input`` is the column to add to (None: the formula is not linear in any
    single input the requirement can be met by increasing); ``amount`` is per
    row, NaN where no remedy is derived (row met, not assessed, or adding to
    ``input`` cannot meet the requirement on that row).
    """

    input: str | None
    amount: np.ndarray


# ---------------------------------------------------------------------- slopes through the plan


def _dependent(plan, target: int, upto: int) -> np.ndarray:
    """For nodes 0..upto, whether each reads the node ``target`` (directly or through others)."""
    dep = np.zeros(upto + 1, dtype=bool)
    for i in range(target, upto + 1):
        if i == target:
            dep[i] = True
            continue
        dep[i] = any(dep[a] for a in plan.nodes[i].args if a <= upto)
    return dep


def _slopes(ev, target: int, upto: int) -> np.ndarray | float | None:
    """d node[upto] / d node[target] per entity, or None where the dependence is not affine."""
    plan, frame, vals = ev.plan, ev.frame, ev.values
    dep = _dependent(plan, target, upto)
    if not dep[upto]:
        return 0.0
    slope: dict[int, np.ndarray | float] = {target: 1.0}
    for i in range(target + 1, upto + 1):
        if not dep[i]:
            continue
        node = plan.nodes[i]
        op, args, p = node.op, node.args, node.param
        ds = [bool(dep[a]) for a in args]
        s = [slope.get(a, 0.0) for a in args]
        with np.errstate(divide="ignore", invalid="ignore"):
            if op == "lift":
                out = lift_array(frame, s[0], *p)  # a slope moves through a lift as its value does
            elif op == "arith" and p in ("+", "-"):
                out = s[0] + s[1] if p == "+" else s[0] - s[1]
            elif op == "arith" and p == "*":
                if ds[0] and ds[1]:
                    return None
                out = s[0] * vals[args[1]] if ds[0] else vals[args[0]] * s[1]
            elif op == "arith" and p == "/":
                if ds[1]:
                    return None
                y = np.asarray(vals[args[1]], dtype=np.float64)
                out = np.where(y == 0, np.nan, s[0] / np.where(y == 0, 1.0, y))
            elif op == "neg":
                out = -s[0]
            elif op == "mask_na":
                if ds[0]:
                    return None
                out = np.where(np.asarray(vals[args[0]]) == k.MET, s[1], np.nan)
            elif op == "cond":
                if ds[0]:
                    return None
                t = np.asarray(vals[args[0]])
                ok = (t == k.MET) | (t == k.TOLERATED)
                out = np.where(ok, s[1], np.where(t == k.NOT_MET, s[2], np.nan))
            elif op == "apportion":
                if any(ds[1:]):
                    return None
                out = _apportion_slope(ev, node, s[0])
            else:
                return None
        slope[i] = out
    return slope[upto]


def _apportion_slope(ev, node, s_amount) -> np.ndarray:
    """How a row's apportioned share moves with its school's figure: the share is linear in the
    figure, so the slope is apportioned exactly like the figure (:func:`execute.apportion_like`)."""
    return apportion_like(ev.frame, [ev.values[i] for i in node.args], node.param, s_amount)


def _fields_in_order(plan, top: int) -> list[int]:
    """Field nodes a node reads, in the order the formula reads them (depth first, left to right)."""
    seen: set[int] = set()
    out: list[int] = []
    stack = [top]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        node = plan.nodes[i]
        if node.op == "field":
            out.append(i)
        stack.extend(reversed(node.args))
    return out


# ---------------------------------------------------------------------- solving for the amount


#: The comparisons a remedy can be solved for; a row's comparison is kept as its index here
#: (-1: another one, or none), so a whole column is tested with integer compares.
OPS = (">=", ">", "<=", "<")
_GE, _GT, _LE, _LT = range(len(OPS))


def _row_ops(d: ast.Decl, stage: np.ndarray) -> np.ndarray | None:
    """The comparison each row's requirement uses (an index into :data:`OPS`), or None when
    several clauses judge one row together."""
    per_stage = any(r.stage is not None for r in d.requires)
    if not per_stage:
        return np.full(len(stage), _op_code(d.requires[0].op), dtype=np.int8) if len(d.requires) == 1 else None
    from ..compiler.frame import STAGE_CODES

    ops = np.full(len(stage), -1, dtype=np.int8)
    for r in sorted(d.requires, key=lambda r: r.stage is not None):
        mask = slice(None) if r.stage is None else stage == STAGE_CODES[r.stage]
        ops[mask] = _op_code(r.op)
    return ops


def _op_code(op: str | None) -> int:
    return OPS.index(op) if op in OPS else -1


def op_codes(op: np.ndarray) -> np.ndarray:
    """Comparisons as :data:`OPS` indices: given as indices already, or as their texts (">=" …)."""
    op = np.asarray(op)
    if op.dtype.kind in "iu":
        return op.astype(np.int8, copy=False)
    out = np.full(op.shape, -1, dtype=np.int8)
    for j, o in enumerate(OPS):
        out[op == o] = j
    return out


def _met(op: np.ndarray, value: np.ndarray, req: np.ndarray) -> np.ndarray:
    """Row by row, whether ``value op req`` holds by the evaluation's own comparison (``op``: codes)."""
    out = np.zeros(len(value), dtype=bool)
    for j, o in enumerate(OPS):
        m = op == j
        if m.all():  # one comparison for every row (the usual case): no gathers
            return k.compare(o, value, req) == k.MET
        if m.any():
            out[m] = k.compare(o, value[m], req[m]) == k.MET
    return out


def solve_amounts(op: np.ndarray, value: np.ndarray, slope: np.ndarray, req: np.ndarray, whole: bool) -> np.ndarray:
    """The smallest increase of the input that makes ``value + slope·Δ op req`` hold, per row.

    NaN where the row already meets it, where an increase cannot (slope zero
    or of the wrong sign, an operator other than ≥ > ≤ <), or where a number
    is missing. ``whole`` rounds up to whole units (inputs that are counts).
    """
    op = op_codes(op)
    value = np.asarray(value, dtype=np.float64)
    slope = np.broadcast_to(np.asarray(slope, dtype=np.float64), value.shape)
    req = np.asarray(req, dtype=np.float64)
    up = (op == _GE) | (op == _GT)
    down = (op == _LE) | (op == _LT)
    strict = (op == _GT) | (op == _LT)
    t = k.tol(req)
    # the value the comparison starts to accept, and the exact requirement
    edge = np.where(up, np.where(strict, req + t, req - t), np.where(strict, req - t, req + t))
    usable = ((up & (slope > 0)) | (down & (slope < 0))) & np.isfinite(value) & np.isfinite(req) & np.isfinite(slope)
    already = _met(op, value, req)
    usable &= ~already
    with np.errstate(divide="ignore", invalid="ignore"):
        at_edge = (edge - value) / slope
        exact = (req - value) / slope
        # a step just large enough to move value + slope·Δ past the edge in binary floating point
        nudge = np.abs(at_edge) * 1e-12 + 4 * np.spacing(np.maximum(np.abs(edge), np.abs(value))) / np.abs(slope)
    if whole:
        amt = np.where(strict, np.floor(at_edge) + 1, np.ceil(at_edge))
        amt = np.maximum(amt, 1.0)
    else:
        # the requirement itself where that is accepted; just past the edge for a strict comparison
        amt = np.where(strict, at_edge + nudge, exact)
    amt = np.where(usable, amt, np.nan)
    # hold the amount to the comparison: met after adding it, and (counts) not met with one unit less
    for _ in range(4):
        bad = usable & ~_met(op, value + slope * amt, req)
        if not bad.any():
            break
        amt = np.where(bad, amt + (1.0 if whole else nudge), amt)
        nudge = nudge * 4
    if whole:
        for _ in range(3):
            less = usable & (amt > 1) & _met(op, value + slope * (amt - 1), req)
            if not less.any():
                break
            amt = np.where(less, amt - 1, amt)
    amt = np.where(usable & _met(op, value + slope * amt, req), amt, np.nan)
    return amt


def indicator_remedy(ev, d: ast.Decl, final: np.ndarray) -> IndicatorRemedy | None:
    """The remedy of indicator ``d`` for all rows; None when no row's final status is not met."""
    unmet = np.asarray(final) == k.NOT_MET
    if not unmet.any():
        return None
    n = ev.frame.n
    none = IndicatorRemedy(None, np.full(n, np.nan))
    o = ev.decl(d.name)
    if o.value is None or o.required is None or not d.requires:
        return none
    ops = _row_ops(d, ev.frame.stage)
    if ops is None:
        return none
    # only the rows not met are solved for (a few per cent of them at national scale)
    at = np.flatnonzero(unmet)
    value = np.broadcast_to(np.asarray(ev.arr(o.value, "row"), dtype=np.float64), (n,))[at]
    req = np.broadcast_to(np.asarray(ev.arr(o.required, "row"), dtype=np.float64), (n,))[at]
    ops = ops[at]
    for f in _fields_in_order(ev.plan, o.value):
        name = ev.plan.nodes[f].param
        spec = ev.model.fields.get(name)
        if spec is None or not spec.type.numeric:
            continue
        if f <= o.required and _dependent(ev.plan, f, o.required)[o.required]:
            continue  # the requirement moves with this input
        slope = _slopes(ev, f, o.value)
        if slope is None or (np.ndim(slope) == 0 and float(slope) == 0.0):
            continue
        slope = np.broadcast_to(np.asarray(slope, dtype=np.float64), (n,))[at]
        solved = solve_amounts(ops, value, slope, req, spec.type == FieldType.COUNT)
        if np.isfinite(solved).any():
            amt = np.full(n, np.nan)
            amt[at] = solved
            return IndicatorRemedy(name, amt)
    return none


# ---------------------------------------------------------------------- CV over its limit


@dataclass(frozen=True)
class BalanceRemedy:
    """Per county × stage group: what raising the lowest schools would do to one indicator's CV."""

    share: np.ndarray  #: per row, its share of the group's weighted squared deviation (NaN: not a member)
    below: np.ndarray  #: per group, members below the mean
    cv_if_raised: np.ndarray  #: per group, the CV if every member below the mean were raised to it
    raise_lowest: np.ndarray  #: per group, fewest lowest members to raise for the CV to meet the limit (-1: not enough)
    cv_after: np.ndarray  #: per group, the CV after raising those (NaN where -1)


def balance_remedy(x, w, member, codes: np.ndarray, n: int, mean: np.ndarray, limit: np.ndarray | None,
                   op: np.ndarray | None, groups: np.ndarray | None = None) -> BalanceRemedy:
    """Contributions and raise-to-mean figures of a weighted CV, for every group at once.

    ``groups`` (a mask over the groups) limits the search for the fewest
    lowest members to raise to the groups a report will show (those over their
    limit): that search sorts the members, the costly part at national scale.
    Elsewhere ``raise_lowest`` is -1.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), x.shape)
    member = np.asarray(member, dtype=bool) & np.isfinite(x) & np.isfinite(w)
    mean = np.asarray(mean, dtype=np.float64)
    wm = np.where(member, w, 0.0)
    W = np.bincount(codes, weights=wm, minlength=n)
    y = np.where(member, x - mean[codes], 0.0)
    y = np.where(np.isfinite(y), y, 0.0)
    sq = wm * y * y
    tot_sq = np.bincount(codes, weights=sq, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(member, sq / tot_sq[codes], np.nan)
    share = np.where(member & (tot_sq[codes] == 0), 0.0, share)
    below_m = member & (y < 0)
    below = np.bincount(codes, weights=below_m.astype(np.float64), minlength=n).astype(np.int64)
    s1 = np.bincount(codes, weights=wm * y, minlength=n)

    def cv_of(s1_, s2_) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = s1_ / W
            var = np.maximum(s2_ / W - d * d, 0.0)
            return np.sqrt(var) / (mean + d)

    cut_y = np.where(below_m, y, 0.0)
    cv_all = cv_of(s1 - np.bincount(codes, weights=wm * cut_y, minlength=n),
                   tot_sq - np.bincount(codes, weights=wm * cut_y * cut_y, minlength=n))
    raise_lowest = np.full(n, -1, dtype=np.int64)
    cv_after = np.full(n, np.nan)
    idx = np.nonzero(below_m if groups is None else below_m & np.asarray(groups, dtype=bool)[codes])[0]
    if limit is not None and op is not None and idx.size:
        # by group, lowest first; between equal values the larger school first (it moves the CV most)
        order = idx[np.lexsort((-wm[idx], y[idx], codes[idx]))]
        g = codes[order]
        start = np.r_[0, np.nonzero(np.diff(g))[0] + 1]
        first = np.repeat(start, np.diff(np.r_[start, len(order)]))
        rank = np.arange(len(order)) - first + 1
        c1 = _running_sums(wm[order] * y[order], start, rank)
        c2 = _running_sums(sq[order], start, rank)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = (s1[g] - c1) / W[g]
            var = np.maximum((tot_sq[g] - c2) / W[g] - d * d, 0.0)
            cv_k = np.sqrt(var) / (mean[g] + d)
        ok = _met(op_codes(op)[g], cv_k, np.asarray(limit, dtype=np.float64)[g])
        hit = np.nonzero(ok)[0]
        if hit.size:
            # the first hit of each group is its fewest lowest members
            grp, first_hit = np.unique(g[hit], return_index=True)
            raise_lowest[grp] = rank[hit[first_hit]]
            cv_after[grp] = cv_k[hit[first_hit]]
    return BalanceRemedy(share, below, cv_all, raise_lowest, cv_after)


def balance_remedy_of(x, w, member, codes: np.ndarray, mean, limit, op: np.ndarray | None,
                      wanted: np.ndarray) -> BalanceRemedy:
    """:func:`balance_remedy` worked out on the rows of the ``wanted`` groups only (a report shows it
    for the groups over their limit, a small part of a national dataset) and given back at full
    size: NaN shares and zero counts elsewhere, no raise-to-mean figures. Every figure is a sum
    within one group, in row order, so the wanted groups' figures are those of the whole computation."""
    n, n_groups = len(codes), len(wanted)
    rows = np.flatnonzero(wanted[codes])
    groups = np.flatnonzero(wanted)
    local = np.full(n_groups, -1, dtype=np.int64)
    local[groups] = np.arange(groups.size)
    mean, limit = np.broadcast_to(mean, (n_groups,)), np.broadcast_to(limit, (n_groups,))
    sub = balance_remedy(np.broadcast_to(x, (n,))[rows], np.broadcast_to(w, (n,))[rows],
                         np.broadcast_to(member, (n,))[rows], local[codes[rows]], groups.size, mean[groups],
                         limit[groups], op[groups] if op is not None else None)
    share = np.full(n, np.nan)
    share[rows] = sub.share
    below = np.zeros(n_groups, dtype=np.int64)
    below[groups] = sub.below
    cv_if_raised = np.full(n_groups, np.nan)
    cv_if_raised[groups] = sub.cv_if_raised
    raise_lowest = np.full(n_groups, -1, dtype=np.int64)
    raise_lowest[groups] = sub.raise_lowest
    cv_after = np.full(n_groups, np.nan)
    cv_after[groups] = sub.cv_after
    return BalanceRemedy(share, below, cv_if_raised, raise_lowest, cv_after)


def _running_sums(v: np.ndarray, start: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Each group's running sum of ``v`` (groups are consecutive runs starting at ``start``).

    Added up within each group alone, in order, as a loop over that group would:
    one running sum over every group minus the total before the group would
    carry the rounding of all earlier groups into the last digits.
    """
    which = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(v)]))
    grid = np.zeros((len(start), int(rank.max())))
    grid[which, rank - 1] = v
    return np.cumsum(grid, axis=1)[which, rank - 1]


def balance_ops(d: ast.Decl, cs_stage: np.ndarray) -> np.ndarray | None:
    """The comparison of a balance limit per county × stage group (None if it has no limit)."""
    if not d.requires:
        return None
    return _row_ops(d, cs_stage)
