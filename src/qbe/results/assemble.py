"""Arrays from the plan → the report's shape.

:class:`Evaluation` keeps the raw arrays (writers that want speed read them
directly); :meth:`Evaluation.to_dict` builds the JSON report defined in
:mod:`.schema`. Every input row appears in ``schools``: evaluated, or marked
with the data errors that kept it from being assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..compiler.frame import Frame
from ..compiler.plan import DeclOut, Plan
from ..data.cells import gc_paused
from ..data.schema import SCHOOL_TYPES, STAGES, FieldType
from ..data.table import DataIssue
from ..language import ast
from ..semantics.checker import iter_names
from ..status import Status
from .schema_version import SCHEMA_VERSION

STATUS_KEY = {int(s): s.key for s in Status}
STAGE_KEYS = [s.code for s in STAGES]
TYPE_KEYS = [t.code for t in SCHOOL_TYPES]
_INF = float("inf")


def _f(x: Any) -> float | None:
    """A float for JSON: NaN and infinities become null; tiny float noise is rounded off."""
    if x is None:
        return None
    v = float(x)
    if v != v or v == _INF or v == -_INF:
        return None
    return float(f"{v:.12g}")


def f_list(x: Any) -> list[float | None]:
    """:func:`_f` of every element, exactly, as a list (None for NaN): :func:`round_exact` as a list."""
    r = round_exact(x)
    out = r.tolist()
    for i in np.flatnonzero(np.isnan(r)).tolist():
        out[i] = None
    return out


def round_exact(x: Any) -> np.ndarray:
    """:func:`_f` of every element, exactly, as a float array (NaN where ``_f`` gives None): one
    :func:`clean_array` for the column, and ``_f`` itself only where the two could differ.

    ``clean_array`` scales by a power of ten and rounds the product; ``_f``
    rounds the exact binary value to 12 digits. They differ only when the
    scaled figure lies within the product's rounding error of a tie in the 13th
    digit (about one figure in 30,000) or when the scale is past 10^22; those
    go through ``_f``. At national scale this replaces ~10^5 string round trips.
    """
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    r, scaled, ok = _round12(a)
    with np.errstate(invalid="ignore"):
        scaled = np.abs(scaled)
        near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3
    for i in np.flatnonzero(np.isfinite(a) & (a != 0) & (~ok | near_tie)).tolist():
        r[i] = _f(a[i])
    return r


def clean_array(x: np.ndarray | None, n: int) -> np.ndarray:
    """A float column rounded to 12 significant digits, all at once (NaN stays NaN).

    Rounding removes binary noise (4.199999999999999 → 4.2): the value is
    scaled to an integer and divided by an exact power of ten, and IEEE
    division rounds that to the double nearest the decimal. Zero, NaN and
    values whose scale would need a power of ten beyond 10^22 (not exact in
    binary) are left as they are; infinities become NaN. The powers come
    from a table rather than ``10.0 ** k`` per element: at national scale
    this runs over millions of figures.
    """
    if x is None:
        return np.full(n, np.nan)
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    return _round12(a)[0]


def _round12(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`clean_array`'s work: ``(rounded, scaled, ok)``. ``scaled`` is each figure times the
    power of ten that makes it a 12-digit whole number, before rounding (what :func:`f_list` looks
    at for ties); ``ok`` says which figures were rounded at all."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.abs(a)
        k = 11 - _decimal_exponent(mag)
        ok = (np.abs(k) <= 22) & (mag > 0) & np.isfinite(mag)
        k[~ok] = 0
        scale = _POW10[np.abs(k)]
        scaled = a * scale
        big = np.flatnonzero(k < 0)  # 10^11 and more (rare): scaled down, not up
        if big.size:
            scaled[big] = a[big] / scale[big]
        r = np.rint(scaled)
        r /= scale
        if big.size:
            r[big] = np.rint(scaled[big]) * scale[big]
        ok &= np.isfinite(r)
        r = np.where(ok, r, a)
    r[np.isinf(r)] = np.nan
    return r, scaled, ok


#: Exact powers of ten (every one up to 10^22 is a double).
_POW10 = 10.0 ** np.arange(23)

#: The doubles nearest 10^k for k = -330 … 309, indexed by k + 330 (read from decimal text: nearest).
_DECADES = np.array([float(f"1e{k}") for k in range(-330, 310)])
_LOG10_2 = 0.30102999566398120


def _decimal_exponent(mag: np.ndarray) -> np.ndarray:
    """``floor(log10(mag))`` for positive finite doubles, without a logarithm per element.

    ``frexp`` gives the binary exponent (mag in [2^(e-1), 2^e)), which pins the
    decimal exponent to one of two neighbours; one comparison with the power of
    ten between them settles it. (Anything for 0, NaN and infinities: callers
    mask those.) Five times cheaper than ``np.log10`` at national scale.
    """
    _, e = np.frexp(mag)
    d = np.floor((e.astype(np.float64) - 1.0) * _LOG10_2).astype(np.int64)
    up = np.clip(d + 1 + 330, 0, _DECADES.size - 1)
    d += mag >= _DECADES[up]
    return d


def clean(x: np.ndarray | None, n: int) -> list:
    """:func:`clean_array` as a list for JSON, NaN → None."""
    return [None if v != v else v for v in clean_array(x, n).tolist()]


def _nn(v) -> float | None:
    v = float(v)
    return None if v != v else v


def _floats(a: Any) -> list:
    """:func:`_nn` of every element, with one ``tolist`` instead of a numpy scalar per element."""
    a = np.asarray(a, dtype=np.float64)
    missing = np.isnan(a)
    if not missing.any():
        return a.tolist()
    out = a.astype(object)
    out[missing] = None
    return out.tolist()


def _pick(values: Any, idx: list[int]) -> list:
    """``values[i]`` for each ``i`` of ``idx`` (a list or an object array alike), as a list."""
    return [values[i] for i in idx]


@dataclass
class Evaluation:
    plan: Plan
    frame: Frame
    values: list
    issues: list[DataIssue] = field(default_factory=list)
    qbe_version: str = ""
    files: list[str] = field(default_factory=list)
    exemptions: list[dict] = field(default_factory=list)  #: approved exemptions applied

    @property
    def model(self):
        return self.plan.model

    # ------------------------------------------------------------------ raw accessors
    def arr(self, node: int | None, level: str) -> np.ndarray | None:
        if node is None:
            return None
        v = self.values[node]
        if np.ndim(v) == 0:
            return np.full(self.frame.size(level), v)
        return v

    def decl(self, name: str) -> DeclOut:
        return self.plan.decls[name]

    def status(self, name: str) -> np.ndarray:
        d = self.decl(name)
        return self.arr(d.final, d.level)

    def reasons(self, name: str, level: str) -> np.ndarray | None:
        """Per entity, why the item is exempt or tolerated (None where it is not, or no reason is known)."""
        o = self.decl(name)
        size = self.frame.size(level)
        final = self.arr(o.final, level)
        out = None
        for kind, cond, reason in o.reasons:
            c = self.arr(cond, level)
            want = 4 if kind == "exempt" else 3
            hit = (c == 1) & (final == want)
            if hit.any():
                if out is None:
                    out = np.full(size, None, dtype=object)
                out[hit & (out == None)] = reason  # noqa: E711
        mask = self.frame.approved.get(name)
        if mask is not None:
            docs = [f"{e['reason']}（{e['document']}）" for e in self.exemptions if e["item"] == name]
            hit = mask & (final == 4)
            if hit.any():
                if out is None:
                    out = np.full(size, None, dtype=object)
                out[hit & (out == None)] = "；".join(docs)  # noqa: E711
        return out

    def grade_labels(self, name: str, level: str) -> list | None:
        """Per entity, the grade label (合格 / 基本合格 …), or None where ungraded."""
        o = self.decl(name)
        if o.grade is None:
            return None
        g = self.arr(o.grade, level)
        labels = o.grade_labels
        return [labels[i] if 0 <= i < len(labels) else None for i in g.tolist()]

    def resource_rule(self) -> str | None:
        """The row rule that uses 'rest >= p%': the school-stage pass rule shown as ``pass``."""
        rules = [d for d in self.model.decls.values() if d.kind == "rule"]
        for r in rules:
            if r.name in {x for xs in self.plan.decls.values() for x in xs.tolerated_by}:
                return r.name
        return rules[0].name if rules else None

    def county_verdict(self) -> str | None:
        vs = [d.name for d in self.model.decls.values() if d.kind == "verdict"]
        return vs[-1] if vs else None

    # ------------------------------------------------------------------ report
    def to_dict(self, include_rows: bool = True, counties: bool = True) -> dict:
        """The JSON report as a dict (see :mod:`.schema`).

        ``include_rows=False`` leaves ``schools`` and ``school_checks`` empty,
        ``counties=False`` leaves ``counties`` empty: the JSON writer lays those
        out from the columns (:mod:`.fastjson`, :mod:`.county_json`), and they
        are nearly all of a national report.

        Built with the cyclic garbage collector paused: at national scale the report is
        millions of small dicts and strings that form no cycles, and the collector's
        repeated passes over them grew faster than the report (ten years of data took
        twice as long per row as one).
        """
        with gc_paused():
            return self._report(include_rows, counties)

    def report_head(self) -> dict:
        """The report's members before its ``schools`` array: the schema, the standard and the summary.

        Known as soon as the evaluation is: the JSON writer of a large report hands them to the
        process that writes the arrays (:mod:`.json_arrays`) before the counties are assembled.
        """
        m, fr = self.model, self.frame
        std = m.standard
        return {
            "schema_version": SCHEMA_VERSION,
            "produced": {"qbe_version": self.qbe_version, "schema_version": SCHEMA_VERSION},
            "standard": {
                "id": std.id,
                "version": std.version,
                "title": std.title,
                "source": std.source,
                "effective": std.effective,
                "ruleset_hash": m.ruleset_hash(),
                "files": [f.rsplit("/", 1)[-1] for f in sorted(m.sources)],
                "stages": {st.name: st.label for st in m.stages},
                "year": self.plan.year,
                "parts": dict(m.parts),
                "items": {
                    d.name: {
                        "kind": d.kind,
                        "label": d.label,
                        "level": self.plan.decls[d.name].level,
                        "unit": d.unit,
                        "part": d.part.name if d.part else None,
                        "source": (d.source + (f" [{d.source_tag}]" if d.source_tag else "")) if d.source else None,
                    }
                    for d in m.decls.values()
                },
            },
            "summary": {
                "rows": fr.n,
                "rows_with_errors": int(fr.bad_rows.sum()) if fr.n else 0,
                "counties": fr.n_county,
                "verdicts": self._verdict_counts(),
            },
        }

    def _verdict_counts(self) -> dict[str, int]:
        """How many counties have each overall verdict, in the order the verdicts first occur."""
        main = self.county_verdict()
        keys = [STATUS_KEY[s] for s in self.status(main).tolist()] if main else ["not_assessed"] * self.frame.n_county
        counts: dict[str, int] = {}
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
        return counts

    def _report(self, include_rows: bool, with_counties: bool = True) -> dict:
        errors, warnings, issues_by_row = self.issue_index()
        self.issues_by_row = issues_by_row
        # Without the rows, the per-school objects are left out too: findings are worded from the
        # columns, and the JSON writer lays both arrays out from the columns (fastjson).
        schools = self._rows(issues_by_row) if include_rows else []
        school_checks = self._schools() if include_rows else []
        # the notable rows' objects are made when a writer asks for them (notable_by_county)
        self._rows_by_county: dict[str, list[dict]] | None = None
        counties = self.county_dicts() if with_counties else []
        return {
            **self.report_head(),
            "schools": schools,
            "school_checks": school_checks,
            "counties": counties,
            "errors": errors,
            "warnings": warnings,
            "exemptions": self.exemptions,
        }

    def issue_index(self) -> tuple[list[dict], list[dict], dict[int, list[dict]]]:
        """The data issues as report dicts: errors, warnings, and those naming an input row by its index.

        Made once: the JSON report's row array may be laid out (by a second
        process) before the rest of the report is assembled.
        """
        memo = self.__dict__.get("_issue_index")
        if memo is not None:
            return memo
        fr = self.frame
        issues_by_row: dict[int, list[dict]] = {}
        row_index: dict[int, int] | None = None  # input row number → index, made only if an issue names a row
        errors, warnings = [], []
        for iss in self.issues:
            d = _issue(iss)
            (errors if iss.severity == "error" else warnings).append(d)
            if iss.row is not None and iss.source == fr.rows.source and fr.n:
                if row_index is None:
                    row_index = {r: i for i, r in enumerate(fr.rows.row_numbers.tolist())}
                if iss.row in row_index:
                    issues_by_row.setdefault(row_index[iss.row], []).append(d)
        memo = (errors, warnings, issues_by_row)
        self.__dict__["_issue_index"] = memo
        return memo

    def row_columns(self) -> dict[str, Any]:
        """Every per-row output as plain lists (computed once, shared by all writers)."""
        rc = self.row_columns_base()
        for ind, d in zip(rc["indicators"], self.model.indicators()):
            if "remedy" not in ind:  # the first time asked: added last, after the base columns
                ind["remedy"] = self._remedy(d)
        return rc

    def row_columns_base(self) -> dict[str, Any]:
        """:meth:`row_columns` without each indicator's ``remedy`` until that is asked for: what the
        findings read. Why apart: a JSON report's findings and its row array are made by two
        processes (:mod:`.json_arrays`), and only the row array shows the remedies."""
        if getattr(self, "_row_cols", None) is not None:
            return self._row_cols
        m, fr = self.model, self.frame
        n = fr.n
        cols = fr.rows.columns
        inds = []
        for d in m.indicators():
            o = self.decl(d.name)
            inds.append(
                {
                    "name": d.name,
                    "value": clean_array(self.arr(o.value, "row"), n),
                    "required": self._clean_choice(o.required, "row"),
                    "ratio": clean_array(self.arr(o.ratio, "row"), n),
                    "raw": self.arr(o.judged if o.judged is not None else o.status, "row"),
                    "final": self.arr(o.final, "row"),
                    "tolerated_by": o.tolerated_by[0] if o.tolerated_by else None,
                    "reason": self.reasons(d.name, "row"),
                }
            )
        rule = self.resource_rule()
        rules = [d.name for d in m.decls.values() if d.kind == "rule"]
        row_checks = [d for d in m.decls.values() if d.kind == "check" and d.entity == "row"]
        stype = cols["school_type"] if "school_type" in cols else np.full(n, -1)
        names = cols.get("school_name")
        self._row_cols = {
            "n": n,
            "indicators": inds,
            "rule": rule,
            "rule_status": self.status(rule) if rule else np.full(n, 5, dtype=np.int8),
            "rules": {r: self.status(r) for r in rules},
            "checks": [(d, self._check_arrays(d, "row")) for d in row_checks],
            "row": fr.rows.row_numbers.tolist(),
            "county_code": cols["county_code"].tolist(),
            "school_code": cols["school_code"].tolist(),
            "school_name": [x or None for x in names.tolist()] if names is not None else [None] * n,
            "school_type": keys_of(stype, TYPE_KEYS),
            "stage": keys_of(fr.stage, STAGE_KEYS),
            "students": clean_array(cols.get("students"), n),
        }
        return self._row_cols

    def _clean_choice(self, node: int | None, level: str) -> np.ndarray:
        """:func:`clean_array` of a node's values. A requirement chosen by stage among constants
        (the usual one) is rounded once per constant and put in place, not rounded row by row."""
        size = self.frame.size(level)
        pn = self.plan.nodes[node] if node is not None else None
        if pn is not None and pn.op == "stage_select" and np.ndim(self.values[node]) == 1:
            choices = [self.values[a] for a in pn.args[1:]]
            if all(np.ndim(c) == 0 for c in choices):
                # every row holds one of the constants, or NaN where no requirement applies
                bits = np.asarray(self.values[node], dtype=np.float64).view(np.int64)
                consts = np.array(choices, dtype=np.float64)
                out = np.full(size, np.nan)
                for c, r in zip(consts.view(np.int64).tolist(), clean_array(consts, consts.size).tolist()):
                    out[bits == c] = r  # bit for bit: -0.0 is not 0.0
                return out
        return clean_array(self.arr(node, level), size)

    def row(self, i: int, errors: list[dict] | None = None) -> dict:
        """The report object of input row ``i``."""
        rc = self.row_columns()
        indicators = {}
        for ind in rc["indicators"]:
            s = int(ind["final"][i])
            raw = int(ind["raw"][i])
            res = {
                "value": _nn(ind["value"][i]),
                "required": _nn(ind["required"][i]),
                "ratio": _nn(ind["ratio"][i]),
                "met": None if raw in (6, 5, 4) else raw == 1,
                "status": STATUS_KEY[s],
            }
            if s == 3 and not (ind["reason"] is not None and ind["reason"][i] is not None):
                res["tolerated_by"] = ind["tolerated_by"]
            if ind["reason"] is not None and ind["reason"][i] is not None:
                res["reason"] = ind["reason"][i]
            if s == 2 and ind["remedy"] is not None:
                amount = _nn(ind["remedy"]["amount"][i])
                # no amount on this row: not derivable here, so no input is named either
                res["remedy"] = {"input": ind["remedy"]["input"] if amount is not None else None, "amount": amount}
            indicators[ind["name"]] = res
        rs = int(rc["rule_status"][i])
        return {
            "row": int(rc["row"][i]),
            "county_code": rc["county_code"][i],
            "school_code": rc["school_code"][i],
            "school_name": rc["school_name"][i],
            "school_type": rc["school_type"][i],
            "stage": rc["stage"][i],
            "students": _nn(rc["students"][i]),
            "indicators": indicators,
            "pass": None if rs in (6, 5, 4) else rs == 1,
            "status": STATUS_KEY[rs],
            "rules": {r: STATUS_KEY[int(v[i])] for r, v in rc["rules"].items()},
            "checks": {d.name: _check_at(d, a, i) for d, a in rc["checks"]},
            "errors": errors or [],
        }

    def rows_at(self, idx: Any, issues_by_row: dict[int, list[dict]] | None = None) -> list[dict]:
        """:meth:`row` of each input row in ``idx``, in that order, built a column at a time.

        Same objects as ``[self.row(i, issues_by_row.get(i)) for i in idx]``: every column is
        taken for the chosen rows with one gather and one ``tolist``, so no numpy scalar is
        touched per row (that was most of the cost at tens of thousands of rows).
        """
        rc = self.row_columns()
        ix = np.asarray(idx, dtype=np.intp).reshape(-1)
        il = ix.tolist()
        inds = []
        for ind in rc["indicators"]:
            rem = ind.get("remedy")
            reason = ind["reason"]
            inds.append(
                (
                    ind["name"],
                    np.asarray(ind["final"])[ix].astype(np.int64).tolist(),
                    np.asarray(ind["raw"])[ix].astype(np.int64).tolist(),
                    _floats(np.asarray(ind["value"])[ix]),
                    _floats(np.asarray(ind["required"])[ix]),
                    _floats(np.asarray(ind["ratio"])[ix]),
                    ind["tolerated_by"],
                    _pick(reason, il) if reason is not None else None,
                    rem["input"] if rem is not None else None,
                    _floats(np.asarray(rem["amount"])[ix]) if rem is not None else None,
                )
            )
        rule_status = np.asarray(rc["rule_status"])[ix].astype(np.int64).tolist()
        rules = [(r, np.asarray(v)[ix].astype(np.int64).tolist()) for r, v in rc["rules"].items()]
        checks = [(d.name, self._checks_at(d, a, il)) for d, a in rc["checks"]]
        rownum, county = _pick(rc["row"], il), _pick(rc["county_code"], il)
        school, name = _pick(rc["school_code"], il), _pick(rc["school_name"], il)
        stype, stage = _pick(rc["school_type"], il), _pick(rc["stage"], il)
        students = _floats(np.asarray(rc["students"])[ix])
        by_row = issues_by_row or {}
        out = []
        for j, i in enumerate(il):
            indicators = {}
            for key, fin, raw, value, req, ratio, tol, why, rin, amount in inds:
                s, r = fin[j], raw[j]
                res = {
                    "value": value[j],
                    "required": req[j],
                    "ratio": ratio[j],
                    "met": None if r in (6, 5, 4) else r == 1,
                    "status": STATUS_KEY[s],
                }
                w = why[j] if why is not None else None
                if s == 3 and w is None:
                    res["tolerated_by"] = tol
                if w is not None:
                    res["reason"] = w
                if s == 2 and amount is not None:
                    a = amount[j]
                    res["remedy"] = {"input": rin if a is not None else None, "amount": a}
                indicators[key] = res
            rs = rule_status[j]
            out.append(
                {
                    "row": int(rownum[j]),
                    "county_code": county[j],
                    "school_code": school[j],
                    "school_name": name[j],
                    "school_type": stype[j],
                    "stage": stage[j],
                    "students": students[j],
                    "indicators": indicators,
                    "pass": None if rs in (6, 5, 4) else rs == 1,
                    "status": STATUS_KEY[rs],
                    "rules": {r: STATUS_KEY[v[j]] for r, v in rules},
                    "checks": {k: v[j] for k, v in checks},
                    "errors": by_row.get(i) or [],
                }
            )
        return out

    def _remedy(self, d: ast.Decl) -> dict | None:
        """What would meet indicator ``d`` on each row where it is not met (None: no such row).

        ``amount`` is rounded like every other figure of the report (12
        significant digits), far inside the comparison's slack, so the
        rounded amount still meets the requirement.
        """
        from .remedy import indicator_remedy

        o = self.decl(d.name)
        r = indicator_remedy(self, d, self.arr(o.final, "row"))
        if r is None:
            return None
        amount = np.full(self.frame.n, np.nan)
        at = np.flatnonzero(np.isfinite(r.amount))  # the unmet rows with an amount: a few per cent
        amount[at] = clean_array(r.amount[at], at.size)
        return {"input": r.input, "amount": amount}

    def _balance_remedy(self, d: ast.Decl, nodes: tuple) -> dict[int, dict]:
        """For each county × stage group whose CV is over its limit: contributors and raise-to-mean figures.

        Made once per indicator: the counties' dicts and their JSON layout both show them."""
        memo = self.__dict__.setdefault("_balance_remedies", {})
        if (d.name, nodes) not in memo:
            memo[(d.name, nodes)] = self._make_balance_remedy(d, nodes)
        return memo[(d.name, nodes)]

    def _make_balance_remedy(self, d: ast.Decl, nodes: tuple) -> dict[int, dict]:
        from .remedy import TOP_CONTRIBUTORS, balance_ops, balance_remedy_of

        fr = self.frame
        cv_n, mean_n, lim_n, st_n, _ = nodes
        st = np.asarray(self.arr(st_n, "cs"))
        bad = np.nonzero(st == int(Status.NOT_MET))[0]
        if not bad.size or lim_n is None:
            return {}
        x_n, w_n, m_n = self.plan.nodes[cv_n].args
        x = np.broadcast_to(np.asarray(self.values[x_n], dtype=np.float64), (fr.n,))
        w = np.broadcast_to(np.asarray(self.values[w_n], dtype=np.float64), (fr.n,))
        member = np.broadcast_to(np.asarray(self.values[m_n], dtype=bool), (fr.n,))
        mean = np.asarray(self.arr(mean_n, "cs"), dtype=np.float64)
        limit = np.asarray(self.arr(lim_n, "cs"), dtype=np.float64)
        wanted = np.zeros(fr.n_cs, dtype=bool)
        wanted[bad] = True
        br = balance_remedy_of(x, w, member, fr.row_cs, mean, limit, balance_ops(d, fr.cs_stage), wanted)
        rc = self.row_columns_base()
        out: dict[int, dict] = {}
        in_bad = wanted[fr.row_cs] & np.isfinite(br.share)
        rows = np.nonzero(in_bad)[0]
        order = rows[np.lexsort((-br.share[rows], fr.row_cs[rows]))]
        by_group: dict[int, list[int]] = {}
        for i in order.tolist():
            lst = by_group.setdefault(int(fr.row_cs[i]), [])
            if len(lst) < TOP_CONTRIBUTORS:
                lst.append(i)
        for g in bad.tolist():
            k = int(br.raise_lowest[g])
            out[g] = {
                "contributors": [
                    {"school_code": rc["school_code"][i], "school_name": rc["school_name"][i],
                     "value": _f(x[i]), "share": _f(br.share[i])}
                    for i in by_group.get(g, [])
                ],
                "below_mean": int(br.below[g]),
                "cv_if_raised": _f(br.cv_if_raised[g]),
                "raise_lowest": k if k > 0 else None,
                "cv_after": _f(br.cv_after[g]) if k > 0 else None,
            }
        return out

    def notable_rows(self) -> np.ndarray:
        """Indices of rows with anything short of met: the rows findings talk about."""
        rc = self.row_columns_base()
        n = rc["n"]
        mask = np.zeros(n, dtype=bool)
        for ind in rc["indicators"]:
            mask |= ~np.isin(ind["final"], (1, 5))
        mask |= ~np.isin(rc["rule_status"], (1, 5))
        for _, a in rc["checks"]:
            mask |= a["codes"] == 2
        mask |= self.frame.bad_rows
        return np.nonzero(mask)[0]

    def notable_by_county(self, county_code: str) -> list[dict]:
        """Report objects of the county's rows that have a shortfall (after :meth:`to_dict`).

        Made for every county on the first call, in one pass over the columns.
        """
        by_county = getattr(self, "_rows_by_county", None)
        if by_county is None:
            by_county = {}
            with gc_paused():  # tens of thousands of row dicts, no cycles (see to_dict)
                for r in self.rows_at(self.notable_rows(), getattr(self, "issues_by_row", None)):
                    by_county.setdefault(r["county_code"], []).append(r)
            self._rows_by_county = by_county
        return by_county.get(county_code, [])

    def _rows(self, issues_by_row: dict[int, list[dict]]) -> list[dict]:
        return self.rows_at(np.arange(self.frame.n), issues_by_row)

    def _checks_at(self, d: ast.Decl, a: dict[str, Any], idx: list[int], full: bool = False) -> list[dict]:
        """:func:`_check_at` of each entity in ``idx``, with the columns gathered once."""
        ix = np.asarray(idx, dtype=np.intp)
        status = _pick(a["status"], idx)
        value = _floats(np.asarray(a["value"])[ix])
        req = _floats(np.asarray(a["required"])[ix])
        ratio = _floats(np.asarray(a["ratio"])[ix])
        reason = _pick(a["reason"], idx) if a.get("reason") is not None else None
        grade = _pick(a["grade"], idx) if a.get("grade") is not None else None
        op = a["op"]
        extra: dict[str, Any] = _described(d) if full else {}
        keys = STATUS_KEY
        out = [{"value": v, "required": q, "ratio": r, "status": keys[s]} for v, q, r, s in zip(value, req, ratio, status)]
        # the few entities with more to say, in key order: reason, grade, excess or shortfall
        if grade is not None:
            more: Any = range(len(out))
        else:
            chosen = {j for j, w in enumerate(reason) if w is not None} if reason is not None else set()
            if op in ("max", "min"):
                chosen.update(j for j, s in enumerate(status) if s == 2)
            more = sorted(chosen)
        for j in more:
            o, s, v, q = out[j], status[j], value[j], req[j]
            if reason is not None and reason[j] is not None:
                o["reason"] = reason[j]
            if grade is not None:
                o["grade"] = grade[j]
            if s == 2 and v is not None and q is not None:
                if op == "max":
                    o["excess"] = _f(v - q)
                elif op == "min":
                    o["shortfall"] = _f(q - v)
        if extra:
            for o in out:
                o.update(extra)
        return out

    def _check_arrays(self, d: ast.Decl, level: str) -> dict[str, list]:
        """A judged declaration's outputs at one level as cleaned columns, built once and shared
        by the report, the column-wise JSON and the writers (aggregates ask once per county)."""
        memo = self.__dict__.setdefault("_check_memo", {})
        key = (d.name, level)
        if key not in memo:
            memo[key] = self._build_check_arrays(d, level)
        return memo[key]

    def _build_check_arrays(self, d: ast.Decl, level: str) -> dict[str, list]:
        o = self.decl(d.name)
        size = self.frame.size(level)
        value = self.arr(o.value, level)
        req = self.arr(o.required, level)
        ratio = self.arr(o.ratio, level)
        final = np.asarray(self.arr(o.final, level))
        return {
            "value": clean_array(value, size) if value is not None and value.dtype != np.int8 else np.full(size, np.nan),
            "required": clean_array(req, size),
            "ratio": clean_array(ratio, size),
            "status": final.tolist(),
            "codes": final,  # the same statuses as an array, for column-wise work
            "op": _max_or_min(d),
            "reason": self.reasons(d.name, level),
            "grade": self.grade_labels(d.name, level),
        }

    def _schools(self) -> list[dict]:
        """Per-school check results (the report's ``school_checks``), one dict per school."""
        m, fr = self.model, self.frame
        checks = [d for d in m.decls.values() if d.kind == "check" and d.entity == "school"]
        data = [(d, self._check_arrays(d, "school")) for d in checks]
        n = fr.n_school
        cols = fr.rows.columns
        first = np.asarray(fr.school_first)
        county = cols["county_code"][first].tolist()
        school = cols["school_code"][first].tolist()
        names = cols["school_name"][first].tolist() if "school_name" in cols else [None] * n
        stype = keys_of(cols["school_type"][first] if "school_type" in cols else np.full(n, -1), TYPE_KEYS)
        results = [(d.name, self._checks_at(d, a, list(range(n)))) for d, a in data]
        out = []
        for j in range(n):
            out.append(
                {
                    "county_code": county[j],
                    "school_code": school[j],
                    "school_name": names[j] or None,
                    "school_type": stype[j],
                    "checks": {k: v[j] for k, v in results},
                }
            )
        return out

    def county_dicts(self) -> list[dict]:
        """The report's ``counties``: each county's results, with its findings."""
        from .findings import findings_lists

        with gc_paused():
            counties = self._counties()
            for c, found in zip(counties, findings_lists(self)):
                c["findings"] = found
        return counties

    def resource_counts(self) -> list[dict[str, int]]:
        """Each county's rows by the resource rule's status (the statuses it has, in status order)."""
        fr = self.frame
        nc = fr.n_county
        rule = self.resource_rule()
        out: list[dict[str, int]] = [dict() for _ in range(nc)]
        if rule and fr.n:
            st = self.status(rule)
            for s in Status:
                cnt = np.bincount(fr.row_county, weights=(st == int(s)).astype(float), minlength=nc)
                counts = cnt.tolist()
                for c in np.flatnonzero(cnt).tolist():
                    out[c][s.key] = int(counts[c])
        return out

    def _counties(self) -> list[dict]:
        m, fr = self.model, self.frame
        nc = fr.n_county
        res_counts = self.resource_counts()
        rows_per = np.bincount(fr.row_county, minlength=nc) if fr.n else np.zeros(nc, dtype=int)
        # balance, stage → indicator → result, per county
        balance: list[dict] = [dict() for _ in range(nc)]
        composite: list[dict] = [dict() for _ in range(nc)]
        cs_county = fr.cs_county.tolist()
        cs_stage = fr.cs_stage.tolist()
        for ind, d, b in self.balance_columns():
            fixes = self._balance_remedy(d, b["nodes"])
            cv, mean, lim, cnt, why = _floats(b["cv"]), _floats(b["mean"]), _floats(b["limit"]), b["count"].tolist(), b["reason"]
            st, exempt = b["status"].tolist(), b["exempt"].tolist()
            for g in range(fr.n_cs):
                if not 0 <= cs_stage[g] < len(STAGE_KEYS):
                    continue
                entry = balance[cs_county[g]].setdefault(STAGE_KEYS[cs_stage[g]], {})[ind] = {
                    "cv": cv[g],
                    "limit": lim[g],
                    "met": None if st[g] in (6, 5, 4) else st[g] == 1,
                    "status": STATUS_KEY[st[g]],
                    "mean": mean[g],
                    "schools": int(cnt[g]),
                }
                if exempt[g]:
                    # an exempt balance (declared or approved) shows as exempt, with its reason, in every indicator
                    entry["met"], entry["status"] = None, STATUS_KEY[int(Status.EXEMPT)]
                    if why is not None and why[g] is not None:
                        entry["reason"] = why[g]
                elif g in fixes:
                    entry["remedy"] = fixes[g]
        comp = self.composite_cv()
        if comp is not None:
            comp_f = _floats(comp)
            for g in range(fr.n_cs):
                if 0 <= cs_stage[g] < len(STAGE_KEYS):
                    composite[cs_county[g]][STAGE_KEYS[cs_stage[g]]] = comp_f[g]
        every = list(range(nc))
        items = [d for d in m.decls.values() if d.kind == "item"]
        item_data = []  # per item: its result per county, then its evidence and input columns
        for d in items:
            notes = [(f, [str(x) for x in v.tolist()]) for f, v in self._evidence(d).items() if v is not None]
            item_data.append((d.name, self._checks_at(d, self._check_arrays(d, "county"), every, full=True),
                              notes, list(self._county_inputs(d).items())))
        aggs = [(d.name, self._aggregates(d)) for d in m.decls.values() if d.kind == "aggregate"]
        parts = {p: self._part_status(p).astype(np.int64).tolist() for p in m.parts}
        verdicts = {d.name: self.status(d.name).tolist() for d in m.of_kind("verdict")}
        verdict_grades = {d.name: self.grade_labels(d.name, "county") for d in m.of_kind("verdict") if d.grades}
        main = self.county_verdict()
        cnames = self._county_names()
        codes = [str(x) for x in np.asarray(fr.county_codes).tolist()]
        in_table = (np.asarray(fr.county_row) >= 0).tolist()
        rows_per_l = np.asarray(rows_per).tolist()
        out = []
        for c in range(nc):
            its = {}
            for name, results, notes_of, inputs in item_data:
                r = results[c]
                if notes_of:
                    notes = {f: col[c] for f, col in notes_of if col[c]}
                    if notes:
                        r["evidence"] = notes
                if inputs:
                    r["inputs"] = {f: col[c] for f, col in inputs}
                its[name] = r
            out.append(
                {
                    "county_code": codes[c],
                    "county_name": cnames[c],
                    "in_county_table": in_table[c],
                    "schools": int(rows_per_l[c]),
                    "resources": res_counts[c],
                    "balance": balance[c],
                    "composite_cv": composite[c],
                    "items": its,
                    "aggregates": {name: per[c] for name, per in aggs},
                    "parts": {p: STATUS_KEY[v[c]] for p, v in parts.items()},
                    "verdicts": {k: STATUS_KEY[v[c]] for k, v in verdicts.items()},
                    "verdict": STATUS_KEY[verdicts[main][c]] if main else "not_assessed",
                    "grades": {k: v[c] for k, v in verdict_grades.items()},
                }
            )
        return out

    def balance_columns(self) -> list[tuple[str, ast.Decl, dict[str, Any]]]:
        """What a county's ``balance`` shows of each indicator, in report order, as columns over the
        county × stage groups: ``(indicator, balance declaration, columns)``.

        The first declaration to name an indicator places it; the last one to
        name it gives its result (a later declaration overrides an earlier one).
        Columns (arrays over the groups): ``cv``, ``mean`` and ``limit`` rounded
        for the report (:func:`round_exact`, NaN where missing), ``status``,
        ``exempt``, ``count``; then ``reason`` (None without reasons) and the
        plan's ``nodes``. Shared by the counties' ``balance`` (as dicts or laid
        out as JSON) and the CV findings, which must agree.
        """
        memo = self.__dict__.get("_balance_columns")
        if memo is not None:
            return memo
        fr = self.frame
        place: dict[str, tuple[ast.Decl, tuple]] = {}
        for d in self.model.of_kind("balance"):
            for ind, nodes in self.decl(d.name).balance.items():
                place[ind] = (d, nodes)  # a dict keeps a key where it was first put
        per_decl: dict[str, tuple[np.ndarray, Any]] = {}
        out = []
        for ind, (d, nodes) in place.items():
            if d.name not in per_decl:
                final = np.asarray(self.arr(self.decl(d.name).final, "cs"))
                per_decl[d.name] = (final == int(Status.EXEMPT), self.reasons(d.name, "cs"))
            exempt, why = per_decl[d.name]
            cv_n, mean_n, lim_n, st_n, cnt_n = nodes
            out.append((ind, d, {
                "nodes": nodes,
                "cv": self._rounded_cs(cv_n),
                "mean": self._rounded_cs(mean_n),
                "limit": self._rounded_cs(lim_n),
                "status": np.asarray(self.arr(st_n, "cs")),
                "count": np.broadcast_to(np.asarray(self.arr(cnt_n, "cs"), dtype=np.int64), (fr.n_cs,)),
                "exempt": np.broadcast_to(exempt, (fr.n_cs,)),
                "reason": why,
            }))
        self.__dict__["_balance_columns"] = out
        return out

    def _rounded_cs(self, node: int | None) -> np.ndarray:
        """A county × stage figure rounded as the report shows it (NaN where there is none)."""
        if node is None:
            return np.full(self.frame.n_cs, np.nan)
        return round_exact(np.broadcast_to(self.arr(node, "cs"), (self.frame.n_cs,)))

    def composite_cv(self) -> np.ndarray | None:
        """Each county × stage group's composite CV (the mean of its indicators' CVs), rounded as the
        report shows it; the last balance declaration with one gives it. None without any."""
        nodes = [n for n in (self.decl(d.name).composite for d in self.model.of_kind("balance")) if n is not None]
        return self._rounded_cs(nodes[-1]) if nodes else None

    def _county_names(self) -> list[str | None]:
        fr = self.frame
        names: list[str | None] = [None] * fr.n_county
        if fr.n and "county_name" in fr.rows.columns:
            # each county's first row with a name, found for all counties at once
            nm = fr.rows.columns["county_name"]
            at = np.flatnonzero(np.fromiter(map(bool, nm.tolist()), dtype=bool, count=fr.n))
            county = np.asarray(fr.row_county)[at]
            _, first = np.unique(county, return_index=True)
            for c, r in zip(county[first].tolist(), at[first].tolist()):
                names[c] = nm[r]
        if fr.counties is not None and "county_name" in fr.counties.columns:
            nm = fr.counties.columns["county_name"].tolist()
            for c in range(fr.n_county):
                r = fr.county_row[c]
                if r >= 0 and nm[r]:
                    names[c] = nm[r]
        return names

    def _evidence(self, d: ast.Decl) -> dict[str, np.ndarray | None]:
        fr = self.frame
        out: dict[str, np.ndarray | None] = {}
        exprs = [e for e in (d.value, d.check) if e is not None]
        for e in exprs:
            for n in iter_names(e):
                spec = self.model.fields.get(n.name)
                if spec is not None and spec.evidence and fr.counties is not None:
                    notes = fr.counties.evidence.get(n.name)
                    if notes is None:
                        out[n.name] = None
                        continue
                    col = np.full(fr.n_county, "", dtype=object)
                    have = fr.county_row >= 0
                    col[have] = notes[fr.county_row[have]]
                    out[n.name] = col
        return out

    def _county_inputs(self, d: ast.Decl) -> dict[str, list]:
        """County figures a check-style item reads, so a report can show them beside the verdict."""
        if d.check is None:
            return {}
        fr = self.frame
        out: dict[str, list] = {}
        for n in iter_names(d.check):
            spec = self.model.fields.get(n.name)
            if spec is None or spec.level.value != "county" or not spec.type.numeric or n.name in out:
                continue
            col = np.full(fr.n_county, np.nan)
            if fr.counties is not None and n.name in fr.counties.columns:
                have = fr.county_row >= 0
                col[have] = fr.counties.columns[n.name][fr.county_row[have]]
            out[n.name] = clean(col, fr.n_county)
        return out

    def _part_status(self, part: str) -> np.ndarray:
        from ..compiler import kernels as k

        fr = self.frame
        acc = np.full(fr.n_county, int(Status.NOT_APPLICABLE), dtype=np.int8)
        exempt = np.zeros(fr.n_county, dtype=bool)
        for d in self.model.decls.values():
            if d.part is None or d.part.name != part:
                continue
            o = self.decl(d.name)
            s = self.arr(o.final, o.level)
            if o.level != "county":
                codes = fr.codes(o.level, "county")
                exempt |= np.bincount(codes, weights=(s == int(Status.EXEMPT)), minlength=fr.n_county) > 0
                s = k.group_status(s, codes, fr.n_county, "all")
            else:
                exempt |= s == int(Status.EXEMPT)
            acc = k.and_(acc, s)
        # exempt members are neutral in 'all'; a part with nothing judged but an exemption reads
        # as exempt, not as "not applicable", so the report says why it was not judged
        return np.where((acc == int(Status.NOT_APPLICABLE)) & exempt, int(Status.EXEMPT), acc).astype(np.int8)

    def _aggregates(self, d: ast.Decl) -> list[dict[str, dict]]:
        """Each county's results of aggregate ``d`` (``all`` for a county-level one, else by stage),
        with one pass over the county × stage groups."""
        o = self.decl(d.name)
        fr = self.frame
        if o.level == "county":
            return [{"all": r} for r in self._checks_at(d, self._check_arrays(d, "county"), list(range(fr.n_county)), True)]
        county, stage = fr.cs_county.tolist(), fr.cs_stage.tolist()
        groups = [g for g in range(fr.n_cs) if 0 <= stage[g] < len(STAGE_KEYS)]
        out: list[dict[str, dict]] = [{} for _ in range(fr.n_county)]
        for g, r in zip(groups, self._checks_at(d, self._check_arrays(d, "cs"), groups, full=True)):
            out[county[g]][STAGE_KEYS[stage[g]]] = r
        return out


