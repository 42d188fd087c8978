"""Judge whether a county's compulsory education is quality-balanced
(义务教育优质均衡发展) under a versioned standard, from the school and county
tables a supervision office already has.

\b
  qbe demo                                  run the bundled fictional county
  qbe run --standard national-2017 --data schools.xlsx --county-data county.xlsx
  qbe check rulesets/national-2017.qbe      check a ruleset file, all problems at once
  qbe lint rulesets/*.qbe                   findings beyond check: impossible requirements, grade gaps …
  qbe standards                             list the installed standards
  qbe schema                                JSON Schema of the JSON report
  qbe template --standard national-2017 -o 填报模板.xlsx   the Excel input template
  qbe show | diff | compare                 versions of standards and what they change
  qbe fmt rulesets/ [--check|--diff]        lay ruleset files out in the one canonical style
  qbe serve                                 the local web app (needs qbe[web])
  qbe test rulesets/                        run the test cases kept beside the rulesets
"""

from __future__ import annotations

import json
import sys
from enum import IntEnum
from pathlib import Path

import click

from . import __version__
from .errors import QbeError


class ExitCode(IntEnum):
    """Exit codes of every qbe command (documented in docs/exit-codes.md)."""

    #: everything ran; reports written (a county that is *not met* is still a success)
    OK = 0
    #: an unexpected internal error (a bug: please report it with the traceback)
    INTERNAL = 1
    #: the command was used wrongly: unknown option, standard, format or year; a bad configuration file
    USAGE = 2
    #: a ruleset has errors (syntax, checks or a limit); nothing was evaluated.
    #: Also ``qbe fmt --check`` when a file is not in the canonical layout
    RULESET = 3
    #: the data could not be read (no report is written) or has errors (reports are written,
    #: rows with problems marked); also a bad exemptions file
    DATA = 4
    #: a report writer failed; the other formats were written
    WRITER = 5
    #: `qbe test`: a test case of a ruleset failed (expected and actual results differ)
    TESTS_FAILED = 6
    #: `qbe lint`: the ruleset has no errors but lint reports findings
    LINT_FINDINGS = 7


def _fail(e: QbeError, lang: str) -> None:
    click.echo(e.render(lang), err=True)
    sys.exit(int(e.exit_code))


LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                    help="Language of messages and the terminal summary (default: zh, or the config file's).")


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qbe")
def main() -> None:
    pass


#: Results of the runs of this process, kept to the end when it is the ``qbe`` program (see
#: :func:`entry`); None when ``main`` runs inside another program (tests, an embedding), which
#: frees them as usual.
_KEPT: list | None = None


def entry() -> None:
    """The ``qbe`` program: :func:`main`, then a quick exit.

    Why: a national run leaves its report behind as about a million Python
    objects, and a normal exit frees them one by one (~0.3 s at national
    scale) although the operating system takes the memory back at once. The
    run's results are kept referenced until here (``_KEPT``), then the process
    leaves with ``os._exit``: the ``atexit`` handlers run first and standard
    output and error are flushed after them, as at a normal exit, and every
    report file is closed by then. The exit codes are :class:`ExitCode`'s.

    The cyclic garbage collector looks at the young objects every 20,000
    allocations instead of every 700: a national run makes millions of small
    objects that live until the report is written, and the default ran ~100
    collections over them (~0.03 s); few of them form cycles.
    """
    import atexit
    import gc
    import os

    gc.set_threshold(20_000, 20, 10)

    global _KEPT
    _KEPT = []
    try:
        main()
        code = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:  # sys.exit("message"): printed, status 1, as Python does
            print(e.code, file=sys.stderr)
            code = 1
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # pragma: no cover - another Python: exit the usual way
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):  # last, as at a normal exit: handlers may print too
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (qbe … | head): nothing more can be said
            pass
    os._exit(code)


