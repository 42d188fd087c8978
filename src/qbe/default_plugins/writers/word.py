"""Word document: the findings section of a county's self-evaluation report, in Chinese.

Per county: the "对标自查情况" paragraph (尚有二项指标未全面达标：一是……), the
verdict, the parts' verdicts, the tolerated and failing schools, the CVs
against their limits, the county items with their evidence and the 整改清单;
then an appendix tracing each unmet indicator as ``qbe explain`` does (at most
:data:`MAX_TRACE_SCHOOLS` schools), the approved exemptions and a line naming
the qbe version and the ruleset hash.
Body text is set in 宋体 and headings in 黑体 (East Asian fonts set on the
styles and the document defaults), so Chinese renders as Chinese in Word.

python-docx is an optional dependency (``pip install 'qbe[word]'``); it is
imported when a document is rendered, so the other formats work without it.
The body is written as XML text and added in one step: python-docx's
``add_paragraph`` and ``add_table`` take time quadratic in the length of the
document (well over ten minutes for a report on every county of a country).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

from ...errors import UsageError
from ...results.findings import STAGE_ZH, num, pct_floor
from .excel import FILLS, escape, grade_mark
from .wording import (
    STATUS_ZH,
    count_zh,
    field_label,
    fmt_input,
    fmt_item_value,
    ordinal,
    remediation,
    summary_zh,
    verdict_line_zh,
)

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
#: Cell shading of a shortfall, by status: the Excel workbook's colours.
SHADES = FILLS
TABLE_STYLE = "Table Grid"
TABLE_TEXT = "Table Text"  #: a paragraph style for table cells: 9 pt, no spacing
#: Data problems listed in the document; the rest are counted (every one is in the JSON and Excel reports).
MAX_ISSUES = 200
#: Schools whose shortfall traces the appendix prints; the rest are counted.
MAX_TRACE_SCHOOLS = 50
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _import_docx():
    try:
        import docx
    except ImportError:
        raise UsageError(
            "输出 Word 报告（docx）需要 python-docx，请安装：pip install 'qbe[word]'",
            "the Word report (docx) needs python-docx; install it with: pip install 'qbe[word]'",
        ) from None
    return docx


class WordWriter:
    format = "docx"
    extension = ".docx"
    description = "Word 对标自查情况（中文，需 qbe[word]）/ Word self-evaluation findings (Chinese, needs qbe[word])"

    def render(self, evaluation, report: dict, lang: str = "zh") -> bytes:
        docx = _import_docx()
        doc = docx.Document()
        _setup(doc)
        body = Body(doc)
        std = report["standard"]
        body.heading("对标自查情况", 0)
        basis = f"依据：《{std['title'] or std['id']}》"
        if std.get("source"):
            basis += f"（{std['source']}）"
        basis += f"，标准编号 {std['id']}"
        if std.get("version") is not None:
            basis += f"，版本 {std['version']}"
        if std.get("year") is not None:
            basis += f"，适用年度 {std['year']}"
        body.para(basis + "。")
        for c in report["counties"]:
            county(body, evaluation, c)
        appendix(body, evaluation, report)
        if report.get("exemptions"):
            body.heading("已批准的豁免", 1)
            rows = []
            for e in report["exemptions"]:
                period = f"{e.get('valid_from') or '…'}—{e.get('valid_to') or '…'}"
                rows.append([e["label"], e.get("school_code") or e.get("county_code") or "",
                             STAGE_ZH.get(e["stage"], e["stage"]) if e.get("stage") else "全部",
                             e["reason"], e["document"], period])
            body.table(["项目", "学校/区县", "学段", "理由", "批准文件", "有效期"], rows,
                       shades=[["exempt"] + [None] * 5 for _ in rows])
        data_problems(body, report)
        produced = report["produced"]
        files = "、".join(std.get("files", []))
        body.para(f"本报告由 qbe {produced['qbe_version']} 生成（结果模式 {report['schema_version']}）；"
                  f"规则文件 {files}，规则哈希 {std['ruleset_hash']}。", style=TABLE_TEXT)
        out = io.BytesIO()
        doc.save(out)
        return body.pack(out.getvalue())


# ---------------------------------------------------------------------------- content


def summary_paragraph(m, c: dict) -> str:
    sentences = summary_zh(m, c)
    title = m.standard.title or m.standard.id
    if not sentences:
        return f"对照《{title}》，各项指标全面达标。"
    listed = "；".join(f"{ordinal(i)}是{s}" for i, s in enumerate(sentences))
    return f"对照《{title}》，尚有{count_zh(len(sentences))}项指标未全面达标：{listed}。其余指标全面达标。"


def county(body, ev, c: dict) -> None:
    m = ev.model
    body.heading(f"{c['county_name'] or c['county_code']}（{c['county_code']}）", 1)
    body.para(summary_paragraph(m, c))
    body.para(f"（{STATUS_ZH.get(c['verdict'], c['verdict'])}）", bold=f"评估结论：{verdict_line_zh(c, m)}")
    if c["parts"]:
        body.heading("各部分结论", 2)
        parts = list(c["parts"].items())
        body.table(["部分", "结论"], [[m.parts.get(p, p), STATUS_ZH.get(s, s)] for p, s in parts],
                   shades=[[None, s] for _, s in parts])
    resources(body, ev, c)
    school_checks(body, c)
    balance(body, m, c)
    items(body, ev, c)
    remediation_list(body, ev, c)


def remediation_list(body, ev, c: dict) -> None:
    """整改清单: the amount that would meet each unmet indicator; what would bring each CV within its limit."""
    m = ev.model
    todo = remediation(m, c, ev.notable_by_county(c["county_code"]))
    if not todo["schools"] and not todo["cvs"]:
        return
    body.heading("整改清单", 2)
    if todo["schools"]:
        body.table(["学校", "学段", "指标", "数值", "要求", "达到要求所需"],
                   [[e["school"], e["stage"], e["label"], e["value"], e["required"], e["action_zh"]] for e in todo["schools"]])
        body.para("人数、间数等计数按整数向上取整；面积、金额为恰好达到要求的数量；“无法直接推算”表示该指标公式不是单一输入的"
                  "线性式，或须减少某项输入。各项的计算过程见附录。", style=TABLE_TEXT)
    for e in todo["cvs"]:
        body.para(e["text_zh"])


def appendix(body, ev, report: dict) -> None:
    """附录: each school with an unmet indicator, its trace as ``qbe explain`` gives it (at most MAX_TRACE_SCHOOLS)."""
    from ...explain import shortfall_traces

    m = ev.model
    if not hasattr(ev, "row_columns"):
        return
    rc = ev.row_columns()
    index = {(code, stage): i for i, (code, stage) in enumerate(zip(rc["school_code"], rc["stage"]))}
    by_school: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for c in report["counties"]:
        for e in remediation(m, c, ev.notable_by_county(c["county_code"]))["schools"]:
            i = index.get((e["school_code"], e["stage_key"]))
            if i is not None:
                by_school.setdefault((c["county_code"], e["school_code"]), []).append((i, e["item"]))
    if not by_school:
        return
    keys = list(by_school)[:MAX_TRACE_SCHOOLS]
    traces = shortfall_traces(ev, [w for k in keys for w in by_school[k]])
    body.heading("附录：未达标指标的计算说明", 1)
    body.para("以下逐校列出未达标指标的公式与代入数值、要求及依据条款、容许或豁免情况、判定规则和达到要求所需的数量，"
              "与 qbe explain 的说明相同。", style=TABLE_TEXT)
    for key in keys:
        first = by_school[key][0][0]
        body.heading(f"{rc['school_name'][first] or key[1]}（{key[1]}）", 2)
        for w in by_school[key]:
            for line in traces[w].splitlines():
                body.para(line.strip(), style=TABLE_TEXT)
    if len(by_school) > len(keys):
        body.para(f"另有 {len(by_school) - len(keys)} 所学校有未达标指标，说明从略；可用 qbe explain --school 查看。")


def resources(body, ev, c: dict) -> None:
    m = ev.model
    if not m.indicators():
        return
    body.heading("资源配置", 2)
    res = c["resources"]
    rules = [d for d in m.decls.values() if d.kind == "rule"]
    rule = ev.resource_rule()
    label = m.decls[rule].label if rule else (rules[0].label if rules else "")
    counts = "，".join(f"{STATUS_ZH.get(k, k)} {n} 个" for k, n in res.items())
    body.para(f"共 {sum(res.values())} 个学校（学段）按“{label}”判定：{counts or '无'}。")
    rows, shades = [], []
    for r in ev.notable_by_county(c["county_code"]):
        for ind, v in r["indicators"].items():
            if v["status"] in ("met", "not_applicable"):
                continue
            d = m.decls[ind]
            pct = f"{pct_floor(v['ratio'])}%" if v["ratio"] is not None else "—"
            rows.append([r["school_name"] or r["school_code"], STAGE_ZH.get(r["stage"] or "", ""), d.label,
                         f"{num(v['value'])} {d.unit or ''}".strip(), num(v["required"]), pct,
                         STATUS_ZH.get(v["status"], v["status"]), v.get("reason") or ""])
            shades.append([None] * 6 + [v["status"], None])
    if rows:
        body.para("未全面达标的学校（学段）：")
        body.table(["学校", "学段", "指标", "数值", "要求", "达到要求", "判定", "说明"], rows, shades=shades)
    else:
        body.para("各学校（学段）各项指标均达到要求。")


def school_checks(body, c: dict) -> None:
    found = [f for f in c["findings"] if f["kind"] == "check"]
    if not found:
        return
    body.heading("学校核查未达标情况", 2)
    rows = [[f.get("school_name") or f.get("school_code") or "", STAGE_ZH.get(f.get("stage") or "", "全校"), f["label"],
             num(f.get("value")), num(f.get("required")), STATUS_ZH.get(f["status"], f["status"]), f["text_zh"]]
            for f in found]
    body.table(["学校", "学段", "项目", "数值", "要求", "判定", "情况"], rows,
               shades=[[None] * 5 + [f["status"], None] for f in found])


def balance(body, m, c: dict) -> None:
    if not c["balance"]:
        return
    body.heading("校际差异系数（按学生数加权）", 2)
    stages = [s.name for s in m.stages if s.name in c["balance"]]
    head = ["指标"]
    for s in stages:
        head += [f"{STAGE_ZH.get(s, s)}差异系数", "限值", "判定"]
    rows, shades = [], []
    for ind in dict.fromkeys(i for s in stages for i in c["balance"][s]):
        cells, shade = [m.decls[ind].label if ind in m.decls else ind], [None]
        for s in stages:
            b = c["balance"][s].get(ind)
            if b is None:
                cells += ["—", "—", "—"]
                shade += [None, None, None]
            else:
                cells += [f"{b['cv']:.3f}" if b["cv"] is not None else "—", num(b["limit"]), STATUS_ZH.get(b["status"], "")]
                shade += [b["status"], None, b["status"]]
        rows.append(cells)
        shades.append(shade)
    body.table(head, rows, shades=shades)
    comp = [(s, v) for s, v in (c.get("composite_cv") or {}).items() if v is not None]
    if comp:
        text = "，".join(f"{STAGE_ZH.get(s, s)} {v:.3f}" for s, v in comp)
        body.para(f"综合差异系数（仅供参考，不作判定）：{text}。")


def items(body, ev, c: dict) -> None:
    m = ev.model
    by_part: dict[str, list[tuple[str, dict]]] = {}
    for iid, it in c["items"].items():
        by_part.setdefault(it.get("part") or "", []).append((iid, it))
    for part, its in by_part.items():
        body.heading(m.parts.get(part, part) or "其他项目", 2)
        rows, shades = [], []
        for i, (iid, it) in enumerate(its, 1):
            d = m.decls[iid]
            value = fmt_item_value(it["value"], d, m)
            if it.get("inputs"):
                value = "；".join(f"{_label(m, f)} {_input(m, f, v)}" for f, v in it["inputs"].items())
            evidence = "；".join(it["evidence"].values()) if it.get("evidence") else ""
            note = it.get("reason") or ""
            rows.append([str(i), d.label, value, fmt_item_value(it["required"], d),
                         it.get("grade") or STATUS_ZH.get(it["status"], it["status"]),
                         "；".join(x for x in (evidence, note) if x)])
            grade = it.get("grade")
            shades.append([None] * 4 + [grade_mark(grade, ev.decl(iid).grade_labels) if grade else it["status"], None])
        body.table(["序号", "项目", "数值", "要求", "结论", "佐证"], rows, shades=shades)


def data_problems(body, report: dict) -> None:
    errors = report["errors"]
    if not errors:
        return
    body.heading("数据问题", 1)
    body.para(f"数据中有 {len(errors)} 处错误，相关学校（学段）未评估。")
    rows = [[e.get("source") or "", e.get("sheet") or "", str(e["row"]) if e.get("row") is not None else "",
             e.get("column") or "", e.get("value") or "", e["message_zh"]] for e in errors[:MAX_ISSUES]]
    body.table(["文件", "工作表", "行", "列", "值", "问题"], rows)
    if len(errors) > MAX_ISSUES:
        body.para(f"另有 {len(errors) - MAX_ISSUES} 处，见 JSON 或 Excel 结果。")


_label = field_label
_input = fmt_input


# ---------------------------------------------------------------------------- document mechanics


def _setup(doc) -> None:
    """A4 pages; 宋体 body and 黑体 headings for East Asian text; a compact style for table cells."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _fonts(rpr, BODY_FONT)
            lang = rpr.find(qn("w:lang"))
            if lang is not None:
                lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        style = doc.styles[name]
        _fonts(style.element.get_or_add_rPr(), HEADING_FONT)
        style.font.color.rgb = RGBColor(0, 0, 0)
    doc.styles["Title"].font.size = Pt(18)
    table_text = doc.styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(9)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0


