"""Every shortfall in words, the way a county's self-evaluation states it.

For example: "博文小学（小学）生均教学及辅助用房面积 3.87 m²/生，为要求（4.5）
的86%，未100%达标，但符合“每所学校至少6项指标达到要求，余项不低于要求的
85%”条件". Percentages of a requirement are rounded *down*, so a report never
shows 85% for 84.9% or 100% for 99.6%.

A national report words about a hundred thousand findings, nearly all of rows,
schools and county items. Those are made a column at a time, for every county
at once: one gather per figure, the numbers written by :func:`_num_texts` (each
distinct value once), every dict and its texts by one comprehension over the
gathered columns, then one sort that puts each county's findings in report
order. A county's list is then a lookup; only its few CV findings are worded
per county, from its ``balance`` results.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.cells import gc_paused
from ..data.schema import STAGES

if TYPE_CHECKING:
    from .assemble import Evaluation

STAGE_ZH = {s.code: s.label for s in STAGES}
STAGE_EN = {"primary": "primary", "junior": "junior secondary", "kindergarten": "kindergarten"}

_NOT_MET = 2
_TOLERATED = 3
#: the statuses a CV or a county item is reported for
_SHORT = frozenset(("not_met", "not_assessed"))


def pct_floor(ratio: float) -> int:
    """Whole percent, rounded down (with slack for float noise: 0.85 stays 85)."""
    return int(math.floor(ratio * 100 + 1e-7))


def num(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x))}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.3f}".rstrip("0").rstrip(".") if abs(x) >= 0.01 else f"{x:.3g}"


#: :func:`num`, remembered: a national report formats the same requirements tens of thousands of
#: times; bounded, since most other values of a national report are distinct.
_num_cached = functools.lru_cache(maxsize=100_000)(num)


def _context(ev: Evaluation) -> tuple[dict, frozenset | set, str | None, str, dict[str, list[str]]]:
    """What every county's findings share (labels, the resource rule, which checks read the same
    figures), worked out once per evaluation rather than once per county or school."""
    ctx = ev.__dict__.get("_findings_context")
    if ctx is None:
        m = ev.model
        labels = m.decls
        rule = ev.resource_rule()
        used = m.fields_read
        school_checks = [d.name for d in m.decls.values() if d.kind == "check" and d.entity == "school"]
        # for each school check, the unjudged school checks about the same figures, in report order
        related = {
            cid: [k for k in school_checks if k != cid and k not in m.referenced and used[k] & used[cid]]
            for cid in school_checks
        }
        ctx = (labels, m.referenced, rule, labels[rule].label if rule else "", related)
        ev.__dict__["_findings_context"] = ctx
    return ctx


def county_findings(ev: Evaluation, county: dict) -> list[dict]:
    """A county's findings in report order: its rows', its schools', its CVs', then its county items'."""
    code = county["county_code"]
    out: list[dict] = [*_row_findings(ev).get(code, ()), *_school_findings(ev).get(code, ())]
    labels = ev.model.decls
    for stage, inds in county["balance"].items():
        for ind, b in [(i, b) for i, b in inds.items() if b["status"] in _SHORT]:
            status, label = b["status"], labels[ind].label
            if status == "not_met":
                limit = _num_cached(b["limit"])
                zh = f"{STAGE_ZH.get(stage, stage)}“{label}”校际差异系数 {b['cv']:.3f}，超过 {limit}"
                en = f"{STAGE_EN.get(stage, stage)} {ind}: CV {b['cv']:.3f} exceeds {limit}"
            else:
                zh = f"{STAGE_ZH.get(stage, stage)}“{label}”校际差异系数无法计算（均值为0或数据缺失），未评估"
                en = f"{STAGE_EN.get(stage, stage)} {ind}: CV cannot be computed (mean 0 or missing data), not assessed"
            out.append({"kind": "balance", "item": ind, "label": label, "status": status, "stage": stage,
                        "value": b["cv"], "required": b["limit"], "text_zh": zh, "text_en": en})
    out += _item_findings(ev).get(code, ())
    return out


