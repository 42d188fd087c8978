"""The ``schools`` array of the JSON report, built column-wise.

At national scale (~220,000 rows) building one dict per row and encoding it
costs more than everything else in the run together. Here each field becomes
a column of JSON fragments (numbers via numpy's shortest round-trip repr,
strings escaped once per distinct value) and the columns are concatenated
with vectorised string addition. The output is byte-for-byte what
``json.dumps`` of :meth:`Evaluation.row` gives, in compact form; a test holds
the two paths equal.
"""

from __future__ import annotations

import json
from itertools import repeat

import numpy as np

from .assemble import STATUS_KEY, Evaluation


def _js(values: list) -> np.ndarray:
    """JSON text of each value (str, None, bool, float, int), escaping each distinct value once."""
    memo: dict = {}
    out = []
    for v in values:
        key = (type(v), v)
        t = memo.get(key)
        if t is None:
            t = memo[key] = json.dumps(v, ensure_ascii=False, allow_nan=False)
        out.append(t)
    return np.array(out, dtype=object)


def _num(values: list) -> np.ndarray:
    """Floats (None for missing) as JSON numbers, vectorised."""
    return np.array(["null" if v is None else repr(v) for v in values], dtype=object)


def _status(codes: np.ndarray) -> np.ndarray:
    table = np.array([""] + [json.dumps(STATUS_KEY[i]) for i in range(1, 7)], dtype=object)
    return table[np.asarray(codes, dtype=np.int64)]


def _met(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw)
    return np.where(np.isin(raw, (4, 5, 6)), "null", np.where(raw == 1, "true", "false")).astype(object)


def rows_json(ev: Evaluation, issues_by_row: dict[int, list[dict]] | None = None) -> list[str]:
    """One compact JSON object per input row, in input order."""
    rc = ev.row_columns()
    n = rc["n"]
    if n == 0:
        return []
    issues_by_row = issues_by_row or {}
    parts: list[np.ndarray | str] = []

    def lit(s: str) -> None:
        parts.append(s)

    lit('{"row":')
    parts.append(np.array([str(int(x)) for x in rc["row"]], dtype=object))
    for key in ("county_code", "school_code", "school_name", "school_type", "stage"):
        lit(f',"{key}":')
        parts.append(_js(rc[key]))
    lit(',"students":')
    parts.append(_num(rc["students"]))
    lit(',"indicators":{')
    for j, ind in enumerate(rc["indicators"]):
        lit(("," if j else "") + f'"{ind["name"]}":{{"value":')
        parts.append(_num(ind["value"]))
        lit(',"required":')
        parts.append(_num(ind["required"]))
        lit(',"ratio":')
        parts.append(_num(ind["ratio"]))
        lit(',"met":')
        parts.append(_met(ind["raw"]))
        lit(',"status":')
        parts.append(_status(ind["final"]))
        tol = json.dumps(ind["tolerated_by"], ensure_ascii=False)
        parts.append(np.where(np.asarray(ind["final"]) == 3, f',"tolerated_by":{tol}}}', "}").astype(object))
    lit('},"pass":')
    parts.append(_met(rc["rule_status"]))
    lit(',"status":')
    parts.append(_status(rc["rule_status"]))
    lit(',"rules":{')
    for j, (r, v) in enumerate(rc["rules"].items()):
        lit(("," if j else "") + f'"{r}":')
        parts.append(_status(v))
    lit('},"checks":{')
    for j, (d, a) in enumerate(rc["checks"]):
        lit(("," if j else "") + f'"{d.name}":{{"value":')
        parts.append(_num(a["value"]))
        lit(',"required":')
        parts.append(_num(a["required"]))
        lit(',"ratio":')
        parts.append(_num(a["ratio"]))
        lit(',"status":')
        st = np.asarray(a["status"])
        parts.append(_status(st))
        extra = np.full(n, "}", dtype=object)
        key = {"max": "excess", "min": "shortfall"}.get(a["op"])
        if key is not None:
            v = np.array([np.nan if x is None else x for x in a["value"]], dtype=np.float64)
            q = np.array([np.nan if x is None else x for x in a["required"]], dtype=np.float64)
            diff = v - q if key == "excess" else q - v
            # same rounding as the dict path (12 significant digits)
            from .assemble import clean

            dj = _num(clean(diff, n))
            show = (st == 2) & ~np.isnan(v) & ~np.isnan(q)
            extra = np.where(show, f',"{key}":' + dj + "}", extra)
        parts.append(extra)
    lit('},"errors":')
    errs = np.full(n, "[]", dtype=object)
    for i, lst in issues_by_row.items():
        errs[i] = json.dumps(lst, ensure_ascii=False, separators=(",", ":"))
    parts.append(errs)
    lit("}")
    # merge neighbouring literals, then join each row's fragments once
    cols: list = []
    for p in parts:
        if isinstance(p, str) and cols and isinstance(cols[-1], str):
            cols[-1] += p
        else:
            cols.append(p)
    seqs = [repeat(c, n) if isinstance(c, str) else c.tolist() for c in cols]
    return ["".join(t) for t in zip(*seqs)]
