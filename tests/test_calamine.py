"""Fast Excel reading: python-calamine and openpyxl give the same sheets, cell for cell.

``QBE_EXCEL_ENGINE`` forces one engine; the calamine path hands a workbook to
openpyxl whenever it could differ (error cells, durations, huge whole numbers,
chart sheets, files it cannot open), so the result never depends on the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.data import readers
from qbe.data.readers import DataSourceError, read_xlsx
from qbe.data.validate import known_headers
from qbe.pipeline import load_model

pytest.importorskip("python_calamine")
openpyxl = pytest.importorskip("openpyxl")

EXAMPLE = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"
ENGINES = ("openpyxl", "calamine")


def typed(sheets):
    """Sheets with every cell's type made visible: 1800 and 1800.0 must not compare equal."""
    return [
        (s.source, s.headers, [[(type(v).__name__, v) for v in row] for row in s.rows], s.row_numbers, s.sheet,
         s.header_row)
        for s in sheets
    ]


def read_with(engine, monkeypatch, path, **kw):
    monkeypatch.setenv("QBE_EXCEL_ENGINE", engine)
    try:
        return typed(read_xlsx(path, **kw))
    except DataSourceError as e:
        return ("error", e.message_zh, e.message_en, e.source)


def same_both_ways(monkeypatch, path, **kw):
    results = [read_with(engine, monkeypatch, path, **kw) for engine in ENGINES]
    assert results[0] == results[1]
    return results[0]


@pytest.fixture(scope="module")
def headers():
    model = load_model("national-2017")
    return {"schools": known_headers(model.row_schema()), "counties": known_headers(model.county_schema())}


@pytest.mark.parametrize("name", ["schools", "counties"])
def test_example_workbooks_identical(name, headers, monkeypatch):
    path = EXAMPLE / f"{name}.xlsx"
    # the fast path really reads these files (no hand-over to openpyxl)
    assert readers._read_xlsx_calamine(path, None, headers[name]) is not None
    sheets = same_both_ways(monkeypatch, path, known_headers=headers[name])
    (source, hdrs, rows, numbers, sheet, header_row), = sheets
    assert header_row == 2 and numbers[0] == 3  # the title row above the header was skipped
    assert hdrs[0] == "区县代码"
    if name == "schools":
        assert sheet == "学校" and len(rows) == 35
        assert rows[0][6] == ("int", 1800)  # whole numbers are int, as openpyxl gives them
        assert ("float", 0.06) in rows[0]  # a percent cell stays a fraction
    else:
        assert sheet == "区县" and len(rows) == 1
    # without known headers the title row is the header row, the same way for both engines
    same_both_ways(monkeypatch, path)
    same_both_ways(monkeypatch, path, sheet="学校" if name == "schools" else "区县")


def test_same_report_json_with_either_engine(tmp_path, monkeypatch):
    reports = []
    for engine in ENGINES:
        monkeypatch.setenv("QBE_EXCEL_ENGINE", engine)
        out = tmp_path / engine
        res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", str(EXAMPLE / "schools.xlsx"),
                                        "--county-data", str(EXAMPLE / "counties.xlsx"), "--format", "json",
                                        "-o", str(out)])
        assert res.exit_code == 0, res.output
        reports.append(json.loads((out / "national-2017.json").read_text(encoding="utf-8")))
    assert reports[0] == reports[1]
    assert reports[0]["counties"][0]["verdict"] == "not_met"


def _workbook(path: Path, fill) -> Path:
    wb = openpyxl.Workbook()
    fill(wb)
    wb.save(path)
    return path


def test_cell_types_and_positions(tmp_path, monkeypatch):
    def fill(wb):
        ws = wb.active
        ws.title = "数据"
        ws["C3"] = "某县学校情况"  # a title, not in column A
        header = ["学校代码", "学段", "日期", "时间", "日期时间", "比例", "是否", "空白", "大数"]
        for col, text in enumerate(header, start=2):
            ws.cell(row=5, column=col, value=text)
        values = ["S1", "小学", dt.date(2021, 9, 1), dt.time(8, 30), dt.datetime(2021, 11, 15, 9, 30, 5), 0.95, True,
                  "   ", 123456789012]
        for col, value in enumerate(values, start=2):
            ws.cell(row=6, column=col, value=value)
        ws.cell(row=6, column=7).number_format = "0%"
        ws.cell(row=9, column=2, value=1800.0)  # a float that is a whole number
        ws.cell(row=9, column=3, value=-0.0)
        ws.cell(row=12, column=5).font = openpyxl.styles.Font(bold=True)  # formatted, empty
        hidden = wb.create_sheet("隐藏")
        hidden.sheet_state = "hidden"
        hidden["A1"] = "x"
        wb.create_sheet("空表")

    path = _workbook(tmp_path / "types.xlsx", fill)
    assert readers._read_xlsx_calamine(path, None, None) is not None
    sheets = same_both_ways(monkeypatch, path, known_headers=["学校代码", "学段"])
    assert [s[4] for s in sheets] == ["数据", "隐藏"]  # the empty sheet is skipped, the hidden one is not
    first = sheets[0]
    assert first[5] == 5 and first[3] == [6, 9]
    assert first[1][0] == "" and first[2][0][0] == ("NoneType", None)  # column A is kept, empty
    assert first[2][0][3] == ("str", "2021-09-01T00:00:00")  # a date is a datetime for openpyxl
    assert first[2][0][4] == ("str", "08:30:00")
    assert first[2][0][7] == ("bool", True)
    assert first[2][0][8] == ("NoneType", None)
    same_both_ways(monkeypatch, path, sheet="空表")
    same_both_ways(monkeypatch, path, sheet="隐藏")