def _per_report(ev: Evaluation, key: str, make: Callable[[Evaluation], dict[str, list[dict]]]
                ) -> dict[str, list[dict]]:
    """``make(ev)``, remembered for the report being made, with the collector paused.

    A report's findings are its own dicts, so each report makes them anew
    (the rows' also take the report's ``issues_by_row``): the result is kept
    with the token of the report being made (``ev._report_token``, new for
    each report). The findings are
    acyclic dicts of strings and numbers; pausing the cyclic collector spares
    it from rescanning the heap once every few hundred of them.
    """
    made_for = ev.__dict__.get("_report_token")
    memo = ev.__dict__.get(key)
    if memo is None or memo[0] is not made_for:
        with gc_paused():
            memo = (made_for, make(ev))
        ev.__dict__[key] = memo
    return memo[1]


def _item_findings(ev: Evaluation) -> dict[str, list[dict]]:
    """Every county's county items not met or not assessed, by county code, in item order."""
    return _per_report(ev, "_item_findings", _word_items)


def _word_items(ev: Evaluation) -> dict[str, list[dict]]:
    """The county item findings of all counties, from the items' county columns.

    These columns are what each county's ``items`` results are made from
    (:meth:`Evaluation._counties`), so the findings are those its results
    would give, without visiting every item of every county.
    """
    from .assemble import STATUS_KEY, _floats

    m, fr = ev.model, ev.frame
    items = [d for d in m.decls.values() if d.kind == "item"]
    found = _Found()
    for k, d in enumerate(items):
        st = np.asarray(ev.arr(ev.decl(d.name).final, "county"))
        at = np.flatnonzero((st == _NOT_MET) | (st == 6))
        if not at.size:
            continue
        a = ev._check_arrays(d, "county")
        value, required = np.asarray(a["value"])[at], np.asarray(a["required"])[at]
        values, requireds = _floats(value), _floats(required)
        statuses = [STATUS_KEY[s] for s in st[at].tolist()]
        iid, label = d.name, d.label
        part = m.parts.get(d.part.name, d.part.name) if d.part else ""
        veto = d.part is not None and d.part.name == "veto"
        if d.value is not None and _is_percent(d, m):
            v_txt = ["" if v is None else f"{v * 100:.4g}%" for v in values]
            q_txt = ["" if q is None else f"{q * 100:.4g}%" for q in requireds]
        else:
            unit = d.unit or ""
            v_txt = [f"{t}{unit}" for t in _num_texts(value)]
            q_txt = [f"{t}{unit}" for t in _num_texts(required)]
        not_met_zh = "一票否决：" + label if veto else f"{part}“{label}”未达标"
        zh = [
            f"{part}“{label}”未评估（无数据）" if s != "not_met"
            else not_met_zh if veto or v is None or q is None
            else f"{not_met_zh}（{vt}，要求 {qt}）"
            for s, v, q, vt, qt in zip(statuses, values, requireds, v_txt, q_txt)
        ]
        en_of = {"not_met": f"veto: {iid} applies" if veto else f"{iid}: not met",
                 "not_assessed": f"{iid}: not assessed (no data)"}
        found.add(
            [
                {"kind": "item", "item": iid, "label": label, "status": s, "value": v, "required": q,
                 "text_zh": z, "text_en": en_of[s]}
                for s, v, q, z in zip(statuses, values, requireds, zh)
            ],
            at, k, len(items),
        )
    codes = [str(x) for x in np.asarray(fr.county_codes).tolist()]
    return found.by_county(np.arange(fr.n_county), codes.__getitem__)


# ------------------------------------------------------------------------------ rows and schools, all counties at once


def _row_findings(ev: Evaluation) -> dict[str, list[dict]]:
    """The findings of every row with a shortfall, by county code, each county's in row order.

    Made from the row columns for the rows concerned only, so no row object is
    built (a national report has tens of thousands of such rows, and a JSON
    report never shows them); the texts are those a row object would give.
    Within a row: its indicators, its data errors, then its row checks.
    """
    return _per_report(ev, "_row_findings", _word_rows)


