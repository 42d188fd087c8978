"""Excel workbook: a sheet per part of the report, for sorting and filtering.

Sheets: 总体结论 (one row per county), 资源配置 (one row per school-stage row),
差异系数 (county × stage × indicator), 学校核查 (one row per school), 县级项目
(county × item), 问题清单 (the findings in words), 整改清单 (per unmet
indicator the input and amount that would meet it, per CV over its limit
what raising the lowest schools would do; only when there is one), 数据问题 (errors, then
warnings), 豁免 (approved exemptions, when any) and 报告信息 (the standard,
the ruleset hash and the qbe version).

Numbers are stored as numbers with their unit in the header; shares are
stored as fractions and shown as percentages. Shortfalls are filled: not met
red, tolerated (and intermediate grades such as 基本合格) amber, exempt grey.
Every sheet has a frozen header row and an auto-filter.

Speed: openpyxl, in write-only mode, builds the workbook (styles, header rows,
frozen panes, column widths, filters). Its per-cell work would still take
minutes for a national dataset (220,000 rows × 40 columns), so the data rows
are encoded here column by column (one number encoder call per column, each
distinct text escaped once) and put into the sheets openpyxl wrote while the
archive is packed again.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from ...data.schema import SCHOOL_TYPES
from ...errors import UsageError
from ...language import ast
from ...results.findings import STAGE_ZH, num
from ...status import Status
from .wording import STATUS_ZH, count_zh, ordinal, summary_zh, verdict_line_zh

try:  # orjson encodes a whole float column in C; repr() is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

#: Fill colours of the highlights, by the status they mark.
FILLS = {"not_met": "FFC7CE", "tolerated": "FFEB9C", "exempt": "D9D9D9"}
HEADER_FILL = "DDEBF7"
PERCENT_FORMAT = "0.0%"
#: Status code (:class:`qbe.status.Status`) → its highlight and its Chinese word; index 0 is unused.
MARK_OF_CODE = np.array([None, None, "not_met", "tolerated", "exempt", None, None], dtype=object)
ZH_OF_CODE = np.array(["", *(s.zh for s in Status)], dtype=object)
#: (highlight, shown as a percentage) → index of the cell format in :attr:`Col.attrs`
STYLE_KEYS = {(m, p): i for i, (m, p) in enumerate((m, p) for m in (None, "not_met", "tolerated", "exempt") for p in (False, True))}
#: status code → the index of its highlight in :attr:`Col.attrs`
CODE_STYLE = np.array([STYLE_KEYS[(m, False)] for m in MARK_OF_CODE], dtype=np.int64)
TYPE_ZH = {t.code: t.label for t in SCHOOL_TYPES}
KIND_ZH = {"indicator": "资源配置指标", "check": "学校核查", "item": "县级项目", "data": "数据问题"}
#: Data rows encoded per piece: bounds the memory a national dataset needs.
CHUNK = 10_000
#: Rows an Excel worksheet holds, the header included.
MAX_ROWS = 1_048_576
#: Longest text a cell may hold in Excel.
MAX_TEXT = 32_767
#: Text that goes into XML as it is: no markup characters, no control characters, no edge spaces.
_PLAIN = re.compile(r"[^\s&<>\x00-\x1f\ufffe\uffff](?:[^&<>\x00-\x1f\ufffe\uffff]*[^\s&<>\x00-\x1f\ufffe\uffff])?")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


# ---------------------------------------------------------------------------- the sheets' shape


def escape(text: str) -> str:
    """XML character data with ``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does it:
    that module imports urllib, http and ssl with it, ~0.01 s of every run's start."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Col:
    """One column: its header, its values and how to show them.

    ``kind`` is ``text``, ``num``, ``pct`` (a fraction shown as a percentage),
    ``status`` (status codes, shown in words and highlighted) or ``auto``
    (numbers as numbers, anything else as text; for small sheets). ``marks``
    highlights single cells (``not_met``, ``tolerated``, ``exempt``), or
    ``codes`` does, from status codes; ``pct_rows`` shows single numbers of a
    ``num`` column as percentages.
    """

    header: str
    values: Sequence[Any]
    kind: str = "text"
    marks: Sequence[str | None] | None = None
    codes: np.ndarray | None = None
    pct_rows: Sequence[bool] | None = None
    width: float | None = None
    wrap: bool = False
    #: the ``s`` attribute of each format, by :data:`STYLE_KEYS`; set before the workbook is saved
    attrs: list[str] = field(default_factory=list)
    table: np.ndarray | None = None
    memo: dict | None = None


