"""The whole job on one screen: ruleset → model → plan; data → tables; evaluate; write.

Each function is one stage, so the CLI, the tests and other programs call
the same steps. Every user-facing failure is a :class:`~qbe.errors.QbeError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .compiler import build_frame, compile_model, execute
from .data.readers import DataSourceError
from .data.schema import TableSchema
from .data.table import DataIssue, Table
from .data.validate import known_headers, validate_sheet
from .diagnostics import Diagnostic
from .errors import DataError, QbeError, RulesetError, UsageError
from .plugins import Registry, atomic_write, registry
from .results.assemble import Evaluation
from .semantics import Model, check_ruleset
from .standards import resolve

#: Up to this many rows the report dict carries its rows; above it the JSON writer
#: builds them column-wise (see :mod:`qbe.results.fastjson`).
ROWS_IN_REPORT_DICT = 2000


@dataclass
class Timings:
    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - t0

    def lines(self) -> list[str]:
        return [f"{k}: {v:.3f} s" for k, v in self.phases.items()]


# ---------------------------------------------------------------------------- rulesets


def _finder(reg: Registry | None):
    from .standards import installed

    extra = reg.rulesets if reg else None

    def find(std_id: str) -> Path | None:
        for s in installed(extra):
            if s.id == std_id:
                return s.path
        return None

    def known() -> list[str]:
        return [s.id for s in installed(extra)]

    return find, known


def check_file(path: str | Path, reg: Registry | None = None) -> tuple[Model | None, list[Diagnostic], dict[str, str]]:
    """Parse (with everything it extends) and check one ruleset file; never raises for problems in it."""
    from .semantics.inherit import load_standard

    find, known = _finder(reg)
    try:
        rs = load_standard(path, find, known)
    except RulesetError as e:
        return None, e.diagnostics, e.sources
    functions = {name: fn for name, (_, fn) in reg.functions.items()} if reg else {}
    model, diags = check_ruleset(rs, functions)
    return model, diags, dict(rs.sources)


def load_model(standard: str, reg: Registry | None = None) -> Model:
    """A checked model for a standard id or a ruleset path; RulesetError lists every problem."""
    info = resolve(standard, reg.rulesets if reg else None)
    model, diags, sources = check_file(info.path, reg)
    if model is None:
        raise RulesetError(diags, sources)
    return model


def choose_year(model: Model, year: int | None, rows: Table | None = None) -> int | None:
    """The year whose values apply: ``--year``, else the data's ``year`` column, else none needed.

    A standard with yearly values and no year to go by, or a year it does not
    cover, is a usage error that lists the years it does cover.
    """
    if year is None and rows is not None and "year" in rows.columns:
        col = rows.columns["year"]
        seen = sorted({int(v) for v in col[~np.isnan(col)].tolist()}) if col.dtype.kind == "f" else []
        if len(seen) == 1:
            year = seen[0]
        elif len(seen) > 1:
            raise UsageError(
                f"数据中有多个年度（{', '.join(map(str, seen))}），请用 --year 指定一个",
                f"the data holds several years ({', '.join(map(str, seen))}); choose one with --year",
            )
    if not model.params and model.standard.years is None:
        return year
    keys = model.years()
    covered = model.standard.years
    span_text = f"{covered[0]}–{covered[1]}" if covered else "、".join(keys)
    if year is None:
        raise UsageError(
            f"标准 {model.id} 按年度取值（{span_text}），请用 --year 指定年份",
            f"standard {model.id} has values by year ({span_text.replace('、', ', ')}); choose one with --year",
        )
    if covered and not covered[0] <= year <= covered[1]:
        raise UsageError(
            f"标准 {model.id} 只适用于 {covered[0]}–{covered[1]} 年，不含 {year} 年",
            f"standard {model.id} covers {covered[0]}–{covered[1]}, not {year}",
        )
    try:
        model.param_values(year)
    except LookupError as e:
        names = ", ".join(e.args[0])
        raise UsageError(
            f"标准 {model.id} 在 {year} 年尚无取值：{names}（有取值的年份：{span_text}）",
            f"standard {model.id} has no value in {year} for: {names} (years with values: {span_text})",
        ) from None
    return year


# ---------------------------------------------------------------------------- data


def _pick_sheet(sheets, schema: TableSchema, mapping: dict[str, str]):
    """Of several sheets, the one whose headers name the most declared columns."""
    from .data.validate import normalize_header

    known = {normalize_header(h) for h in known_headers(schema)} | {normalize_header(h) for h in mapping}
    best, score = sheets[0], -1
    for s in sheets:
        sc = sum(1 for h in s.headers if normalize_header(h) in known)
        if sc > score:
            best, score = s, sc
    return best


def load_table(
    source: str,
    schema: TableSchema,
    key: tuple[str, ...],
    reg: Registry,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[Table, list[DataIssue]]:
    mapping = mapping or {}
    for name, loader in reg.loaders:
        try:
            claimed = loader.claims(source)
        except Exception as e:
            reg.failures.append(_failure(name, e))
            continue
        if not claimed:
            continue
        try:
            sheets = loader.read(source, sheet=sheet, known_headers=known_headers(schema) | set(mapping))
        except DataSourceError as e:
            raise DataError([], e.message_zh, e.message_en) from None
        except Exception as e:  # a plugin's bug must not become a traceback for the user
            raise DataError([], f"读取器 {name} 无法读取 {source}：{e}", f"loader {name} failed to read {source}: {e}") from None
        if not sheets:
            raise DataError([], f"{source} 中没有数据", f"{source} contains no data")
        raw = _pick_sheet(sheets, schema, mapping)
        return validate_sheet(raw, schema, mapping, key)
    if not Path(source).exists() and "://" not in source:
        raise DataError([], f"找不到数据文件：{source}", f"data file not found: {source}")
    names = ", ".join(dict.fromkeys(getattr(loader, "name", n) for n, loader in reg.loaders))
    shown = _without_password(source)
    raise DataError([], f"没有读取器能读取 {shown}（已安装的读取器：{names}）", f"no loader can read {shown} (loaders: {names})")


def _without_password(source: str) -> str:
    """A URL as it may be shown: user kept, password hidden."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", source)


