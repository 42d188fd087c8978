"""Cheap, certain findings about the shape of a ruleset rather than its numbers.

Computed values and yearly params nothing uses; counting rules that cannot fail (``at least 0
of``) or whose tolerance can never apply (``rest >= 120%``: a shortfall is below 100% of its
requirement by definition); a name listed twice in one list; yearly values that are never in
force, years without a value of their own, covered years with no value at all; ``info`` on a
declaration that is judged anyway.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic
from ...language import ast
from ..model import Model
from .common import finding, model_exprs, names_used, num


def hygiene_findings(m: Model) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out.extend(_unused(m))
    out.extend(_lists(m))
    out.extend(_params(m))
    for d in m.decls.values():
        if d.info and d.requires:
            span = dict(d.clause_spans).get("info", d.name_span)
            out.append(finding(
                "info_ignored", span,
                f"'{d.name}' 写了 info（仅供参考），但它有 require，仍会被判定",
                f"'{d.name}' says info (for information only), but it has a requirement, so it is judged all the same",
                "仅供参考的项目删去 require；要判定的项目删去 info。",
                "for a figure shown for information remove the require; for a judged item remove info.",
            ))
    return out


def _unused(m: Model) -> list[Diagnostic]:
    used = names_used(m)
    out = []
    for let in m.lets.values():
        if let.name not in used:
            out.append(finding(
                "unused_let", let.span,
                f"计算量 '{let.name}' 未被任何公式、条件或要求使用",
                f"the computed value '{let.name}' is not used by any formula, condition or requirement",
                "如不需要可删除；如本应使用，检查引用它的公式是否写错了名称。",
                "remove it if it is not needed; if it should be used, check the formulas that were meant to name it.",
            ))
    for p in m.params.values():
        if p.name not in used:
            out.append(finding(
                "unused_param", p.span,
                f"按年度取值 '{p.name}' 未被任何公式或要求使用",
                f"the yearly value '{p.name}' is not used by any formula or requirement",
                "如不需要可删除；如本应作为标准值，把它写进相应的 require。",
                "remove it if it is not needed; if it is a threshold, use it in the require it belongs to.",
            ))
    return out


def _lists(m: Model) -> list[Diagnostic]:
    out = []
    seen_nodes: set[tuple] = set()
    lists: list[tuple[ast.Name, ...]] = [d.indicators for d in m.decls.values() if d.indicators]
    for e in model_exprs(m):
        for n in ast.walk(e):
            s = n.span
            key = (s.file, s.line, s.column)
            if key in seen_nodes:
                continue
            seen_nodes.add(key)
            if isinstance(n, (ast.AtLeast, ast.Quantified, ast.Weighted)) and n.names:
                lists.append(n.names)
            if isinstance(n, ast.AtLeast):
                out.extend(_at_least(m, n))
    for names in lists:
        first: dict[str, ast.Name] = {}
        for x in names:
            if x.name in first:
                out.append(finding(
                    "duplicate_member", x.span,
                    f"'{x.name}' 在同一列表中出现了两次",
                    f"'{x.name}' appears twice in the same list",
                    "删除重复的一项；如本意是另一项，改成那一项的名称。",
                    "remove the repeat; if another item was meant, write its name.",
                ))
            first.setdefault(x.name, x)
    return out


def _at_least(m: Model, e: ast.AtLeast) -> list[Diagnostic]:
    out = []
    if e.k == 0:
        zh, en = ("只由 rest 条件判定", "only the rest clause judges") if e.tolerance is not None else \
            ("永远达标", "it is always met")
        out.append(finding(
            "at_least_zero", e.span,
            f"at least 0 of [...] 的项数要求不可能不满足：{zh}",
            f"'at least 0 of [...]' can never fail on the count: {en}",
            "写出真正要求的项数（如 at least 6 of [...]）。",
            "write the number of items actually required (such as at least 6 of [...]).",
        ))
    if e.tolerance is not None and e.tolerance > 1 + 1e-9:
        out.append(finding(
            "tolerance_never_applies", e.span,
            f"rest >= {num(e.tolerance, True)} 永远不会成立：未达标的指标不到要求的100%，余项容许永远不会发生",
            f"'rest >= {num(e.tolerance, True)}' never holds: an indicator that is not met is below 100% of its "
            "requirement, so no shortfall is ever tolerated",
            "余项要求应低于100%，如 rest >= 85%。",
            "the rest clause needs a share below 100%, such as rest >= 85%.",
        ))
    return out


def _params(m: Model) -> list[Diagnostic]:
    out = []
    covered = m.standard.years
    for p in m.params.values():
        keyed = sorted(p.values, key=lambda v: v.start)
        years = [v.start[0] for v in keyed]
        lo = covered[0] if covered else years[0]
        hi = covered[1] if covered else years[-1]
        in_force: set[int] = set()
        for y in range(lo, hi + 1):
            valid = [i for i, v in enumerate(keyed) if v.start <= (y, 12, 31)]
            if not valid:
                out.append(finding(
                    "param_missing_year", p.span,
                    f"'{p.name}' 没有 {y} 年（标准 years 覆盖的年份）可用的取值：按 {y} 年评估会被拒绝",
                    f"'{p.name}' has no value in force in {y}, a year the standard covers: a run for {y} is refused",
                    f"补上 {y} 年的取值，或把 years 的起始年份改为 {years[0]}。",
                    f"add a value for {y}, or start the standard's years at {years[0]}.",
                ))
                continue
            in_force.add(valid[-1])
        for i, v in enumerate(keyed):
            if i in in_force:
                continue
            if covered and v.start[0] > covered[1]:
                why_zh, why_en = f"晚于标准覆盖的年份（{covered[0]}–{covered[1]}）", \
                    f"it starts after the years the standard covers ({covered[0]}–{covered[1]})"
            elif v.start[0] < lo:
                why_zh, why_en = f"{lo} 年起已由更晚的取值代替", f"a later value is already in force in {lo}"
            else:
                why_zh, why_en = "同一年中有更晚开始的取值", "a later value starts in the same year"
            out.append(finding(
                "param_value_unused", v.span,
                f"'{p.name}' 的 {v.key} 取值在任何评估年份都不会生效：{why_zh}",
                f"the {v.key} value of '{p.name}' is in force in no year that can be evaluated: {why_en}",
                "删除这一取值，或改正它的年份、日期，或标准的 years。",
                "remove the value, or correct its year or date, or the standard's years.",
            ))
        plain = [v for v in keyed if "-" not in v.key]
        for a, b in zip(plain, plain[1:]):
            holes = [y for y in range(a.start[0] + 1, b.start[0]) if lo <= y <= hi]
            if holes and not any(a.start < v.start < b.start for v in keyed):
                shown = "、".join(map(str, holes))
                out.append(finding(
                    "param_year_gap", b.span,
                    f"'{p.name}' 没有 {shown} 年的取值：这些年份沿用 {a.key} 年的 {a.text}",
                    f"'{p.name}' has no value for {', '.join(map(str, holes))}: those years keep the {a.key} value {a.text}",
                    f"如果 {a.key} 年的取值确实沿用，写明 {holes[0]}: {a.text} 以免误读；否则补上这些年份的取值。",
                    f"if the {a.key} value really carries on, write {holes[0]}: {a.text} to make it explicit; "
                    "otherwise add the missing years.",
                ))
    return out
