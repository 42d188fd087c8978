"""Built-in writers: terminal summary, Markdown self-evaluation section, JSON."""

from __future__ import annotations

from ...hookspecs import hookimpl
from .json_writer import JsonWriter
from .markdown import MarkdownWriter
from .terminal import TerminalWriter


@hookimpl
def qbe_writers() -> list:
    return [TerminalWriter(), MarkdownWriter(), JsonWriter()]