@main.command()
@click.option("--standard", "-s", help="Standard id (see `qbe standards`) or a path to a .qbe ruleset file.")
@click.option("--data", "-d", help="School table: one row per school per stage (.csv, .xlsx, .json).")
@click.option("--county-data", "-c", help="County table: one row per county, the county-level items.")
@click.option("--format", "-f", "formats", help="Comma-separated report formats: terminal, markdown, json, or a plugin's.")
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Folder for the report files (default: qbe-report).")
@click.option("--sheet", help="Worksheet of the school table (default: the sheet whose headers match best).")
@click.option("--county-sheet", help="Worksheet of the county table.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Configuration file (default: qbe.toml or [tool.qbe] found upward).")
@click.option("--year", type=int, help="Year whose values apply, for standards with yearly targets (default: the data's year).")
@click.option("--example", is_flag=True, help="Use the standard's bundled example dataset as --data and --county-data.")
@click.option("--exemptions", type=click.Path(dir_okay=False), help="TOML file of approved exemptions (school or county, item, reason, document, years).")
@click.option("--timings", is_flag=True, help="Print the seconds spent in each phase: load, compile, evaluate, write.")
@LANG
def run(standard, data, county_data, formats, output, sheet, county_sheet, config, year, example, exemptions, timings,
        lang) -> None:
    """Evaluate a school dataset against a standard and write the reports.

    \b
    Example:
      qbe run --standard national-2017 --data schools.xlsx \\
              --county-data county.xlsx --format terminal,markdown,json -o report/
    """
    from .config import load_config
    from .pipeline import run as do_run

    try:
        cfg = load_config(Path(config) if config else None)
        lang = lang or cfg.lang
        standard = standard or cfg.standard
        data = data or cfg.data
        county_data = county_data or cfg.county_data
        fmts = [f.strip() for f in formats.split(",")] if formats else cfg.formats
        if not standard:
            raise _usage("缺少 --standard（或配置文件中的 standard）", "missing --standard (or 'standard' in the configuration file)")
        if example:
            data, county_data = _example_files(standard)
        if not data:
            raise _usage("缺少 --data（学校数据文件）", "missing --data (the school table)")
        res = do_run(standard, data, county_data, fmts, output or cfg.output, lang, sheet or cfg.sheet,
                     county_sheet or cfg.county_sheet, cfg.columns, cfg.county_columns, echo=click.echo, year=year,
                     exemptions=exemptions)
    except QbeError as e:
        _fail(e, lang or "zh")
        return
    _after_run(res, timings, lang)


def _example_files(standard: str) -> tuple[str, str | None]:
    from .standards import resolve

    ex = resolve(standard).example_dir
    schools = ex / "schools.csv"
    if not schools.is_file():
        raise _usage(f"标准 {standard} 没有附带示例数据", f"standard {standard} ships no example dataset")
    county = ex / "counties.csv"
    return str(schools), str(county) if county.is_file() else None


def _after_run(res, timings: bool, lang: str) -> None:
    if _KEPT is not None:
        _KEPT.append(res)  # freed by the operating system at exit, not object by object (see entry)
    for fmt, path in res.written.items():
        click.echo(f"{'已写入' if lang == 'zh' else 'wrote'} {fmt}: {path}", err=True)
    for fmt, why in res.failed_writers.items():
        click.echo(f"{'输出失败' if lang == 'zh' else 'writer failed'} {fmt}: {why}", err=True)
    if timings:
        for line in res.timings.lines():
            click.echo(line)
    if res.data_errors:
        shown = [i for i in res.evaluation.issues if i.severity == "error"]
        for issue in shown[:20]:
            click.echo(issue.render(lang), err=True)
        if len(shown) > 20:
            click.echo(f"… {len(shown) - 20} more / 另有 {len(shown) - 20} 处", err=True)
        click.echo(f"数据有 {res.data_errors} 处错误，相关学校未评估 / the data has {res.data_errors} error(s); affected rows are not assessed", err=True)
        sys.exit(int(ExitCode.DATA))
    if res.failed_writers:
        sys.exit(int(ExitCode.WRITER))


