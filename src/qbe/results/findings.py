"""Every shortfall in words, the way a county's self-evaluation states it.

For example: "博文小学（小学）生均教学及辅助用房面积 3.87 m²/生，为要求（4.5）
的86%，未100%达标，但符合“每所学校至少6项指标达到要求，余项不低于要求的
85%”条件". Percentages of a requirement are rounded *down*, so a report never
shows 85% for 84.9% or 100% for 99.6%.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

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


#: Texts :func:`num` gave, by value; bounded, since values of a national report are mostly distinct.
_NUM_MEMO: dict[float | None, str] = {}


def _num_cached(x: float | None) -> str:
    """:func:`num`, remembered: a national report formats the same requirements tens of thousands of times."""
    text = _NUM_MEMO.get(x)
    if text is None:
        if len(_NUM_MEMO) > 100_000:
            _NUM_MEMO.clear()
        text = _NUM_MEMO[x] = num(x)
    return text


def _context(ev: Evaluation) -> tuple[dict, frozenset | set, str | None, str]:
    """What every county's findings share (labels, the resource rule), worked out once per evaluation."""
    ctx = ev.__dict__.get("_findings_context")
    if ctx is None:
        m = ev.model
        labels = {d.name: d for d in m.decls.values()}
        rule = ev.resource_rule()
        ctx = (labels, m.referenced, rule, labels[rule].label if rule else "")
        ev.__dict__["_findings_context"] = ctx
    return ctx


def county_findings(ev: Evaluation, county: dict) -> list[dict]:
    m = ev.model
    code = county["county_code"]
    out: list[dict] = []
    labels, referenced, rule, rule_label = _context(ev)
    num = _num_cached
    rows = ev._rows_by_county.get(code, [])
    for r in rows:
        where = f"{r['school_name'] or r['school_code']}（{STAGE_ZH.get(r['stage'] or '', r['stage'])}）"
        where_en = f"{r['school_name'] or r['school_code']} ({STAGE_EN.get(r['stage'] or '', r['stage'])})"
        for ind, res in r["indicators"].items():
            if res["status"] not in ("not_met", "tolerated"):
                continue
            d = labels[ind]
            unit = d.unit or ""
            p = pct_floor(res["ratio"]) if res["ratio"] is not None else None
            base_zh = f"{where}{d.label} {num(res['value'])} {unit}，为要求（{num(res['required'])}）的{p}%"
            base_en = f"{where_en} {ind} {num(res['value'])} {unit}, {p}% of the requirement ({num(res['required'])})"
            if res["status"] == "tolerated":
                zh = f"{base_zh}，未100%达标，但符合“{rule_label}”条件"
                en = f"{base_en}: not fully met, but within the rule '{rule}'"
            else:
                passes = r["status"] == "met"
                zh = base_zh + ("，未达标" + ("" if passes else f"，不符合“{rule_label}”条件"))
                en = base_en + (": not met" + ("" if passes else f", and the rule '{rule}' is not satisfied"))
            out.append(
                {
                    "kind": "indicator",
                    "item": ind,
                    "label": d.label,
                    "status": res["status"],
                    "school_code": r["school_code"],
                    "school_name": r["school_name"],
                    "stage": r["stage"],
                    "value": res["value"],
                    "required": res["required"],
                    "ratio": res["ratio"],
                    "rule": rule,
                    "text_zh": zh,
                    "text_en": en,
                }
            )
        if r["status"] == "not_assessed" and r["errors"]:
            out.append(_simple("data", "row", "数据有误", "not_assessed", r,
                               f"{where}数据有误，未能评估（{len(r['errors'])} 处）",
                               f"{where_en}: data errors, not assessed ({len(r['errors'])})"))
        for cid, c in r["checks"].items():
            if c["status"] == "not_met":
                d = labels[cid]
                extra_zh, extra_en = _excess(c, d.unit)
                shown = "" if c["value"] is None else f" {num(c['value'])}{d.unit or ''}"
                out.append(_check_finding(cid, {**c, "label": d.label}, r, f"{where}{d.label}{shown}{extra_zh}",
                                          f"{where_en} {cid} {num(c['value'])}{extra_en}"))
    for s in ev._schools_by_county.get(code, []):
        name = s["school_name"] or s["school_code"]
        failing = [k for k, c in s["checks"].items() if c["status"] == "not_met"]
        context = [k for k, c in s["checks"].items() if k not in failing and k not in referenced]
        used = m.fields_read
        for cid in failing:
            c, d = s["checks"][cid], labels[cid]
            extra_zh, extra_en = _excess(c, d.unit)
            # context: unjudged checks about the same figures (design capacity beside school size)
            near = [k for k in context if used[k] & used[cid]]
            ctx_zh = "".join(
                f"（{labels[k].label}）" if s["checks"][k]["status"] == "met"
                else f"（未满足：{labels[k].label}）" if s["checks"][k]["status"] == "not_met"
                else f"（{labels[k].label}：{_st_zh(s['checks'][k]['status'])}）"
                for k in near
            )
            ctx_en = "".join(f"; {k}: {s['checks'][k]['status']}" for k in near)
            shown = "" if c["value"] is None else f" {num(c['value'])}{d.unit or ''}"
            out.append(_check_finding(cid, {**c, "label": d.label}, s, f"{name}{d.label}{shown}{extra_zh}{ctx_zh}",
                                      f"{name} {cid}{'' if c['value'] is None else ' ' + num(c['value'])}{extra_en}{ctx_en}"))
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
    if c.get("excess") is not None:
        return f"，超过指标{num(c['excess'])}{u}（要求不超过{num(c['required'])}{u}）", f", {num(c['excess'])} over the limit of {num(c['required'])}"
    if c.get("shortfall") is not None:
        return f"，低于要求{num(c['shortfall'])}{u}（要求不低于{num(c['required'])}{u}）", f", {num(c['shortfall'])} below the requirement of {num(c['required'])}"
    return "，未达标", ": not met"


def _check_finding(cid: str, c: dict, where: dict, zh: str, en: str) -> dict:
    return {
        "kind": "check",
        "item": cid,
        "label": c.get("label") or cid,
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

