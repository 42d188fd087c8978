"""The Excel input template of a standard, derived from its declared inputs.

``qbe template --standard national-2017 -o 填报模板.xlsx`` writes a workbook
with a sheet 学校 (one column per row- or school-level field, the structural
ones first), a sheet 区县 (one column per county field, with a
"<label>（佐证）" column after each evidence field) and a sheet 填写说明
explaining every column, in Chinese with English beside it.

Headers are the fields' Chinese labels with the unit in brackets
("教学及辅助用房面积（m²）"), which validation matches with no column mapping.
Each header has a note with the canonical name, type, unit and whether the
column is required; each column has data validation (numbers within the
declared range, whole numbers for counts, 是/否 and category drop-downs,
shares as decimals 0–1 shown as percentages). Filled in, the same file is
both ``--data`` and ``--county-data``: qbe picks the sheet whose headers
match each table best.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .data.schema import STAGES, FieldSpec, FieldType, Level, TableSchema
from .semantics.model import Model

SCHOOL_SHEET = "学校"
COUNTY_SHEET = "区县"
GUIDE_SHEET = "填写说明"
#: Rows that carry the data validation (Excel's last row).
LAST_ROW = 1_048_576
#: Longest list Excel accepts written into a validation formula.
MAX_LIST_CHARS = 255
HEADER_FILL = "DDEBF7"
OPTIONAL_FILL = "F2F2F2"
PERCENT_FORMAT = "0.0%"
TEXT_FORMAT = "@"

TYPE_ZH = {
    FieldType.COUNT: "整数（人数、个数）",
    FieldType.AREA: "面积",
    FieldType.MONEY: "金额",
    FieldType.PERCENT: "比例（小数 0–1 或百分数）",
    FieldType.NUMBER: "数值",
    FieldType.YESNO: "是/否",
    FieldType.CATEGORY: "类别（从下拉列表选择）",
    FieldType.TEXT: "文本",
}
TYPE_EN = {
    FieldType.COUNT: "whole number (people, rooms …)",
    FieldType.AREA: "area",
    FieldType.MONEY: "amount of money",
    FieldType.PERCENT: "share (decimal 0–1 or a percentage)",
    FieldType.NUMBER: "number",
    FieldType.YESNO: "yes/no (是/否)",
    FieldType.CATEGORY: "category (pick from the list)",
    FieldType.TEXT: "text",
}

#: What the columns every dataset has mean.
STRUCTURAL_NOTES = {
    "county_code": ("区县行政区划代码（如 330102），同一区县各行相同", "the county's administrative code (e.g. 330102)"),
    "county_name": ("区县名称", "the county's name"),
    "school_code": ("学校标识码或本地学校代码，同一学校各学段行相同", "the school's code, the same on each of its rows"),
    "school_name": ("学校名称", "the school's name"),
    "school_type": ("学校类型，同一学校各学段行相同", "the type of school, the same on each of its rows"),
    "stage": ("本行所填学段", "the stage this row reports"),
    "year": ("统计年度（如 2024）；标准按年度取值时据此选用当年标准值", "the year of the data (e.g. 2024); picks the year's values"),
}


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the template: the field it feeds, or that field's evidence note."""

    spec: FieldSpec
    evidence: bool = False

    @property
    def header(self) -> str:
        if self.evidence:
            return f"{self.spec.label}（佐证）"
        return f"{self.spec.label}（{self.spec.unit}）" if self.spec.unit else self.spec.label

    @property
    def required(self) -> bool:
        return not self.evidence and not self.spec.optional


def columns(schema: TableSchema) -> list[TemplateColumn]:
    """The template's columns for a table: each field, and after an evidence field its note column."""
    out = []
    for spec in schema.fields:
        out.append(TemplateColumn(spec))
        if spec.evidence:
            out.append(TemplateColumn(spec, evidence=True))
    return out


def choices(spec: FieldSpec, model: Model) -> list[str]:
    """The Chinese values a category or yes/no column offers (stages: only the standard's)."""
    if spec.type is FieldType.YESNO:
        return ["是", "否"]
    if spec.name == "stage":
        return [s.label for s in STAGES if s.code in model.stage_names]
    return [v.label for v in spec.values]


def range_text(spec: FieldSpec, lang: str = "zh") -> str:
    lo, hi = _bounds(spec)
    if lo is None and hi is None:
        return ""

    def show(v: float) -> str:
        if spec.type is FieldType.PERCENT:
            return f"{v * 100:g}%"
        return f"{v:g}"

    if lo is not None and hi is not None:
        return f"{show(lo)}–{show(hi)}"
    if lo is not None:
        return f"≥ {show(lo)}"
    return f"≤ {show(hi)}"


def _bounds(spec: FieldSpec) -> tuple[float | None, float | None]:
    if spec.type is FieldType.PERCENT:
        return (spec.minimum if spec.minimum is not None else 0.0, spec.maximum if spec.maximum is not None else 1.0)
    if spec.type.numeric:
        return spec.minimum, spec.maximum
    return None, None