def keys_of(codes: np.ndarray, keys: list[str]) -> list[str | None]:
    """Category codes as their keys (None for a code out of range), by one table lookup."""
    table = np.array([*keys, None], dtype=object)
    codes = np.asarray(codes)
    return table[np.where((codes >= 0) & (codes < len(keys)), codes, len(keys))].tolist()


def _max_or_min(d: ast.Decl) -> str | None:
    ops = {r.op for r in d.requires}
    if ops <= {"<=", "<"} and ops:
        return "max"
    if ops <= {">=", ">"} and ops:
        return "min"
    return None


def _check_at(d: ast.Decl, a: dict[str, list], i: int, full: bool = False) -> dict:
    """One check's result; ``full`` adds label, part and source (county items, which are few)."""
    s = a["status"][i]
    value, req = _nn(a["value"][i]), _nn(a["required"][i])
    out = {
        "value": value,
        "required": req,
        "ratio": _nn(a["ratio"][i]),
        "status": STATUS_KEY[s],
    }
    if a.get("reason") is not None and a["reason"][i] is not None:
        out["reason"] = a["reason"][i]
    if a.get("grade") is not None:
        out["grade"] = a["grade"][i]
    if s == 2 and value is not None and req is not None:
        if a["op"] == "max":
            out["excess"] = _f(value - req)
        elif a["op"] == "min":
            out["shortfall"] = _f(req - value)
    if full:
        out.update(_described(d))
    return out


def _described(d: ast.Decl) -> dict[str, str]:
    """What a county item's result says of the item itself: label, part and source with its tag."""
    out = {"label": d.label}
    if d.part is not None:
        out["part"] = d.part.name
    if d.source:
        out["source"] = d.source + (f" [{d.source_tag}]" if d.source_tag else "")
    return out


def _issue(i: DataIssue) -> dict:
    return {
        "code": i.code,
        "severity": i.severity if i.severity in ("error", "warning") else "error",
        "message_zh": i.message_zh,
        "message_en": i.message_en,
        "source": i.source,
        "sheet": i.sheet,
        "row": i.row,
        "column": i.column,
        "value": None if i.value is None else str(i.value),
    }


def assemble(plan: Plan, frame: Frame, values: list, issues: list[DataIssue], qbe_version: str) -> Evaluation:
    return Evaluation(plan, frame, values, issues, qbe_version)


__all__ = ["Evaluation", "assemble", "FieldType"]
