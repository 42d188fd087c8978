"""Shared wording of results for the text writers (terminal, Markdown).

The summary sentence follows the self-evaluation style: "尚有二项指标未全面
达标：一是……；二是……。其余指标全面达标。" Findings are grouped by the item
they belong to, a school check under the county item that uses it.
"""

from __future__ import annotations

import math

from ...results.findings import STAGE_ZH, num, pct_floor

ORDINALS = "一二三四五六七八九十"
STATUS_ZH = {"met": "达标", "not_met": "未达标", "tolerated": "容许", "exempt": "豁免",
             "not_applicable": "不适用", "not_assessed": "未评估"}
STATUS_EN = {"met": "met", "not_met": "NOT MET", "tolerated": "tolerated", "exempt": "exempt",
             "not_applicable": "n/a", "not_assessed": "not assessed"}


def ordinal(i: int) -> str:
    """一, 二 … 十, 十一 … 九十九 for the (0-based) i-th point."""
    return count_zh(i + 1)


def count_zh(n: int) -> str:
    """A count in Chinese numerals (1–99; larger numbers in digits)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else ORDINALS[tens - 1] + "十")
    return head + (ORDINALS[ones - 1] if ones else "")


def summary_zh(model, county: dict) -> list[str]:
    """The 'not fully met' sentence parts, one per item with findings."""
    labels = model.decls
    parts = model.parts
    owner = model.check_owners
    groups: dict[str, list[dict]] = {}
    order: list[str] = []
    for f in county["findings"]:
        key = owner.get(f["item"], f["item"]) if f["kind"] == "check" else f["item"]
        if f["kind"] == "balance":
            key = f"__cv__{f['item']}"  # a CV shortfall is its own point, not folded into the schools
        if f["kind"] == "data":
            key = "__data__"
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(f)
    sentences = []
    for key in order:
        fs = groups[key]
        if key == "__data__":
            sentences.append(f"{len(fs)} 所学校（学段）数据有误，未能评估")
            continue
        if key.startswith("__cv__"):
            sentences.append("；".join(f["text_zh"] for f in fs))
            continue
        d = labels.get(key)
        part = parts.get(d.part.name, "") if d is not None and d.part is not None else ""
        label = d.label if d is not None else key
        head = f"“{part}”中“{label}”指标" if part else f"“{label}”"
        ind = [f for f in fs if f["kind"] == "indicator"]
        if ind:
            pieces = []
            for group in ([f for f in ind if f["status"] == "tolerated"], [f for f in ind if f["status"] != "tolerated"]):
                if not group:
                    continue
                names = "、".join(f"{f['school_name'] or f['school_code']}"
                                 + (f"（{STAGE_ZH.get(f['stage'], '')}）" if _two_stages(fs, f) else "") for f in group)
                pcts = "、".join(f"{pct_floor(f['ratio'])}%" for f in group if f["ratio"] is not None)
                each = "分别" if len(group) > 1 else ""
                piece = f"{names}{each}达到指标的{pcts}，未100%达标"
                rule = group[0].get("rule")
                if rule:
                    ok = group[0]["status"] == "tolerated"
                    piece += f"，{'但符合' if ok else '不符合'}“{labels[rule].label}”条件"
                pieces.append(piece)
            sentences.append(f"{head}，" + "；".join(pieces))
            continue
        checks = [f for f in fs if f["kind"] == "check"]
        if checks:
            detail = "；".join(f["text_zh"] for f in checks)
            sentences.append(f"{head}：{detail}")
            continue
        sentences.append("；".join(f["text_zh"] for f in fs))
    return sentences


def _two_stages(fs: list[dict], f: dict) -> bool:
    return sum(1 for g in fs if g.get("school_code") == f.get("school_code")) > 1


def verdict_line_zh(county: dict, model=None) -> str:
    """The verdict in words: its grade if graded, else the verdict's own label and status."""
    v = county["verdict"]
    grade = next((g for g in county.get("grades", {}).values() if g), None)
    if grade:
        return grade
    label = None
    if model is not None:
        verdicts = [d for d in model.decls.values() if d.kind == "verdict"]
        label = verdicts[-1].label if verdicts else None
    word = {"met": "达标", "not_met": "未达标", "not_assessed": "尚不能作出结论（部分项目未评估）"}.get(v, STATUS_ZH.get(v, v))
    return f"{label}：{word}" if label else word


def fmt_item_value(v, d, model=None) -> str:
    """A county item's value or requirement with its unit; percentages as percentages."""
    if v is None:
        return "—"
    from ...language import ast

    pct = d is not None and d.requires and any(isinstance(r.threshold, ast.Pct) for r in d.requires)
    if model is not None and d is not None and model.types.get(d.name) is not None:
        pct = pct or model.types[d.name].percent
    if pct:
        return f"{v * 100:.4g}%"
    unit = (d.unit or "") if d is not None else ""
    return num(v) + unit


def field_label(m, name: str) -> str:
    """The Chinese label of an input field (its name if unknown)."""
    return m.fields[name].label if name in m.fields else name


def fmt_input(m, name: str, v) -> str:
    """An input figure as a report shows it: percentages as percentages."""
    if v is None:
        return "—"
    spec = m.fields.get(name)
    if spec is not None and spec.type.value == "percent":
        return f"{v * 100:.4g}%"
    return num(v)


