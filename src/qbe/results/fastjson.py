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

try:  # orjson writes a whole float column in C; the standard library is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def _js(values: list) -> np.ndarray:
    """JSON text of each value (str or None): one encoder call for the whole column.

    Splitting the encoded array on its separator is safe: inside an encoded
    string every quote is escaped, so '","' only occurs between elements.
    """
    if not values:
        return np.array([], dtype=object)
    if any(v is None for v in values):
        texts = [None if v is None else v for v in values]
        out = np.array(["null"] * len(values), dtype=object)
        idx = [i for i, v in enumerate(texts) if v is not None]
        if idx:
            out[idx] = _js([texts[i] for i in idx])
        return out
    if _orjson is not None:
        body = _orjson.dumps(values).decode()[2:-2]
        return np.array(['"' + x + '"' for x in body.split('","')], dtype=object)
    body = json.dumps(values, ensure_ascii=False)[2:-2]
    return np.array(['"' + x + '"' for x in body.split('", "')], dtype=object)


def _num(values) -> np.ndarray:
    """Floats (None or NaN for missing) as JSON numbers: one encoder call per column, split on commas."""
    if len(values) == 0:
        return np.array([], dtype=object)
    if isinstance(values, np.ndarray):
        values = values.astype(np.float64)
        if _orjson is not None:
            text = _orjson.dumps(values, option=_orjson.OPT_SERIALIZE_NUMPY).decode()
            return np.array(text[1:-1].split(","), dtype=object)
        values = [None if v != v else v for v in values.tolist()]
    if _orjson is not None:
        a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        text = _orjson.dumps(a, option=_orjson.OPT_SERIALIZE_NUMPY).decode()
        return np.array(text[1:-1].split(","), dtype=object)
    return np.array(json.dumps(values, allow_nan=False)[1:-1].split(", "), dtype=object)


def _status(codes: np.ndarray) -> np.ndarray:
    table = np.array([""] + [json.dumps(STATUS_KEY[i]) for i in range(1, 7)], dtype=object)
    return table[np.asarray(codes, dtype=np.int64)]


def _met(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw)
    return np.where(np.isin(raw, (4, 5, 6)), "null", np.where(raw == 1, "true", "false")).astype(object)


def school_checks_json(ev: Evaluation) -> list[str]:
    """One compact JSON object per school (its whole-school checks), in report order."""
    fr = ev.frame
    n = fr.n_school
    if n == 0:
        return []
    cols = fr.rows.columns
    first = fr.school_first
    from .assemble import TYPE_KEYS

    names = cols.get("school_name")
    stype = cols["school_type"][first].tolist() if "school_type" in cols else [-1] * n
    parts: list = ['{"county_code":', _js(cols["county_code"][first].tolist()), ',"school_code":',
                   _js(cols["school_code"][first].tolist()), ',"school_name":',
                   _js([x or None for x in names[first].tolist()] if names is not None else [None] * n),
                   ',"school_type":', _js([TYPE_KEYS[t] if 0 <= t < len(TYPE_KEYS) else None for t in stype]),
                   ',"checks":{']
    checks = [d for d in ev.model.decls.values() if d.kind == "check" and d.entity == "school"]
    for j, d in enumerate(checks):
        a = ev._check_arrays(d, "school")
        parts.append(("," if j else "") + f'"{d.name}":{{"value":')
        parts += _check_fragments(a, n)
    parts.append("}}")
    return _join_rows(parts, n)


def _check_fragments(a: dict, n: int) -> list:
    from .assemble import clean_array

    out: list = [_num(a["value"]), ',"required":', _num(a["required"]), ',"ratio":', _num(a["ratio"]), ',"status":']
    st = np.asarray(a["status"])
    out.append(_status(st))
    if a.get("reason") is not None:
        out.append(np.array(["" if r is None else ',"reason":' + json.dumps(r, ensure_ascii=False) for r in a["reason"]],
                            dtype=object))
    if a.get("grade") is not None:
        out.append(np.array([',"grade":' + json.dumps(g, ensure_ascii=False) for g in a["grade"]], dtype=object))
    extra = np.full(n, "}", dtype=object)
    key = {"max": "excess", "min": "shortfall"}.get(a["op"])
    if key is not None:
        v = np.asarray(a["value"], dtype=np.float64)
        q = np.asarray(a["required"], dtype=np.float64)
        diff = v - q if key == "excess" else q - v
        show = (st == 2) & ~np.isnan(v) & ~np.isnan(q)
        if show.any():
            dj = _num(clean_array(diff, n))
            extra = np.where(show, f',"{key}":' + dj + "}", extra)
    out.append(extra)
    return out


def _join_rows(parts: list, n: int) -> list[str]:
    """Merge neighbouring literals, then join each row's fragments once."""
    cols: list = []
    for p in parts:
        if isinstance(p, str) and cols and isinstance(cols[-1], str):
            cols[-1] += p
        else:
            cols.append(p)
    seqs = [repeat(c, n) if isinstance(c, str) else c.tolist() for c in cols]
    return ["".join(t) for t in zip(*seqs)]


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
        fin = np.asarray(ind["final"])
        tail = np.where(fin == 3, f',"tolerated_by":{tol}}}', "}").astype(object)
        if ind["reason"] is not None:
            has = np.array([r is not None for r in ind["reason"]])
            rj = np.array([',"reason":' + json.dumps(r, ensure_ascii=False) + "}" if r is not None else "" for r in ind["reason"]],
                          dtype=object)
            tail = np.where(has, rj, tail)
        parts.append(tail)
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
        parts.extend(_check_fragments(a, n))
    lit('},"errors":')
    errs = np.full(n, "[]", dtype=object)
    for i, lst in issues_by_row.items():
        errs[i] = json.dumps(lst, ensure_ascii=False, separators=(",", ":"))
    parts.append(errs)
    lit("}")
    return _join_rows(parts, n)