def explain(col: TemplateColumn, model: Model) -> tuple[str, str]:
    """What to write in a column, in Chinese and in English."""
    spec = col.spec
    if col.evidence:
        return (f"“{spec.label}”的佐证材料（文件名称、文号等），选填",
                f"evidence for '{spec.label}' (document titles, numbers …), optional")
    zh, en = [], []
    if spec.name in STRUCTURAL_NOTES:
        z, e = STRUCTURAL_NOTES[spec.name]
        zh.append(z)
        en.append(e)
    elif spec.level is Level.ROW and spec.whole_school:
        zh.append("全校数：九年一贯制等学校可只在该校一行填写，其余学段行留空（按标准规定分摊到各学段），也可各学段分别填写")
        en.append("whole-school amount: a school with several stages may give it on one of its rows and leave the "
                  "others blank (the standard apportions it), or give each stage its own")
    elif spec.level is Level.ROW:
        zh.append("每个学段行分别填写")
        en.append("per stage row")
    elif spec.level is Level.SCHOOL:
        zh.append("全校一个值，同一学校各学段行填写相同")
        en.append("one value per school, the same on each of its rows")
    else:
        zh.append("每个区县一个值")
        en.append("one value per county")
    opts = choices(spec, model) if spec.type in (FieldType.YESNO, FieldType.CATEGORY) else []
    if opts:
        zh.append("可选：" + "、".join(opts))
        en.append("one of: " + ", ".join(opts))
    if spec.type is FieldType.PERCENT:
        zh.append("填小数（0.95）或百分数（95%）")
        en.append("a decimal (0.95) or a percentage (95%)")
    if spec.type is FieldType.MONEY and spec.unit:
        zh.append("如按万元填写，把表头单位改为“万元”即可自动换算")
        en.append("to enter 万元 (10,000 yuan), change the unit in the header to 万元 and qbe converts")
    if spec.evidence:
        zh.append(f"佐证材料写在“{spec.label}（佐证）”列")
        en.append(f"evidence goes in the column '{spec.label}（佐证）'")
    zh.append("必填" if col.required else "选填")
    en.append("required" if col.required else "optional")
    return "；".join(zh), "; ".join(en)