@dataclass
class Sheet:
    title: str
    cols: list[Col]
    freeze: str = "A2"

    @property
    def n(self) -> int:
        return len(self.cols[0].values) if self.cols else 0


def status_col(header: str, codes) -> Col:
    """A column of statuses in words, highlighted."""
    return Col(header, np.asarray(codes, dtype=np.int64), "status")


def codes_of(codes) -> np.ndarray:
    return np.asarray(codes, dtype=np.int64)


def mark_of(status: str | None) -> str | None:
    return status if status in FILLS else None


def grade_mark(grade: str | None, labels: Sequence[str] | None) -> str | None:
    """The best grade is not highlighted, the last (the fallback) is red, any between amber."""
    if not grade or not labels:
        return None
    if grade == labels[0]:
        return None
    if grade == labels[-1]:
        return "not_met"
    return "tolerated"


def with_unit(label: str, unit: str | None) -> str:
    return f"{label} ({unit})" if unit else label


def is_percent(d, model) -> bool:
    """Is a declaration's value a share (shown as a percentage)?"""
    if d is None:
        return False
    t = model.types.get(d.name)
    if t is not None and t.percent:
        return True
    return any(isinstance(r.threshold, ast.Pct) for r in d.requires)


def summary_text(model, county: dict) -> str:
    sentences = summary_zh(model, county)
    if not sentences:
        return "各项指标全面达标。"
    listed = "；".join(f"{ordinal(i)}是{s}" for i, s in enumerate(sentences))
    return f"尚有{count_zh(len(sentences))}项指标未全面达标：{listed}。其余指标全面达标。"


def _pct_text(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.4g}%"


# ---------------------------------------------------------------------------- the writer


class ExcelWriter:
    format = "xlsx"
    extension = ".xlsx"
    description = "Excel 工作簿（各部分一表，问题标色）/ Excel workbook (a sheet per part, shortfalls highlighted)"

    def render(self, evaluation, report: dict, lang: str = "zh") -> bytes:
        m = evaluation.model
        sheets = [
            overview(evaluation, report),
            resources(evaluation),
            balance(m, report),
            school_checks(evaluation),
            county_items(evaluation, report),
            findings(report),
            remediation_sheet(evaluation, report),
            data_issues(report),
            exemptions(report) if report.get("exemptions") else None,
            info(report),
        ]
        return build_workbook([s for s in sheets if s is not None])


def overview(ev, report: dict) -> Sheet:
    m = ev.model
    cs = report["counties"]
    main = ev.county_verdict()
    labels = ev.decl(main).grade_labels if main else []

    def grade(c: dict) -> str | None:
        g = c.get("grades") or {}
        return g.get(main) if main in g else next((x for x in g.values() if x), None)

    cols = [
        Col("区县代码", [c["county_code"] for c in cs]),
        Col("区县名称", [c["county_name"] for c in cs], width=18),
        Col("学校（学段）数", [c["schools"] for c in cs], "num"),
        Col("评估结论", [verdict_line_zh(c, m) for c in cs], marks=[mark_of(c["verdict"]) for c in cs], width=36, wrap=True),
        Col("判定", [STATUS_ZH.get(c["verdict"], c["verdict"]) for c in cs], marks=[mark_of(c["verdict"]) for c in cs]),
    ]
    grades = [grade(c) for c in cs]
    if any(grades):
        cols.append(Col("等级", grades, marks=[grade_mark(g, labels) for g in grades]))
    for p, label in m.parts.items():
        st = [c["parts"].get(p) for c in cs]
        cols.append(Col(label, [STATUS_ZH.get(s, s) if s else None for s in st], marks=[mark_of(s) for s in st]))
    for key in (s.key for s in Status):
        if any(key in c["resources"] for c in cs):
            cols.append(Col(f"资源配置{STATUS_ZH[key]} (个)", [c["resources"].get(key, 0) for c in cs], "num"))
    cols.append(Col("未全面达标情况", [summary_text(m, c) for c in cs], width=90, wrap=True))
    return Sheet("总体结论", cols, freeze="C2")