def _word_rows(ev: Evaluation) -> dict[str, list[dict]]:
    """The work of :func:`_row_findings`: each kind of finding for all rows at once."""
    from .assemble import STATUS_KEY, _floats

    labels, _, rule, rule_label, _ = _context(ev)
    rc = ev.row_columns()
    rule_status = np.asarray(rc["rule_status"]).astype(np.int64)
    n_ind = len(rc["indicators"])
    n_kinds = n_ind + 1 + len(rc["checks"])  # a row's findings, in order: its indicators, its data errors, its checks

    # which rows each kind of finding is about: indicators not met or tolerated, rows whose data errors
    # kept the resource rule from being judged, row checks not met
    ind_at = []
    for ind in rc["indicators"]:
        fin = np.asarray(ind["final"])
        ind_at.append(np.flatnonzero((fin == _NOT_MET) | (fin == _TOLERATED)))
    errors = getattr(ev, "issues_by_row", None) or {}
    data_at = np.asarray([i for i in np.flatnonzero(rule_status == 6).tolist() if errors.get(i)] if errors else [],
                         dtype=np.intp)
    check_at = [np.flatnonzero(ev.arr(ev.decl(d.name).final, "row") == _NOT_MET) for d, _ in rc["checks"]]

    # a finding starts with where it is: the school's name (or code) and the stage
    names, codes, stages = rc["school_name"], rc["school_code"], rc["stage"]
    stage_zh, stage_en = _StageWords(STAGE_ZH), _StageWords(STAGE_EN)
    found = _Found()

    # indicators: the suffix says whether the resource rule still holds for the row
    suffix_zh = (f"，未100%达标，但符合“{rule_label}”条件", "，未达标", f"，未达标，不符合“{rule_label}”条件")
    suffix_en = (f": not fully met, but within the rule '{rule}'", ": not met",
                 f": not met, and the rule '{rule}' is not satisfied")
    for k, (ind, at) in enumerate(zip(rc["indicators"], ind_at)):
        if not at.size:
            continue
        name, d = ind["name"], labels[ind["name"]]
        label, unit = d.label, d.unit or ""
        fin = np.asarray(ind["final"])[at].astype(np.int64)
        value, required, ratio = (np.asarray(ind[c])[at] for c in ("value", "required", "ratio"))
        which = np.where(fin == _TOLERATED, 0, np.where(rule_status[at] == 1, 1, 2)).tolist()
        found.add(
            [
                {"kind": "indicator", "item": name, "label": label, "status": STATUS_KEY[s], "school_code": codes[i],
                 "school_name": names[i], "stage": stages[i], "value": v, "required": q, "ratio": r, "rule": rule,
                 "text_zh": f"{names[i] or codes[i]}（{stage_zh[stages[i]]}）{label} {vt} {unit}"
                            f"，为要求（{qt}）的{p}%{suffix_zh[w]}",
                 "text_en": f"{names[i] or codes[i]} ({stage_en[stages[i]]}) {name} {vt} {unit}"
                            f", {p}% of the requirement ({qt}){suffix_en[w]}"}
                for i, s, w, v, q, r, vt, qt, p in zip(
                    at.tolist(), fin.tolist(), which, _floats(value), _floats(required), _floats(ratio),
                    _num_texts(value), _num_texts(required), _percent_texts(ratio))
            ],
            at, k, n_kinds,
        )

    if data_at.size:
        found.add(
            [
                {"kind": "data", "item": "row", "label": "数据有误", "status": "not_assessed", "school_code": codes[i],
                 "school_name": names[i], "stage": stages[i],
                 "text_zh": f"{names[i] or codes[i]}（{stage_zh[stages[i]]}）数据有误，未能评估（{len(errors[i])} 处）",
                 "text_en": f"{names[i] or codes[i]} ({stage_en[stages[i]]})"
                            f": data errors, not assessed ({len(errors[i])})"}
                for i in data_at.tolist()
            ],
            data_at, n_ind, n_kinds,
        )

    for k, ((d, a), at) in enumerate(zip(rc["checks"], check_at), start=n_ind + 1):
        if not at.size:
            continue
        cid, label, unit = d.name, labels[d.name].label, labels[d.name].unit or ""
        fc = _FailedCheck(a, at, unit)
        found.add(
            [
                {"kind": "check", "item": cid, "label": label or cid, "status": "not_met", "school_code": codes[i],
                 "school_name": names[i], "stage": stages[i], "value": v, "required": q, "ratio": r, "excess": x,
                 "text_zh": f"{names[i] or codes[i]}（{stage_zh[stages[i]]}）{label}{sh}{xz}",
                 "text_en": f"{names[i] or codes[i]} ({stage_en[stages[i]]}) {cid} {vt}{xe}"}
                for i, v, q, r, x, vt, sh, xz, xe in zip(
                    at.tolist(), fc.value, fc.required, fc.ratio, fc.excess, fc.value_text, fc.shown, fc.extra_zh,
                    fc.extra_en)
            ],
            at, k, n_kinds,
        )

    return found.by_county(ev.frame.row_county, rc["county_code"].__getitem__)


