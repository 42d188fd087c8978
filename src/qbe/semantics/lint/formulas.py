"""Requirements and conditions that the declared ranges of the inputs already decide.

A requirement that no valid data can meet (a share ranged 0..1 required ``>= 1.5``), one that no
valid data can fail, a comparison inside a condition that is always or never true, and a whole
condition that is constant (``exempt when yes``). Each claim comes from
:mod:`.intervals`, so it holds for every dataset that passes validation; when the ranges leave
any doubt nothing is reported.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic
from ...language import ast
from ..model import Model
from .common import (
    clause_conditions,
    finding,
    is_percent,
    mentions_param,
    model_exprs,
    range_text,
    reads_data,
    source_text,
)
from .intervals import Ranges, compare_outcomes

M, F, N = "met", "fail", "neutral"  #: outcomes of a condition (neutral: not applicable or exempt)
ALL = frozenset({M, F, N})


def formula_findings(m: Model, r: Ranges) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for d in m.decls.values():
        out.extend(_requirements(m, r, d))
    leaves = _comparisons(m, r)
    out.extend(leaves.values())
    for d in m.decls.values():
        for clause, cond in clause_conditions(d):
            out.extend(_constant_clause(m, r, d, clause, cond, leaves))
    return out


# ---------------------------------------------------------------------------- requirements

def _requirements(m: Model, r: Ranges, d: ast.Decl) -> list[Diagnostic]:
    if not d.requires:
        return []
    if d.kind == "balance":
        value, pct, value_text = r.balance_value(d), False, "差异系数"
        value_en = "the coefficient of variation"
    elif d.value is not None:
        value, pct = r.of(d.value), is_percent(m, d.value)
        value_text = value_en = source_text(m, d.value.span) or d.name
        if not reads_data(m, d.value):
            return []  # a value fixed by the ruleset itself is a year switch or a placeholder, not a range
    else:
        return []
    if value is None:
        return []
    out = []
    for req in d.requires:
        thr = r.of(req.threshold)
        if thr is None:
            continue
        can_meet, can_fail = compare_outcomes(req.op, value, thr)
        if can_meet and can_fail:
            continue
        zh_range, en_range = range_text(value, pct)
        written = source_text(m, req.span)
        if not can_meet:
            out.append(finding(
                "never_met", req.span,
                f"'{d.name}' 的要求 {written} 永远无法达到：按输入字段声明的取值范围，{value_text} 的值{_zh_range(zh_range)}",
                f"the requirement '{written}' of '{d.name}' can never be met: from the inputs' declared ranges, "
                f"{value_en} is {en_range}",
                "核对标准值（是否把百分数写错、单位写错）和相关字段的 range。",
                "check the threshold (a percentage or unit written wrongly?) and the range of the fields involved.",
            ))
        else:
            out.append(finding(
                "never_fails", req.span,
                f"'{d.name}' 的要求 {written} 不可能不达标：按输入字段声明的取值范围，{value_text} 的值{_zh_range(zh_range)}",
                f"the requirement '{written}' of '{d.name}' can never fail: from the inputs' declared ranges, "
                f"{value_en} is {en_range}",
                "核对标准值和比较方向（>= 还是 <=），以及相关字段的 range。",
                "check the threshold and the direction of the comparison (>= or <=), and the fields' ranges.",
            ))
    return out


def _zh_range(text: str) -> str:
    return text if text.startswith("恒为") else "在 " + text + " 之间" if " 至 " in text else text


# ---------------------------------------------------------------------------- comparisons

def _comparisons(m: Model, r: Ranges) -> dict[tuple, Diagnostic]:
    """Every numeric comparison, anywhere, that is always or never true: (span) → finding."""
    out: dict[tuple, Diagnostic] = {}
    for e in model_exprs(m):
        for node in ast.walk(e):
            if not isinstance(node, ast.Compare):
                continue
            key = _key(node)
            if key in out:
                continue
            verdict = _compare_verdict(m, r, node)
            if verdict is None or verdict == {M, F}:
                continue
            written = source_text(m, node.span)
            a = r.of(node.left)
            assert a is not None
            zh_range, en_range = range_text(a, is_percent(m, node.left))
            left = source_text(m, node.left.span)
            if verdict == {F}:
                out[key] = finding(
                    "never_true", node.span,
                    f"比较 {written} 永远不成立：按输入字段声明的取值范围，{left} 的值{_zh_range(zh_range)}",
                    f"the comparison '{written}' is never true: from the inputs' declared ranges, {left} is {en_range}",
                    "核对比较的数值、方向和相关字段的 range。",
                    "check the number, the direction of the comparison and the fields' ranges.",
                )
            else:
                out[key] = finding(
                    "always_true", node.span,
                    f"比较 {written} 恒成立：按输入字段声明的取值范围，{left} 的值{_zh_range(zh_range)}",
                    f"the comparison '{written}' is always true: from the inputs' declared ranges, {left} is {en_range}",
                    "这个条件不起作用：核对比较的数值和方向，或删除它。",
                    "it has no effect: check the number and the direction of the comparison, or remove it.",
                )
    return out


def _key(e: ast.Expr) -> tuple:
    s = e.span
    return (s.file, s.line, s.column, s.end_line, s.end_column)


def _compare_verdict(m: Model, r: Ranges, e: ast.Compare) -> set[str] | None:
    """{met}, {fail} or {met, fail} for a numeric comparison; None when it is not numeric."""
    a, b = r.of(e.left), r.of(e.right)
    if a is None or b is None:
        return None
    if not reads_data(m, e) and mentions_param(m, e):
        return {M, F}  # a switch on the year's values (grade_a_required == 0): decided per year on purpose
    can_meet, can_fail = compare_outcomes(e.op, a, b)
    return {x for x, ok in ((M, can_meet), (F, can_fail)) if ok}


# ---------------------------------------------------------------------------- whole conditions

def outcomes(m: Model, r: Ranges, e: ast.Expr) -> frozenset[str]:
    """What a condition can yield on valid data: met (or tolerated), fail, neutral (n/a, exempt)."""
    if isinstance(e, ast.Bool):
        return frozenset({M if e.value else F})
    if isinstance(e, ast.Compare):
        v = _compare_verdict(m, r, e)
        return frozenset({M, F} if v is None else v)
    if isinstance(e, ast.InSet):
        return frozenset({M, F})
    if isinstance(e, ast.Logic):
        xs = [outcomes(m, r, a) for a in e.args]
        if e.op == "not":
            return frozenset({M: F, F: M, N: N}[x] for x in xs[0])
        # 'or' is the mirror image of 'and': one operand decides (F for and, M for or); the other
        # outcome needs every operand to allow it or be neutral, and one to give it
        decides, needs_all = (F, M) if e.op == "and" else (M, F)
        res = set()
        if any(decides in x for x in xs):
            res.add(decides)
        if all(x & {needs_all, N} for x in xs) and any(needs_all in x for x in xs):
            res.add(needs_all)
        if all(N in x for x in xs):
            res.add(N)
        return frozenset(res)
    if isinstance(e, ast.Cond):
        t = outcomes(m, r, e.test)
        if t == {M}:
            return outcomes(m, r, e.then)
        if t == {F}:
            return outcomes(m, r, e.otherwise)
        return outcomes(m, r, e.then) | outcomes(m, r, e.otherwise)  # an undecided test gives no value at all
    if isinstance(e, ast.Name):
        if e.name in m.fields:
            return frozenset({M, F})
        if e.name in m.lets:
            return outcomes(m, r, m.lets[e.name].expr)
    return ALL


#: how each clause is written, for messages
_CLAUSE_WORDS = {"check": "check", "when": "when", "applies": "applies when", "exempt": "exempt when",
                 "tolerate": "tolerate when", "grade": "grades … when"}


def _constant_clause(m: Model, r: Ranges, d: ast.Decl, clause: str, cond: ast.Expr,
                     leaves: dict[tuple, Diagnostic]) -> list[Diagnostic]:
    """A whole condition that cannot vary; skipped when a comparison inside it is already reported."""
    o = outcomes(m, r, cond)
    if not o or not (o <= {M} or o <= {F}):
        return []
    if any(isinstance(n, ast.Compare) and _key(n) in leaves for n in ast.walk(cond)):
        return []
    word = _CLAUSE_WORDS[clause]
    true = o <= {M}
    effect_zh, effect_en = _effect(clause, true)
    written = source_text(m, cond.span)
    return [finding(
        "constant_condition", cond.span,
        f"'{d.name}' 的 {word} 条件 {written} 恒{'成立' if true else '不成立'}：{effect_zh}",
        f"the '{word}' condition '{written}' of '{d.name}' is always {'true' if true else 'false'}: {effect_en}",
        "写出真正要判断的条件，或删除这一子句。",
        "write the condition that is meant, or remove the clause.",
    )]


def _effect(clause: str, true: bool) -> tuple[str, str]:
    if clause in ("check", "when"):
        return ("永远达标", "it is always met") if true else ("永远不达标", "it is never met")
    if clause == "applies":
        return ("适用范围不起限制作用", "the scope limits nothing") if true else \
            ("这一项永远不适用", "the declaration never applies")
    if clause == "exempt":
        return ("这一项总是豁免，从不判定", "it is always exempt and never judged") if true else \
            ("豁免永远不会发生", "the exemption never happens")
    if clause == "tolerate":
        return ("每一处不达标都被容许", "every shortfall is tolerated") if true else \
            ("容许永远不会发生", "the tolerance never happens")
    return ("后面的等级永远不会给出", "the grades after it are never given") if true else \
        ("这一等级永远不会给出", "this grade is never given")