def resources(ev) -> Sheet | None:
    """One row per school-stage row: every indicator's value, requirement, share of it and status."""
    m = ev.model
    rc = ev.row_columns()
    if not rc["indicators"] and not rc["checks"]:
        return None
    n = rc["n"]
    cols = _row_identity(ev, rc)
    for ind in rc["indicators"]:
        d = m.decls[ind["name"]]
        codes = codes_of(ind["final"])
        cols += [
            Col(with_unit(d.label, d.unit), ind["value"], "num", codes=codes),
            Col(with_unit(f"{d.label} 要求", d.unit), ind["required"], "num"),
            Col(f"{d.label} 达到要求 (%)", ind["ratio"], "pct"),
            status_col(f"{d.label} 判定", codes),
        ]
        if ind["reason"] is not None:
            cols.append(Col(f"{d.label} 说明", list(ind["reason"]), width=24))
    if rc["rule"]:
        st = codes_of(rc["rule_status"])
        passed = np.where(np.isin(st, (4, 5, 6)), None, np.where(st == 1, "是", "否"))
        cols += [status_col("资源配置判定", st), Col("资源配置达标", passed, codes=st)]
    for r, codes in rc["rules"].items():
        if r != rc["rule"]:
            cols.append(status_col(m.decls[r].label, codes))
    for d, a in rc["checks"]:
        cols += _check_cols(ev, d, a)
    issues = getattr(ev, "issues_by_row", None) or {}
    if issues:
        notes = [None] * n
        for i, lst in issues.items():
            notes[i] = "；".join(e["message_zh"] for e in lst)
        cols.append(Col("数据问题", notes, marks=["not_met" if x else None for x in notes], width=40))
    return Sheet("资源配置", cols, freeze="E2")


def _row_identity(ev, rc: dict) -> list[Col]:
    m = ev.model
    names = ev.frame.rows.columns.get("county_name")
    cols = [Col("行号", np.asarray(rc["row"], dtype=np.float64), "num", width=7),
            Col("区县代码", rc["county_code"])]
    if names is not None:
        cols.append(Col("区县名称", [x or None for x in names.tolist()]))
    cols += [
        Col("学校代码", rc["school_code"]),
        Col("学校名称", rc["school_name"], width=22),
        Col("学校类型", [TYPE_ZH.get(t) if t else None for t in rc["school_type"]]),
        Col("学段", [STAGE_ZH.get(s) if s else None for s in rc["stage"]], width=6),
    ]
    students = m.fields.get("students")
    if students is not None:
        cols.append(Col(with_unit(students.label, students.unit), rc["students"], "num"))
    return cols


def _check_cols(ev, d, a: dict) -> list[Col]:
    """Value, requirement, status (and reason, grade) of one check."""
    codes = codes_of(a["status"])
    out = []
    value = np.asarray(a["value"], dtype=np.float64)
    if not np.isnan(value).all():
        pct = is_percent(d, ev.model)
        unit = "%" if pct else d.unit
        out += [Col(with_unit(d.label, unit), value, "pct" if pct else "num", codes=codes),
                Col(with_unit(f"{d.label} 要求", unit), a["required"], "pct" if pct else "num")]
    out.append(status_col(f"{d.label} 判定", codes))
    if a.get("reason") is not None:
        out.append(Col(f"{d.label} 说明", list(a["reason"]), width=24))
    if a.get("grade") is not None:
        labels = ev.decl(d.name).grade_labels
        out.append(Col(f"{d.label} 等级", a["grade"], marks=[grade_mark(g, labels) for g in a["grade"]]))
    return out