def _school_findings(ev: Evaluation) -> dict[str, list[dict]]:
    """The findings of every school with a school check not met, by county code, in school order.

    Worded from the school checks' columns, for the schools concerned only.
    """
    return _per_report(ev, "_school_findings", _word_schools)


def _word_schools(ev: Evaluation) -> dict[str, list[dict]]:
    """The work of :func:`_school_findings`: each school check's findings for all schools at once."""
    from .assemble import STATUS_KEY

    labels, _, _, _, related = _context(ev)
    fr = ev.frame
    checks = [d for d in ev.model.decls.values() if d.kind == "check" and d.entity == "school"]
    status = {d.name: ev.arr(ev.decl(d.name).final, "school") for d in checks}
    at_of = {cid: np.flatnonzero(st == _NOT_MET) for cid, st in status.items()}
    schools = np.unique(np.concatenate([np.zeros(0, dtype=np.intp), *at_of.values()]))
    cols = fr.rows.columns
    first = np.asarray(fr.school_first)[schools]
    code = cols["school_code"][first].tolist()
    name = cols["school_name"][first].tolist() if "school_name" in cols else [None] * len(first)  # "" for no name
    found = _Found()
    for k, d in enumerate(checks):
        cid = d.name
        at = at_of[cid]
        if not at.size:
            continue
        label, unit = labels[cid].label, labels[cid].unit or ""
        fc = _FailedCheck(ev._check_arrays(d, "school"), at, unit)
        # context: unjudged checks about the same figures (design capacity beside school size), unless also not met
        ctx_zh: Any = repeat("")
        ctx_en: Any = repeat("")
        for other in related.get(cid, ()):
            other_label = labels[other].label
            piece_zh = {s: ("" if s == _NOT_MET else f"（{other_label}）" if s == 1
                            else f"（{other_label}：{_st_zh(STATUS_KEY[s])}）") for s in STATUS_KEY}
            piece_en = {s: ("" if s == _NOT_MET else f"; {other}: {STATUS_KEY[s]}") for s in STATUS_KEY}
            theirs = status[other][at].tolist()
            ctx_zh = [c + piece_zh[s] for c, s in zip(ctx_zh, theirs)]
            ctx_en = [c + piece_en[s] for c, s in zip(ctx_en, theirs)]
        found.add(
            [
                {"kind": "check", "item": cid, "label": label or cid, "status": "not_met", "school_code": code[j],
                 "school_name": name[j] or None, "stage": None, "value": v, "required": q, "ratio": r, "excess": x,
                 "text_zh": f"{name[j] or code[j]}{label}{sh}{xz}{cz}",
                 "text_en": f"{name[j] or code[j]} {cid}{'' if v is None else ' ' + vt}{xe}{ce}"}
                for j, v, q, r, x, vt, sh, xz, xe, cz, ce in zip(
                    np.searchsorted(schools, at).tolist(), fc.value, fc.required, fc.ratio, fc.excess, fc.value_text,
                    fc.shown, fc.extra_zh, fc.extra_en, ctx_zh, ctx_en)
            ],
            at, k, len(checks),
        )
    # schools are numbered county by county, so a school's county code is its first row's
    county_code, school_first = cols["county_code"], fr.school_first
    return found.by_county(fr.school_county, lambda p: county_code[school_first[p]])