def _fonts(rpr, east_asian: str) -> None:
    """Explicit fonts on a run-properties element; theme fonts would override them, so they go."""
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)
    rfonts.set(qn("w:ascii"), LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east_asian)


class Body:
    """The document's content as WordprocessingML text, put into the saved document by :meth:`pack`.

    python-docx's own ``add_paragraph`` and ``add_table`` look for the section
    properties at the end of the body on every call, which is quadratic in the
    length of the document, and parsing the text into its tree costs more than
    writing it; so the text goes straight into ``word/document.xml``.
    """

    def __init__(self, doc) -> None:
        self.doc = doc
        self.parts: list[str] = []
        self.ids = {name: doc.styles[name].style_id for name in ("Title", "Heading 1", "Heading 2", "Heading 3", TABLE_STYLE,
                                                                 TABLE_TEXT)}
        sec = doc.sections[0]
        self.text_width = int((sec.page_width - sec.left_margin - sec.right_margin) / 635)  # EMU → twips

    def heading(self, text: str, level: int) -> None:
        self.para(text, style="Title" if level == 0 else f"Heading {level}")

    def para(self, text: str, style: str | None = None, bold: str | None = None) -> None:
        """A paragraph; ``bold`` is a leading part set in bold."""
        ppr = f'<w:pPr><w:pStyle w:val="{self.ids[style]}"/></w:pPr>' if style else ""
        runs = _run(bold, bold=True) if bold else ""
        self.parts.append(f"<w:p>{ppr}{runs}{_run(text)}</w:p>")

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]],
              shades: Sequence[Sequence[str | None]] | None = None) -> None:
        """A grid table with a bold header row repeated on each page; shortfall cells shaded."""
        col = self.text_width // max(len(head), 1)
        out = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.ids[TABLE_STYLE]}"/><w:tblW w:type="auto" w:w="0"/>'
               '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" '
               'w:val="04A0"/></w:tblPr><w:tblGrid>', f'<w:gridCol w:w="{col}"/>' * len(head), "</w:tblGrid>"]
        style = self.ids[TABLE_TEXT]
        out.append(_row(head, style, None, header=True))
        for k, row in enumerate(rows):
            out.append(_row(row, style, shades[k] if shades else None))
        out.append("</w:tbl>")
        self.parts.append("".join(out))
        self.parts.append("<w:p/>")  # Word joins tables that touch; a paragraph keeps them apart

    def pack(self, saved: bytes) -> bytes:
        """The saved document with the content put into its body, before the section properties."""
        zin = zipfile.ZipFile(io.BytesIO(saved))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for member in zin.infolist():
                data = zin.read(member.filename)
                if member.filename == "word/document.xml":
                    text = data.decode("utf-8")
                    at = text.rfind("<w:sectPr")
                    if at < 0:
                        at = text.rindex("</w:body>")
                    data = (text[:at] + "".join(self.parts) + text[at:]).encode("utf-8")
                zout.writestr(member, data)
        return out.getvalue()


def _run(text: str, bold: bool = False) -> str:
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{_xml_text(text)}</w:t></w:r>'


def _xml_text(text) -> str:
    return escape(_ILLEGAL_XML.sub("", "" if text is None else str(text)))


def _row(cells: Sequence[str], style_id: str, shades: Sequence[str | None] | None = None, header: bool = False) -> str:
    out = ["<w:tr>"]
    if header:
        out.append("<w:trPr><w:tblHeader/></w:trPr>")
    for j, text in enumerate(cells):
        shade = SHADES.get(shades[j]) if shades and j < len(shades) and shades[j] else None
        out.append("<w:tc>")
        if shade:
            out.append(f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{shade}"/></w:tcPr>')
        out.append(f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{_run(text, bold=header)}</w:p></w:tc>')
    out.append("</w:tr>")
    return "".join(out)