def balance(m, report: dict) -> Sheet | None:
    """County × stage × indicator: the CV against its limit; the composite CV for information."""
    rows: list[tuple] = []
    order = [s.name for s in m.stages]
    for c in report["counties"]:
        stages = [s for s in order if s in c["balance"]] + [s for s in c["balance"] if s not in order]
        for s in stages:
            for ind, b in c["balance"][s].items():
                d = m.decls.get(ind)
                rows.append((c, s, d.label if d else ind, b["cv"], b["limit"], b["status"], b.get("mean"),
                             d.unit if d else None, b.get("schools")))
            comp = (c.get("composite_cv") or {}).get(s)
            if comp is not None:
                rows.append((c, s, "综合差异系数（仅供参考，不作判定）", comp, None, None, None, None, None))
    if not rows:
        return None
    cols = [
        Col("区县代码", [r[0]["county_code"] for r in rows]),
        Col("区县名称", [r[0]["county_name"] for r in rows], width=18),
        Col("学段", [STAGE_ZH.get(r[1], r[1]) for r in rows], width=6),
        Col("指标", [r[2] for r in rows], width=40),
        Col("差异系数", [r[3] for r in rows], "num", marks=[mark_of(r[5]) for r in rows]),
        Col("限值", [r[4] for r in rows], "num"),
        Col("判定", [STATUS_ZH.get(r[5]) if r[5] else None for r in rows], marks=[mark_of(r[5]) for r in rows]),
        Col("均值（按学生数加权）", [r[6] for r in rows], "num"),
        Col("均值单位", [r[7] for r in rows]),
        Col("学校（学段）数", [r[8] for r in rows], "num"),
    ]
    return Sheet("差异系数", cols, freeze="C2")


def school_checks(ev) -> Sheet | None:
    """One row per school: the checks judged on the whole school (size limit …)."""
    m = ev.model
    fr = ev.frame
    checks = [d for d in m.decls.values() if d.kind == "check" and d.entity == "school"]
    if not checks:
        return None
    first = fr.school_first
    cols_in = fr.rows.columns
    names = cols_in.get("school_name")
    county_names = cols_in.get("county_name")
    stype = cols_in["school_type"][first].tolist() if "school_type" in cols_in else [-1] * fr.n_school
    cols = [Col("区县代码", cols_in["county_code"][first].tolist())]
    if county_names is not None:
        cols.append(Col("区县名称", [x or None for x in county_names[first].tolist()]))
    cols += [
        Col("学校代码", cols_in["school_code"][first].tolist()),
        Col("学校名称", [x or None for x in names[first].tolist()] if names is not None else [None] * fr.n_school, width=22),
        Col("学校类型", [SCHOOL_TYPES[t].label if 0 <= t < len(SCHOOL_TYPES) else None for t in stype]),
    ]
    for d in checks:
        cols += _check_cols(ev, d, ev._check_arrays(d, "school"))
    return Sheet("学校核查", cols, freeze="D2")


def county_items(ev, report: dict) -> Sheet:
    """County × item: value, requirement, status, grade, evidence and reason of every county item."""
    m = ev.model
    rows = [(c, iid, it) for c in report["counties"] for iid, it in c["items"].items()]
    grades = {d.name: ev.decl(d.name).grade_labels for d in m.decls.values() if d.kind == "item"}

    def inputs(it: dict) -> str | None:
        if not it.get("inputs"):
            return None
        shown = []
        for f, v in it["inputs"].items():
            spec = m.fields.get(f)
            pct = spec is not None and spec.type.value == "percent"
            text = _pct_text(v) if pct else num(v) + ((spec.unit or "") if spec is not None and v is not None else "")
            shown.append(f"{spec.label if spec else f} {text}")
        return "；".join(shown)

    pct = [is_percent(m.decls.get(iid), m) for _, iid, _ in rows]
    cols = [
        Col("区县代码", [c["county_code"] for c, _, _ in rows]),
        Col("区县名称", [c["county_name"] for c, _, _ in rows], width=18),
        Col("部分", [m.parts.get(it.get("part") or "", it.get("part")) for _, _, it in rows], width=14),
        Col("项目", [it.get("label") or m.decls[iid].label for _, iid, it in rows], width=50, wrap=True),
        Col("数值", [it["value"] for _, _, it in rows], "num", marks=[mark_of(it["status"]) for _, _, it in rows],
            pct_rows=pct),
        Col("要求", [it["required"] for _, _, it in rows], "num", pct_rows=pct),
        Col("单位", [None if p else m.decls[iid].unit for p, (_, iid, _) in zip(pct, rows)]),
        Col("依据数据", [inputs(it) for _, _, it in rows], width=36, wrap=True),
        Col("判定", [STATUS_ZH.get(it["status"]) for _, _, it in rows], marks=[mark_of(it["status"]) for _, _, it in rows]),
    ]
    if any(it.get("grade") for _, _, it in rows):
        cols.append(Col("等级", [it.get("grade") for _, _, it in rows],
                        marks=[grade_mark(it.get("grade"), grades.get(iid)) for _, iid, it in rows]))
    cols += [
        Col("佐证", ["；".join(it["evidence"].values()) if it.get("evidence") else None for _, _, it in rows],
            width=40, wrap=True),
        Col("说明", [it.get("reason") for _, _, it in rows], width=24),
        Col("依据条款", [it.get("source") for _, _, it in rows], width=28),
    ]
    return Sheet("县级项目", cols, freeze="D2")