class _FailedCheck:
    """A check's figures on the entities where it is not met, as columns: its results' value,
    requirement, ratio and excess (as :meth:`Evaluation._checks_at` gives them), and the words
    after the check's name (the figure, then how far over or under the requirement)."""

    def __init__(self, a: dict[str, Any], at: np.ndarray, unit: str) -> None:
        from .assemble import _floats, f_list

        value, required = np.asarray(a["value"])[at], np.asarray(a["required"])[at]
        self.value = _floats(value)
        self.required = _floats(required)
        self.ratio = _floats(np.asarray(a["ratio"])[at])
        self.value_text = _num_texts(value)
        self.shown = ["" if v is None else f" {t}{unit}" for v, t in zip(self.value, self.value_text)]
        op = a["op"]
        # the excess over a maximum or the shortfall under a minimum, where both figures are known
        gap = f_list(value - required) if op == "max" else f_list(required - value) if op == "min" else None
        self.excess: Any = gap if op == "max" else repeat(None)
        if gap is None:
            self.extra_zh: Any = repeat("，未达标")
            self.extra_en: Any = repeat(": not met")
            return
        g_txt = _num_texts(np.asarray(gap, dtype=np.float64))
        q_txt = _num_texts(required)
        over = op == "max"
        zh_words = ("，超过指标", "（要求不超过") if over else ("，低于要求", "（要求不低于")
        en_words = " over the limit of " if over else " below the requirement of "
        self.extra_zh = [f"{zh_words[0]}{g}{unit}{zh_words[1]}{q}{unit}）" if x is not None else "，未达标"
                         for x, g, q in zip(gap, g_txt, q_txt)]
        self.extra_en = [f", {g}{en_words}{q}" if x is not None else ": not met" for x, g, q in zip(gap, g_txt, q_txt)]


