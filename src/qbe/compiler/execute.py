"""Run a :class:`~.plan.Plan` over a :class:`~.frame.Frame`.

One pass over the node list; each node is one numpy call on whole columns
(see :mod:`.kernels`). The result is a list of arrays indexed like the plan's
nodes. Rows with data errors enter with every declared input blanked (NaN),
so whatever depends on them is *not assessed* rather than judged on bad data.
"""

from __future__ import annotations

import numpy as np

from ..data.schema import FieldType
from . import kernels as k
from .frame import Frame
from .plan import Plan


def _column(plan: Plan, frame: Frame, name: str) -> np.ndarray:
    spec = plan.model.fields[name]
    if spec.level.value == "county":
        t = frame.counties
        if t is None or name not in t.columns:
            src = None
        else:
            src = t.columns[name]
        if spec.type in (FieldType.CATEGORY,):
            out = np.full(frame.n_county, -1, dtype=np.int16)
        elif spec.type == FieldType.TEXT:
            out = np.full(frame.n_county, "", dtype=object)
        else:
            out = np.full(frame.n_county, np.nan)
        if src is not None:
            have = frame.county_row >= 0
            out[have] = src[frame.county_row[have]]
        return out
    col = frame.rows.columns.get(name)
    if col is None:
        if spec.type == FieldType.CATEGORY:
            return np.full(frame.n, -1, dtype=np.int16)
        return np.full(frame.n, np.nan)
    if frame.bad_rows.any() and col.dtype == np.float64:
        col = np.where(frame.bad_rows, np.nan, col)
    return col


