"""The numpy operations a plan is made of.

Every function here works on whole columns at once; none loops over rows or
groups in Python. Three rules hold throughout:

* **Thresholds are exact.** Data and thresholds are decimals, but binary
  floating point can put 21/500×100 a hair below 4.2. Comparisons therefore
  allow a relative slack of 1e-9 (far below any difference a real figure can
  have), so a value exactly at a threshold meets it.
* **Missing is never a pass.** NaN (no data, bad data, division by zero) in a
  comparison gives NOT_ASSESSED, never MET or NOT_MET.
* **Status logic is three-valued.** ``and`` is NOT_MET if anything is, else
  NOT_ASSESSED if anything is, else MET; not-applicable and exempt parts are
  neutral. ``or`` is the mirror image.
"""

from __future__ import annotations

import numpy as np

from ..status import Status

REL_TOL = 1e-9

MET = np.int8(Status.MET)
NOT_MET = np.int8(Status.NOT_MET)
TOLERATED = np.int8(Status.TOLERATED)
EXEMPT = np.int8(Status.EXEMPT)
NA = np.int8(Status.NOT_APPLICABLE)
UNKNOWN = np.int8(Status.NOT_ASSESSED)

# rank tables indexed by status code (index 0 unused)
#                       -  MET NOT TOL EX  NA  UNK
_AND_RANK = np.array([0, 1, 3, 1, 0, 0, 2], dtype=np.int8)
_AND_BACK = np.array([NA, MET, UNKNOWN, NOT_MET], dtype=np.int8)
_OR_RANK = np.array([0, 3, 1, 3, 0, 0, 2], dtype=np.int8)
_OR_BACK = np.array([NA, NOT_MET, UNKNOWN, MET], dtype=np.int8)
_NOT = np.array([0, NOT_MET, MET, NOT_MET, EXEMPT, NA, UNKNOWN], dtype=np.int8)


def tol(b: np.ndarray | float) -> np.ndarray | float:
    return REL_TOL * np.maximum(np.abs(b), 1.0)


def compare(op: str, a, b) -> np.ndarray:
    """Status of ``a op b`` with the exact-threshold slack; NaN on either side → NOT_ASSESSED."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        t = tol(b)
        if op == ">=":
            ok = a >= b - t
        elif op == "<=":
            ok = a <= b + t
        elif op == ">":
            ok = a > b + t
        elif op == "<":
            ok = a < b - t
        elif op == "==":
            ok = np.abs(a - b) <= t
        elif op == "!=":
            ok = np.abs(a - b) > t
        else:  # pragma: no cover - the checker admits no other operator
            raise ValueError(op)
    out = np.where(ok, MET, NOT_MET).astype(np.int8)
    return np.where(np.isnan(a) | np.isnan(b), UNKNOWN, out).astype(np.int8)


def from_bool(x) -> np.ndarray:
    """A yes/no column (1.0 / 0.0 / NaN) as statuses."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isnan(x), UNKNOWN, np.where(x != 0, MET, NOT_MET)).astype(np.int8)


def to_bool(s) -> np.ndarray:
    """Statuses as a yes/no column, for ``if`` tests: MET/TOLERATED → 1, NOT_MET → 0, else NaN."""
    s = np.asarray(s)
    ok = (s == MET) | (s == TOLERATED)
    return np.where(ok, 1.0, np.where(s == NOT_MET, 0.0, np.nan))


def and_(*xs) -> np.ndarray:
    r = _AND_RANK[np.asarray(xs[0])]
    for x in xs[1:]:
        r = np.maximum(r, _AND_RANK[np.asarray(x)])
    return _AND_BACK[r]


def or_(*xs) -> np.ndarray:
    r = _OR_RANK[np.asarray(xs[0])]
    for x in xs[1:]:
        r = np.maximum(r, _OR_RANK[np.asarray(x)])
    return _OR_BACK[r]


def not_(x) -> np.ndarray:
    return _NOT[np.asarray(x)]


