"""One evaluation started from the browser, run in the background through :func:`qbe.pipeline.run`.

The web app has no evaluation of its own: a run calls the same function as
``qbe run`` (with no output formats), keeps its :class:`~qbe.pipeline.RunResult`,
and later asks the same writer plugins for downloads (:func:`qbe.pipeline.write_reports`).

Unlike the command line, which writes reports with the bad rows marked, a run
whose data has errors is *refused* here: the page shows the table of problems
and no verdict, since a verdict over partly unreadable data is easy to misread
on screen. Nothing is dropped silently either way.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.table import DataIssue
from ..errors import DataError, QbeError
from .sessions import Upload

#: evaluations run one at a time, so a large upload cannot starve the machine's other work
_ONE_AT_A_TIME = threading.Semaphore(1)


@dataclass
class IssueRow:
    """A data problem as one row of the table the user sees."""

    file: str
    sheet: str
    row: str
    column: str
    value: str
    message_zh: str
    message_en: str
    severity: str
    code: str


@dataclass
class Run:
    id: str
    standard: str  #: an installed standard's id
    path: Path  #: that standard's ruleset file, found by id
    schools: Upload
    counties: Upload | None
    year: int | None
    lang: str
    folder: Path
    state: str = "queued"  #: queued, running, done, data_error, failed
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None  #: the pipeline's RunResult when done
    issues: list[IssueRow] = field(default_factory=list)
    warnings: list[IssueRow] = field(default_factory=list)
    message_zh: str = ""
    message_en: str = ""
    downloads: dict[str, Path] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def names(self) -> dict[str, str]:
        """Server path → the user's file name, so messages never show the server's folders."""
        out = {str(self.schools.path): self.schools.name}
        if self.counties is not None:
            out[str(self.counties.path)] = self.counties.name
        return out

    def message(self, lang: str) -> str:
        return self.message_zh if lang == "zh" else self.message_en


def issue_rows(issues: list[DataIssue], names: dict[str, str]) -> list[IssueRow]:
    out = []
    for i in issues:
        value = "" if i.value is None else str(i.value)
        out.append(IssueRow(file=names.get(str(i.source), display_source(i.source, names)), sheet=i.sheet or "",
                            row="" if i.row is None else str(i.row), column=i.column or "", value=value,
                            message_zh=hide_paths(i.message_zh, names), message_en=hide_paths(i.message_en, names),
                            severity=i.severity, code=i.code))
    return out


def display_source(source: str | None, names: dict[str, str]) -> str:
    if not source:
        return ""
    return names.get(source, Path(source).name)


def hide_paths(text: str, names: dict[str, str]) -> str:
    """A message with the server's upload paths replaced by the user's file names."""
    for path, name in names.items():
        text = text.replace(path, name)
    return text


def execute(run: Run, reg) -> None:
    """Evaluate ``run`` (in a worker thread) and record the outcome on it; never raises."""
    from ..pipeline import run as pipeline_run

    names = run.names()
    with _ONE_AT_A_TIME:
        run.state = "running"
        try:
            res = pipeline_run(str(run.path), str(run.schools.path), str(run.counties.path) if run.counties else None,
                               formats=(), output=None, lang=run.lang, reg=reg, echo=lambda *_a, **_k: None, year=run.year)
        except DataError as e:
            run.issues = issue_rows([i for i in e.issues if i.severity == "error"], names)
            run.message_zh, run.message_en = hide_paths(e.message_zh, names), hide_paths(e.message_en, names)
            run.state = "data_error"
        except QbeError as e:
            run.message_zh, run.message_en = hide_paths(e.render("zh"), names), hide_paths(e.render("en"), names)
            run.state = "failed"
        except Exception as e:  # a bug: shown as such, with the traceback kept on the server's terminal
            traceback.print_exc()
            run.message_zh = f"内部错误（请报告此问题）：{type(e).__name__}: {e}"
            run.message_en = f"internal error (please report it): {type(e).__name__}: {e}"
            run.state = "failed"
        else:
            issues = res.evaluation.issues
            run.warnings = issue_rows([i for i in issues if i.severity != "error"], names)
            if res.data_errors:
                run.issues = issue_rows([i for i in issues if i.severity == "error"], names)
                run.message_zh = f"数据有 {res.data_errors} 处错误，未作评估。请改正后重新上传。"
                run.message_en = f"the data has {res.data_errors} error(s); nothing was judged. Correct them and upload again."
                run.state = "data_error"
            else:
                run.result = res
                run.state = "done"
        finally:
            run.finished = time.monotonic()


def start(run: Run, reg) -> threading.Thread:
    t = threading.Thread(target=execute, args=(run, reg), name=f"qbe-run-{run.id}", daemon=True)
    t.start()
    return t


def download(run: Run, fmt: str, reg, lang: str) -> tuple[Path | None, str]:
    """The report in format ``fmt`` written by its writer plugin (once per format and language)."""
    from ..pipeline import write_reports

    key = f"{fmt}:{lang}"
    if key in run.downloads:
        return run.downloads[key], ""
    res = run.result
    written, failed = write_reports(res.evaluation, res.report, [fmt], run.folder / "out" / lang, lang, reg,
                                    echo=lambda *_a, **_k: None)
    if fmt in written:
        run.downloads[key] = written[fmt]
        return written[fmt], ""
    return None, failed.get(fmt, fmt)