def execute(plan: Plan, frame: Frame) -> list[np.ndarray]:
    vals: list = [None] * len(plan.nodes)
    cv_memo: dict[tuple[int, ...], tuple] = {}
    for i, node in enumerate(plan.nodes):
        a = [vals[j] for j in node.args]
        op, p = node.op, node.param
        if op == "field":
            v = _column(plan, frame, p)
        elif op == "const":
            v = np.float64(p)
        elif op == "const_status":
            v = np.int8(p)
        elif op == "const_row":
            v = np.broadcast_to(a[0], (frame.n,)).copy()
        elif op == "const_at":
            v = np.broadcast_to(a[0], (frame.size(node.level),)).copy()
        elif op == "stage":
            v = frame.stage if node.level == "row" else frame.cs_stage
        elif op == "lift":
            v = lift_array(frame, a[0], *p)
        elif op == "arith":
            # overflow to ±inf is a value like any other here; reports show a non-finite value as empty
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                x, y = a
                if p == "+":
                    v = x + y
                elif p == "-":
                    v = x - y
                elif p == "*":
                    v = x * y
                else:
                    v = np.where(np.asarray(y) == 0, np.nan, x / np.where(np.asarray(y) == 0, 1.0, y))
        elif op == "neg":
            v = -a[0]
        elif op == "fn":
            v = _fn(p, a)
        elif op == "compare":
            v = k.compare(p, a[0], a[1])
        elif op == "status_eq":
            same = np.asarray(a[0]) == np.asarray(a[1])
            v = np.where(same if p == "==" else ~same, k.MET, k.NOT_MET).astype(np.int8)
        elif op == "from_bool":
            v = k.from_bool(a[0])
        elif op == "to_bool":
            v = k.to_bool(a[0])
        elif op == "and":
            v = k.and_(*a)
        elif op == "or":
            v = k.or_(*a)
        elif op == "not":
            v = k.not_(a[0])
        elif op == "in_set":
            codes, negate = p
            x = np.asarray(a[0])
            hit = np.isin(x, np.array(codes, dtype=x.dtype))
            v = np.where(x < 0, k.UNKNOWN, np.where(hit != negate, k.MET, k.NOT_MET)).astype(np.int8)
        elif op == "cond":
            t = np.asarray(a[0])
            ok = (t == k.MET) | (t == k.TOLERATED)
            v = np.where(ok, a[1], np.where(t == k.NOT_MET, a[2], np.nan))
        elif op == "cond_status":
            t = np.asarray(a[0])
            ok = (t == k.MET) | (t == k.TOLERATED)
            v = np.where(ok, a[1], np.where(t == k.NOT_MET, a[2], k.UNKNOWN)).astype(np.int8)
        elif op == "applies":
            v = k.applies(a[0], a[1])
        elif op == "mask_na":
            m = np.asarray(a[0])
            v = np.where(m == k.MET, a[1], np.nan)
        elif op == "stage_select" or op == "stage_select_status":
            v = _stage_select(a[0], a[1:], p, status=op.endswith("status"))
        elif op == "reduce":
            v = _reduce(frame, p, a)
        elif op == "reduce_status":
            q, frm, to = p
            v = k.group_status(a[0], frame.codes(frm, to), frame.size(to), q)
        elif op == "at_least":
            kk, n, tolerance = p
            v = _at_least(a[:n], a[n:], kk, tolerance)
        elif op == "tolerate":
            s = np.asarray(a[0])
            rule_ok = np.zeros(s.shape, dtype=bool)
            for r in a[1:]:
                rule_ok |= np.asarray(r) == k.MET
            v = np.where((s == k.NOT_MET) & rule_ok, k.TOLERATED, s).astype(np.int8)
        elif op == "applicable":
            s = np.asarray(a[0])
            v = (s != k.NA) & (s != k.EXEMPT)
        elif op in ("wcv", "wcv_mean", "wcv_count"):
            # the three outputs of one CV share one computation
            got = cv_memo.get(node.args)
            if got is None:
                got = cv_memo[node.args] = k.weighted_cv(a[0], a[1], frame.row_cs, frame.n_cs, a[2])
            v = got[("wcv", "wcv_mean", "wcv_count").index(op)]
        elif op == "exempt_if":
            c, st = np.asarray(a[0]), np.asarray(a[1])
            v = np.where((c == k.MET) & (st != k.NA), k.EXEMPT, st).astype(np.int8)
        elif op == "tolerate_if":
            c, st = np.asarray(a[0]), np.asarray(a[1])
            v = np.where((c == k.MET) & (st == k.NOT_MET), k.TOLERATED, st).astype(np.int8)
        elif op == "approved":
            mask = frame.approved.get(p)
            st = np.asarray(a[0])
            v = st if mask is None else np.where(mask & (st != k.NA), k.EXEMPT, st).astype(np.int8)
        elif op == "grade":
            v = _grade(a, p, frame.size(node.level))
        elif op == "grade_applies":
            app = np.asarray(a[0])
            v = np.where(app == k.NOT_MET, -2, np.where(app == k.UNKNOWN, -1, a[1])).astype(np.int16)
        elif op == "grade_status":
            g = np.asarray(a[0])
            v = np.where(g == -2, k.NA, np.where(g < 0, k.UNKNOWN,
                         np.where(g == 0, k.MET, np.where(g == p - 1, k.NOT_MET, k.TOLERATED))))
            v = v.astype(np.int8)
        elif op == "count_grade":
            gs = [np.asarray(x) for x in a]
            v = sum(((g == i).astype(np.float64) for g, i in zip(gs, p)), np.zeros(np.shape(gs[0])))
            v = np.where(np.any([g == -1 for g in gs], axis=0), np.nan, v)  # -2: not applicable, not counted
        elif op == "weighted":
            v = _weighted(a, p)
        elif op == "plugin_fn" or op == "plugin_agg":
            v = _plugin(plan, frame, node, a)
        elif op == "apportion":
            v = _apportion(frame, a, p)
        elif op == "mean_of":
            v = np.mean(np.vstack(a), axis=0) if a else np.array([])
        else:  # pragma: no cover
            raise AssertionError(f"unknown op {op}")
        vals[i] = v
    return vals


def _fn(name: str, a: list) -> np.ndarray:
    if name == "min":
        return np.minimum.reduce(np.broadcast_arrays(*a))
    if name == "max":
        return np.maximum.reduce(np.broadcast_arrays(*a))
    if name == "abs":
        return np.abs(a[0])
    if name == "coalesce":
        # the first argument that is not missing, row by row
        out = np.asarray(a[0], dtype=np.float64)
        for b in a[1:]:
            out = np.where(np.isnan(out), b, out)
        return out
    if name == "ceil":
        # a quotient like 24/12 may land a hair above 2; snap to the nearest integer first
        x = np.asarray(a[0], dtype=np.float64)
        r = np.round(x)
        return np.where(np.abs(x - r) <= k.tol(x), r, np.ceil(x))
    if name == "floor":
        x = np.asarray(a[0], dtype=np.float64)
        r = np.round(x)
        return np.where(np.abs(x - r) <= k.tol(x), r, np.floor(x))
    if name == "round":
        digits = int(a[1]) if len(a) > 1 else 0
        return np.round(a[0], digits)
    raise AssertionError(name)  # pragma: no cover


