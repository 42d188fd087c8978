"""JSON report: the versioned schema of :mod:`qbe.results.schema`, as UTF-8.

Small reports are indented for reading. Large ones (more than 2,000 rows)
are compact, and their ``schools`` array is built column-wise by
:mod:`qbe.results.fastjson`, because at national scale per-row dicts and
indentation alone would cost tens of seconds.
"""

from __future__ import annotations

import json

from ...results.fastjson import rows_json

BIG = 2000


class JsonWriter:
    format = "json"
    extension = ".json"
    description = "JSON 结果（带版本的模式，见 qbe schema）/ JSON results (versioned schema, see qbe schema)"

    def render(self, evaluation, report: dict, lang: str = "zh") -> str:
        n = report["summary"]["rows"]
        if n <= BIG and len(report["schools"]) == n:
            return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        marker = "\u0000SCHOOLS\u0000"
        shell = dict(report)
        shell["schools"] = marker
        text = json.dumps(shell, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        rows = rows_json(evaluation, getattr(evaluation, "issues_by_row", {}))
        head, tail = text.split(json.dumps(marker), 1)
        return head + "[" + ",".join(rows) + "]" + tail + "\n"
