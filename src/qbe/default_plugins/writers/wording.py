"""Shared wording of results for the text writers (terminal, Markdown).

The summary sentence follows the self-evaluation style: "尚有二项指标未全面
达标：一是……；二是……。其余指标全面达标。" Findings are grouped by the item
they belong to, a school check under the county item that uses it.
"""

from __future__ import annotations

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
