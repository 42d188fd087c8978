"""Positions and problems: where a thing is written, and how to say what is wrong.

The place that finds a problem records a :class:`Span`; only the boundary (CLI,
reports) renders it, with the offending line and a caret under the fault.
Messages are bilingual because policy staff read Chinese first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """A 1-based line/column range in one ruleset file."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a ruleset, with what to do about it."""

    code: str
    severity: str  #: "error" or "warning"
    span: Span | None
    message_zh: str
    message_en: str
    hint_zh: str = ""
    hint_en: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def render(self, lang: str = "zh", sources: dict[str, str] | None = None) -> str:
        """Compiler-style text: ``file:line:col: error: message``, the line, a caret, a hint."""
        sev = {"zh": {"error": "错误", "warning": "警告"}, "en": {}}[lang].get(self.severity, self.severity)
        msg = self.message_zh if lang == "zh" else self.message_en
        hint = self.hint_zh if lang == "zh" else self.hint_en
        where = str(self.span) if self.span else "<ruleset>"
        out = [f"{where}: {sev}[{self.code}]: {msg}"]
        if self.span is not None:
            text = _source_text(self.span.file, sources)
            if text is not None:
                lines = text.splitlines()
                if 0 < self.span.line <= len(lines):
                    src = lines[self.span.line - 1]
                    out.append(f"  {self.span.line:>4} | {src}")
                    width = 1
                    if self.span.end_line == self.span.line and self.span.end_column:
                        width = max(1, self.span.end_column - self.span.column)
                    pad = _display_width(src[: self.span.column - 1])
                    caret_w = _display_width(src[self.span.column - 1 : self.span.column - 1 + width]) or 1
                    out.append("       | " + " " * pad + "^" + "~" * (caret_w - 1))
        if hint:
            out.append(("  提示: " if lang == "zh" else "  hint: ") + hint)
        return "\n".join(out)


def _display_width(s: str) -> int:
    """Terminal columns of a string: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _source_text(file: str, sources: dict[str, str] | None) -> str | None:
    if sources and file in sources:
        return sources[file]
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass
class DiagnosticBag:
    """Collects every problem so that a check reports them all at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, span: Span | None, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> None:
        self.items.append(Diagnostic(code, "error", span, zh, en, hint_zh, hint_en))

    def warning(self, code: str, span: Span | None, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> None:
        self.items.append(Diagnostic(code, "warning", span, zh, en, hint_zh, hint_en))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic) -> tuple:
            s = d.span
            return (s.file, s.line, s.column) if s else ("", 0, 0)

        return sorted(self.items, key=key)