def _usage(zh: str, en: str):
    from .errors import UsageError

    return UsageError(zh, en)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@LANG
def check(files, lang) -> None:
    """Check ruleset files and report every problem at once, with line, column and a fix.

    \b
    Example:
      qbe check rulesets/national-2017.qbe --lang en
    """
    from .pipeline import check_file
    from .plugins import registry

    lang = lang or "zh"
    errors = warnings = 0
    for f in files:
        if not Path(f).is_file():
            click.echo(f"{f}: {'找不到文件' if lang == 'zh' else 'file not found'}", err=True)
            errors += 1
            continue
        _, diags, sources = check_file(f, registry())
        for d in diags:
            click.echo(d.render(lang, sources))
            errors += d.is_error
            warnings += not d.is_error
        if not any(d.is_error for d in diags):
            click.echo(f"{f}: OK" if lang == "en" else f"{f}：通过")
    click.echo(f"{errors} 个错误，{warnings} 个警告" if lang == "zh" else f"{errors} error(s), {warnings} warning(s)")
    sys.exit(int(ExitCode.RULESET) if errors else 0)


@main.command()
@click.option("--standard", "-s", default="national-2017", show_default=True, help="Which standard's example to run.")
@click.option("--format", "-f", "formats", default="terminal", show_default=True, help="Report formats, comma-separated.")
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Folder for report files.")
@click.option("--year", type=int, help="Year whose values apply, for standards with yearly targets.")
@click.option("--timings", is_flag=True, help="Print the seconds spent in each phase.")
@LANG
def demo(standard, formats, output, year, timings, lang) -> None:
    """Run a standard on its bundled example dataset (a fictional county) and print the report.

    \b
    Example:
      qbe demo
      qbe demo --format terminal,markdown -o demo-report/
    """
    from .pipeline import run as do_run
    from .standards import resolve

    lang = lang or "zh"
    try:
        info = resolve(standard)
        schools, county = _example_files(standard)
        click.echo(("示例数据（虚构区县）：" if lang == "zh" else "example data (a fictional county): ") + str(info.example_dir),
                   err=True)
        res = do_run(str(info.path), schools, county, [f.strip() for f in formats.split(",")], output, lang,
                     echo=click.echo, year=year)
    except QbeError as e:
        _fail(e, lang)
        return
    _after_run(res, timings, lang)


@main.command()
def standards() -> None:
    """List the installed standards (bundled and from plugins).

    \b
    Example:
      qbe standards
    """
    from .language.reading import parse_file
    from .plugins import registry
    from .standards import installed

    reg = registry()
    for s in installed(reg.rulesets):
        try:
            std = parse_file(s.path).standard
            title = std.title if std else ""
            version = std.version if std else ""
        except QbeError:
            title, version = "（规则文件有误 / ruleset has errors）", ""
        example = " [example]" if (s.example_dir / "schools.csv").is_file() else ""
        click.echo(f"{s.id}\t{version}\t{title}\t{s.provider}{example}")


@main.command()
@click.argument("standard")
@click.option("--markdown", is_flag=True, help="Markdown instead of plain text.")
def show(standard, markdown) -> None:
    """Print the resolved standard: every item, its formula, requirements and yearly values,
    and the file and line each comes from (through every standard it extends).

    \b
    Example:
      qbe show national-2019
    """
    from .pipeline import load_model
    from .plugins import registry
    from .versions import show as render

    try:
        model = load_model(standard, registry())
    except QbeError as e:
        _fail(e, "zh")
        return
    click.echo(render(model, markdown), nl=False)


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--markdown", is_flag=True, help="Markdown instead of plain text.")
def diff(old, new, markdown) -> None:
    """What changed from one standard to another, item by item: added, removed, changed
    (with old and new values, per stage and year).

    \b
    Example:
      qbe diff national-2017 national-2019 --markdown > changes.md
    """
    from .pipeline import load_model
    from .plugins import registry
    from .versions import diff_text

    try:
        reg = registry()
        a, b = load_model(old, reg), load_model(new, reg)
    except QbeError as e:
        _fail(e, "zh")
        return
    click.echo(diff_text(a, b, markdown), nl=False)


