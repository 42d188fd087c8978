"""Every shortfall in words, the way a county's self-evaluation states it.

For example: "博文小学（小学）生均教学及辅助用房面积 3.87 m²/生，为要求（4.5）
的86%，未100%达标，但符合“每所学校至少6项指标达到要求，余项不低于要求的
85%”条件". Percentages of a requirement are rounded *down*, so a report never
shows 85% for 84.9% or 100% for 99.6%.

A national report words about a hundred thousand findings (60 MB of JSON),
nearly all of rows, schools and county items. They are written straight as
JSON, a kind of finding at a time for every county at once, by the same
column layout as the report's row array (:mod:`.fastjson`): each member and
each piece of the texts is a column (a school's name, a number written by
:func:`_num_texts` once per distinct value, a stage or a status looked up in a
small table), and one sort puts each county's findings in report order. The
report dict's findings are those bytes read back (:func:`findings_lists`), so
the JSON report and every other writer say the same; a JSON-only run never
makes a dict of them.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.cells import gc_paused
from ..data.schema import STAGES
from ..status import Status
from . import fastjson as fj
from .assemble import STAGE_KEYS, _floats
from .fastjson import Part

try:  # reads the findings back as dicts several times faster than the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

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


def findings_json(ev: Evaluation) -> list[bytes]:
    """Each county's findings as a compact JSON array (UTF-8), by county number, in report order:
    its rows', its schools', its CVs', then its county items'.

    Made once per evaluation: the bytes are never changed, and every report of
    the evaluation shows the same findings.
    """
    memo = ev.__dict__.get("_findings_json")
    if memo is None:
        found = _Found(ev.frame.n_county)
        _word_rows(ev, found)
        _word_schools(ev, found)
        _word_balance(ev, found)
        _word_items(ev, found)
        memo = ev.__dict__["_findings_json"] = found.arrays()
    return memo


def findings_lists(ev: Evaluation) -> list[list[dict]]:
    """Each county's findings as dicts, by county number: :func:`findings_json` read back.

    The findings are worded once, as JSON, so the report dict and the JSON
    report cannot disagree; reading them back costs less than building the
    dicts did. Each call gives new dicts, so a writer that changes one
    report's findings leaves another report's alone.
    """
    arrays = findings_json(ev)
    if not arrays:
        return []
    with gc_paused():
        return _loads(b"[" + b",".join(arrays) + b"]")


# ------------------------------------------------------------------------------ county items


def _word_items(ev: Evaluation, found: _Found) -> None:
    """The county items of every county not met or not assessed, from the items' county columns.

    These columns are what each county's ``items`` results are made from
    (:meth:`Evaluation._counties`), so the findings are those its results
    would give, without visiting every item of every county.
    """
    from .assemble import STATUS_KEY

    m = ev.model
    items = [d for d in m.decls.values() if d.kind == "item"]
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
        parts: list[Part] = [
            _opening(kind="item", item=iid, label=label), b',"status":', fj.statuses(st[at]),
            b',"value":', fj.numbers(value), b',"required":', fj.numbers(required),
            b',"text_zh":', fj.strings(zh), b',"text_en":', fj.strings([en_of[s] for s in statuses]), b"}",
        ]  # fmt: skip
        found.add(parts, at.size, county=at, section=3, pos=np.zeros(at.size, dtype=np.int64), kind=k)


# ------------------------------------------------------------------------------ CVs


def _word_balance(ev: Evaluation, found: _Found) -> None:
    """Every county-stage CV not met or not assessed, in the order of the counties' ``balance``:
    by stage, then by indicator, from the same columns (:meth:`Evaluation.balance_columns`)."""
    fr = ev.frame
    labels = ev.model.decls
    members = ev.balance_columns()
    stage_at = np.asarray(fr.cs_stage)
    known = (stage_at >= 0) & (stage_at < len(STAGE_KEYS))
    for j, (ind, _, b) in enumerate(members):
        st = np.where(b["exempt"], int(Status.EXEMPT), b["status"])
        at = np.flatnonzero(known & ((st == _NOT_MET) | (st == 6)))
        if not at.size:
            continue
        label = labels[ind].label
        stages = [STAGE_KEYS[s] for s in stage_at[at].tolist()]
        cvs, limits = _floats(b["cv"][at]), _floats(b["limit"][at])
        zh, en = [], []
        for s, stage, cv, limit in zip(st[at].tolist(), stages, cvs, limits):
            if s == _NOT_MET:
                lim = _num_cached(limit)
                zh.append(f"{STAGE_ZH.get(stage, stage)}“{label}”校际差异系数 {cv:.3f}，超过 {lim}")
                en.append(f"{STAGE_EN.get(stage, stage)} {ind}: CV {cv:.3f} exceeds {lim}")
            else:
                zh.append(f"{STAGE_ZH.get(stage, stage)}“{label}”校际差异系数无法计算（均值为0或数据缺失），未评估")
                en.append(f"{STAGE_EN.get(stage, stage)} {ind}: CV cannot be computed (mean 0 or missing data), "
                          "not assessed")
        parts: list[Part] = [
            _opening(kind="balance", item=ind, label=label), b',"status":', fj.statuses(st[at]),
            b',"stage":', fj.strings(stages), b',"value":', fj.numbers(b["cv"][at]),
            b',"required":', fj.numbers(b["limit"][at]),
            b',"text_zh":', fj.strings(zh), b',"text_en":', fj.strings(en), b"}",
        ]  # fmt: skip
        found.add(parts, at.size, county=np.asarray(fr.cs_county)[at], section=2, pos=at * len(members) + j, kind=0)


# ------------------------------------------------------------------------------ rows and schools, all counties at once


def _word_rows(ev: Evaluation, found: _Found) -> None:
    """The findings of every row with a shortfall, for the rows concerned only.

    Made from the row columns, so no row object is built (a national report
    has tens of thousands of such rows, and a JSON report never shows them);
    the texts are those a row object would give, put together from columns
    like the rest of the finding. Within a row: its indicators, its data
    errors, then its row checks.
    """
    labels, _, rule, rule_label, _ = _context(ev)
    rc = ev.row_columns_base()
    fr = ev.frame
    rule_status = np.asarray(rc["rule_status"]).astype(np.int64)
    n_ind = len(rc["indicators"])

    # which rows each kind of finding is about: indicators not met or tolerated, rows whose data errors
    # kept the resource rule from being judged, row checks not met
    ind_at = []
    for ind in rc["indicators"]:
        fin = np.asarray(ind["final"])
        ind_at.append(np.flatnonzero((fin == _NOT_MET) | (fin == _TOLERATED)))
    errors = ev.issue_index()[2]
    data_at = np.asarray([i for i in np.flatnonzero(rule_status == 6).tolist() if errors.get(i)] if errors else [],
                         dtype=np.intp)
    check_at = [np.flatnonzero(ev.arr(ev.decl(d.name).final, "row") == _NOT_MET) for d, _ in rc["checks"]]

    # a finding starts with where it is: the school's name (or code) and the stage
    names, codes = rc["school_name"], rc["school_code"]
    stage_codes = np.asarray(fr.stage)
    stage_zh, stage_en = _StageWords(STAGE_ZH), _StageWords(STAGE_EN)

    def where(at: np.ndarray) -> tuple[list[Part], Part, Part, Part]:
        """The members naming the row, and the school and its stage in Chinese and in English."""
        il = at.tolist()
        stage = fj.categories(stage_codes[at], STAGE_KEYS)
        members = [b',"school_code":', fj.strings([codes[i] for i in il]),
                   b',"school_name":', fj.strings([names[i] for i in il]), b',"stage":', stage]  # fmt: skip
        keys = [*STAGE_KEYS, None]
        return (members, fj.contents([f"{names[i] or codes[i]}" for i in il]),
                fj.texts_table([f"（{stage_zh[k]}）" for k in keys], stage.codes),
                fj.texts_table([f" ({stage_en[k]})" for k in keys], stage.codes))

    def add(parts: list[Part], at: np.ndarray, kind: int) -> None:
        found.add(parts, at.size, county=np.asarray(fr.row_county)[at], section=0, pos=at, kind=kind)

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
        which = np.where(fin == _TOLERATED, 0, np.where(rule_status[at] == 1, 1, 2))
        members, who, in_zh, in_en = where(at)
        vt, qt, pct = _num_table(value), _num_table(required), _percent_table(ratio)
        add([_opening(kind="indicator", item=name, label=label), b',"status":', fj.statuses(fin), *members,
             b',"value":', fj.numbers(value), b',"required":', fj.numbers(required), b',"ratio":', fj.numbers(ratio),
             b',"rule":' + _json(rule),
             b',"text_zh":"', who, in_zh, _esc(f"{label} "), vt, _esc(f" {unit}，为要求（"), qt, _esc("）的"), pct,
             _esc("%"), fj.texts_table(suffix_zh, which),
             b'","text_en":"', who, in_en, _esc(f" {name} "), vt, _esc(f" {unit}, "), pct,
             _esc("% of the requirement ("), qt, _esc(")"), fj.texts_table(suffix_en, which), b'"}'], at, k)

    if data_at.size:
        members, who, in_zh, in_en = where(data_at)
        counts, back = np.unique([len(errors[i]) for i in data_at.tolist()], return_inverse=True)
        n_err = fj.texts_table([str(c) for c in counts.tolist()], back.reshape(-1))
        add([_opening(kind="data", item="row", label="数据有误", status="not_assessed"), *members,
             b',"text_zh":"', who, in_zh, _esc("数据有误，未能评估（"), n_err, _esc(" 处）"),
             b'","text_en":"', who, in_en, _esc(": data errors, not assessed ("), n_err, b')"}'], data_at, n_ind)

    for k, ((d, a), at) in enumerate(zip(rc["checks"], check_at), start=n_ind + 1):
        if not at.size:
            continue
        cid, label, unit = d.name, labels[d.name].label, labels[d.name].unit or ""
        fc = _FailedCheck(a, at, unit)
        members, who, in_zh, in_en = where(at)
        add([_opening(kind="check", item=cid, label=label or cid, status="not_met"), *members, *fc.figures(),
             b',"text_zh":"', who, in_zh, _esc(f"{label}"), fc.shown, fc.extra_zh,
             b'","text_en":"', who, in_en, _esc(f" {cid} "), fc.value_text, fc.extra_en, b'"}'], at, k)


def _word_schools(ev: Evaluation, found: _Found) -> None:
    """The findings of every school with a school check not met, worded from the school checks'
    columns for the schools concerned only, in school order."""
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
    for k, d in enumerate(checks):
        cid = d.name
        at = at_of[cid]
        if not at.size:
            continue
        label, unit = labels[cid].label, labels[cid].unit or ""
        fc = _FailedCheck(ev._check_arrays(d, "school"), at, unit)
        # context: unjudged checks about the same figures (design capacity beside school size), unless also not met
        context: list[Part] = []
        context_en: list[Part] = []
        for other in related.get(cid, ()):
            other_label = labels[other].label
            piece_zh = ["" if s == _NOT_MET else f"（{other_label}）" if s == 1
                        else f"（{other_label}：{_st_zh(STATUS_KEY[s])}）" for s in range(7) if s]
            piece_en = ["" if s == _NOT_MET else f"; {other}: {STATUS_KEY[s]}" for s in range(7) if s]
            theirs = np.asarray(status[other])[at].astype(np.int64) - 1
            context.append(fj.texts_table(piece_zh, theirs))
            context_en.append(fj.texts_table(piece_en, theirs))
        here = np.searchsorted(schools, at).tolist()
        parts: list[Part] = [
            _opening(kind="check", item=cid, label=label or cid, status="not_met"),
            b',"school_code":', fj.strings([code[j] for j in here]),
            b',"school_name":', fj.strings([name[j] or None for j in here]),
            b',"stage":null', *fc.figures(),
            b',"text_zh":"', fj.contents([f"{name[j] or code[j]}" for j in here]), _esc(f"{label}"), fc.shown,
            fc.extra_zh, *context,
            b'","text_en":"', fj.contents([f"{name[j] or code[j]} {cid}" for j in here]), fc.value_shown,
            fc.extra_en, *context_en, b'"}',
        ]  # fmt: skip
        found.add(parts, at.size, county=np.asarray(fr.school_county)[at], section=1, pos=at, kind=k)


class _FailedCheck:
    """A check's figures on the entities where it is not met, as columns: its results' value,
    requirement, ratio and excess (as :meth:`Evaluation._checks_at` gives them), and the words
    after the check's name (the figure, then how far over or under the requirement)."""

    def __init__(self, a: dict[str, Any], at: np.ndarray, unit: str) -> None:
        from .assemble import round_exact

        self._value, self._required = np.asarray(a["value"])[at], np.asarray(a["required"])[at]
        self._ratio = np.asarray(a["ratio"])[at]
        u, back = np.unique(self._value, return_inverse=True)
        back = back.reshape(-1)
        texts, missing = _num_texts(u), np.isnan(u).tolist()
        self.value_text = fj.texts_table(texts, back)  # "—" where there is no figure
        self.shown = fj.texts_table(["" if m else f" {t}{unit}" for t, m in zip(texts, missing)], back)
        self.value_shown = fj.texts_table(["" if m else f" {t}" for t, m in zip(texts, missing)], back)
        op = a["op"]
        # the excess over a maximum or the shortfall under a minimum, where both figures are known
        self._excess = round_exact(self._value - self._required) if op == "max" else None
        if op not in ("max", "min"):
            self.extra_zh: Part = _esc("，未达标")
            self.extra_en: Part = _esc(": not met")
            return
        gaps = self._excess if op == "max" else round_exact(self._required - self._value)
        gap, g_txt, q_txt = _floats(gaps), _num_texts(gaps), _num_texts(self._required)
        over = op == "max"
        zh_words = ("，超过指标", "（要求不超过") if over else ("，低于要求", "（要求不低于")
        en_words = " over the limit of " if over else " below the requirement of "
        self.extra_zh = fj.contents([f"{zh_words[0]}{g}{unit}{zh_words[1]}{q}{unit}）" if x is not None else "，未达标"
                                     for x, g, q in zip(gap, g_txt, q_txt)])
        self.extra_en = fj.contents([f", {g}{en_words}{q}" if x is not None else ": not met"
                                     for x, g, q in zip(gap, g_txt, q_txt)])

    def figures(self) -> list[Part]:
        """The finding's ``value``, ``required``, ``ratio`` and ``excess`` members."""
        excess: Part = fj.numbers(self._excess) if self._excess is not None else b"null"
        return [b',"value":', fj.numbers(self._value), b',"required":', fj.numbers(self._required),
                b',"ratio":', fj.numbers(self._ratio), b',"excess":', excess]  # fmt: skip


