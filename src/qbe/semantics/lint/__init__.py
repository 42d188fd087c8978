"""``qbe lint``: what a ruleset that passes ``qbe check`` most likely still gets wrong.

``qbe check`` rejects what cannot run. Lint looks at a checked model for what runs but cannot be
what the author meant, and reports only what is certain:

- requirements and comparisons that the inputs' declared ranges already decide — never met, or
  never failing — and conditions that are constant (:mod:`.formulas`, over :mod:`.intervals`);
- grade bands that overlap or leave gaps (:mod:`.grades`);
- overrides that repeat what they override (:mod:`.overrides`);
- unused computed values and params, counting rules that cannot fail, yearly values never in
  force (:mod:`.hygiene`);
- and the warnings ``qbe check`` already gives (an unused input …), taken as they are.

A standard with yearly values is looked at in every year that can be evaluated; a finding that
holds in only some of them names those years. Findings are :class:`~qbe.diagnostics.Diagnostic`
warnings, rendered like every other diagnostic (file:line:column, caret, hint, ``--lang``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...diagnostics import Diagnostic
from ..model import Model
from .formulas import formula_findings
from .grades import grade_findings
from .hygiene import hygiene_findings
from .intervals import Ranges
from .overrides import override_findings

#: exit code of ``qbe lint`` when it finds something (docs/exit-codes.md)
LINT_FINDINGS = 7

#: every code lint itself can report (the check warnings it passes on keep their own codes)
CODES = (
    "never_met", "never_fails", "never_true", "always_true", "constant_condition",
    "grade_unreachable", "grade_gap", "override_identical",
    "unused_let", "unused_param", "at_least_zero", "tolerance_never_applies", "duplicate_member",
    "param_missing_year", "param_value_unused", "param_year_gap", "info_ignored",
)


@dataclass
class LintResult:
    path: str
    check: list[Diagnostic]  #: what ``qbe check`` said; with an error, there are no findings
    findings: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.check)


def year_states(m: Model) -> list[tuple[int | None, dict[str, float] | None]]:
    """One (year, param values) for each distinct set of yearly values a run can use.

    Values change only in the years some value starts, so those years (within the standard's
    ``years``, and its first year) are all there is to look at. Without params: one state, None.
    """
    if not m.params:
        return [(None, None)]
    years = {v.start[0] for p in m.params.values() for v in p.values}
    if m.standard.years is not None:
        lo, hi = m.standard.years
        years = {y for y in years if lo <= y <= hi} | {lo}
    states: list[tuple[int | None, dict[str, float] | None]] = []
    for y in sorted(years):
        try:
            values = m.param_values(y)
        except LookupError:  # a year with a param not yet set is refused at run time
            continue
        states.append((y, {n: v.value for n, v in values.items()}))
    return states or [(None, None)]


def _where(d: Diagnostic) -> tuple:
    s = d.span
    return (s.file, s.line, s.column) if s else ("", 0, 0)


def lint_model(m: Model, check_diags: Sequence[Diagnostic] = ()) -> list[Diagnostic]:
    """Every finding for a checked model, sorted by place; ``check_diags``' warnings are included."""
    found = [d for d in check_diags if not d.is_error]
    states = year_states(m)
    per_key: dict[tuple, tuple[Diagnostic, list[int | None]]] = {}
    for year, params in states:
        r = Ranges(m, params)
        for d in (*formula_findings(m, r), *grade_findings(m, r)):
            per_key.setdefault((d.code, d.span), (d, []))[1].append(year)
    for d, years in per_key.values():
        if len(states) > 1 and len(years) < len(states):
            shown = "、".join(str(y) for y in years)
            d = dataclasses.replace(d, message_zh=f"{d.message_zh}（{shown} 年）",
                                    message_en=f"{d.message_en} (in {', '.join(str(y) for y in years)})")
        found.append(d)
    found.extend(override_findings(m))
    found.extend(hygiene_findings(m))
    return sorted(found, key=lambda d: (*_where(d), d.code))


def lint_file(path: str | Path, reg=None) -> LintResult:
    """Check one ruleset file (with everything it extends) and, when it has no error, lint it."""
    from ...pipeline import check_file

    model, diags, sources = check_file(path, reg)
    if model is None:
        return LintResult(str(path), diags, [], sources)
    return LintResult(str(path), diags, lint_model(model, diags), sources)


def run_lint(paths: Sequence[str], lang: str, echo: Callable[..., None], reg=None) -> int:
    """The ``qbe lint`` command: print every finding of every file; return the exit code.

    A finding that several files share (one in a standard they all extend) is printed once.
    """
    errors = shown = 0
    printed: set[tuple] = set()
    zh = lang == "zh"
    for f in paths:
        if not Path(f).is_file():
            echo(f"{f}: {'找不到文件' if zh else 'file not found'}", err=True)
            errors += 1
            continue
        res = lint_file(f, reg)
        if res.has_errors:
            for d in res.check:
                echo(d.render(lang, res.sources))
            n = sum(d.is_error for d in res.check)
            errors += n
            echo(f"{f}：有 {n} 个错误，未做体检（先用 qbe check 改正）" if zh
                 else f"{f}: {n} error(s), not linted (fix them first, see qbe check)")
            continue
        for d in res.findings:
            key = (d.code, d.span, d.message_en)
            if key in printed:
                continue
            printed.add(key)
            echo(d.render(lang, res.sources))
            shown += 1
        n = len(res.findings)
        if zh:
            echo(f"{f}：{n} 个问题" if n else f"{f}：未发现问题")
        else:
            echo(f"{f}: {n} finding(s)" if n else f"{f}: no findings")
    if zh:
        echo(f"共 {shown} 个问题" + (f"，{errors} 个错误" if errors else ""))
    else:
        echo(f"{shown} finding(s)" + (f", {errors} error(s)" if errors else ""))
    if errors:
        return 3
    return LINT_FINDINGS if shown else 0


__all__ = ["CODES", "LINT_FINDINGS", "LintResult", "lint_file", "lint_model", "run_lint", "year_states"]