class _StageWords(dict):
    """A stage's name in a finding: the standard's name for a known stage, else the stage as it is
    (``None`` for a row whose stage is unknown), worked out once per stage."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names

    def __missing__(self, stage: str | None) -> str | None:
        self[stage] = word = self.names.get(stage or "", stage)
        return word


class _Found:
    """Findings collected a kind at a time, then put in report order and split by county.

    Each finding has a position (the row or school it is about) and a kind
    number (its place among that entity's findings); the report order within a
    county is by position, then kind.
    """

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.pos: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []

    def add(self, found: list[dict], pos: np.ndarray, kind: int, n_kinds: int) -> None:
        p = np.asarray(pos, dtype=np.int64)
        self.items.extend(found)
        self.pos.append(p)
        self.keys.append(p * n_kinds + kind)

    def by_county(self, county_at: np.ndarray, code_of: Callable[[int], str]) -> dict[str, list[dict]]:
        """``county_at[p]`` is the county number of position ``p``, ``code_of(p)`` its county code."""
        if not self.items:
            return {}
        pos = np.concatenate(self.pos)
        county = np.asarray(county_at, dtype=np.int64)[pos]
        order = np.lexsort((np.concatenate(self.keys), county))
        ordered = list(map(self.items.__getitem__, order.tolist()))
        c = county[order]
        cuts = (np.flatnonzero(c[1:] != c[:-1]) + 1).tolist()
        starts, ends = [0, *cuts], [*cuts, len(ordered)]
        return {code_of(p): ordered[a:b] for p, a, b in zip(pos[order][starts].tolist(), starts, ends)}


def _num_texts(values: np.ndarray) -> list[str]:
    """:func:`num` of each value of a float column ("—" for NaN), each distinct value formatted once.

    The cases are told apart by numpy with :func:`num`'s own float operations
    (``round`` is round-half-even in both), so each value lands in the case
    :func:`num` would put it in, and is then formatted the way that case
    formats it. Values :func:`num` treats specially (infinite, or whole
    numbers too large for 64-bit integers) are left to :func:`num` itself.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if not x.size:
        return []
    u, back = np.unique(x, return_inverse=True)
    out = np.empty(u.size, dtype=object)
    with np.errstate(invalid="ignore"):
        size = np.abs(u)
        near = np.round(u)
        whole = np.abs(u - near) < 1e-9
    out[np.isnan(u)] = "—"
    ints = whole & (size < 2.0**62)
    if ints.any():
        out[ints] = [str(v) for v in near[ints].astype(np.int64).tolist()]
    rest = np.isfinite(u) & ~whole
    big = rest & (size >= 100)
    if big.any():
        out[big] = [f"{v:.1f}" for v in u[big].tolist()]
    mid = rest & (size < 100) & (size >= 0.01)
    if mid.any():
        out[mid] = [f"{v:.3f}".rstrip("0").rstrip(".") for v in u[mid].tolist()]
    small = rest & (size < 0.01)
    if small.any():
        out[small] = [f"{v:.3g}" for v in u[small].tolist()]
    for i in np.flatnonzero(~np.isnan(u) & ~ints & ~rest).tolist():
        out[i] = num(float(u[i]))
    return out[back.reshape(-1)].tolist()


def _percent_texts(ratio: np.ndarray) -> list[str]:
    """:func:`pct_floor` of each ratio as text, "None" where there is none (NaN), all at once.

    The same float operations as :func:`pct_floor` (times 100, plus the slack,
    rounded down), done by numpy for the whole column; each distinct percent
    is then written once."""
    r = np.asarray(ratio, dtype=np.float64).reshape(-1)
    if not r.size:
        return []
    with np.errstate(invalid="ignore", over="ignore"):
        floors = np.floor(r * 100 + 1e-7)
    u, back = np.unique(floors, return_inverse=True)
    texts = np.array(["None" if f != f else str(int(f)) for f in u.tolist()], dtype=object)
    return texts[back.reshape(-1)].tolist()


# ------------------------------------------------------------------------------ shared wording


def _is_percent(d, model=None) -> bool:
    from ..language import ast

    if model is not None and model.types.get(d.name) is not None and model.types[d.name].percent:
        return True
    return any(isinstance(r.threshold, ast.Pct) for r in d.requires)


def _excess(c: dict, unit: str | None) -> tuple[str, str]:
    u = unit or ""
    num = _num_cached
    if c.get("excess") is not None:
        return f"，超过指标{num(c['excess'])}{u}（要求不超过{num(c['required'])}{u}）", f", {num(c['excess'])} over the limit of {num(c['required'])}"
    if c.get("shortfall") is not None:
        return f"，低于要求{num(c['shortfall'])}{u}（要求不低于{num(c['required'])}{u}）", f", {num(c['shortfall'])} below the requirement of {num(c['required'])}"
    return "，未达标", ": not met"


def _check_finding(cid: str, c: dict, where: dict, zh: str, en: str, label: str | None = None) -> dict:
    return {
        "kind": "check",
        "item": cid,
        "label": label or c.get("label") or cid,
        "status": c["status"],
        "school_code": where.get("school_code"),
        "school_name": where.get("school_name"),
        "stage": where.get("stage"),
        "value": c.get("value"),
        "required": c.get("required"),
        "ratio": c.get("ratio"),
        "excess": c.get("excess"),
        "text_zh": zh,
        "text_en": en,
    }


def _simple(kind: str, item: str, label: str, status: str, where: dict, zh: str, en: str) -> dict:
    return {"kind": kind, "item": item, "label": label, "status": status, "school_code": where.get("school_code"),
            "school_name": where.get("school_name"), "stage": where.get("stage"), "text_zh": zh, "text_en": en}


def _st_zh(s: str) -> str:
    return {"met": "是", "not_met": "否", "not_assessed": "未评估", "not_applicable": "不适用"}.get(s, s)