def _failure(name, e):
    from .plugins import PluginFailure

    return PluginFailure(name, f"{type(e).__name__}: {e}")


def stage_issues(model: Model, rows: Table) -> list[DataIssue]:
    """Rows whose stage the standard does not declare (a kindergarten row in a compulsory
    dataset, say) are errors: they would otherwise be judged by nothing."""
    from .data.schema import STAGES

    allowed = [i for i, s in enumerate(STAGES) if s.code in model.stage_names]
    stage = rows.columns.get("stage")
    if stage is not None and "stage" not in rows.present and len(allowed) == 1:
        stage[stage < 0] = allowed[0]  # a one-stage standard: rows without a stage column are that stage
    if stage is None or rows.n == 0:
        return []
    bad = (stage >= 0) & ~np.isin(stage, allowed)
    out = []
    names = "、".join(f"{s.label}（{s.name}）" for s in model.stages)
    for i in np.nonzero(bad)[0].tolist():
        value = STAGES[int(stage[i])].label
        out.append(DataIssue("stage_not_in_standard", f"标准 {model.id} 不评估学段“{value}”；可用学段：{names}",
                             f"standard {model.id} does not judge the stage '{STAGES[int(stage[i])].code}'; its stages: "
                             f"{', '.join(model.stage_names)}", rows.source, rows.sheet, int(rows.row_numbers[i]), "stage", value))
        rows.bad_rows[i] = True
    return out


# ---------------------------------------------------------------------------- run


class RunResult:
    """What a run made: the evaluation, the report dict, the files written, the timings.

    ``report`` is always the whole report dict (without per-row objects above
    2,000 rows). Writers that lay a large report's counties out themselves
    (``counties_from_evaluation``) are given it without them; they are made
    here when ``report`` is first read, so a caller never sees the difference.
    """

    def __init__(self, evaluation: Evaluation, report: dict, written: dict[str, Path], failed_writers: dict[str, str],
                 timings: Timings, data_errors: int) -> None:  # fmt: skip
        self.evaluation = evaluation
        self._report = report
        self.written = written
        self.failed_writers = failed_writers
        self.timings = timings
        self.data_errors = data_errors

    @property
    def report(self) -> dict:
        r = self._report
        if r is not None and not r["counties"] and self.evaluation.frame.n_county:
            r["counties"] = self.evaluation.county_dicts()
        return r

    @report.setter
    def report(self, value: dict) -> None:
        self._report = value


def evaluate(model: Model, rows: Table, counties: Table | None, issues: list[DataIssue], plan=None, frame=None) -> Evaluation:
    plan = plan or compile_model(model)
    frame = frame or build_frame(rows, counties)
    values = execute(plan, frame)
    return Evaluation(plan, frame, values, issues, __version__)


