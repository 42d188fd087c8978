"""Built-in writers: terminal summary, Markdown, JSON, HTML, Excel and Word reports."""

from __future__ import annotations

from ...hookspecs import hookimpl
from .excel import ExcelWriter
from .html import HtmlWriter
from .json_writer import JsonWriter
from .markdown import MarkdownWriter
from .terminal import TerminalWriter
from .word import WordWriter


@hookimpl
def qbe_writers() -> list:
    return [TerminalWriter(), MarkdownWriter(), JsonWriter(), HtmlWriter(), ExcelWriter(), WordWriter()]