def _plugin(plan: Plan, frame: Frame, node, a: list) -> np.ndarray:
    """Call a plugin's function; a failure names the function instead of ending in a traceback."""
    from ..errors import QbeError

    name = node.param if node.op == "plugin_fn" else node.param[0]
    fn = plan.model.functions[name]
    cols = [np.asarray(x, dtype=np.float64) for x in a]
    try:
        if node.op == "plugin_fn":
            shape = np.broadcast(*cols).shape if cols else ()
            out = fn.compute(*[np.broadcast_to(c, shape) for c in cols])
        else:
            _, frm, to = node.param
            out = fn.compute(*cols, frame.codes(frm, to), frame.size(to))
        return np.asarray(out, dtype=np.float64)
    except Exception as e:
        raise QbeError(f"插件函数 {name}() 计算出错：{type(e).__name__}: {e}",
                       f"plugin function {name}() failed: {type(e).__name__}: {e}") from None


def _grade(conds: list, has_fallback: bool, n: int) -> np.ndarray:
    """Index of the first band whose condition is met; -1 where an earlier band is undecided.

    With no fallback band, an entity meeting none of the bands is ungraded (-1).
    """
    out = np.full(n, -1, dtype=np.int16)
    decided = np.zeros(n, dtype=bool)
    for i, c in enumerate(conds):
        c = np.broadcast_to(np.asarray(c), (n,))
        hit = ~decided & ((c == k.MET) | (c == k.TOLERATED))
        out[hit] = i
        unknown = ~decided & ~hit & (c != k.NOT_MET) & (c != k.NA)
        decided |= hit | unknown
    if has_fallback:
        out[~decided] = len(conds)
    return out


