"""Every shortfall in words, the way a county's self-evaluation states it.

For example: "博文小学（小学）生均教学及辅助用房面积 3.87 m²/生，为要求（4.5）
的86%，未100%达标，但符合“每所学校至少6项指标达到要求，余项不低于要求的
85%”条件". Percentages of a requirement are rounded *down*, so a report never
shows 85% for 84.9% or 100% for 99.6%.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from ..data.schema import STAGES

if TYPE_CHECKING:
    from .assemble import Evaluation

STAGE_ZH = {s.code: s.label for s in STAGES}
STAGE_EN = {"primary": "primary", "junior": "junior secondary", "kindergarten": "kindergarten"}


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
    m = ev.model
    code = county["county_code"]
    labels, _, _, _, related = _context(ev)
    num = _num_cached
    out: list[dict] = list(_row_findings(ev).get(code, ()))
    for s in ev._schools_by_county.get(code, []):
        name = s["school_name"] or s["school_code"]
        checks = s["checks"]
        failing = [k for k, c in checks.items() if c["status"] == "not_met"]
        for cid in failing:
            c, d = checks[cid], labels[cid]
            extra_zh, extra_en = _excess(c, d.unit)
            # context: unjudged checks about the same figures (design capacity beside school size)
            near = [k for k in related.get(cid, ()) if k in checks and k not in failing]
            ctx_zh = "".join(
                f"（{labels[k].label}）" if checks[k]["status"] == "met"
                else f"（未满足：{labels[k].label}）" if checks[k]["status"] == "not_met"
                else f"（{labels[k].label}：{_st_zh(checks[k]['status'])}）"
                for k in near
            )
            ctx_en = "".join(f"; {k}: {checks[k]['status']}" for k in near)
            shown = "" if c["value"] is None else f" {num(c['value'])}{d.unit or ''}"
            out.append(_check_finding(cid, c, s, f"{name}{d.label}{shown}{extra_zh}{ctx_zh}",
                                      f"{name} {cid}{'' if c['value'] is None else ' ' + num(c['value'])}{extra_en}{ctx_en}",
                                      d.label))
    for stage, inds in county["balance"].items():
        for ind, b in inds.items():
            if b["status"] in ("not_met", "not_assessed"):
                d = labels[ind]
                if b["status"] == "not_met":
                    zh = f"{STAGE_ZH.get(stage, stage)}“{d.label}”校际差异系数 {b['cv']:.3f}，超过 {num(b['limit'])}"
                    en = f"{STAGE_EN.get(stage, stage)} {ind}: CV {b['cv']:.3f} exceeds {num(b['limit'])}"
                else:
                    zh = f"{STAGE_ZH.get(stage, stage)}“{d.label}”校际差异系数无法计算（均值为0或数据缺失），未评估"
                    en = f"{STAGE_EN.get(stage, stage)} {ind}: CV cannot be computed (mean 0 or missing data), not assessed"
                out.append({"kind": "balance", "item": ind, "label": d.label, "status": b["status"], "stage": stage,
                            "value": b["cv"], "required": b["limit"], "text_zh": zh, "text_en": en})
    for iid, it in county["items"].items():
        if it["status"] not in ("not_met", "not_assessed"):
            continue
        d = labels[iid]
        part = m.parts.get(d.part.name, d.part.name) if d.part else ""
        if it["status"] == "not_assessed":
            zh, en = f"{part}“{d.label}”未评估（无数据）", f"{iid}: not assessed (no data)"
        elif d.part is not None and d.part.name == "veto":
            zh, en = f"一票否决：{d.label}", f"veto: {iid} applies"
        else:
            vals = ""
            if it["value"] is not None and it["required"] is not None:
                vals = f"（{_fmt_val(it['value'], d, m)}，要求 {_fmt_val(it['required'], d, m)}）"
            zh, en = f"{part}“{d.label}”未达标{vals}", f"{iid}: not met"
        out.append({"kind": "item", "item": iid, "label": d.label, "status": it["status"], "value": it["value"],
                    "required": it["required"], "text_zh": zh, "text_en": en})
    return out


def _row_findings(ev: Evaluation) -> dict[str, list[dict]]:
    """The findings of every row with a shortfall, by county code, each county's in row order.

    Made from the row columns for the rows concerned only, so no row object is
    built (a national report has tens of thousands of such rows, and a JSON
    report never shows them); the texts are those a row object would give.
    """
    memo = ev.__dict__.get("_row_findings")
    if memo is not None:
        return memo
    from .assemble import STATUS_KEY, _floats

    labels, _, rule, rule_label, _ = _context(ev)
    num = _num_cached
    rc = ev.row_columns()
    idx = ev.notable_rows()
    il = idx.tolist()
    inds = []  # per indicator with a shortfall on some row: its columns on the notable rows
    for ind in rc["indicators"]:
        fin = np.asarray(ind["final"])[idx].astype(np.int64)
        if not np.isin(fin, (2, 3)).any():
            continue
        inds.append((ind["name"], labels[ind["name"]], fin.tolist(), _floats(np.asarray(ind["value"])[idx]),
                     _floats(np.asarray(ind["required"])[idx]), _floats(np.asarray(ind["ratio"])[idx])))
    checks = []  # per row check: the results of the notable rows where it is not met, by position
    for d, a in rc["checks"]:
        st = np.asarray(a["status"])[idx] if len(il) else np.zeros(0, dtype=np.int64)
        at = np.flatnonzero(st == 2).tolist()
        if at:
            checks.append((d, dict(zip(at, ev._checks_at(d, a, [il[j] for j in at])))))
    rule_status = np.asarray(rc["rule_status"])[idx].astype(np.int64).tolist()
    errors = getattr(ev, "issues_by_row", None) or {}
    names, codes, stages, counties = rc["school_name"], rc["school_code"], rc["stage"], rc["county_code"]
    out: dict[str, list[dict]] = {}
    for j, i in enumerate(il):
        r = {"school_code": codes[i], "school_name": names[i], "stage": stages[i]}
        stage = r["stage"]
        where = f"{r['school_name'] or r['school_code']}（{STAGE_ZH.get(stage or '', stage)}）"
        where_en = f"{r['school_name'] or r['school_code']} ({STAGE_EN.get(stage or '', stage)})"
        found = out.setdefault(counties[i], [])
        for ind, d, fin, values, reqs, ratios in inds:
            s = fin[j]
            if s != 2 and s != 3:
                continue
            value, req, ratio = values[j], reqs[j], ratios[j]
            unit = d.unit or ""
            p = pct_floor(ratio) if ratio is not None else None
            base_zh = f"{where}{d.label} {num(value)} {unit}，为要求（{num(req)}）的{p}%"
            base_en = f"{where_en} {ind} {num(value)} {unit}, {p}% of the requirement ({num(req)})"
            if s == 3:
                zh = f"{base_zh}，未100%达标，但符合“{rule_label}”条件"
                en = f"{base_en}: not fully met, but within the rule '{rule}'"
            else:
                passes = rule_status[j] == 1
                zh = base_zh + ("，未达标" + ("" if passes else f"，不符合“{rule_label}”条件"))
                en = base_en + (": not met" + ("" if passes else f", and the rule '{rule}' is not satisfied"))
            found.append(
                {
                    "kind": "indicator",
                    "item": ind,
                    "label": d.label,
                    "status": STATUS_KEY[s],
                    "school_code": r["school_code"],
                    "school_name": r["school_name"],
                    "stage": stage,
                    "value": value,
                    "required": req,
                    "ratio": ratio,
                    "rule": rule,
                    "text_zh": zh,
                    "text_en": en,
                }
            )
        errs = errors.get(i)
        if rule_status[j] == 6 and errs:
            found.append(_simple("data", "row", "数据有误", "not_assessed", r,
                                 f"{where}数据有误，未能评估（{len(errs)} 处）",
                                 f"{where_en}: data errors, not assessed ({len(errs)})"))
        for d, at in checks:
            c = at.get(j)
            if c is None:
                continue
            cid = d.name
            label = labels[cid].label
            extra_zh, extra_en = _excess(c, labels[cid].unit)
            shown = "" if c["value"] is None else f" {num(c['value'])}{labels[cid].unit or ''}"
            found.append(_check_finding(cid, c, r, f"{where}{label}{shown}{extra_zh}",
                                        f"{where_en} {cid} {num(c['value'])}{extra_en}", label))
    ev.__dict__["_row_findings"] = out
    return out


def _fmt_val(v: float, d, model=None) -> str:
    if d.value is not None and _is_percent(d, model):
        return f"{v * 100:.4g}%"
    return num(v) + (d.unit or "")


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

