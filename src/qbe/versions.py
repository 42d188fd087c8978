"""Looking at standards as versions: the resolved standard (``qbe show``) and
what changed between two (``qbe diff``).

Both work on checked models, so an item's formula and thresholds are shown as
the ruleset states them (the source text), with yearly values expanded and
the file and line each item comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from .language import ast
from .semantics.model import Model, decl_level

LEVEL_ZH = {"row": "每校每学段", "school": "每所学校", "cs": "每县每学段", "county": "每个县"}


def text_of(model: Model, node) -> str:
    """The source text of an expression, as written in its file."""
    span = getattr(node, "span", None)
    if span is None:
        return ""
    src = model.sources.get(span.file)
    if src is None or span.end_line is None:
        return ""
    lines = src.splitlines()
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts += lines[span.line : span.end_line - 1]
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return " ".join(p.strip() for p in parts)


def _short(span) -> str:
    return f"{span.file.rsplit('/', 1)[-1]}:{span.line}" if span else "?"


def param_text(model: Model, name: str) -> str:
    p = model.params[name]
    return "; ".join(f"{v.key}: {v.text}" for v in sorted(p.values, key=lambda v: v.start))


def requirement_texts(model: Model, d: ast.Decl) -> dict[str, str]:
    """Stage (or "all") → "op threshold" with yearly values expanded."""
    out = {}
    for r in d.requires:
        thr = text_of(model, r.threshold)
        if isinstance(r.threshold, ast.Name) and r.threshold.name in model.params:
            thr = f"{thr} ({param_text(model, r.threshold.name)})"
        out[r.stage or "all"] = f"{r.op} {thr}"
    return out


@dataclass
class ItemView:
    name: str
    kind: str
    label: str
    level: str
    part: str | None
    value: str
    requires: dict[str, str]
    check: str
    when: str
    applies: str
    exempt: list[str]
    tolerate: list[str]
    source: str
    origin: list[str]
    note: str = ""


def items(model: Model) -> dict[str, ItemView]:
    out = {}
    for d in model.decls.values():
        prov = model.provenance.get(d.name, ())
        origin = [f"{action} {_short(span)}" + (f" — {src}" if src else "") for action, span, src in prov]
        out[d.name] = ItemView(
            name=d.name,
            kind=d.kind,
            label=d.label,
            level=decl_level(d),
            part=d.part.name if d.part else None,
            value=text_of(model, d.value) if d.value is not None else "",
            requires=requirement_texts(model, d),
            check=text_of(model, d.check) if d.check is not None else "",
            when=text_of(model, d.when) if d.when is not None else "",
            applies=text_of(model, d.applies) if d.applies is not None else "",
            exempt=[f"{text_of(model, c)} — {reason}" for c, reason in d.exempt],
            tolerate=[f"{text_of(model, c)} — {reason}" for c, reason in d.tolerate],
            source=(d.source or "") + (f" [{d.source_tag}]" if d.source_tag else ""),
            origin=origin or [f"declared {_short(d.name_span)}"],
            note=d.note or "",
        )
    return out


def show(model: Model, markdown: bool = False) -> str:
    """The resolved standard: every input, value and item, and where each comes from."""
    s = model.standard
    h = "## " if markdown else ""
    lines = [f"{'# ' if markdown else ''}{s.id} — {s.title or ''}", ""]
    lines.append(f"version {s.version}; source {s.source or '—'}; effective {s.effective or '—'}")
    chain = [f.rsplit("/", 1)[-1] for f in model.sources]
    lines.append(f"files: {' → '.join(chain)}")
    if s.years:
        lines.append(f"years covered: {s.years[0]}–{s.years[1]}")
    lines.append("stages: " + ", ".join(f"{st.name} {st.label}" for st in model.stages))
    lines.append("")
    if model.params:
        lines.append(f"{h}按年度取值 / values by year")
        for name, p in model.params.items():
            lines.append(f"  {name} {p.label}")
            for v in sorted(p.values, key=lambda v: v.start):
                lines.append(f"    {v.key}: {v.text}" + (f"    ({v.source}{' [' + v.source_tag + ']' if v.source_tag else ''})" if v.source else "")
                             + f"    {_short(v.span)}")
        lines.append("")
    views = items(model)
    by_part: dict[str, list[ItemView]] = {}
    for v in views.values():
        by_part.setdefault(v.part or "", []).append(v)
    for part, vs in by_part.items():
        title = model.parts.get(part, part) if part else "其他 / other"
        lines.append(f"{h}{title}" + (f" ({part})" if part else ""))
        for v in vs:
            lines.append(f"  {v.name} [{v.kind}, {LEVEL_ZH[v.level]}] {v.label}")
            if v.value:
                lines.append(f"      value    = {v.value}")
            for stage, req in v.requires.items():
                lines.append(f"      require  {stage}: {req}")
            for key in ("check", "when", "applies"):
                if getattr(v, key):
                    lines.append(f"      {key:<8} {getattr(v, key)}")
            for e in v.exempt:
                lines.append(f"      exempt   when {e}")
            for e in v.tolerate:
                lines.append(f"      tolerate when {e}")
            if v.source:
                lines.append(f"      source   {v.source}")
            if v.note:
                lines.append(f"      note     {v.note}")
            for o in v.origin:
                lines.append(f"      from     {o}")
        lines.append("")
    fields = [f for f in model.fields.values()]
    lines.append(f"{h}输入 / inputs")
    for f in fields:
        prov = model.provenance.get(f.name)
        where = f"  ({_short(prov[-1][1])})" if prov else ""
        lines.append(f"  {f.level.value:<7} {f.name} {f.type.value} {f.label}" + (f" [{f.unit}]" if f.unit else "")
                     + (" optional" if f.optional else "") + where)
    return "\n".join(lines) + "\n"


@dataclass
class Change:
    item: str
    what: str
    old: str
    new: str


def diff(a: Model, b: Model) -> dict:
    """Items and inputs added, removed and changed from ``a`` to ``b``."""
    va, vb = items(a), items(b)
    added = [vb[n] for n in vb if n not in va]
    removed = [va[n] for n in va if n not in vb]
    changed: list[Change] = []
    for n in va:
        if n not in vb:
            continue
        x, y = va[n], vb[n]
        for attr in ("label", "kind", "part", "value", "check", "when", "applies", "source"):
            if getattr(x, attr) != getattr(y, attr):
                changed.append(Change(n, attr, str(getattr(x, attr) or "—"), str(getattr(y, attr) or "—")))
        for stage in sorted(set(x.requires) | set(y.requires)):
            old, new = x.requires.get(stage, "—"), y.requires.get(stage, "—")
            if old != new:
                changed.append(Change(n, f"require {stage}", old, new))
        for attr in ("exempt", "tolerate"):
            if getattr(x, attr) != getattr(y, attr):
                changed.append(Change(n, attr, "; ".join(getattr(x, attr)) or "—", "; ".join(getattr(y, attr)) or "—"))
    for n in sorted(set(a.lets) | set(b.lets)):
        old = text_of(a, a.lets[n].expr) if n in a.lets else "—"
        new = text_of(b, b.lets[n].expr) if n in b.lets else "—"
        if old != new:
            prov = b.provenance.get(n, ())
            src = next((x[2] for x in reversed(prov) if x[2]), None)
            changed.append(Change(n, "let (formula)", old, new + (f"  ({src})" if src else "")))
    fa, fb = a.fields, b.fields
    inputs_added = [f for n, f in fb.items() if n not in fa]
    inputs_removed = [f for n, f in fa.items() if n not in fb]
    params = []
    for n in sorted(set(a.params) | set(b.params)):
        old = param_text(a, n) if n in a.params else "—"
        new = param_text(b, n) if n in b.params else "—"
        if old != new:
            params.append(Change(n, "values by year", old, new))
    return {"added": added, "removed": removed, "changed": changed, "inputs_added": inputs_added,
            "inputs_removed": inputs_removed, "params": params}


def diff_text(a: Model, b: Model, markdown: bool = False) -> str:
    d = diff(a, b)
    out = []
    if markdown:
        out += [f"# {a.id} → {b.id}", ""]
        out += [f"## 新增 / added ({len(d['added'])})", ""]
        out += [f"- `{v.name}` {v.label}" + (f" — {v.source}" if v.source else "") for v in d["added"]] or ["（无 / none）"]
        out += ["", f"## 删除 / removed ({len(d['removed'])})", ""]
        out += [f"- `{v.name}` {v.label}" for v in d["removed"]] or ["（无 / none）"]
        out += ["", f"## 修改 / changed ({len(d['changed'])})", "", "| 项目 item | 内容 what | 原 old | 新 new |", "|---|---|---|---|"]
        out += [f"| `{c.item}` | {c.what} | {_cell(c.old)} | {_cell(c.new)} |" for c in d["changed"]]
        if d["params"]:
            out += ["", "## 按年度取值 / values by year", "", "| 名称 name | 原 old | 新 new |", "|---|---|---|"]
            out += [f"| `{c.item}` | {_cell(c.old)} | {_cell(c.new)} |" for c in d["params"]]
        if d["inputs_added"] or d["inputs_removed"]:
            out += ["", "## 输入 / inputs", ""]
            out += [f"- 新增 added `{f.name}` {f.label}" for f in d["inputs_added"]]
            out += [f"- 删除 removed `{f.name}` {f.label}" for f in d["inputs_removed"]]
        return "\n".join(out) + "\n"
    out.append(f"{a.id} → {b.id}")
    for v in d["added"]:
        out.append(f"+ {v.name}  {v.label}" + (f"  ({v.source})" if v.source else ""))
    for v in d["removed"]:
        out.append(f"- {v.name}  {v.label}")
    for c in d["changed"]:
        out.append(f"~ {c.item}  {c.what}: {c.old}  →  {c.new}")
    for c in d["params"]:
        out.append(f"~ {c.item}  {c.what}: {c.old}  →  {c.new}")
    for f in d["inputs_added"]:
        out.append(f"+ input {f.name}  {f.label}")
    for f in d["inputs_removed"]:
        out.append(f"- input {f.name}  {f.label}")
    if len(out) == 1:
        out.append("（无差异 / no differences）")
    return "\n".join(out) + "\n"


def _cell(s: str) -> str:
    return s.replace("|", "｜").replace("\n", " ")
