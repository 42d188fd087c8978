"""JSON report: the versioned schema of :mod:`qbe.results.schema`, as UTF-8.

Small reports are indented for reading. Large ones (more than 2,000 rows)
are compact, and their ``schools`` array is built column-wise by
:mod:`qbe.results.fastjson`, because at national scale per-row dicts and
indentation alone would cost tens of seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ...results.fastjson import JsonObjects, rows_json, school_checks_json

BIG = 2000


class JsonWriter:
    format = "json"
    extension = ".json"
    description = "JSON 结果（带版本的模式，见 qbe schema）/ JSON results (versioned schema, see qbe schema)"

    def render(self, evaluation, report: dict, lang: str = "zh") -> str | Iterator[bytes]:
        n = report["summary"]["rows"]
        if n <= BIG and len(report["schools"]) == n:
            return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        return self._stream(evaluation, report)

    def _stream(self, evaluation, report: dict) -> Iterator[bytes]:
        """Compact JSON in pieces: the two large arrays are built column-wise and never joined whole."""
        shell = dict(report)
        shell["schools"] = "\u0000SCHOOLS\u0000"
        shell["school_checks"] = "\u0000CHECKS\u0000"
        text = json.dumps(shell, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        head, rest = text.split(json.dumps(shell["schools"]), 1)
        middle, tail = rest.split(json.dumps(shell["school_checks"]), 1)
        yield head.encode("utf-8")
        yield from _array(rows_json(evaluation, getattr(evaluation, "issues_by_row", {})))
        yield middle.encode("utf-8")
        yield from _array(school_checks_json(evaluation))
        yield (tail + "\n").encode("utf-8")


def _array(items: JsonObjects) -> Iterator[bytes]:
    """``[…]`` from blocks of UTF-8: no Python string is made per row."""
    yield b"["
    yield from items.blocks()
    yield b"]"
