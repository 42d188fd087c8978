"""``qbe explain``: every verdict for one school or county, as a plain-language trace.

For each item the trace shows its label and id, the formula as written with
the actual numbers substituted, the requirement for the stage and its source
clause, the percentage of the requirement, the status in words, the
exemptions or tolerances that applied, the rule that decided and, for an
unmet indicator or a CV over its limit, what would meet it (the 整改清单
entry, :mod:`qbe.results.remedy`). :func:`shortfall_traces` gives the same
text for the HTML and Word reports, reading only the schools it explains.

The verdicts are the fast evaluation's (:class:`~qbe.results.assemble.Evaluation`);
the numbers inside a formula come from the exact row-by-row evaluator
(:mod:`qbe.interpreter`). Where the two disagree both are printed: that is a
bug in one of them.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .base import TraceBase, _close
from .county import CountyTraces
from .school import SchoolTraces


class Explainer(SchoolTraces, CountyTraces):
    """Traces of schools and counties for one evaluation (see :class:`TraceBase` for its fields)."""


def explain(
    standard: str,
    data: str,
    county_data: str | None = None,
    school: str | None = None,
    county: str | None = None,
    indicator: str | None = None,
    year: int | None = None,
    lang: str = "zh",
    reg=None,
) -> str:
    """The trace for ``school`` (name or code) or ``county`` (code or name) as text."""
    from ..compiler import compile_model
    from ..pipeline import choose_year, evaluate, load_model, load_table, stage_issues
    from ..plugins import registry

    if not school and not county:
        raise UsageError("请用 --school（学校名称或代码）或 --county（区县代码）指定要解释的对象",
                         "name what to explain: --school (a school's name or code) or --county (a county code)")
    reg = reg or registry()
    model = load_model(standard, reg)
    rows, issues = load_table(data, model.row_schema(), ("school_code", "stage"), reg)
    counties = None
    if county_data:
        counties, c_issues = load_table(county_data, model.county_schema(), ("county_code",), reg)
        issues = issues + c_issues
    issues = issues + stage_issues(model, rows)
    year = choose_year(model, year, rows)
    plan = compile_model(model, year)
    ev = evaluate(model, rows, counties, issues, plan)
    if indicator is not None and indicator not in model.decls:
        raise UsageError(
            f"标准 {model.id} 中没有指标“{indicator}”{_close(indicator, list(model.decls), 'zh')}",
            f"standard {model.id} has no item '{indicator}'{_close(indicator, list(model.decls), 'en')}",
        )
    return trace_text(ev, lang, school=school, county=county, only=indicator)


def trace_text(ev, lang: str = "zh", school: str | None = None, county: str | None = None,
               only: str | None = None) -> str:
    """The trace of ``school`` (name or code, within ``county`` if given) or of ``county``, for an evaluation.

    The school or county is looked up first; the exact evaluator then reads
    only its rows (every stage of the school, or every row of the county), so
    one explanation costs the same on a national dataset as on one county.
    """
    finder = Explainer(ev, lang, subset=[])
    out: list[str] = [finder.heading()]
    county_idx = finder.find_county(county) if county else None
    if school:
        groups = finder.find_school(school, county_idx)
        ex = Explainer(ev, lang, only=only, subset=[i for g in groups for i in g])
        for g in groups:
            out += ex.school(g)
    else:
        assert county_idx is not None
        rows = np.nonzero(ev.frame.row_county == county_idx)[0].tolist()
        out += Explainer(ev, lang, only=only, subset=rows).county(county_idx)
    return "\n".join(out).rstrip() + "\n"


def shortfall_traces(ev, wanted: list[tuple[int, str]], lang: str = "zh") -> dict[tuple[int, str], str]:
    """Traces of the given (row, indicator) shortfalls, as the reports show them next to each.

    The exact evaluator reads only the schools involved (every stage row of
    each), so the cost follows the number of traces, not the size of the data.
    """
    if not wanted:
        return {}
    fr = ev.frame
    schools = np.unique(fr.row_school[np.asarray([i for i, _ in wanted], dtype=np.int64)])
    rows = np.nonzero(np.isin(fr.row_school, schools))[0].tolist()
    ex = Explainer(ev, lang, subset=rows)
    return {(i, name): "\n".join(ex.shortfall(i, name)) for i, name in wanted}


__all__ = ["Explainer", "TraceBase", "explain", "shortfall_traces", "trace_text"]
