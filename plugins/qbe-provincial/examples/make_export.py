"""Write export.xlsx and export.csv: the national-2017 example schools as the
(fictional) provincial reporting system would export them.

    python plugins/qbe-provincial/examples/make_export.py

The input is qbe's own example, rulesets/examples/national-2017/schools.csv
(a FICTIONAL county, 示例区（虚构）); every school row is carried over, only
dressed the way the system writes it:

* row 1: the marker text “省教育统计报表系统导出” and the report's details;
* rows 2–3: a group row merged across its columns above the field row;
  fields without a group are merged down over both rows;
* the system's wording and units (学校标识码, 在校学生数（人）, 校舍及场地面积（平方米）…),
  its codes (城乡分类代码 111/112/121/210/220 instead of 城镇 是/否) and
  percentage points (教师培训经费占公用经费比例（%） = 6 for 6%);
* two columns qbe does not need (序号, 专任教师 合计);
* a 总计 row and two lines of notes below the data;
* in the workbook, a second sheet 填报说明 without the marker, which the
  plugin does not read.

export.csv holds the same cells as the export sheet, in GB18030 with CRLF line
ends, as the system's "导出 CSV" button writes them. Deterministic: the same
bytes on every run (fixed timestamps inside the .xlsx).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "rulesets" / "examples" / "national-2017" / "schools.csv"
FIXED_TIME = dt.datetime(2021, 11, 15, 9, 30)

MARKER_ROW = [
    "省教育统计报表系统导出",
    None,
    "报表：义务教育学校办学条件基本情况（J301 表）",
    None, None, None, None, None,
    "统计年度：2021",
    None, None, None,
    "导出时间：2021-11-15 09:30:00",
    None, None, None,
    "填报单位：示例区（虚构）教育局",
]

#: (group or None, field, qbe column of schools.csv or a function of the row)
LAYOUT = [
    (None, "序号", "#"),
    (None, "学校标识码", "school_code"),
    (None, "学校名称", "school_name"),
    ("所在区县", "区县代码", "county_code"),
    ("所在区县", "区县名称", "county_name"),
    (None, "办学类型", "school_type"),
    (None, "城乡分类代码", "urban"),
    (None, "学段名称", "stage"),
    ("办学规模", "在校学生数（人）", "students"),
    ("办学规模", "教学班数（个）", "classes"),
    ("办学规模", "最大班额（人）", "max_class_size"),
    ("办学规模", "设计规模（人）", "design_capacity"),
    ("专任教师（人）", "合计", "teachers_total"),
    ("专任教师（人）", "高于规定学历", "teachers_above_degree"),
    ("专任教师（人）", "县级及以上骨干", "backbone_teachers"),
    ("专任教师（人）", "体育艺术学科", "pe_art_teachers"),
    ("校舍及场地面积（平方米）", "教学及辅助用房", "teaching_area_m2"),
    ("校舍及场地面积（平方米）", "体育运动场馆", "sports_area_m2"),
    ("办学条件", "教学仪器设备值（元）", "equipment_value_yuan"),
    ("办学条件", "网络多媒体教室（间）", "multimedia_rooms"),
    ("音乐专用教室", "间数（间）", "music_rooms"),
    ("音乐专用教室", "最小面积（平方米）", "music_room_min_area_m2"),
    ("美术专用教室", "间数（间）", "art_rooms"),
    ("美术专用教室", "最小面积（平方米）", "art_room_min_area_m2"),
    ("经费", "公用经费拨付总额（元）", "public_funds_yuan"),
    ("经费", "教师培训经费占公用经费比例（%）", "training_spend_share"),
]

SCHOOL_TYPES = {"primary": "小学", "junior": "初级中学", "nine_year": "九年一贯制学校"}
STAGES = {"primary": "小学", "junior": "初中"}
URBAN_CODES = ("111", "112", "121")  # 主城区, 城乡结合区, 镇中心区
RURAL_CODES = ("210", "220")  # 乡中心区, 村庄
#: Columns summed in the 总计 row.
SUMMED = {"students", "classes", "teachers_total", "teachers_above_degree", "backbone_teachers", "pe_art_teachers",
          "teaching_area_m2", "sports_area_m2", "equipment_value_yuan", "multimedia_rooms", "music_rooms",
          "art_rooms", "public_funds_yuan"}
NOTES = [
    ("填报说明：本表由省教育统计报表系统导出，数据截至 2021 年 9 月 30 日；九年一贯制学校按学段分行填报，"
     "校舍面积、仪器设备值、网络多媒体教室按学校填报。本例中区县与学校均为虚构。"),
    "制表人：（虚构）    审核人：（虚构）",
]


def number(text: str):
    if text == "":
        return None
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def export_rows() -> list[list]:
    """The data rows of the export, in column order."""
    with SOURCE.open(encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    rows = []
    urban_seen = rural_seen = 0
    for seq, rec in enumerate(records, start=1):
        students = int(rec["students"])
        above = int(rec["teachers_above_degree"])
        if rec["urban"] == "yes":
            urban = URBAN_CODES[urban_seen % len(URBAN_CODES)]
            urban_seen += 1
        else:
            urban = RURAL_CODES[rural_seen % len(RURAL_CODES)]
            rural_seen += 1
        share = rec["training_spend_share"]
        values = {
            "#": seq,
            "school_code": rec["school_code"],
            "school_name": rec["school_name"],
            "county_code": rec["county_code"],
            "county_name": rec["county_name"],
            "school_type": SCHOOL_TYPES[rec["school_type"]],
            "urban": urban,
            "stage": STAGES[rec["stage"]],
            "teachers_total": max(above + 6, -(-students // 13)),  # about one teacher per 13 pupils
            "training_spend_share": None if share == "" else round(float(share) * 100),
        }
        row = []
        for _, _, column in LAYOUT:
            row.append(values[column] if column in values else number(rec[column]))
        rows.append(row)
    return rows


def totals(rows: list[list]) -> list:
    out = []
    for index, (_, _, column) in enumerate(LAYOUT):
        if index == 0:
            out.append("总计")
        elif column in SUMMED:
            out.append(sum(r[index] or 0 for r in rows))
        else:
            out.append(None)
    return out


def header_rows() -> tuple[list, list]:
    """The group row and the field row, as a CSV export writes merged cells (text in the first cell only)."""
    groups, fields = [], []
    previous = object()
    for group, field, _ in LAYOUT:
        if group is None:
            groups.append(field)
            fields.append(None)
        else:
            groups.append(group if group != previous else None)
            fields.append(field)
        previous = group
    return groups, fields


def write_csv(path: Path, rows: list[list]) -> None:
    groups, fields = header_rows()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    width = len(LAYOUT)
    pad = [None] * (width - len(MARKER_ROW))
    for row in [MARKER_ROW + pad, groups, fields, *rows, totals(rows), *([note] + [None] * (width - 1) for note in NOTES)]:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(out.getvalue().encode("gb18030"))


def write_xlsx(path: Path, rows: list[list]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "J301学校办学条件"
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for col, value in enumerate(MARKER_ROW, start=1):
        if value is not None:
            ws.cell(row=1, column=col, value=value).font = bold
    # Header rows 2 and 3, with their merges.
    col = 1
    while col <= len(LAYOUT):
        group, field, _ = LAYOUT[col - 1]
        if group is None:
            ws.cell(row=2, column=col, value=field)
            ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
            col += 1
            continue
        end = col
        while end < len(LAYOUT) and LAYOUT[end][0] == group:
            end += 1
        ws.cell(row=2, column=col, value=group)
        if end > col:
            ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=end)
        for c in range(col, end + 1):
            ws.cell(row=3, column=c, value=LAYOUT[c - 1][1])
        col = end + 1
    for r in (2, 3):
        for c in range(1, len(LAYOUT) + 1):
            ws.cell(row=r, column=c).font = bold
            ws.cell(row=r, column=c).alignment = center
    for r, row in enumerate([*rows, totals(rows)], start=4):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if c == 2:
                cell.number_format = "@"  # 学校标识码 is text: codes keep their digits as typed
    last = 4 + len(rows)
    for c in range(1, len(LAYOUT) + 1):
        ws.cell(row=last, column=c).font = bold
    for i, note in enumerate(NOTES, start=last + 2):
        ws.cell(row=i, column=1, value=note)
    for c in range(1, len(LAYOUT) + 1):
        ws.column_dimensions[get_column_letter(c)].width = 20 if c in (2, 3) else 12
    ws.freeze_panes = "D4"

    guide = wb.create_sheet("填报说明")
    guide["A1"] = "填报说明（本工作表不含数据）"
    guide["A2"] = "1. 每所学校每个学段填一行；九年一贯制学校填小学、初中两行。"
    guide["A3"] = "2. 城乡分类代码按国家统计局《统计用区划代码和城乡划分代码》填写。"

    wb.properties.creator = "省教育统计报表系统（虚构）"
    wb.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """The same workbook with fixed timestamps, so that every run writes the same bytes."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                                 content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def main() -> None:
    rows = export_rows()
    write_xlsx(HERE / "export.xlsx", rows)
    write_csv(HERE / "export.csv", rows)
    print(f"wrote {HERE / 'export.xlsx'} and {HERE / 'export.csv'}: {len(rows)} rows")


if __name__ == "__main__":
    main()