def build_template(model: Model) -> bytes:
    """The template workbook's bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SCHOOL_SHEET
    school_cols = columns(model.row_schema())
    _data_sheet(ws, school_cols, model, freeze="E2")
    county_cols = columns(model.county_schema())
    if len(county_cols) > 2:  # more than the county's code and name
        _data_sheet(wb.create_sheet(COUNTY_SHEET), county_cols, model, freeze="C2")
    else:
        county_cols = []
    _guide(wb.create_sheet(GUIDE_SHEET), model, school_cols, county_cols)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _data_sheet(ws, cols: list[TemplateColumn], model: Model, freeze: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    for j, col in enumerate(cols, 1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=col.header)
        cell.font = Font(bold=True, color="000000" if col.required else "595959")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL if col.required else OPTIONAL_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = Border(bottom=Side(style="thin"))
        note = Comment(_note(col, model), "qbe")
        note.width, note.height = 300, 160
        cell.comment = note
        dim = ws.column_dimensions[letter]
        dim.width = max(10, min(40, _text_width(col.header) + 2))
        if col.spec.type is FieldType.PERCENT and not col.evidence:
            dim.number_format = PERCENT_FORMAT
        elif col.spec.type is FieldType.TEXT or col.evidence:
            dim.number_format = TEXT_FORMAT
        validation = _validation(col, model)
        if validation is not None:
            ws.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = freeze


def _note(col: TemplateColumn, model: Model) -> str:
    spec = col.spec
    name = f"{spec.name}（佐证 / evidence note）" if col.evidence else spec.name
    kind = "文本 / text" if col.evidence else f"{TYPE_ZH[spec.type]} / {TYPE_EN[spec.type]}"
    lines = [f"字段名 / field: {name}", f"类型 / type: {kind}"]
    if spec.unit and not col.evidence:
        lines.append(f"单位 / unit: {spec.unit}")
    rng = "" if col.evidence else range_text(spec)
    if rng:
        lines.append(f"范围 / range: {rng}")
    lines.append("必填 / required" if col.required else "选填 / optional")
    return "\n".join(lines)


def _validation(col: TemplateColumn, model: Model):
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = col.spec
    if col.evidence:
        return None
    title = spec.label[:32]
    if spec.type in (FieldType.YESNO, FieldType.CATEGORY):
        opts = choices(spec, model)
        listed = ",".join(opts)
        if not opts or len(listed) + 2 > MAX_LIST_CHARS or any("," in o or '"' in o for o in opts):
            return None
        return DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showDropDown=False,
                              showErrorMessage=True, showInputMessage=True, errorTitle=title,
                              error=f"请从下拉列表中选择：{'、'.join(opts)}"[:255],
                              promptTitle=title, prompt=f"可选：{'、'.join(opts)}"[:255])
    if not spec.type.numeric:
        return None
    lo, hi = _bounds(spec)
    kind = "whole" if spec.type is FieldType.COUNT or spec.name == "year" else "decimal"
    if lo is not None and hi is not None:
        op, f1, f2 = "between", lo, hi
    elif lo is not None:
        op, f1, f2 = "greaterThanOrEqual", lo, None
    elif hi is not None:
        op, f1, f2 = "lessThanOrEqual", hi, None
    elif kind == "whole":
        op, f1, f2 = "between", -1e15, 1e15  # only that it is a whole number
    else:
        return None
    what = "整数" if kind == "whole" else ("小数（0.95 即 95%）" if spec.type is FieldType.PERCENT else "数字")
    rng = range_text(spec)
    return DataValidation(type=kind, operator=op, formula1=_formula_number(f1),
                          formula2=_formula_number(f2) if f2 is not None else None, allow_blank=True,
                          showErrorMessage=True, showInputMessage=True, errorTitle=title,
                          error=f"“{spec.label}”应填{what}{('，范围 ' + rng) if rng else ''}"[:255],
                          promptTitle=title,
                          prompt=f"{what}{('，' + rng) if rng else ''}{('，单位：' + spec.unit) if spec.unit else ''}"[:255])


def _formula_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _guide(ws, model: Model, school_cols: list[TemplateColumn], county_cols: list[TemplateColumn]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    std = model.standard
    title = std.title or std.id
    notes = [
        (f"《{title}》数据填报模板（标准编号 {std.id}，版本 {std.version}）",
         f"Input template for '{title}' (standard {std.id}, version {std.version})"),
        ("一、“学校”表：每所学校每个学段填一行。小学、初中学校各一行；九年一贯制学校填两行（小学一行、初中一行），"
         "十二年一贯制学校、完全中学同样按学段分行。",
         "Sheet 学校: one row per school per stage. A nine-year school has two rows (primary and junior); "
         "twelve-year and complete middle schools likewise have a row per stage."),
        ("二、标为“全校数”的列，可只在该校的一行填写，其余学段行留空；标为“全校一个值”的列，同一学校各行填写相同。",
         "Columns marked as whole-school amounts may be given once per school (blank on its other rows); "
         "columns with one value per school must be the same on each of the school's rows."),
        ("三、“区县”表：每个区县一行；是/否项可在其后的“（佐证）”列写明佐证材料。",
         "Sheet 区县: one row per county; a yes/no item may name its evidence in the '（佐证）' column after it."),
        ("四、比例填小数（0.95）或百分数（95%）；数值只填数字，不带单位；单位见表头括号。",
         "Shares as decimals (0.95) or percentages (95%); numbers without units (the unit is in the header)."),
        ("五、请勿修改表头文字；列的顺序可以调整，不认识的列会被忽略并提示。表头批注写有字段名、类型、单位和是否必填。",
         "Do not change the header texts; columns may be reordered, and unknown columns are ignored with a "
         "warning. Each header's note gives the field name, type, unit and whether it is required."),
        (f"六、填好后运行：qbe run --standard {std.id} --data 本文件 --county-data 本文件",
         f"When filled in, run: qbe run --standard {std.id} --data THIS_FILE --county-data THIS_FILE"),
    ]
    ws.column_dimensions["A"].width = 10
    for k, (zh, en) in enumerate(notes, 1):
        ws.cell(row=k, column=1, value=zh).font = Font(bold=k == 1)
        ws.cell(row=k, column=9, value=en).font = Font(bold=k == 1, color="595959")
    head = ["工作表", "列名", "字段名", "类型", "单位", "必填", "取值范围", "说明",
            "Sheet", "Type", "Required", "Explanation"]
    top = len(notes) + 2
    for j, h in enumerate(head, 1):
        cell = ws.cell(row=top, column=j, value=h)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    row = top + 1
    for sheet, en_sheet, cols in ((SCHOOL_SHEET, "schools", school_cols), (COUNTY_SHEET, "counties", county_cols)):
        for col in cols:
            zh, en = explain(col, model)
            spec = col.spec
            values = [sheet, col.header, f"{spec.name}_note" if col.evidence else spec.name,
                      "文本" if col.evidence else TYPE_ZH[spec.type], "" if col.evidence else (spec.unit or ""),
                      "是" if col.required else "否", "" if col.evidence else range_text(spec), zh,
                      en_sheet, "text" if col.evidence else TYPE_EN[spec.type], "yes" if col.required else "no", en]
            for j, v in enumerate(values, 1):
                ws.cell(row=row, column=j, value=v).alignment = Alignment(wrap_text=j in (8, 12), vertical="top")
            row += 1
    for letter, width in zip("ABCDEFGHIJKL", (8, 30, 26, 16, 8, 6, 12, 60, 10, 22, 9, 60)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=top + 1, column=3)


def _text_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)