def findings(report: dict) -> Sheet:
    rows = [(c, i, f) for c in report["counties"] for i, f in enumerate(c["findings"], 1)]
    cols = [
        Col("区县代码", [c["county_code"] for c, _, _ in rows]),
        Col("区县名称", [c["county_name"] for c, _, _ in rows], width=18),
        Col("序号", [i for _, i, _ in rows], "num", width=6),
        Col("类别", [KIND_ZH.get(f["kind"], f["kind"]) for _, _, f in rows]),
        Col("项目", [f["label"] for _, _, f in rows], width=28),
        Col("学校代码", [f.get("school_code") for _, _, f in rows]),
        Col("学校名称", [f.get("school_name") for _, _, f in rows], width=20),
        Col("学段", [STAGE_ZH.get(f.get("stage") or "", f.get("stage")) for _, _, f in rows], width=6),
        Col("数值", [f.get("value") for _, _, f in rows], "num"),
        Col("要求", [f.get("required") for _, _, f in rows], "num"),
        Col("达到要求 (%)", [f.get("ratio") for _, _, f in rows], "pct"),
        Col("判定", [STATUS_ZH.get(f["status"]) for _, _, f in rows], marks=[mark_of(f["status"]) for _, _, f in rows]),
        Col("问题", [f["text_zh"] for _, _, f in rows], width=80, wrap=True),
    ]
    return Sheet("问题清单", cols, freeze="C2")


def remediation_sheet(ev, report: dict) -> Sheet | None:
    """整改清单: per county, each unmet indicator with the input and amount that would meet it, then each CV over
    its limit with what raising the lowest schools to the mean would do. Numbers stay numbers for sorting."""
    from .wording import remediation

    m = ev.model
    rows: list[tuple] = []
    for c in report["counties"]:
        todo = remediation(m, c, ev.notable_by_county(c["county_code"]) if hasattr(ev, "notable_by_county") else [])
        for e in todo["schools"]:
            spec = m.fields.get(e["remedy"]["input"]) if e["remedy"]["input"] else None
            rows.append((c, e["school_code"], e["school"], e["stage"], e["label"], e["remedy"]["input"],
                         spec.label if spec else None, e["remedy"]["amount"], spec.unit if spec else None, e["action_zh"]))
        for e in todo["cvs"]:
            rows.append((c, None, None, STAGE_ZH.get(e["stage"], e["stage"]), m.decls[e["item"]].label
                         if e["item"] in m.decls else e["item"], None, None, None, None, e["text_zh"]))
    if not rows:
        return None
    cols = [
        Col("区县代码", [r[0]["county_code"] for r in rows]),
        Col("区县名称", [r[0]["county_name"] for r in rows], width=18),
        Col("学校代码", [r[1] for r in rows]),
        Col("学校名称", [r[2] for r in rows], width=20),
        Col("学段", [r[3] for r in rows], width=6),
        Col("指标", [r[4] for r in rows], width=28),
        Col("输入列", [r[5] for r in rows], width=22),
        Col("输入项", [r[6] for r in rows], width=20),
        Col("需增加", [r[7] for r in rows], "num"),
        Col("单位", [r[8] for r in rows], width=6),
        Col("整改", [r[9] for r in rows], width=80, wrap=True),
    ]
    return Sheet("整改清单", cols, freeze="C2")


