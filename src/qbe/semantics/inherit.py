"""Resolve a standard that extends another into one ruleset.

A provincial file says only what differs: ``standard hebei-2017 extends
national-2017 { … }`` followed by ``override``, ``remove`` and new
declarations. This module loads the chain (A → B → C), applies each file's
changes to what it inherits, and records for every item which file and line
declared it and which overrode it (``qbe show`` prints that). Overriding or
removing something that does not exist, an override without a source, an
unknown or circular parent: each is a diagnostic at its location.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticBag, Span
from ..errors import RulesetError
from ..language import ast
from ..language.reading import MAX_EXTENDS, MAX_FILE_BYTES, parse_file

#: clause key → the Decl attributes it sets
CLAUSE_ATTRS = {
    "value": ("value",),
    "requires": ("requires",),
    "check": ("check",),
    "when": ("when",),
    "unit": ("unit",),
    "source": ("source", "source_tag"),
    "applies": ("applies",),
    "part": ("part",),
    "info": ("info",),
    "note": ("note",),
    "indicators": ("indicators",),
    "weight": ("weight",),
    "composite": ("composite",),
    "exempt": ("exempt",),
    "tolerate": ("tolerate",),
    "score_weight": ("score_weight",),
    "grades": ("grades",),
}

Finder = Callable[[str], "Path | None"]


def load_standard(path: str | Path, find: Finder, known: Callable[[], list[str]] | None = None) -> ast.Ruleset:
    """Parse ``path`` and everything it extends; raises :class:`RulesetError` with every problem."""
    bag = DiagnosticBag()
    sources: dict[str, str] = {}
    rs = _load(Path(path), find, known, bag, sources, ())
    if rs is None or bag.has_errors:
        raise RulesetError(bag.sorted(), sources)
    return rs


def _load(path, find, known, bag: DiagnosticBag, sources: dict[str, str], chain: tuple[str, ...]) -> ast.Ruleset | None:
    try:
        rs = parse_file(path)
    except RulesetError as e:
        bag.items.extend(e.diagnostics)
        sources.update(e.sources)
        return None
    sources[rs.file] = rs.text
    std = rs.standard
    own = _provenance_of(rs)
    if std is None or std.extends is None:
        for o in rs.overrides:
            bag.error("override_without_parent", o.span, "只有 extends 其他标准的文件才能写 override",
                      "only a standard that extends another can override", "在 standard 中写 extends 上级标准编号。",
                      "add 'extends <parent id>' to the standard header.")
        for r in rs.removes:
            bag.error("override_without_parent", r.span, "只有 extends 其他标准的文件才能写 remove",
                      "only a standard that extends another can remove items")
        return dataclasses.replace(rs, sources=tuple(sources.items()), provenance=tuple(own.items()))
    if std.extends in (*chain, std.id):
        cyc = " → ".join((*chain, std.id, std.extends))
        bag.error("extends_cycle", std.extends_span, f"标准继承出现循环：{cyc}", f"standards extend each other in a circle: {cyc}")
        return None
    if len(chain) + 2 > MAX_EXTENDS:
        bag.error("limit", std.extends_span, f"继承层级过多：extends 链超过 {MAX_EXTENDS} 个标准",
                  f"too long a chain of extends: more than {MAX_EXTENDS} standards",
                  "直接继承更上层的标准，减少中间层。", "extend a standard higher up the chain directly, with fewer steps between.")
        return None
    parent_path = _sibling(Path(path), std.extends) or find(std.extends)
    if parent_path is None:
        ids = known() if known else []
        close = difflib.get_close_matches(std.extends, ids, n=1)
        bag.error(
            "unknown_standard",
            std.extends_span,
            f"未知的上级标准 '{std.extends}'" + (f"，是否想写 '{close[0]}'？" if close else ""),
            f"unknown parent standard '{std.extends}'" + (f" — did you mean '{close[0]}'?" if close else ""),
            "" if close else f"可用标准：{', '.join(ids)}",
            "" if close else f"available: {', '.join(ids)}",
        )
        return None
    parent = _load(Path(parent_path), find, known, bag, sources, (*chain, std.id))
    if parent is None:
        return None
    return _merge(parent, rs, bag, sources)


def _sibling(path: Path, std_id: str) -> Path | None:
    """A parent standard in the same folder as the file that extends it (a province's own set)."""
    import re

    pattern = re.compile(r"^\s*standard\s+" + re.escape(std_id) + r"\b", re.M)
    for p in sorted(path.parent.glob("*.qbe")):
        if p.resolve() == path.resolve():
            continue
        try:
            # a file over the size limit cannot be a parent (it would be refused), so it is not read
            if p.stat().st_size <= MAX_FILE_BYTES and pattern.search(p.read_text(encoding="utf-8")):
                return p
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _provenance_of(rs: ast.Ruleset) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for let in rs.lets:
        out[let.name] = (("declared", let.span, None),)
    for p in rs.params:
        out[p.name] = (("declared", p.span, None),)
    for d in rs.decls:
        src = d.source + (f" [{d.source_tag}]" if d.source_tag else "") if d.source else None
        out[d.name] = (("declared", d.name_span, src),)
    for block in rs.inputs:
        for f in block.fields:
            out[f.name] = (("declared", f.span, f.source),)
    return out


def _merge(parent: ast.Ruleset, child: ast.Ruleset, bag: DiagnosticBag, sources: dict[str, str]) -> ast.Ruleset:
    std = child.standard
    assert std is not None and parent.standard is not None
    pstd = parent.standard
    parts = {p.name: p for p in pstd.parts}
    parts.update({p.name: p for p in std.parts})
    header = dataclasses.replace(
        std,
        title=std.title or pstd.title,
        source=std.source or pstd.source,
        stages=std.stages or pstd.stages,
        years=std.years or pstd.years,
        parts=tuple(parts.values()),
    )
    prov: dict[str, tuple] = dict(parent.provenance)
    lets = {x.name: x for x in parent.lets}
    params = {x.name: x for x in parent.params}
    decls = {x.name: x for x in parent.decls}

    def src_of(s, tag) -> str | None:
        return s + (f" [{tag}]" if tag else "") if s else None

    for r in child.removes:
        table = lets if r.kind == "let" else params if r.kind == "param" else decls
        target = table.get(r.name)
        if target is None or (r.kind not in ("let", "param") and target.kind != r.kind):
            _missing(bag, "remove", r.kind, r.name, r.name_span, table, decls)
            continue
        if not r.source:
            bag.error("change_without_source", r.span, f"删除 '{r.name}' 须写明依据：source \"…\"",
                      f"removing '{r.name}' must state its source: source \"…\"")
        del table[r.name]
        prov[r.name] = (*prov.get(r.name, ()), ("removed", r.span, src_of(r.source, r.source_tag)))
    for o in child.overrides:
        if o.kind == "let":
            target = lets.get(o.name)
            if target is None:
                _missing(bag, "override", "let", o.name, o.name_span, lets, decls)
                continue
            if not o.let_source:
                bag.error("change_without_source", o.span, f"覆盖 '{o.name}' 须写明依据：source \"…\"",
                          f"overriding '{o.name}' must state its source: source \"…\"",
                          "在公式后写 source \"文件及条款\" [V]。", "write source \"…\" [V] after the formula.")
            lets[o.name] = dataclasses.replace(target, expr=o.let_expr, label=o.label or target.label)
            prov[o.name] = (*prov.get(o.name, ()), ("overridden: formula", o.span, src_of(o.let_source, o.let_source_tag)))
            continue
        target = decls.get(o.name)
        if target is None or target.kind != o.kind:
            _missing(bag, "override", o.kind, o.name, o.name_span, decls, decls)
            continue
        part = o.decl
        assert part is not None
        if not part.source:
            bag.error(
                "change_without_source",
                o.span,
                f"覆盖 '{o.name}' 须写明依据：source \"…\"",
                f"overriding '{o.name}' must state its source: source \"…\"",
                "每一处改动都要注明出处，例如 source \"冀教督〔2018〕X号\" [V]。",
                "every change states where it comes from, e.g. source \"…\" [V].",
            )
        changes: dict = {}
        spans = dict(target.clause_spans)
        for key, sp in part.clause_spans:
            for attr in CLAUSE_ATTRS.get(key, ()):
                changes[attr] = getattr(part, attr)
            spans[key] = sp
        if o.label:
            changes["label"] = o.label
        decls[o.name] = dataclasses.replace(target, clause_spans=tuple(spans.items()), **changes)
        what = ", ".join(k for k, _ in part.clause_spans if k != "source") or "label"
        prov[o.name] = (*prov.get(o.name, ()), ("overridden: " + what, o.span, src_of(part.source, part.source_tag)))
    for name, entries in _provenance_of(child).items():
        prov[name] = entries
    for let in child.lets:
        if let.name in lets:
            _redeclared(bag, let.name, let.span, lets[let.name].span)
        lets[let.name] = let
    for p in child.params:
        if p.name in params:
            _redeclared(bag, p.name, p.span, params[p.name].span)
        params[p.name] = p
    for d in child.decls:
        if d.name in decls:
            _redeclared(bag, d.name, d.name_span, decls[d.name].name_span)
            continue
        decls[d.name] = d
    return ast.Ruleset(
        file=child.file,
        text=child.text,
        standard=header,
        inputs=parent.inputs + child.inputs,
        lets=tuple(lets.values()),
        decls=tuple(decls.values()),
        params=tuple(params.values()),
        sources=tuple(sources.items()),
        provenance=tuple(prov.items()),
    )


def _missing(bag: DiagnosticBag, verb: str, kind: str, name: str, span: Span, table: dict, decls: dict) -> None:
    verb_zh = {"override": "覆盖", "remove": "删除"}[verb]
    other = decls.get(name)
    if other is not None and getattr(other, "kind", kind) != kind:
        bag.error(f"{verb}_kind", span, f"'{name}' 是 {other.kind}，不是 {kind}",
                  f"'{name}' is {_a(other.kind)} {other.kind}, not {_a(kind)} {kind}",
                  f"写 {verb} {other.kind} {name}。", f"write {verb} {other.kind} {name}.")
        return
    close = difflib.get_close_matches(name, list(table), n=1)
    bag.error(
        f"{verb}_unknown",
        span,
        f"无法{verb_zh}：上级标准中没有 {kind} '{name}'" + (f"，是否想写 '{close[0]}'？" if close else ""),
        f"cannot {verb}: the parent standard has no {kind} '{name}'" + (f" — did you mean '{close[0]}'?" if close else ""),
        "" if close else "用 qbe show <上级标准> 查看可覆盖的项目。",
        "" if close else "see `qbe show <parent>` for what can be changed.",
    )


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _redeclared(bag: DiagnosticBag, name: str, span: Span, first: Span) -> None:
    bag.error(
        "duplicate_id",
        span,
        f"名称 '{name}' 已在上级标准中声明（{first}）",
        f"'{name}' is already declared by the parent standard (at {first})",
        f"要修改它，请写 override … {name} {{ … }}；要替换，先 remove 再声明。",
        f"to change it write override … {name} {{ … }}; to replace it, remove it first.",
    )


__all__ = ["Diagnostic", "load_standard"]
