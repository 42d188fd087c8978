"""Overrides that repeat what they override.

A standard that extends another changes an item with ``override``; a clause given there that is
the same as the inherited one (the same threshold, formula, condition) changes nothing, and is
usually a copy left behind or a change that was meant but not made. The resolved model keeps only
the result, so this pass parses the extending file again for its overrides and resolves its parent
(from the files the model was built from) for what they replaced.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...diagnostics import Diagnostic
from ...errors import RulesetError
from ...language import ast
from ...language.parser import parse_text
from ..inherit import CLAUSE_ATTRS, load_standard
from ..model import Model
from .common import finding

#: clauses that document an item rather than decide it
_DOCUMENTING = {"source", "note"}

#: what a user writes for each clause key
_WORDS = {"requires": "require", "score_weight": "weight", "applies": "applies when", "exempt": "exempt when",
          "tolerate": "tolerate when"}


def _bare(x):
    """A syntax node without its positions and spelling, so equal meaning compares equal."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, tuple((f.name, _bare(getattr(x, f.name))) for f in dataclasses.fields(x)
                                        if not f.name.endswith("span") and f.name not in ("clause_spans", "text")))
    if isinstance(x, tuple):
        return tuple(_bare(v) for v in x)
    return x


def same(a, b) -> bool:
    return _bare(a) == _bare(b)


def _parent(m: Model, child: ast.Ruleset) -> ast.Ruleset | None:
    """The parent standard, resolved through its own chain, from the files the model was built from."""
    assert child.standard is not None
    ids: dict[str, Path] = {}
    for path, text in m.sources.items():
        if path == child.file:
            continue
        try:
            rs = parse_text(text, path)
        except RulesetError:
            return None
        if rs.standard is not None:
            ids[rs.standard.id] = Path(path)
    target = ids.get(child.standard.extends or "")
    if target is None:
        return None
    try:
        return load_standard(target, ids.get)
    except RulesetError:
        return None


def override_findings(m: Model) -> list[Diagnostic]:
    file = m.standard.span.file
    if m.standard.extends is None or file not in m.sources:
        return []
    child = parse_text(m.sources[file], file)
    parent = _parent(m, child)
    if parent is None:
        return []
    lets = {x.name: x for x in parent.lets}
    decls = {x.name: x for x in parent.decls}
    out: list[Diagnostic] = []
    for o in child.overrides:
        if o.kind == "let":
            let = lets.get(o.name)
            if let is not None and o.let_expr is not None and same(o.let_expr, let.expr) \
                    and o.label in (None, let.label):
                out.append(_whole(o, ["="]))
            continue
        target = decls.get(o.name)
        if target is None or o.decl is None:
            continue
        repeated, changed = [], False
        for key, span in o.decl.clause_spans:
            if key in _DOCUMENTING:
                continue
            attrs = CLAUSE_ATTRS.get(key, ())
            if attrs and all(same(getattr(o.decl, a), getattr(target, a)) for a in attrs):
                repeated.append((key, span))
            else:
                changed = True
        if not repeated:
            continue
        if not changed and o.label in (None, target.label):
            out.append(_whole(o, [_WORDS.get(k, k) for k, _ in repeated]))
            continue
        for key, span in repeated:
            word = _WORDS.get(key, key)
            out.append(finding(
                "override_identical", span,
                f"覆盖 '{o.name}' 时写的 {word} 与上级标准中的完全相同，没有改变任何内容",
                f"the '{word}' clause overriding '{o.name}' is the same as the inherited one: it changes nothing",
                "如本意是修改，请写出新的值；否则删除这一子句（继承的内容会保留）。",
                "if a change was meant, write the new value; otherwise remove the clause (the inherited one stays).",
            ))
    return out


def _whole(o: ast.Override, words: list[str]) -> Diagnostic:
    what = "、".join(words)
    return finding(
        "override_identical", o.name_span,
        f"覆盖 {o.kind} '{o.name}' 与上级标准中的完全相同（{what}），没有改变任何判定内容",
        f"overriding {o.kind} '{o.name}' repeats the inherited {', '.join(words)}: it changes nothing that is judged",
        "如本意是修改，请写出新的要求或公式；否则删除这个 override。",
        "if a change was meant, write the new requirement or formula; otherwise remove the override.",
    )