def data_issues(report: dict) -> Sheet:
    issues = [("错误", e) for e in report["errors"]] + [("警告", w) for w in report.get("warnings", [])]
    cols = [
        Col("类别", [k for k, _ in issues], marks=["not_met" if k == "错误" else "tolerated" for k, _ in issues], width=6),
        Col("文件", [e["source"] for _, e in issues], width=24),
        Col("工作表", [e["sheet"] for _, e in issues]),
        Col("行", [e["row"] for _, e in issues], "num", width=7),
        Col("列", [e["column"] for _, e in issues], width=16),
        Col("值", [e["value"] for _, e in issues], width=14),
        Col("问题", [e["message_zh"] for _, e in issues], width=70, wrap=True),
        Col("代码", [e["code"] for _, e in issues], width=18),
    ]
    return Sheet("数据问题", cols, freeze="A2")


def exemptions(report: dict) -> Sheet:
    ex = report["exemptions"]
    cols = [
        Col("项目", [e["label"] for e in ex], width=30),
        Col("项目代码", [e["item"] for e in ex], width=18),
        Col("学校代码", [e.get("school_code") for e in ex]),
        Col("区县代码", [e.get("county_code") for e in ex]),
        Col("学段", [STAGE_ZH.get(e["stage"], e["stage"]) if e.get("stage") else "全部" for e in ex], width=6),
        Col("理由", [e["reason"] for e in ex], width=36, wrap=True),
        Col("批准文件", [e["document"] for e in ex], width=28),
        Col("有效期起 (年)", [e.get("valid_from") for e in ex], "num"),
        Col("有效期止 (年)", [e.get("valid_to") for e in ex], "num"),
        Col("适用数", [e["applies_to"] for e in ex], "num", marks=["exempt"] * len(ex)),
        Col("豁免文件", [e["file"] for e in ex], width=20),
        Col("行", [e["line"] for e in ex], "num", width=6),
    ]
    return Sheet("豁免", cols, freeze="B2")


def info(report: dict) -> Sheet:
    std = report["standard"]
    summary = report["summary"]
    pairs: list[tuple[str, Any]] = [
        ("标准名称", std.get("title")),
        ("文件依据", std.get("source")),
        ("标准编号", std["id"]),
        ("版本", std.get("version")),
        ("适用年度", std.get("year")),
        ("生效日期", std.get("effective")),
        ("规则文件", "、".join(std.get("files", []))),
        ("规则哈希", std["ruleset_hash"]),
        ("qbe 版本", report["produced"]["qbe_version"]),
        ("结果模式版本", report["schema_version"]),
        ("学校（学段）行数", summary["rows"]),
        ("有数据错误的行数", summary["rows_with_errors"]),
        ("区县数", summary["counties"]),
    ]
    return Sheet("报告信息", [Col("项目", [k for k, _ in pairs], width=18),
                          Col("内容", [v for _, v in pairs], "auto", width=80)], freeze="A2")


# ---------------------------------------------------------------------------- the workbook


def text_width(s: str) -> int:
    """Columns a text takes in Excel: East Asian characters count twice."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _width(col: Col) -> float:
    if col.width is not None:
        return col.width
    sample = col.values[:300]
    if col.kind == "text":
        widest = max((text_width(str(v)) for v in sample if v is not None), default=4)
    else:
        widest = 12
    return float(min(max(widest, min(text_width(col.header), 14), 6) + 2, 60))


class _Styles:
    """Cell format ids, registered with openpyxl before the workbook is saved."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids: dict[tuple, int] = {}

    def attr(self, number_format: str | None, mark: str | None, wrap: bool) -> str:
        key = (number_format, mark, wrap)
        if key not in self.ids:
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Alignment, PatternFill

            cell = WriteOnlyCell(self.ws)
            if number_format:
                cell.number_format = number_format
            if mark:
                cell.fill = PatternFill("solid", fgColor=FILLS[mark])
            if wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            self.ids[key] = cell.style_id
        sid = self.ids[key]
        return f' s="{sid}"' if sid else ""