def _weighted(a: list, p: tuple) -> np.ndarray:
    """Σ wᵢvᵢ (sum) or Σ wᵢvᵢ / Σ wᵢ (score). A judged item without a value counts 100 when
    met, tolerated or exempt and 0 when not met; not applicable items leave the sum and its weights."""
    kind, weights, numeric = p
    shape = np.broadcast(*[np.asarray(x) for x in a]).shape if a else ()
    total = np.zeros(shape)
    wsum = np.zeros(shape)
    unknown = np.zeros(shape, dtype=bool)
    for x, w, num in zip(a, weights, numeric):
        x = np.broadcast_to(np.asarray(x), shape)
        if num:
            v = x.astype(np.float64)
            unknown |= np.isnan(v)
            use = ~np.isnan(v)
        else:
            v = np.where(np.isin(x, (k.MET, k.TOLERATED, k.EXEMPT)), 100.0, 0.0)
            unknown |= x == k.UNKNOWN
            use = x != k.NA
        total += np.where(use, w * v, 0.0)
        wsum += np.where(use, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / wsum if kind == "score" else total
    return np.where(unknown, np.nan, out)


def lift_array(frame: Frame, x, frm: str, to: str):
    """A value of a coarser level (county, school, county × stage) repeated for each entity of a
    finer one, or a school's first row taken for the school; a scalar stays a scalar."""
    if np.ndim(x) == 0:
        return x
    if frm == "county":
        return x[{"row": frame.row_county, "school": frame.school_county, "cs": frame.cs_county}[to]]
    if frm == "school":
        return x[frame.row_school]
    if frm == "cs":
        return x[frame.row_cs]
    if frm == "row" and to == "school":
        return x[frame.school_first]
    raise AssertionError((frm, to))  # pragma: no cover - the compiler only makes the lifts above


def _apportion(frame: Frame, a: list, p: tuple) -> np.ndarray:
    """Share an amount reported on one row of a multi-stage school among its rows.

    A school whose amount is filled on exactly one of several rows gets
    ``total × w_stage × students_row / Σ(w × students)`` on each row (plus an
    extra weighted count, such as senior students, in the denominator only).
    Schools that fill every row keep their figures as given; a school with no
    figure at all stays missing.
    """
    return apportion_like(frame, a, p, a[0])


def apportion_like(frame: Frame, a: list, p: tuple, values) -> np.ndarray:
    """Apportion ``values`` the way ``a[0]`` is apportioned (which rows are filled decides).

    With ``values = a[0]`` this is the apportioning itself; the share is linear
    in the school's figure, so passing a per-row slope instead gives how each
    row's share moves with that figure (used to derive remedies).
    """
    x = np.asarray(a[0], dtype=np.float64)
    v = np.broadcast_to(np.asarray(values, dtype=np.float64), x.shape)
    students = np.broadcast_to(np.asarray(a[1], dtype=np.float64), x.shape)
    stage = a[2]
    weights, extra_w = p
    w = np.full(x.shape, np.nan)
    for code, wt in weights:
        w[stage == code] = wt
    codes, n = frame.row_school, frame.n_school
    has = ~np.isnan(x)
    n_has = np.bincount(codes, weights=has.astype(np.float64), minlength=n)
    n_rows = np.bincount(codes, minlength=n)
    once = (n_has == 1) & (n_rows > 1)
    total = np.bincount(codes, weights=np.where(has, v, 0.0), minlength=n)
    denom = np.bincount(codes, weights=np.nan_to_num(w * students), minlength=n)
    if len(a) > 3 and extra_w is not None:
        extra = np.asarray(a[3], dtype=np.float64)[frame.school_first]
        denom = denom + extra_w * np.nan_to_num(extra)
    with np.errstate(invalid="ignore", divide="ignore"):
        shared = total[codes] * w * students / denom[codes]
    return np.where(once[codes], shared, v)


def _stage_select(stage: np.ndarray, choices: list, keys: tuple[int, ...], status: bool) -> np.ndarray:
    n = len(stage)
    if status:
        out = np.full(n, k.NA, dtype=np.int8)
    else:
        out = np.full(n, np.nan)
    # a requirement without a stage applies where no stage-specific one does
    for key, c in sorted(zip(keys, choices), key=lambda kc: kc[0] != -1):
        mask = np.ones(n, dtype=bool) if key == -1 else stage == key
        out = np.where(mask, c, out)
    if status:
        # a row whose stage could not be read is not assessed, not "no requirement for its stage"
        out = np.where(np.asarray(stage) < 0, k.UNKNOWN, out)
    return out.astype(np.int8) if status else out


def _reduce(frame: Frame, p: tuple, a: list) -> np.ndarray:
    func, frm, to = p
    codes, n = frame.codes(frm, to), frame.size(to)
    x = a[0]
    if func == "sum":
        return k.group_sum(x, codes, n)
    if func == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return k.group_sum(x, codes, n) / k.group_count(codes, n)
    if func in ("min", "max"):
        return k.group_minmax(x, codes, n, func)
    if func == "count":
        s = np.asarray(x)
        return k.group_count(codes, n, (s == k.MET) | (s == k.TOLERATED))
    if func == "share":
        s = np.asarray(x)
        yes = k.group_count(codes, n, (s == k.MET) | (s == k.TOLERATED))
        judged = k.group_count(codes, n, (s == k.MET) | (s == k.TOLERATED) | (s == k.NOT_MET))
        unknown = k.group_count(codes, n, s == k.UNKNOWN)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = yes / judged
        out[unknown > 0] = np.nan
        return out
    if func in ("cv", "wmean"):
        w = np.broadcast_to(a[1], np.shape(x)) if len(a) > 1 else np.ones_like(x)
        cv, mean, _ = k.weighted_cv(x, w, codes, n)
        return cv if func == "cv" else mean
    raise AssertionError(func)  # pragma: no cover


def _at_least(statuses: list, ratios: list, need: int, tolerance: float | None) -> np.ndarray:
    """``at least k of [...] met, rest >= p%`` for every row at once."""
    st = np.vstack([np.broadcast_to(s, np.shape(statuses[0])) for s in statuses])
    ok = (st == k.MET) | (st == k.TOLERATED) | (st == k.EXEMPT) | (st == k.NA)
    unknown = st == k.UNKNOWN
    n_ok = ok.sum(axis=0)
    n_unknown = unknown.sum(axis=0)
    fail = n_ok + n_unknown < need
    if tolerance is not None:
        r = np.vstack([np.broadcast_to(np.asarray(x, dtype=np.float64), st.shape[1:]) for x in ratios])
        with np.errstate(invalid="ignore"):
            below = (st == k.NOT_MET) & (r < tolerance - k.tol(tolerance))
        fail |= below.any(axis=0)
        undecided = n_unknown > 0
    else:
        undecided = (n_unknown > 0) & (n_ok < need)
    return np.where(fail, k.NOT_MET, np.where(undecided, k.UNKNOWN, k.MET)).astype(np.int8)