@main.command()
@click.option("--standards", "-s", "specs", required=True,
              help="Comma-separated standards to compare; add @YEAR to pin a year (qiantang-2022@2023).")
@click.option("--data", "-d", help="School table.")
@click.option("--county-data", "-c", help="County table.")
@click.option("--example", is_flag=True, help="Use the first standard's bundled example data.")
@click.option("--markdown", is_flag=True, help="Markdown instead of plain text.")
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of the terminal.")
def compare(specs, data, county_data, example, markdown, as_json, output) -> None:
    """Evaluate the same data under two or more standards (or years) and show which verdicts
    change, for which counties and schools, and which rule made the difference.

    \b
    Example:
      qbe compare --standards national-2017,national-2019 --data schools.xlsx --county-data county.xlsx
      qbe compare --standards qiantang-2022@2022,qiantang-2022@2024 --example
    """
    from .compare import compare_reports, compare_text, run_many

    try:
        parsed = []
        for spec in [x.strip() for x in specs.split(",") if x.strip()]:
            std, _, y = spec.partition("@")
            parsed.append((std, int(y) if y else None))
        if len(parsed) < 2:
            raise _usage("至少需要两个标准（或年份）", "give at least two standards (or years)")
        if example:
            data, county_data = _example_files(parsed[0][0])
        if not data:
            raise _usage("缺少 --data（或 --example）", "missing --data (or --example)")
        result = compare_reports(run_many(parsed, data, county_data))
    except QbeError as e:
        _fail(e, "zh")
        return
    except ValueError:
        _fail(_usage("年份须为整数，如 qiantang-2022@2023", "a year must be a whole number, as in qiantang-2022@2023"), "zh")
        return
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n" if as_json else compare_text(result, markdown)
    if output:
        from .plugins import atomic_write

        atomic_write(Path(output), text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the JSON report (versioned; see docs/json-schema.md).

    \b
    Example:
      qbe schema > qbe-report.schema.json
    """
    from .results.schema import SCHEMA_VERSION, Report

    s = Report.model_json_schema(by_alias=True)
    s["$id"] = f"https://qbe.invalid/schema/report-{SCHEMA_VERSION}.json"
    s["title"] = f"qbe report, schema {SCHEMA_VERSION}"
    click.echo(json.dumps(s, ensure_ascii=False, indent=2))


@main.command()
def plugins() -> None:
    """List loaded plugins, their versions and what they provide, and any that failed.

    \b
    Example:
      qbe plugins
    """
    from .plugins import plugin_version, registry

    reg = registry()
    provides: dict[str, list[str]] = {}
    for name, loader in reg.loaders:
        provides.setdefault(name, []).append(f"loader:{loader.name}")
    for fmt, (name, _) in reg.writers.items():
        provides.setdefault(name, []).append(f"writer:{fmt}")
    for name, path in reg.rulesets:
        provides.setdefault(name, []).append(f"ruleset:{path.name}")
    for fname, (name, _) in reg.functions.items():
        provides.setdefault(name, []).append(f"function:{fname}")
    for name, what in provides.items():
        click.echo(f"{name}\t{plugin_version(reg.manager, name)}\t{', '.join(what)}")
    for f in reg.failures:
        click.echo(f"{f.plugin}\tFAILED\t{f.error}", err=True)


@main.command()
@click.option("--standard", "-s", help="Standard id (see `qbe standards`) or a path to a .qbe ruleset file.")
@click.option("--output", "-o", type=click.Path(), help="File to write (default: <standard>-填报模板.xlsx); a folder puts it there.")
@click.option("--force", is_flag=True, help="Overwrite an existing file (it may hold filled-in data).")
@LANG
def template(standard, output, force, lang) -> None:
    """Write the Excel input template of a standard: a sheet 学校 and a sheet 区县 with Chinese
    headers and units, data validation and a note on every column, and a sheet 填写说明.
    Filled in, it is read with no column mapping.

    \b
    Example:
      qbe template --standard national-2017 -o 填报模板.xlsx
      qbe run --standard national-2017 --data 填报模板.xlsx --county-data 填报模板.xlsx
    """
    from .config import load_config
    from .pipeline import load_model
    from .plugins import atomic_write, registry
    from .template import build_template

    try:
        cfg = load_config()
        lang = lang or cfg.lang
        standard = standard or cfg.standard
        if not standard:
            raise _usage("缺少 --standard（或配置文件中的 standard）", "missing --standard (or 'standard' in the configuration file)")
        model = load_model(standard, registry())
        path = Path(output) if output else Path(f"{model.id}-填报模板.xlsx")
        if path.is_dir():
            path = path / f"{model.id}-填报模板.xlsx"
        if path.exists() and not force:
            raise _usage(f"{path} 已存在（可能已填有数据）；如要覆盖，请加 --force",
                         f"{path} exists (it may hold filled-in data); add --force to overwrite it")
        data = build_template(model)
    except QbeError as e:
        _fail(e, lang or "zh")
        return
    atomic_write(path, data)
    click.echo(f"已写入填报模板：{path}" if (lang or "zh") == "zh" else f"wrote the input template: {path}", err=True)


@main.command()
@click.option("--standard", "-s", help="Standard id (see `qbe standards`) or a path to a .qbe ruleset file.")
@click.option("--data", "-d", help="School table: one row per school per stage (.csv, .xlsx, .json).")
@click.option("--county-data", "-c", help="County table: one row per county, the county-level items.")
@click.option("--school", help="The school to explain: its name or code (each of its stage rows).")
@click.option("--county", help="The county to explain (its code), or the county a --school is in.")
@click.option("--indicator", help="Explain only this item (an id such as teaching_area_per_student).")
@click.option("--example", is_flag=True, help="Use the standard's bundled example dataset as --data and --county-data.")
@click.option("--year", type=int, help="Year whose values apply, for standards with yearly targets.")
@LANG
def explain(standard, data, county_data, school, county, indicator, example, year, lang) -> None:
    """Explain every verdict for one school or county: formula with the numbers, requirement and
    its source, % of the requirement, status, exemptions and tolerances, and the deciding rule.

    \b
    Example:
      qbe explain --standard national-2017 --example --school 博雅小学
      qbe explain --standard national-2017 --data schools.csv --county-data counties.csv --county 999901
    """
    from .explain import explain as do_explain

    lang = lang or "zh"
    try:
        if not standard:
            raise _usage("缺少 --standard", "missing --standard")
        if example:
            data, county_data = _example_files(standard)
        if not data:
            raise _usage("缺少 --data（学校数据文件）", "missing --data (the school table)")
        text = do_explain(standard, data, county_data, school, county, indicator, year, lang)
    except QbeError as e:
        _fail(e, lang)
        return
    click.echo(text, nl=False)


@main.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--year", type=int, help="Year for cases that do not set their own, for standards with yearly targets.")
@click.option("--update", is_flag=True, help="Rewrite the failing expectations in the test files with the current results.")
@click.option("--record", is_flag=True, help="With --update: also add every result an expectation block does not state yet.")
@click.option("--no-coverage", is_flag=True, help="Do not print which statuses the cases exercised.")
@LANG
def test_cmd(paths, year, update, record, no_coverage, lang) -> None:
    """Run the test cases kept beside rulesets: each case's rows through the same evaluation as
    `qbe run`, compared with the expected verdicts; then which statuses the cases exercised.

    \b
    PATHS: test files (*.test.toml), ruleset files (their tests/<name>.test.toml) or folders;
    default: the rulesets folder of the current directory, else the bundled standards.
    \b
    Example:
      qbe test rulesets/
      qbe test rulesets/national-2017.qbe --lang en
      qbe test rulesets/tests/qiantang-2022.test.toml --update
    """
    from .ruletest.command import default_paths, run_tests

    lang = lang or "zh"
    if record and not update:
        _fail(_usage("--record 须与 --update 同用", "--record is used with --update"), lang)
        return
    try:
        paths = list(paths) or default_paths()
        if not paths:
            raise _usage("请给出测试文件、规则文件或文件夹", "give test files, ruleset files or folders")
        code = run_tests(paths, lang, year, update, record, not no_coverage, echo=click.echo)
    except QbeError as e:
        _fail(e, lang)
        return
    sys.exit(code)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1); anything but loopback needs --token.")
@click.option("--port", type=int, help="Port to listen on (default 8765; 0: any free port).")
@click.option("--token", envvar="QBE_WEB_TOKEN", help="Access token every request must carry (env QBE_WEB_TOKEN).")
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--max-upload-mb", type=float, help="Largest uploaded file, in MB (default 50).")
@click.option("--session-minutes", type=float, help="Idle minutes after which a session's uploads are deleted (default 120).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="Configuration file whose [web] table gives defaults (default: qbe.toml or [tool.qbe] found upward).")
@LANG
def serve(host, port, token, no_browser, max_upload_mb, session_minutes, config, lang) -> None:
    """Start the local web app (needs qbe[web]): choose a standard, upload the tables, read,
    explain, compare and download the report in a browser.

    Options not given come from the [web] table of qbe.toml (host, port, token,
    max_upload_mb, session_minutes), then from the defaults.

    \b
    Example:
      qbe serve
      qbe serve --port 9000 --no-browser
      qbe serve --host 0.0.0.0 --token "$(python3 -c 'import secrets; print(secrets.token_urlsafe())')"
    """
    from .config import load_config
    from .errors import UsageError
    from .web import missing_packages

    try:
        cfg = load_config(Path(config) if config else None)
    except QbeError as e:
        _fail(e, lang or "zh")
        return
    lang = lang or cfg.lang
    web = cfg.web

    def pick(given, configured, default):
        return given if given is not None else configured if configured is not None else default

    host = pick(host, web.host, "127.0.0.1")
    port = pick(port, web.port, 8765)
    token = pick(token, web.token, None)
    max_upload_mb = pick(max_upload_mb, web.max_upload_mb, 50.0)
    session_minutes = pick(session_minutes, web.session_minutes, 120.0)
    missing = missing_packages()
    if missing:
        _fail(UsageError(f"网页版需要安装 qbe[web]（缺少：{', '.join(missing)}）：pip install 'qbe[web]'",
                         f"the web app needs the web extra (missing: {', '.join(missing)}): pip install 'qbe[web]'"), lang)
        return
    from .web.app import Settings
    from .web.server import serve as run_server

    try:
        run_server(Settings(host, port, token, max_upload_mb, session_minutes), not no_browser, click.echo, lang)
    except QbeError as e:
        _fail(e, lang)


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 3 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Change nothing; print what would change as a unified diff.")
@LANG
def fmt(paths, check, show_diff, lang) -> None:
    """Lay ruleset files (.qbe, or folders of them) out in the canonical style; comments and meaning unchanged.

    \b
    Example:
      qbe fmt rulesets/my-province.qbe
      qbe fmt --check rulesets/
    """
    from .language.formatter import format_paths

    sys.exit(format_paths(list(paths), check, show_diff, lang or "zh", click.echo))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@LANG
def lint(paths, lang) -> None:
    """Find what a ruleset that passes `qbe check` most likely still gets wrong: requirements the
    inputs' declared ranges make impossible or certain, constant conditions, overlapping or gapped
    grades, overrides that change nothing, unused values. Exit 0 with no findings, 7 with findings,
    3 when a file has errors (those are printed instead).

    \b
    Example:
      qbe lint rulesets/*.qbe --lang en
    """
    from .plugins import registry
    from .semantics.lint import run_lint

    sys.exit(run_lint(list(paths), lang or "zh", click.echo, registry()))


if __name__ == "__main__":  # pragma: no cover
    main()