def build_workbook(sheets: list[Sheet]) -> bytes:
    """The workbook's bytes: openpyxl writes the frame, :func:`encode_rows` the data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    for sheet in sheets:
        if sheet.n + 1 > MAX_ROWS:
            raise UsageError(f"工作表“{sheet.title}”有 {sheet.n} 行，超过 Excel 的上限（{MAX_ROWS - 1} 行）；请改用 json 格式",
                             f"sheet {sheet.title} would have {sheet.n} rows, more than Excel holds ({MAX_ROWS - 1}); "
                             "use the json format")
    wb = Workbook(write_only=True)
    styles = None
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        styles = styles or _Styles(ws)
        head = []
        lines = 1
        for j, col in enumerate(sheet.cols, 1):
            width = _width(col)
            ws.column_dimensions[get_column_letter(j)].width = width
            lines = max(lines, math.ceil(text_width(col.header) / max(width - 1, 1)))
            cell = WriteOnlyCell(ws, col.header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = Border(bottom=Side(style="thin"))
            head.append(cell)
            col.attrs = [styles.attr(PERCENT_FORMAT if (pct or col.kind == "pct") else None, mark, col.wrap)
                         for mark, pct in STYLE_KEYS]
        ws.row_dimensions[1].height = 15 * min(lines, 6) + 3
        ws.freeze_panes = sheet.freeze
        if sheet.cols:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.cols))}{sheet.n + 1}"
        ws.append(head)
    frame = io.BytesIO()
    wb.save(frame)
    return _pack(frame.getvalue(), {s.title: s for s in sheets})


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → the archive member holding its XML."""
    from xml.etree import ElementTree  # here, not at the top: only an Excel report reads XML back

    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for s in book.iter(f"{_MAIN_NS}sheet"):
        t = target.get(s.get(f"{_REL_NS}id"), "")
        out[s.get("name")] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    return out


def _pack(frame: bytes, sheets: dict[str, Sheet]) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(frame))
    parts = {part: sheets[title] for title, part in _sheet_parts(zin).items() if title in sheets}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zout:
        for member in zin.infolist():
            data = zin.read(member.filename)
            sheet = parts.get(member.filename)
            if sheet is None:
                zout.writestr(member, data)
                continue
            head, tail = data.decode("utf-8").rsplit("</sheetData>", 1)
            head = _with_dimension(head, sheet)
            big = sheet.n * max(len(sheet.cols), 1) * 60 > 1_500_000_000
            with zout.open(member.filename, "w", force_zip64=big) as fh:
                fh.write(head.encode("utf-8"))
                for piece in encode_rows(sheet):
                    fh.write(piece)
                fh.write(("</sheetData>" + tail).encode("utf-8"))
    return out.getvalue()


def _with_dimension(head: str, sheet: Sheet) -> str:
    """The sheet's used range, which write-only mode leaves out (some readers size the sheet by it)."""
    from openpyxl.utils import get_column_letter

    if "<dimension" in head or not sheet.cols:
        return head
    ref = f"A1:{get_column_letter(len(sheet.cols))}{sheet.n + 1}"
    for tag in ("<sheetViews", "<sheetFormatPr", "<cols", "<sheetData"):
        at = head.find(tag)
        if at >= 0:
            return f'{head[:at]}<dimension ref="{ref}"/>{head[at:]}'
    return head


def encode_rows(sheet: Sheet, first_row: int = 2) -> Iterator[bytes]:
    """The ``<row>`` elements of a sheet's data, :data:`CHUNK` rows per piece.

    Cells carry no ``r`` reference (it is optional; a cell without one is the
    next in its row), so each column's cells do not depend on the row and are
    built with string operations over the whole column; an empty cell is
    written as ``<c/>`` to keep the columns in place.
    """
    n = sheet.n
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        cells = [_cells(col, lo, hi) for col in sheet.cols]
        opens = [f'<row r="{r}">' for r in range(lo + first_row, hi + first_row)]
        yield "".join(map("".join, zip(opens, *cells, repeat("</row>", hi - lo)))).encode("utf-8")