def run(
    standard: str,
    data: str,
    county_data: str | None = None,
    formats: Iterable[str] = ("terminal",),
    output: str | Path | None = None,
    lang: str = "zh",
    sheet: str | None = None,
    county_sheet: str | None = None,
    columns: dict[str, str] | None = None,
    county_columns: dict[str, str] | None = None,
    reg: Registry | None = None,
    echo=print,
    year: int | None = None,
    exemptions: str | Path | None = None,
) -> RunResult:
    t = Timings()
    reg = reg or registry()
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in reg.writers]
    if unknown:
        raise UsageError(
            f"未知输出格式：{', '.join(unknown)}；可用：{', '.join(reg.writers)}",
            f"unknown format(s): {', '.join(unknown)}; available: {', '.join(reg.writers)}",
        )
    with t.phase("compile"):
        model = load_model(standard, reg)
    with t.phase("load"):
        rows, issues = load_table(data, model.row_schema(), ("school_code", "stage"), reg, sheet, columns)
        counties = None
        if county_data:
            counties, c_issues = load_table(
                county_data, model.county_schema(), ("county_code",), reg, county_sheet, county_columns
            )
            issues = issues + c_issues
        issues = issues + stage_issues(model, rows)
        # grouping codes depend on the data only: factorised once, as part of loading
        frame = build_frame(rows, counties)
    with t.phase("compile"):
        year = choose_year(model, year, rows)
        plan = compile_model(model, year)
    applied: list[dict] = []
    if exemptions:
        from .exemptions import resolve as resolve_exemptions

        with t.phase("load"):
            frame.approved, applied = resolve_exemptions(exemptions, model, frame, year)
    with t.phase("evaluate"):
        ev = evaluate(model, rows, counties, issues, plan, frame)
        ev.exemptions = applied
    with t.phase("write"):
        try:
            prepare_writers(ev, formats, output, reg)
            report = ev.to_dict(include_rows=rows.n <= ROWS_IN_REPORT_DICT,
                                counties=rows.n <= ROWS_IN_REPORT_DICT or _need_counties(formats, reg))
            written, failed = write_reports(ev, report, formats, output, lang, reg, echo)
        finally:
            discard_prepared(ev, formats, reg)
    n_err = sum(1 for i in issues if i.severity == "error")
    return RunResult(ev, report, written, failed, t, n_err)


def _need_counties(formats: Iterable[str], reg: Registry) -> bool:
    """Whether a writer of this run reads ``counties`` from a large report's dict: each one does
    unless it says otherwise (``counties_from_evaluation = True``, the JSON writer)."""
    return any(not getattr(reg.writers[f][1], "counties_from_evaluation", False) for f in formats)


def prepare_writers(ev: Evaluation, formats: Iterable[str], output: str | Path | None, reg: Registry) -> None:
    """Let writers that can start early do so (a writer's optional ``prepare(evaluation, folder, stem)``).

    Called before the report dict is assembled, so slow work (the JSON
    report's row arrays at national scale) can overlap it. Preparing only
    saves time: a writer that fails to prepare makes everything in ``render``.
    """
    out_dir = Path(output) if output else Path("qbe-report")
    for fmt in formats:
        _, writer = reg.writers[fmt]
        prepare = getattr(writer, "prepare", None)
        if callable(prepare) and writer.extension is not None:
            try:
                prepare(ev, out_dir, ev.model.standard.id)
            except Exception:  # noqa: BLE001 - an optimisation only; render does the work itself
                pass


def discard_prepared(ev: Evaluation, formats: Iterable[str], reg: Registry) -> None:
    """Let writers stop and clean up what their ``prepare`` started and ``render`` did not use (the run
    failed before writing, say): a writer's optional ``discard(evaluation)``."""
    for fmt in formats:
        discard = getattr(reg.writers[fmt][1], "discard", None)
        if callable(discard):
            discard(ev)


def write_reports(ev, report, formats, output, lang, reg: Registry, echo=print):
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}
    out_dir = Path(output) if output else None
    for fmt in formats:
        name, writer = reg.writers[fmt]
        try:
            content = writer.render(ev, report, lang)
            if writer.extension is None:
                if isinstance(content, bytes):
                    content = content.decode("utf-8")
                elif not isinstance(content, str):
                    content = "".join(p if isinstance(p, str) else p.decode("utf-8") for p in content)
                echo(content)
                continue
            if out_dir is None:
                out_dir = Path("qbe-report")
            path = out_dir / f"{report['standard']['id']}{writer.extension}"
            written[fmt] = atomic_write(path, content)
        except QbeError as e:  # a writer's own message (e.g. which extra to install), in the user's language
            failed[fmt] = f"{name}: {e.render(lang)}"
        except Exception as e:  # one broken writer must not stop the others
            failed[fmt] = f"{name}: {type(e).__name__}: {e}"
    return written, failed