# ---------------------------------------------------------------------- 整改清单 (remediation list)


def amount_text(m, name: str | None, amount: float) -> str:
    """An amount to add, as a report prints it: whole units for counts, else rounded *up* to 0.01.

    Rounding up keeps the printed figure sufficient: 249.501 m² prints as
    249.51, never as 249.5, which would fall short.
    """
    spec = m.fields.get(name) if name else None
    if spec is not None and spec.type.value == "count":
        return f"{int(round(amount)):,}"
    if spec is not None and spec.type.value == "percent":
        return f"{math.ceil(amount * 10000 - 1e-6) / 100:g}%"
    v = math.ceil(amount * 100 - 1e-6) / 100
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def _remedy_amount(m, remedy: dict | None) -> tuple[str, str] | None:
    """The input and its amount with unit ("3 人", "250 m²", "2.5%"), or None when not derivable."""
    if not remedy or remedy.get("input") is None or remedy.get("amount") is None:
        return None
    name = remedy["input"]
    spec = m.fields.get(name)
    unit = f" {spec.unit}" if spec is not None and spec.unit and spec.type.value != "percent" else ""
    return name, f"{amount_text(m, name, remedy['amount'])}{unit}"


def remedy_zh(m, remedy: dict | None) -> str:
    """“县级及以上骨干教师数增加 3 人”, or 无法直接推算 where the formula gives no single amount."""
    got = _remedy_amount(m, remedy)
    return "无法直接推算" if got is None else f"{field_label(m, got[0])}增加 {got[1]}"


def remedy_en(m, remedy: dict | None) -> str:
    """'+3 人 backbone_teachers', or 'not derivable'."""
    got = _remedy_amount(m, remedy)
    return "not derivable" if got is None else f"+{got[1]} {got[0]}"


def cv_remedy_zh(m, stage: str, ind: str, b: dict) -> str:
    """One CV over its limit in words: who weighs most, and what raising the lowest schools to the mean does."""
    r = b["remedy"]
    label = m.decls[ind].label if ind in m.decls else ind
    who = "、".join(f"{c['school_name'] or c['school_code']}（{num(c['value'])}，占 {_pct(c['share'])}）"
                   for c in r["contributors"])
    out = (f"{STAGE_ZH.get(stage, stage)}“{label}”差异系数 {_cv(b['cv'])}，超过限值 {num(b['limit'])}；"
           f"影响最大的学校：{who}。")
    out += (f"若将低于县域均值（{num(b['mean'])}）的 {r['below_mean']} 所学校都提高到均值，"
            f"差异系数为 {_cv(r['cv_if_raised'])}")
    if r["raise_lowest"] is not None:
        out += f"；只需将最低的 {r['raise_lowest']} 所学校提高到均值，差异系数即降为 {_cv(r['cv_after'])}，达到限值。"
    else:
        out += "，仍超过限值，还须缩小高于均值学校与其他学校的差距。"
    return out


def cv_remedy_en(m, stage: str, ind: str, b: dict) -> str:
    r = b["remedy"]
    who = ", ".join(f"{c['school_code']} ({num(c['value'])}, {_pct(c['share'])})" for c in r["contributors"])
    out = (f"{stage} {ind}: CV {_cv(b['cv'])} over the limit {num(b['limit'])}; largest contributors: {who}. "
           f"Raising all {r['below_mean']} schools below the mean ({num(b['mean'])}) to it gives CV {_cv(r['cv_if_raised'])}")
    if r["raise_lowest"] is not None:
        out += f"; raising the lowest {r['raise_lowest']} is enough (CV {_cv(r['cv_after'])})."
    else:
        out += ", still over the limit."
    return out


def remediation(m, county: dict, rows: list[dict]) -> dict:
    """A county's remediation list: unmet indicators per school-stage row, then CVs over their limits.

    ``rows`` are the county's notable row objects (``Evaluation.notable_by_county``).
    """
    schools = []
    for r in rows:
        for ind, v in r["indicators"].items():
            if v["status"] != "not_met" or "remedy" not in v:
                continue
            d = m.decls[ind]
            schools.append({
                "row": r["row"],
                "school_code": r["school_code"],
                "school": r["school_name"] or r["school_code"],
                "stage": STAGE_ZH.get(r["stage"] or "", r["stage"] or ""),
                "stage_key": r["stage"],
                "item": ind,
                "label": d.label,
                "value": "—" if v["value"] is None else f"{num(v['value'])} {d.unit or ''}".strip(),
                "required": num(v["required"]),
                "remedy": v["remedy"],
                "action_zh": remedy_zh(m, v["remedy"]),
                "action_en": remedy_en(m, v["remedy"]),
            })
    cvs = []
    for stage, per in county["balance"].items():
        for ind, b in per.items():
            if b.get("remedy"):
                cvs.append({"stage": stage, "item": ind, "text_zh": cv_remedy_zh(m, stage, ind, b),
                            "text_en": cv_remedy_en(m, stage, ind, b), "balance": b})
    return {"schools": schools, "cvs": cvs}


def _pct(share) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def _cv(v) -> str:
    return "—" if v is None else f"{v:.3f}"
