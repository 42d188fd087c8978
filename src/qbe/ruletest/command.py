"""``qbe test``: run the test files, print each case's result, coverage and a summary; pick the exit code.

Exit codes (docs/exit-codes.md): 0 every case passed; 6 (``TESTS_FAILED``) a
case failed; 4 a test file cannot be used (its problems are printed with file,
line and column); 3 a ruleset has errors; 2 a path or standard that does not
exist. When several apply, the first of 3, 4, 6 wins: a broken ruleset or test
file says nothing about the cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, Span
from ..errors import QbeError, RulesetError, UsageError
from .casefile import TestFile, TestFileError, read_test_file
from .coverage import Coverage
from .discover import Job, discover, standard_for
from .runner import CaseResult, Failure, Runner, check_names
from .update import update_file

#: Exit code of ``qbe test`` when a case fails (``ExitCode.TESTS_FAILED`` in the CLI).
EXIT_TESTS_FAILED = 6


@dataclass
class Summary:
    files: int = 0
    cases: int = 0
    passed: int = 0
    failed: int = 0
    bad_files: int = 0
    ruleset_errors: int = 0

    def exit_code(self) -> int:
        if self.ruleset_errors:
            return 3
        if self.bad_files:
            return 4
        return EXIT_TESTS_FAILED if self.failed else 0


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def run_tests(paths: list[str], lang: str = "zh", year: int | None = None, update: bool = False, record: bool = False,
              coverage: bool = True, echo: Callable[..., None] = print) -> int:
    """Run every test file the paths name; print results; return the exit code.

    Raises :class:`~qbe.errors.UsageError` for a path that does not exist or a
    ruleset without tests.
    """
    from ..plugins import registry

    jobs, untested = discover(paths)
    reg = registry()
    summary = Summary()
    covers: dict[str, Coverage] = {}
    for job in jobs:
        summary.files += 1
        _run_file(job, reg, lang, year, update, record, echo, summary, covers)
    if coverage:
        for cov in covers.values():
            for line in cov.lines(lang):
                echo(line)
    for rs in untested:
        echo(_t(lang, f"注意：规则文件 {rs} 没有测试文件", f"note: the ruleset {rs} has no test file"))
    echo(_t(lang, f"结果：{summary.files} 个测试文件，{summary.cases} 个用例，{summary.passed} 个通过，{summary.failed} 个失败"
                  + (f"，{summary.bad_files} 个测试文件有错误" if summary.bad_files else "")
                  + (f"，{summary.ruleset_errors} 个规则文件有错误" if summary.ruleset_errors else ""),
            f"result: {summary.files} test file(s), {summary.cases} case(s), {summary.passed} passed, {summary.failed} failed"
            + (f", {summary.bad_files} test file(s) with errors" if summary.bad_files else "")
            + (f", {summary.ruleset_errors} ruleset(s) with errors" if summary.ruleset_errors else "")))
    return summary.exit_code()


def _run_file(job: Job, reg, lang: str, year: int | None, update: bool, record: bool, echo, summary: Summary,
              covers: dict[str, Coverage]) -> None:
    from ..pipeline import load_model

    try:
        tf = read_test_file(job.test_file)
    except TestFileError as e:
        echo(e.render(lang))
        summary.bad_files += 1
        return
    standard = str(job.ruleset) if job.ruleset else standard_for(tf.path, tf.standard)
    try:
        model = load_model(standard, reg)
    except RulesetError as e:
        echo(e.render(lang))
        summary.ruleset_errors += 1
        return
    except UsageError as e:  # the standard the test file names does not exist
        echo(TestFileError([_standard_diag(tf, e)]).render(lang))
        summary.bad_files += 1
        return
    diags = check_names(tf, model)
    if diags:
        echo(TestFileError(diags).render(lang))
        summary.bad_files += 1
        return
    echo(f"{tf.path}  [{model.id}]")
    runner = Runner(tf, model, year)
    cov = covers.setdefault(model.id, Coverage.of(model))
    results: list[CaseResult] = []
    for case in tf.cases:
        try:
            res = runner.run(case)
        except QbeError as e:  # a problem of this case only (e.g. a year the standard does not cover)
            res = CaseResult(case)
            res.failures.append(Failure(case.line, e.message_zh, e.message_en))
        results.append(res)
        if res.evaluation is not None:
            cov.add(res.evaluation)
    fixed: set[int] = set()
    if update:
        changed, added, skipped = update_file(tf, results, record)
        fixed = {id(f) for r in results for f in r.failures if f.expectation is not None and f.target is not None
                 and f.expectation.line not in skipped}
        echo(_t(lang, f"已更新 {tf.path}：改写 {changed} 处预期，新增 {added} 处", f"updated {tf.path}: {changed} expectation(s) rewritten, "
                                                                               f"{added} added"))
        for line in sorted(set(skipped)):
            echo(_t(lang, f"  {tf.path}:{line}: 无法自动改写（结果为空或写法无法识别），请手工修改",
                    f"  {tf.path}:{line}: cannot be rewritten automatically (no result, or a layout not recognised); edit it by hand"))
    for res in results:
        summary.cases += 1
        left = [f for f in res.failures if id(f) not in fixed]
        where = f"{tf.path}:{res.case.line}"
        if not left:
            summary.passed += 1
            tag = _t(lang, "通过", "PASS") if not res.failures else _t(lang, "已更新", "UPDATED")
            echo(f"  {tag}  {where}  {res.case.name}")
            continue
        summary.failed += 1
        echo(f"  {_t(lang, '失败', 'FAIL')}  {where}  {res.case.name}")
        for f in left:
            echo(f"        {tf.path}:{f.line}: {f.message_zh if lang == 'zh' else f.message_en}")


def _standard_diag(tf: TestFile, e: UsageError) -> Diagnostic:
    line = 1
    for no, text in enumerate(tf.text.splitlines(), start=1):
        if text.strip().startswith("standard"):
            line = no
            break
    return Diagnostic("test_unknown_standard", "error", Span(str(tf.path), line, 1), e.message_zh, e.message_en,
                      "写标准编号（qbe standards 列出）或规则文件的相对路径",
                      "write a standard id (see qbe standards) or a ruleset path relative to the test file")


def default_paths() -> list[str]:
    """With no path: the ``rulesets`` folder of the current directory, else the bundled rulesets."""
    if Path("rulesets").is_dir():
        return ["rulesets"]
    from ..standards import ruleset_dirs

    return [str(d) for d in ruleset_dirs()[:1]]
