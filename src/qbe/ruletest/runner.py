"""Evaluate test cases with the same functions as ``qbe run`` and compare the report with expectations.

A case's rows become a :class:`~qbe.data.table.RawSheet` whose row numbers are
the lines of the rows in the test file, so a data problem in a case is located
like any other (``file:line column '在校生数'``). Validation, the stage check,
the frame, the plan for the case's year and evaluation are the pipeline's own
functions; expectations are read from the report dict, the JSON users see.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..compiler import build_frame, compile_model
from ..data.headers import HeaderIndex, normalize_header
from ..data.schema import TableSchema
from ..data.table import DataIssue, RawSheet
from ..data.validate import validate_sheet
from ..diagnostics import Diagnostic, Span
from ..errors import UsageError
from ..pipeline import choose_year, evaluate, stage_issues
from ..results.assemble import Evaluation
from ..semantics import Model
from ..status import Status
from .casefile import Case, Expectation, Row, Target, TestFile, decimals

_BY_KEY = {s.key: s for s in Status}


@dataclass
class Failure:
    """One expectation that did not hold, or a problem that stopped the case."""

    line: int
    message_zh: str
    message_en: str
    expectation: Expectation | None = None
    got: Any = None  #: the actual result (status key, bool, number, text), when there is one
    target: Target | None = None


@dataclass
class CaseResult:
    case: Case
    failures: list[Failure] = field(default_factory=list)
    evaluation: Evaluation | None = None
    report: dict | None = None
    checked: int = 0  #: expectations compared

    @property
    def passed(self) -> bool:
        return not self.failures


def status_text(key: Any, lang: str) -> str:
    """A status key as a person reads it: 达标（met） in Chinese, met in English."""
    if isinstance(key, bool):
        return ("通过" if key else "未通过") if lang == "zh" else ("pass" if key else "fail")
    if key is None:
        return "无结果" if lang == "zh" else "no result"
    s = _BY_KEY.get(key) if isinstance(key, str) else None
    if s is None:
        return str(key)
    return f"{s.zh}（{s.key}）" if lang == "zh" else s.key


# ---------------------------------------------------------------------------- names


def check_names(tf: TestFile, model: Model) -> list[Diagnostic]:
    """Every expectation naming an indicator, rule, item … the standard does not have, located."""
    decls = model.decls
    kinds: dict[str, str] = {n: d.kind for n, d in decls.items()}
    balanced = {i.name for d in model.of_kind("balance") for i in d.indicators}
    graded = {n for n, d in decls.items() if d.grades}
    wanted = {
        ("school", "indicators"): ({n for n, k in kinds.items() if k == "indicator"}, "指标", "indicator"),
        ("school", "rules"): ({n for n, k in kinds.items() if k == "rule"}, "规则", "rule"),
        ("school", "checks"): ({n for n, d in decls.items() if d.kind == "check" and d.entity in ("row", "school")},
                               "逐校检查", "check"),
        ("school", "values"): ({n for n, d in decls.items() if d.kind == "indicator" or
                                (d.kind == "check" and d.entity in ("row", "school"))}, "指标或逐校检查", "indicator or check"),
        ("county", "items"): ({n for n, k in kinds.items() if k == "item"}, "县级项目", "item"),
        ("county", "values"): ({n for n, k in kinds.items() if k == "item"}, "县级项目", "item"),
        ("county", "verdicts"): ({n for n, k in kinds.items() if k == "verdict"}, "结论", "verdict"),
        ("county", "parts"): (set(model.parts), "部分", "part"),
        ("county", "grades"): (graded, "分级的项目或结论", "graded item or verdict"),
        ("county", "balance"): (balanced, "差异系数指标", "balance indicator"),
        ("county", "cv"): (balanced, "差异系数指标", "balance indicator"),
    }
    out: list[Diagnostic] = []
    stages = set(model.stage_names)
    for case in tf.cases:
        for t in case.targets:
            if t.stage is not None and t.stage not in stages:
                out.append(_name_diag(tf, t.line, 1, f"标准 {model.id} 没有学段 “{t.stage}”", f"standard {model.id} has no stage '{t.stage}'",
                                      sorted(stages), t.stage))
            for e in t.expectations:
                if len(e.path) == 1:
                    continue
                names, zh, en = wanted[(t.kind, e.path[0])]
                if e.path[0] in ("balance", "cv") and e.path[1] not in stages:
                    out.append(_name_diag(tf, e.line, e.column, f"标准 {model.id} 没有学段 “{e.path[1]}”",
                                          f"standard {model.id} has no stage '{e.path[1]}'", sorted(stages), e.path[1]))
                name = e.path[-1]
                if name not in names:
                    out.append(_name_diag(tf, e.line, e.column, f"标准 {model.id} 没有名为 “{name}” 的{zh}",
                                          f"standard {model.id} has no {en} named '{name}'", sorted(names), name))
    return out


def _name_diag(tf: TestFile, line: int, col: int, zh: str, en: str, known: list[str], name: str) -> Diagnostic:
    close = difflib.get_close_matches(name, known, n=1)
    hint_zh = f"是否想写 “{close[0]}”？" if close else (f"可用：{', '.join(known[:12])}" if known else "")
    hint_en = f"did you mean '{close[0]}'?" if close else (f"known: {', '.join(known[:12])}" if known else "")
    return Diagnostic("test_unknown_name", "error", Span(str(tf.path), line, col), zh, en, hint_zh, hint_en)


# ---------------------------------------------------------------------------- rows → tables


def _merge(defaults: Row | None, row: Row, index: HeaderIndex) -> dict[Any, tuple[str, Any]]:
    """Header → value of one row over the defaults; a row's 在校生数 replaces the defaults' students."""
    out: dict[Any, tuple[str, Any]] = {}
    for src in ([defaults] if defaults else []) + [row]:
        for header, value in src.cells.items():
            norm = normalize_header(header)
            target = index.match(norm)
            key = (target.name, target.evidence) if target else ("?", norm)
            out[key] = (out[key][0] if key in out else header, value)
    return out


def _sheet(tf: TestFile, rows: list[Row], defaults: Row | None, schema: TableSchema) -> RawSheet:
    index = HeaderIndex(schema.fields)
    if not rows and defaults is not None:
        rows = [Row({}, defaults.line)]
    merged = [_merge(defaults, r, index) for r in rows]
    headers: dict[Any, str] = {}
    for m in merged:
        for key, (header, _) in m.items():
            headers.setdefault(key, header)
    if not rows:  # no rows at all: every column present, so nothing is reported missing
        headers = {f.name: f.name for f in schema.fields}
    keys = list(headers)
    cells = [[m[k][1] if k in m else None for k in keys] for m in merged]
    return RawSheet(str(tf.path), [headers[k] for k in keys], cells, [r.line for r in rows])


# ---------------------------------------------------------------------------- running


class Runner:
    """Runs the cases of one test file against one checked model (plans cached per year)."""

    def __init__(self, tf: TestFile, model: Model, year: int | None = None) -> None:
        self.tf, self.model, self.year = tf, model, year
        self._plans: dict[int | None, Any] = {}

    def run(self, case: Case) -> CaseResult:
        res = CaseResult(case)
        tf, model = self.tf, self.model
        rows, issues = validate_sheet(_sheet(tf, case.schools, tf.school_defaults, model.row_schema()),
                                      model.row_schema(), {}, ("school_code", "stage"))
        counties = None
        county_rows = case.counties or ([Row({}, tf.county_defaults.line)] if tf.county_defaults else [])
        if county_rows:
            counties, c_issues = validate_sheet(_sheet(tf, county_rows, tf.county_defaults, model.county_schema()),
                                                model.county_schema(), {}, ("county_code",))
            issues = issues + c_issues
        issues = issues + stage_issues(model, rows)
        self._data_failures(case, issues, res)
        try:
            year = choose_year(model, case.year or self.year or tf.year, rows)
        except UsageError as e:
            res.failures.append(Failure(case.line, e.message_zh, e.message_en))
            return res
        if year not in self._plans:
            self._plans[year] = compile_model(model, year)
        frame = build_frame(rows, counties)
        ev = evaluate(model, rows, counties, issues, self._plans[year], frame)
        report = ev.to_dict(include_rows=True)
        res.evaluation, res.report = ev, report
        for t in case.targets:
            self._compare(t, report, res)
        return res

    def _data_failures(self, case: Case, issues: list[DataIssue], res: CaseResult) -> None:
        errors = [i for i in issues if i.severity == "error"]
        unused = [i for i in issues if i.code == "unused_column"]
        rows = [*case.schools, *case.counties, *(r for r in (self.tf.school_defaults, self.tf.county_defaults) if r)]
        for i in unused:  # a misspelt column would silently leave the default in place
            line = next((r.line for r in rows if i.column in r.cells), case.line)
            res.failures.append(Failure(i.row or line, f"列 “{i.column}” 不是该标准的数据列：{i.message_zh}",
                                        f"column '{i.column}' is not a column of this standard: {i.message_en}"))
        if case.data_errors is None:
            for i in errors:
                res.failures.append(Failure(i.row or case.line, f"数据错误：{i.message_zh}（{i.location()}）",
                                            f"data error: {i.message_en} ({i.location()})"))
        elif len(errors) != case.data_errors:
            listed_zh = "；".join(i.message_zh for i in errors) or "无"
            listed_en = "; ".join(i.message_en for i in errors) or "none"
            res.failures.append(Failure(case.line, f"data_errors：预期 {case.data_errors} 处数据错误，实际 {len(errors)} 处（{listed_zh}）",
                                        f"data_errors: expected {case.data_errors} data error(s), got {len(errors)} ({listed_en})"))

    # ------------------------------------------------------------------ comparing

    def _compare(self, t: Target, report: dict, res: CaseResult) -> None:
        if t.kind == "county":
            found = [c for c in report["counties"] if c["county_code"] == t.name or c.get("county_name") == t.name]
            if not found:
                res.failures.append(Failure(t.line, f"本用例中没有区县 “{t.name}”", f"this case has no county '{t.name}'", target=t))
                return
            for e in t.expectations:
                self._judge(e, _county_result(found[0], e.path), t, res)
            return
        rows = [r for r in report["schools"] if r["school_code"] == t.name or r.get("school_name") == t.name]
        if t.stage is not None:
            rows = [r for r in rows if r["stage"] == t.stage]
        where_zh = f"学校 “{t.name}”" + (f"（{t.stage}）" if t.stage else "")
        where_en = f"school '{t.name}'" + (f" ({t.stage})" if t.stage else "")
        if not rows:
            res.failures.append(Failure(t.line, f"本用例中没有{where_zh}的数据行", f"this case has no row for {where_en}", target=t))
            return
        code = rows[0]["school_code"]
        checks = next((s["checks"] for s in report["school_checks"] if s["school_code"] == code), {})
        for e in t.expectations:
            school_level = e.path[0] in ("checks", "values") and self.model.decls[e.path[1]].kind == "check" \
                and self.model.decls[e.path[1]].entity == "school"
            if school_level:
                got = checks.get(e.path[1], {})
                self._judge(e, got.get("status") if e.path[0] == "checks" else got.get("value"), t, res)
                continue
            if len(rows) > 1:
                res.failures.append(Failure(e.line, f"{where_zh}有 {len(rows)} 个学段行：请在该 [[case.expect]] 中写明 stage",
                                            f"{where_en} has {len(rows)} stage rows: add stage to this [[case.expect]]", e, None, t))
                continue
            self._judge(e, _row_result(rows[0], e.path, e.expected), t, res)

    def _judge(self, e: Expectation, got: Any, t: Target, res: CaseResult) -> None:
        res.checked += 1
        if _matches(e, got):
            return
        what = ".".join(p for p in e.path if p)
        who_zh = f"学校 “{t.name}”" + (f"（{t.stage}）" if t.stage else "") if t.kind == "school" else f"区县 “{t.name}”"
        who_en = f"school '{t.name}'" + (f" ({t.stage})" if t.stage else "") if t.kind == "school" else f"county '{t.name}'"
        res.failures.append(Failure(
            e.line,
            f"{who_zh} {what}：预期 {_shown(e, e.expected, 'zh', True)}，实际 {_shown(e, got, 'zh')}",
            f"{who_en} {what}: expected {_shown(e, e.expected, 'en', True)}, got {_shown(e, got, 'en')}",
            e, got, t,
        ))


def _row_result(row: dict, path: tuple[str, ...], expected: Any) -> Any:
    group = path[0]
    if group == "pass":
        return row["pass"] if isinstance(expected, bool) and row["pass"] is not None else row["status"]
    if group == "indicators":
        return row["indicators"].get(path[1], {}).get("status")
    if group == "rules":
        return row["rules"].get(path[1])
    if group == "checks":
        return row["checks"].get(path[1], {}).get("status")
    if group == "values":
        hit = row["indicators"].get(path[1]) or row["checks"].get(path[1]) or {}
        return hit.get("value")
    return None


def _county_result(c: dict, path: tuple[str, ...]) -> Any:
    group = path[0]
    if group == "verdict":
        return c["verdict"]
    if group == "verdicts":
        return c["verdicts"].get(path[1])
    if group == "items":
        return c["items"].get(path[1], {}).get("status")
    if group == "values":
        return c["items"].get(path[1], {}).get("value")
    if group == "parts":
        return c["parts"].get(path[1])
    if group == "grades":
        if path[1] in c["grades"]:
            return c["grades"][path[1]]
        return c["items"].get(path[1], {}).get("grade")
    if group in ("balance", "cv"):
        hit = c["balance"].get(path[1], {}).get(path[2], {})
        return hit.get("status") if group == "balance" else hit.get("cv")
    return None


def _matches(e: Expectation, got: Any) -> bool:
    if isinstance(e.expected, float):
        if got is None or isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        d = decimals(e.written)
        return abs(got - e.expected) <= 0.5 * 10.0 ** (-d) * (1 + 1e-9) + 1e-12 * max(1.0, abs(e.expected))
    return got == e.expected and type(got) is type(e.expected)


def _shown(e: Expectation, value: Any, lang: str, expected: bool = False) -> str:
    if expected and isinstance(e.expected, float):
        return str(e.written)
    if isinstance(e.expected, float):
        if value is None:
            return "无数值（未评估）" if lang == "zh" else "no value (not assessed)"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = round(float(value), max(decimals(e.written) + 2, 4))
            return str(int(shown)) if shown.is_integer() else repr(shown)
    if e.path[0] == "grades":
        return ("无" if lang == "zh" else "none") if value is None else str(value)
    return status_text(value, lang)