def _style_index(col: Col, lo: int, hi: int) -> np.ndarray | None:
    """Per row, the index of its cell format in ``col.attrs``; None when the column has one format."""
    if col.codes is not None:
        return CODE_STYLE[col.codes[lo:hi]]
    if col.marks is None and col.pct_rows is None:
        return None
    marks = col.marks[lo:hi] if col.marks is not None else repeat(None, hi - lo)
    pcts = col.pct_rows[lo:hi] if col.pct_rows is not None else repeat(False, hi - lo)
    return np.fromiter((STYLE_KEYS[(m, bool(p))] for m, p in zip(marks, pcts)), dtype=np.int64, count=hi - lo)


def _cells(col: Col, lo: int, hi: int) -> list[str]:
    """One column's cells for rows ``lo:hi``."""
    values = col.values[lo:hi]
    if col.kind == "status":
        if col.table is None:
            col.table = np.array([_text_cell(ZH_OF_CODE[c], col.attrs[STYLE_KEYS[(MARK_OF_CODE[c], False)]])
                                  for c in range(len(ZH_OF_CODE))], dtype=object)
        return col.table[np.asarray(values, dtype=np.int64)].tolist()
    idx = _style_index(col, lo, hi)
    if col.kind in ("num", "pct"):
        return _number_cells(values, col.attrs, idx)
    if col.kind == "auto":
        return [_auto_cell(v, col.attrs[0]) for v in values]
    if col.memo is None:
        col.memo = _TextCells(col.attrs)
    if idx is None:
        return list(map(col.memo.__getitem__, zip(values, repeat(0))))
    return list(map(col.memo.__getitem__, zip(values, idx.tolist())))


def _number_cells(values, attrs: list[str], idx: np.ndarray | None) -> list[str]:
    text = number_text(values)
    if idx is None:
        a = attrs[0]
        joined = f"<c{a}><v>" + text.replace(",", f"</v></c>\x00<c{a}><v>") + "</v></c>"
        return joined.replace(f"<c{a}><v>null</v></c>", f"<c{a}/>").split("\x00")
    parts = np.array(text.split(","), dtype=object)
    opens = np.array([f"<c{a}><v>" for a in attrs], dtype=object)[idx]
    cells = opens + parts + "</v></c>"
    missing = parts == "null"
    cells[missing] = np.array([f"<c{a}/>" for a in attrs], dtype=object)[idx[missing]]
    return cells.tolist()


def number_text(values) -> str:
    """Numbers as comma-separated XML text (shortest round-trip form; whole numbers without
    ".0"); missing, NaN and infinite values as ``null``."""
    a = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=np.float64)
    if _orjson is not None:
        text = _orjson.dumps(a, option=_orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1]
    else:
        text = ",".join(repr(x) if math.isfinite(x) else "null" for x in a.tolist())
    return (text + ",").replace(".0,", ",")[:-1]


class _TextCells(dict):
    """(text, format index) → its cell, for one column: each distinct text is escaped once."""

    def __init__(self, attrs: list[str]) -> None:
        super().__init__()
        self.attrs = attrs

    def __missing__(self, key: tuple[Any, int]) -> str:
        cell = _text_cell(key[0], self.attrs[key[1]])
        self[key] = cell
        return cell


def _text_cell(value: Any, attr: str) -> str:
    if value is None:
        return f"<c{attr}/>"
    s = value if isinstance(value, str) else str(value)
    if _PLAIN.fullmatch(s) and len(s) <= MAX_TEXT:
        return f'<c{attr} t="inlineStr"><is><t>{s}</t></is></c>'
    s = _ILLEGAL_XML.sub("", s)[:MAX_TEXT]
    if not s:
        return f"<c{attr}/>"
    space = ' xml:space="preserve"' if s != s.strip() or "\n" in s else ""
    return f'<c{attr} t="inlineStr"><is><t{space}>{escape(s)}</t></is></c>'


def _auto_cell(value: Any, attr: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_cells([value], [attr], None)[0]
    return _text_cell(value, attr)