class _StageWords(dict):
    """A stage's name in a finding: the standard's name for a known stage, else the stage as it is
    (``None`` for a row whose stage is unknown), worked out once per stage."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names

    def __missing__(self, stage: str | None) -> str | None:
        self[stage] = word = self.names.get(stage or "", stage)
        return word


# ------------------------------------------------------------------------------ layout


def _json(value: Any) -> bytes:
    return fj._dumps(value).encode("utf-8")


def _esc(text: str) -> bytes:
    """``text`` as the inside of a JSON string."""
    return _json(text)[1:-1]


def _num_table(values: np.ndarray) -> fj._Lookup:
    """:func:`num` of each value as pieces of a JSON string, each distinct value written once."""
    u, back = np.unique(np.asarray(values, dtype=np.float64).reshape(-1), return_inverse=True)
    return fj.texts_table(_num_texts(u), back.reshape(-1))


def _percent_table(ratio: np.ndarray) -> fj._Lookup:
    """:func:`pct_floor` of each ratio ("None" where there is none) as pieces of a JSON string."""
    texts, back = _percents(ratio)
    return fj.texts_table(texts, back)


def _opening(**members: Any) -> bytes:
    """``{`` and the members every finding of a kind shares, as JSON, without the closing brace."""
    return _json(members)[:-1]


class _Found:
    """Findings laid out a kind at a time, then put in report order and joined per county.

    Each kind of finding is the parts of its JSON objects (:mod:`.fastjson`),
    laid out for all its findings at once. Each finding has a county, a
    section (rows, schools, CVs, county items), a position in that section (the
    row or school it is about) and a kind number (its place among that
    entity's findings): a county's report order is by section, position, kind.
    """

    def __init__(self, n_county: int) -> None:
        self.n_county = n_county
        self.objects: list[bytes] = []
        self.keys: list[np.ndarray] = []

    def add(self, parts: list[Part], n: int, *, county: np.ndarray, section: int, pos: np.ndarray, kind: int) -> None:
        self.objects += fj.JsonObjects(parts, n).each()
        c = np.asarray(county, dtype=np.int64)
        self.keys.append(np.stack([c, np.full(n, section), np.asarray(pos, dtype=np.int64), np.full(n, kind)]))

    def arrays(self) -> list[bytes]:
        """Each county's findings as a JSON array, by county number."""
        out = [b"[]"] * self.n_county
        if not self.objects:
            return out
        keys = np.concatenate(self.keys, axis=1)
        order = np.lexsort(keys[::-1])
        county = keys[0][order]
        ordered = list(map(self.objects.__getitem__, order.tolist()))
        cuts = (np.flatnonzero(county[1:] != county[:-1]) + 1).tolist()
        for c, a, b in zip(county[[0, *cuts]].tolist(), [0, *cuts], [*cuts, len(ordered)]):
            out[c] = b"[" + b",".join(ordered[a:b]) + b"]"
        return out


def _loads(data: bytes) -> Any:
    return _orjson.loads(data) if _orjson is not None else json.loads(data)


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


def _percents(ratio: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct :func:`pct_floor` texts of the ratios ("None" for NaN), and which one each ratio has.

    The same float operations as :func:`pct_floor` (times 100, plus the slack,
    rounded down), done by numpy for the whole column; each distinct percent
    is then written once."""
    r = np.asarray(ratio, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        floors = np.floor(r * 100 + 1e-7)
    u, back = np.unique(floors, return_inverse=True)
    return ["None" if f != f else str(int(f)) for f in u.tolist()], back.reshape(-1)


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