def _patch_sheet_xml(path: Path, old: bytes, new: bytes) -> None:
    data = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data[info.filename] = zf.read(info.filename)
    assert old in data["xl/worksheets/sheet1.xml"]
    data["xl/worksheets/sheet1.xml"] = data["xl/worksheets/sheet1.xml"].replace(old, new)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in data.items():
            zf.writestr(name, content)


def test_error_cells_are_read_by_openpyxl(tmp_path, monkeypatch):
    def fill(wb):
        ws = wb.active
        ws.append(["学校代码", "在校生数", "生均"])
        ws.append(["S1", 0, "=A1"])

    path = _workbook(tmp_path / "err.xlsx", fill)
    _patch_sheet_xml(path, b'<c r="C2"><f>A1</f><v></v></c>', b'<c r="C2" t="e"><f>B2/0</f><v>#DIV/0!</v></c>')
    assert readers._has_error_cells(path)
    assert readers._read_xlsx_calamine(path, None, None) is None  # calamine would give "" for #DIV/0!
    sheets = same_both_ways(monkeypatch, path)
    assert sheets[0][2][0][2] == ("str", "#DIV/0!")


def test_durations_and_huge_numbers_fall_back(tmp_path, monkeypatch):
    def fill(wb):
        ws = wb.active
        ws.append(["学校代码", "时长", "编号"])
        ws.append(["S1", dt.timedelta(hours=30), 1])
        ws["B2"].number_format = "[h]:mm:ss"

    path = _workbook(tmp_path / "duration.xlsx", fill)
    assert readers._read_xlsx_calamine(path, None, None) is None
    same_both_ways(monkeypatch, path)

    def fill_big(wb):
        ws = wb.active
        ws.append(["学校代码", "身份证号"])
        ws.append(["S1", 7])

    path = _workbook(tmp_path / "big.xlsx", fill_big)
    # 18 digits written out, as some programs do: beyond a float's exact integers
    _patch_sheet_xml(path, b"<v>7</v>", b"<v>110101199003070000</v>")
    assert readers._read_xlsx_calamine(path, None, None) is None
    sheets = same_both_ways(monkeypatch, path)
    assert sheets[0][2][0][1] == ("int", 110101199003070000)


def test_same_errors(tmp_path, monkeypatch):
    same_both_ways(monkeypatch, tmp_path / "missing.xlsx")
    same_both_ways(monkeypatch, tmp_path)  # a folder
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a zip file")
    err = same_both_ways(monkeypatch, broken)
    assert err[0] == "error" and "无法打开 Excel 文件" in err[1]
    renamed_xls = tmp_path / "old.xlsx"
    renamed_xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    same_both_ways(monkeypatch, renamed_xls)
    empty = _workbook(tmp_path / "empty.xlsx", lambda wb: None)
    err = same_both_ways(monkeypatch, empty)
    assert err[0] == "error" and "都是空的" in err[1]
    err = same_both_ways(monkeypatch, EXAMPLE / "schools.xlsx", sheet="没有这个表")
    assert err[0] == "error" and "现有工作表：学校" in err[1]


def test_engine_choice(monkeypatch):
    monkeypatch.delenv("QBE_EXCEL_ENGINE", raising=False)
    assert readers.excel_engine() == "calamine"  # installed, so used by default
    monkeypatch.setenv("QBE_EXCEL_ENGINE", "openpyxl")
    assert readers.excel_engine() == "openpyxl"
    monkeypatch.setenv("QBE_EXCEL_ENGINE", " Calamine ")
    assert readers.excel_engine() == "calamine"
    monkeypatch.setenv("QBE_EXCEL_ENGINE", "auto")
    assert readers.excel_engine() == "calamine"
    monkeypatch.setenv("QBE_EXCEL_ENGINE", "xlrd")
    with pytest.raises(DataSourceError, match="QBE_EXCEL_ENGINE"):
        readers.excel_engine()


def test_without_calamine(monkeypatch):
    monkeypatch.setattr(readers, "_calamine_installed", lambda: False)
    monkeypatch.delenv("QBE_EXCEL_ENGINE", raising=False)
    assert readers.excel_engine() == "openpyxl"  # not installed: openpyxl, silently
    assert read_xlsx(EXAMPLE / "counties.xlsx")[0].sheet == "区县"
    monkeypatch.setenv("QBE_EXCEL_ENGINE", "calamine")
    with pytest.raises(DataSourceError, match=r"qbe\[fast\]"):
        read_xlsx(EXAMPLE / "counties.xlsx")


def test_calamine_is_faster_on_a_large_sheet(tmp_path, monkeypatch):
    import time

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("学校")
    ws.append(["学校代码", "学段", "在校生数", "班级数", "比例", "名称"])
    for i in range(5000):
        ws.append([f"S{i:06d}", "小学", 1000 + i % 500, 24, 0.06, f"第{i}小学"])
    path = tmp_path / "large.xlsx"
    wb.save(path)
    timings = {}
    results = {}
    for engine in ENGINES:
        monkeypatch.setenv("QBE_EXCEL_ENGINE", engine)
        t0 = time.perf_counter()
        results[engine] = read_xlsx(path)
        timings[engine] = time.perf_counter() - t0
    assert typed(results["openpyxl"]) == typed(results["calamine"])
    assert timings["calamine"] < timings["openpyxl"], timings
