"""One root for every error qbe reports to a user.

Anything raised as a :class:`QbeError` is a user-facing problem: the CLI prints
its message and exits with its code. Anything else is a bug and keeps its
traceback. Errors of the parser library never leave the language package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .data.table import DataIssue
    from .diagnostics import Diagnostic


class QbeError(Exception):
    """Base of all user-facing errors."""

    exit_code = 1

    def __init__(self, message_zh: str, message_en: str | None = None) -> None:
        super().__init__(message_en or message_zh)
        self.message_zh = message_zh
        self.message_en = message_en or message_zh

    def render(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


class RulesetError(QbeError):
    """A ruleset could not be parsed or failed its checks."""

    exit_code = 3

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None) -> None:
        self.diagnostics = diagnostics
        self.sources = sources or {}
        n = sum(1 for d in diagnostics if d.is_error)
        super().__init__(f"规则文件有 {n} 处错误", f"the ruleset has {n} error(s)")

    def render(self, lang: str = "zh") -> str:
        return "\n".join(d.render(lang, self.sources) for d in self.diagnostics)


class DataError(QbeError):
    """The data could not be read or did not pass validation."""

    exit_code = 4

    def __init__(self, issues: list[DataIssue], message_zh: str = "", message_en: str = "") -> None:
        self.issues = issues
        n = sum(1 for i in issues if i.severity == "error")
        super().__init__(message_zh or f"数据有 {n} 处错误", message_en or f"the data has {n} error(s)")

    def render(self, lang: str = "zh") -> str:
        head = self.message_zh if lang == "zh" else self.message_en
        return "\n".join([head, *(i.render(lang) for i in self.issues)])


class UsageError(QbeError):
    """The command was asked for something that cannot be done (unknown standard, format …)."""

    exit_code = 2