def applies(mask_status, s) -> np.ndarray:
    """Out of scope where the scope condition is not met; unknown scope stays unknown."""
    m = np.asarray(mask_status)
    s = np.broadcast_to(np.asarray(s), np.broadcast(m, s).shape)
    return np.where(m == NOT_MET, NA, np.where(m == UNKNOWN, UNKNOWN, s)).astype(np.int8)


# ---------------------------------------------------------------- group reductions


def _fill(codes: np.ndarray, n: int, x: np.ndarray) -> np.ndarray:
    return np.bincount(codes, weights=x, minlength=n)


def group_sum(x: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Sum per group; a group containing a NaN sums to NaN (missing data is not zero)."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    s = _fill(codes, n, np.where(nan, 0.0, x))
    if nan.any():
        s[_fill(codes, n, nan.astype(np.float64)) > 0] = np.nan
    return s


def group_count(codes: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    w = None if mask is None else mask.astype(np.float64)
    return np.bincount(codes, weights=w, minlength=n).astype(np.float64)


def group_minmax(x: np.ndarray, codes: np.ndarray, n: int, fn: str) -> np.ndarray:
    """Min or max per group; NaN if any member is NaN; NaN for an empty group."""
    x = np.asarray(x, dtype=np.float64)
    init = np.inf if fn == "min" else -np.inf
    out = np.full(n, init)
    ufunc = np.minimum if fn == "min" else np.maximum
    ufunc.at(out, codes, np.where(np.isnan(x), init, x))
    nan = np.isnan(x)
    if nan.any():
        out[_fill(codes, n, nan.astype(np.float64)) > 0] = np.nan
    out[np.isinf(out)] = np.nan
    return out


def group_status(s: np.ndarray, codes: np.ndarray, n: int, quantifier: str) -> np.ndarray:
    """all / any / none of the members' statuses, per group; an empty group is not applicable."""
    s = np.asarray(s)
    table, back = (_AND_RANK, _AND_BACK) if quantifier == "all" else (_OR_RANK, _OR_BACK)
    r = table[s]
    out = np.zeros(n, dtype=np.int8)
    for level in (1, 2, 3):
        hit = _fill(codes, n, (r == level).astype(np.float64)) > 0
        out[hit] = level
    res = back[out]
    return _NOT[res] if quantifier == "none" else res


def weighted_cv(x: np.ndarray, w: np.ndarray, codes: np.ndarray, n: int, member: np.ndarray | None = None):
    """Student-weighted coefficient of variation per group.

    With ``X_i`` the per-student value and ``P_i`` the weight (students):
    mean ``X̄ = Σ P_i X_i / Σ P_i``, ``S = sqrt(Σ P_i (X_i − X̄)² / Σ P_i)``,
    ``CV = S / X̄``. A group whose mean is 0 has no CV (NaN → not assessed);
    a group of one school has CV 0. Rows outside ``member`` do not count; a
    member with a missing value or weight makes the group's CV NaN.
    Returns (cv, mean, members).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if member is None:
        member = np.ones(len(x), dtype=bool)
    bad = member & (np.isnan(x) | np.isnan(w))
    m = member & ~bad
    wx = np.where(m, w * np.where(m, x, 0.0), 0.0)
    sw = _fill(codes, n, np.where(m, w, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = _fill(codes, n, wx) / sw
        dev = np.where(m, x - mean[codes], 0.0)
        var = _fill(codes, n, np.where(m, w * dev * dev, 0.0)) / sw
        cv = np.sqrt(var) / mean
    count = _fill(codes, n, member.astype(np.float64))
    cv = np.where(np.abs(mean) <= 0.0, np.nan, cv)
    cv = np.where(count == 1, np.where(np.isnan(mean) | (mean == 0), np.nan, 0.0), cv)
    if bad.any():
        spoiled = _fill(codes, n, bad.astype(np.float64)) > 0
        cv[spoiled] = np.nan
        mean[spoiled] = np.nan
    cv[count == 0] = np.nan
    return cv, mean, count
