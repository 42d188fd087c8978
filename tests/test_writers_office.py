"""The Excel and Word reports, each opened by a reader of its format and checked against the JSON report."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from openpyxl.utils import get_column_letter

from qbe.cli import ExitCode, main
from qbe.default_plugins.writers import excel
from qbe.default_plugins.writers.word import WordWriter
from qbe.errors import UsageError
from qbe.pipeline import run
from qbe.plugins import get_plugin_manager, registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
RED, AMBER, GREY = "FFC7CE", "FFEB9C", "D9D9D9"
SHEETS = ["总体结论", "资源配置", "差异系数", "学校核查", "县级项目", "问题清单", "数据问题", "报告信息"]


def demo(tmp_path: Path, formats: str = "json,xlsx,docx"):
    res = CliRunner().invoke(main, ["demo", "--format", formats, "-o", str(tmp_path)])
    rep = json.loads((tmp_path / "national-2017.json").read_text(encoding="utf-8")) if "json" in formats else None
    return res, rep


def table(ws) -> list[dict]:
    """A sheet as dicts keyed by its header row, each with its cells under '_cells'."""
    rows = list(ws.iter_rows())
    heads = [c.value for c in rows[0]]
    out = []
    for r in rows[1:]:
        d = {h: c.value for h, c in zip(heads, r)}
        d["_cells"] = {h: c for h, c in zip(heads, r)}
        out.append(d)
    return out


def fill(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:] if cell.fill.fill_type == "solid" else ""


# ---------------------------------------------------------------------------- xlsx


def test_xlsx_demo_sheets_numbers_and_highlights(tmp_path):
    res, rep = demo(tmp_path)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "national-2017.xlsx")
    assert wb.sheetnames == SHEETS  # no exemptions in the demo: no 豁免 sheet

    ws = wb["资源配置"]
    rows = table(ws)
    assert len(rows) == 35 == ws.max_row - 1
    assert ws.freeze_panes == "E2"
    assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}36"
    head = "生均教学及辅助用房面积 (m²/生)"
    assert head in rows[0]
    want = {s["school_name"]: s for s in rep["schools"]}
    boya = next(r for r in rows if r["学校名称"] == "博雅小学")
    value = boya[head]
    assert isinstance(value, float) and value == want["博雅小学"]["indicators"]["teaching_area_per_student"]["value"] == 3.87
    assert boya["生均教学及辅助用房面积 要求 (m²/生)"] == 4.5
    share = boya["_cells"]["生均教学及辅助用房面积 达到要求 (%)"]
    assert share.value == 0.86 and share.number_format == "0.0%"
    assert boya["生均教学及辅助用房面积 判定"] == "容许"
    assert fill(boya["_cells"][head]) == AMBER and fill(boya["_cells"]["生均教学及辅助用房面积 判定"]) == AMBER
    assert fill(boya["_cells"]["生均体育运动场馆面积 (m²/生)"]) == ""  # met: not highlighted
    # every row, every indicator: the same number as the JSON report
    for r in rows:
        s = next(x for x in rep["schools"] if x["school_code"] == r["学校代码"] and x["row"] == r["行号"])
        assert r["在校生数 (人)"] == s["students"]
        assert r["资源配置达标"] == ("是" if s["pass"] else "否")
        for ind, v in s["indicators"].items():
            label = rep["standard"]["items"][ind]["label"]
            unit = rep["standard"]["items"][ind]["unit"]
            assert r[f"{label} ({unit})"] == v["value"]
            assert r[f"{label} 达到要求 (%)"] == v["ratio"]
    assert sum(r["在校生数 (人)"] for r in rows) == 41085

    checks = table(wb["学校核查"])
    binhu = next(r for r in checks if r["学校名称"] == "滨湖实验小学")
    assert binhu["办学规模 (人)"] == 2661 and binhu["办学规模 要求 (人)"] == 2000
    assert binhu["办学规模 判定"] == "未达标" and fill(binhu["_cells"]["办学规模 判定"]) == RED
    assert wb["学校核查"].freeze_panes == "D2"

    (county,) = table(wb["总体结论"])
    assert county["判定"] == "未达标" and fill(county["_cells"]["判定"]) == RED
    assert county["政府保障程度"] == "未达标" and county["资源配置"] == "达标"
    assert county["学校（学段）数"] == 35
    assert county["未全面达标情况"].startswith("尚有二项指标未全面达标：一是“资源配置”中“生均教学及辅助用房面积”指标")

    cv = table(wb["差异系数"])
    first = next(r for r in cv if r["学段"] == "小学" and r["指标"] == "每百名学生拥有高于规定学历教师数")
    assert first["差异系数"] == rep["counties"][0]["balance"]["primary"]["teachers_above_degree_per100"]["cv"]
    assert first["限值"] == 0.5 and first["判定"] == "达标"
    composite = next(r for r in cv if r["学段"] == "初中" and r["指标"].startswith("综合差异系数"))
    assert composite["差异系数"] == rep["counties"][0]["composite_cv"]["junior"] and composite["判定"] is None

    items = table(wb["县级项目"])
    assert len(items) == len(rep["counties"][0]["items"])
    size = next(r for r in items if r["项目"].startswith("学校规模"))
    assert size["判定"] == "未达标" and fill(size["_cells"]["判定"]) == RED and size["部分"] == "政府保障程度"
    funds = next(r for r in items if r["项目"] == "特殊教育学校生均公用经费不低于6000元")
    assert (funds["数值"], funds["要求"]) == (8000, 6000)
    training = next(r for r in items if r["项目"] == "教师5年360学时培训完成率达到100%")
    assert training["数值"] == 1 and training["_cells"]["数值"].number_format == "0.0%"
    layout = next(r for r in items if r["项目"] == "学校规划布局合理，符合国家有关规定要求")
    assert layout["佐证"] == "《示例区中小学布局规划（2021—2025）》（虚构）"

    found = table(wb["问题清单"])
    assert [f["学校名称"] for f in found[:4]] == ["博雅小学", "长桥小学", "滨湖实验小学", "江畔实验学校"]
    assert found[0]["问题"] == rep["counties"][0]["findings"][0]["text_zh"] and found[0]["达到要求 (%)"] == 0.86
    assert table(wb["数据问题"]) == []
    info = {r["项目"]: r["内容"] for r in table(wb["报告信息"])}
    assert info["规则哈希"] == rep["standard"]["ruleset_hash"] and info["版本"] == 2017
    for title in SHEETS:
        assert wb[title].freeze_panes is not None and wb[title].auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["E"].width == 22  # 学校名称
    assert wb["总体结论"].column_dimensions[get_column_letter(wb["总体结论"].max_column)].width == 90  # the summary


def test_xlsx_exemptions_sheet_and_grey_cells(tmp_path):
    toml = tmp_path / "approved.toml"
    toml.write_text('[[exemption]]\nschool = "9999010002"\nitem = "school_size"\nreason = "分流方案已批准"\n'
                    'document = "示例区教育局〔2024〕7号"\nvalid_from = 2024\nvalid_to = 2026\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "-s", "national-2017", "--example", "--exemptions", str(toml), "--year", "2025",
                                    "-f", "xlsx", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "o" / "national-2017.xlsx")
    assert wb.sheetnames == [*SHEETS[:-1], "豁免", "报告信息"]
    (e,) = table(wb["豁免"])
    assert (e["学校代码"], e["批准文件"], e["有效期起 (年)"], e["有效期止 (年)"], e["适用数"]) == \
        ("9999010002", "示例区教育局〔2024〕7号", 2024, 2026, 1)
    binhu = next(r for r in table(wb["学校核查"]) if r["学校代码"] == "9999010002")
    assert binhu["办学规模 判定"] == "豁免" and fill(binhu["_cells"]["办学规模 判定"]) == GREY
    assert binhu["办学规模 说明"] == "分流方案已批准（示例区教育局〔2024〕7号）"


def _example_rows() -> tuple[list[str], list[dict]]:
    with (EXAMPLE / "schools.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, heads: list[str], rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, heads)
        w.writeheader()
        w.writerows(rows)
    return path


def test_xlsx_data_errors_and_awkward_text(tmp_path):
    heads, rows = _example_rows()
    rows[2]["students"] = " 1千 "  # 博雅小学: not a number (kept as written, spaces and all)
    rows[0]["school_name"] = "A&B <实验> 小学"
    data = _write_csv(tmp_path / "schools.csv", heads, rows)
    res = CliRunner().invoke(main, ["run", "-s", "national-2017", "-d", str(data), "-c", str(EXAMPLE / "counties.csv"),
                                    "-f", "json,xlsx", "-o", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.DATA, res.output
    rep = json.loads((tmp_path / "o" / "national-2017.json").read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(tmp_path / "o" / "national-2017.xlsx")
    (err,) = table(wb["数据问题"])
    assert err["类别"] == "错误" and err["行"] == 4 and fill(err["_cells"]["类别"]) == RED
    assert err["值"] == rep["errors"][0]["value"] == " 1千 "
    assert err["问题"] == rep["errors"][0]["message_zh"]
    res_rows = table(wb["资源配置"])
    bad = next(r for r in res_rows if r["学校代码"] == "9999010003")
    assert bad["数据问题"] == rep["errors"][0]["message_zh"] and bad["在校生数 (人)"] is None
    assert bad["资源配置判定"] == "未评估"
    assert res_rows[0]["学校名称"] == "A&B <实验> 小学"


def test_xlsx_large_report_streams_rows_in_pieces(tmp_path, monkeypatch):
    """Above 2,000 rows the report dict carries no rows; the workbook still has every row, equal to the JSON."""
    heads, rows = _example_rows()
    many = []
    for k in range(70):  # 70 × 35 = 2,450 rows in 70 counties
        for r in rows:
            many.append({**r, "county_code": f"{990100 + k}", "school_code": f"{990100 + k}{r['school_code'][-4:]}"})
    data = _write_csv(tmp_path / "schools.csv", heads, many)
    monkeypatch.setattr(excel, "CHUNK", 1000)  # three pieces, the last one short
    res = run("national-2017", str(data), None, ["json", "xlsx"], tmp_path / "o", echo=lambda *a: None)
    assert res.failed_writers == {} and res.report["schools"] == []
    rep = json.loads((tmp_path / "o" / "national-2017.json").read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(tmp_path / "o" / "national-2017.xlsx", read_only=True)
    got = list(wb["资源配置"].iter_rows(values_only=True))
    heads_x = list(got[0])
    assert len(got) == 2451 == wb["资源配置"].max_row  # the used range is declared, for readers that size by it
    col_value = heads_x.index("生均教学及辅助用房面积 (m²/生)")
    col_status = heads_x.index("生均教学及辅助用房面积 判定")
    for x, s in zip(got[1:], rep["schools"]):
        assert (x[0], x[heads_x.index("学校代码")]) == (s["row"], s["school_code"])
        assert x[col_value] == s["indicators"]["teaching_area_per_student"]["value"]
        assert x[col_status] == {"met": "达标", "tolerated": "容许", "not_met": "未达标"}[
            s["indicators"]["teaching_area_per_student"]["status"]]
    schools = list(wb["学校核查"].iter_rows(values_only=True))
    assert len(schools) == 1 + 70 * 29
    assert len(list(wb["总体结论"].iter_rows(values_only=True))) == 71


def test_xlsx_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 30)  # the demo's 35 school-stage rows do not fit
    res = CliRunner().invoke(main, ["demo", "--format", "xlsx,json", "-o", str(tmp_path), "--lang", "en"])
    assert res.exit_code == ExitCode.WRITER
    assert "sheet 资源配置 would have 35 rows, more than Excel holds (29)" in res.output
    assert not (tmp_path / "national-2017.xlsx").exists() and (tmp_path / "national-2017.json").is_file()


@pytest.mark.parametrize("encoder", ["orjson", "repr"])
def test_number_text_forms(monkeypatch, encoder):
    if encoder == "repr":
        monkeypatch.setattr(excel, "_orjson", None)
    text = excel.number_text([1800.0, 3.87, None, float("nan"), float("inf"), 0.0, -2.5, 10.05, 1e-7])
    *head, tiny = text.split(",")
    assert head == ["1800", "3.87", "null", "null", "null", "0", "-2.5", "10.05"]
    assert float(tiny) == 1e-7


# ---------------------------------------------------------------------------- docx


def test_docx_demo_findings_tables_and_fonts(tmp_path):
    res, rep = demo(tmp_path)
    assert res.exit_code == 0, res.output
    d = docx.Document(str(tmp_path / "national-2017.docx"))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "对标自查情况"
    summary = next(t for t in texts if "尚有二项指标未全面达标" in t)
    assert summary.startswith("对照《县域义务教育优质均衡发展督导评估办法》，尚有二项指标未全面达标：一是“资源配置”中")
    assert "博雅小学、长桥小学分别达到指标的86%、89%" in summary
    assert any(t.startswith("依据：《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号），标准编号 national-2017") for t in texts)
    assert "评估结论：县域义务教育优质均衡发展督导评估结论：未达标（未达标）" in texts
    assert f"规则哈希 {rep['standard']['ruleset_hash']}" in texts[-1] and f"qbe {rep['produced']['qbe_version']}" in texts[-1]

    tables = {tuple(c.text for c in t.rows[0].cells): t for t in d.tables}
    parts = tables[("部分", "结论")]
    assert [[c.text for c in r.cells] for r in parts.rows[1:]][2] == ["政府保障程度", "未达标"]
    schools = tables[("学校", "学段", "指标", "数值", "要求", "达到要求", "判定", "说明")]
    rows = [[c.text for c in r.cells] for r in schools.rows[1:]]
    assert rows == [["博雅小学", "小学", "生均教学及辅助用房面积", "3.87 m²/生", "4.5", "86%", "容许", ""],
                    ["长桥小学", "小学", "生均教学及辅助用房面积", "4.005 m²/生", "4.5", "89%", "容许", ""]]
    shade = schools.rows[1].cells[6]._tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
    assert shade is not None and shade.get(qn("w:fill")) == AMBER
    checks = tables[("学校", "学段", "项目", "数值", "要求", "判定", "情况")]
    assert [r.cells[0].text for r in checks.rows[1:]] == ["滨湖实验小学", "江畔实验学校"]
    cv = tables[("指标", "小学差异系数", "限值", "判定", "初中差异系数", "限值", "判定")]
    assert len(cv.rows) == 8 and [c.text for c in cv.rows[1].cells][:4] == ["每百名学生拥有高于规定学历教师数", "0.115", "0.5", "达标"]
    items = [t for t in d.tables if tuple(c.text for c in t.rows[0].cells) == ("序号", "项目", "数值", "要求", "结论", "佐证")]
    assert len(items) == 4  # 政府保障程度, 教育质量, 社会认可度, 一票否决
    guarantee = [[c.text for c in r.cells] for r in items[0].rows[1:]]
    assert guarantee[0][5] == "《示例区中小学布局规划（2021—2025）》（虚构）"
    assert guarantee[3][1].startswith("学校规模") and guarantee[3][4] == "未达标"
    assert all(t.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None for t in d.tables)

    fonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "宋体" and fonts.get(qn("w:eastAsiaTheme")) is None
    heading = d.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert heading.get(qn("w:eastAsia")) == "黑体" and heading.get(qn("w:eastAsiaTheme")) is None
    defaults = d.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert defaults.get(qn("w:eastAsia")) == "宋体"
    assert round(d.sections[0].page_width.cm, 1) == 21.0


def test_docx_exemptions_and_data_problems(tmp_path):
    heads, rows = _example_rows()
    rows[2]["students"] = "abc"
    data = _write_csv(tmp_path / "schools.csv", heads, rows)
    toml = tmp_path / "approved.toml"
    toml.write_text('[[exemption]]\nschool = "9999010002"\nitem = "school_size"\nreason = "分流方案已批准"\n'
                    'document = "示例区教育局〔2024〕7号"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "-s", "national-2017", "-d", str(data), "-c", str(EXAMPLE / "counties.csv"),
                                    "--exemptions", str(toml), "-f", "docx", "-o", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.DATA, res.output
    d = docx.Document(str(tmp_path / "o" / "national-2017.docx"))
    tables = {tuple(c.text for c in t.rows[0].cells): t for t in d.tables}
    ex = tables[("项目", "学校/区县", "学段", "理由", "批准文件", "有效期")]
    assert [c.text for c in ex.rows[1].cells][1:5] == ["9999010002", "全部", "分流方案已批准", "示例区教育局〔2024〕7号"]
    problems = tables[("文件", "工作表", "行", "列", "值", "问题")]
    assert [c.text for c in problems.rows[1].cells][2:5] == ["4", "students", "abc"]  # the column as the file names it
    assert "数据中有 1 处错误，相关学校（学段）未评估。" in [p.text for p in d.paragraphs]


def test_docx_without_python_docx_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)  # `import docx` now raises ImportError
    with pytest.raises(UsageError) as e:
        WordWriter().render(None, {}, "zh")
    assert "pip install 'qbe[word]'" in e.value.message_zh and "python-docx" in e.value.message_zh
    assert "pip install 'qbe[word]'" in e.value.message_en

    res = CliRunner().invoke(main, ["demo", "--format", "docx,json,xlsx", "-o", str(tmp_path)])
    assert res.exit_code == ExitCode.WRITER
    assert "docx" in res.output and "pip install 'qbe[word]'" in res.output
    assert not (tmp_path / "national-2017.docx").exists()
    assert (tmp_path / "national-2017.json").is_file()
    assert openpyxl.load_workbook(tmp_path / "national-2017.xlsx").sheetnames == SHEETS


def test_writers_registered_with_extensions():
    reg = registry(get_plugin_manager(load_entry_points=False))
    assert reg.writers["xlsx"][1].extension == ".xlsx" and reg.writers["docx"][1].extension == ".docx"
    assert reg.writers["xlsx"][0] == reg.writers["docx"][0] == "qbe.writers"


GRADED = """standard graded-test {
    title "分档测试"
    version 2024
    stages { primary "小学" }
    parts { county_part "县级" }
}
inputs row { students: count "在校生数" unit "人" range 1.. }
inputs county { satisfaction_rate: percent "满意度" range 0..1 }
item satisfaction "满意度达到90%" {
    value   = satisfaction_rate
    require >= 90%
    grades  { 合格 >= 90%, 基本合格 >= 80%, 不合格 }
    part    county_part
}
verdict overall "结论" {
    grades { 合格 when graded 不合格 == 0 and graded 基本合格 == 0, 基本合格 when graded 不合格 == 0, 不合格 }
}
"""


def test_grades_highlighted_best_plain_middle_amber_last_red(tmp_path):
    (tmp_path / "g.qbe").write_text(GRADED, encoding="utf-8")
    (tmp_path / "s.csv").write_text("county_code,school_code,school_type,stage,students\n"
                                    "100001,S1,primary,primary,500\n100002,S2,primary,primary,500\n"
                                    "100003,S3,primary,primary,500\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("county_code,county_name,satisfaction_rate\n100001,甲县,95%\n100002,乙县,85%\n"
                                    "100003,丙县,70%\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "-s", str(tmp_path / "g.qbe"), "-d", str(tmp_path / "s.csv"),
                                    "-c", str(tmp_path / "c.csv"), "-f", "xlsx,docx", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "o" / "graded-test.xlsx")
    assert "资源配置" not in wb.sheetnames  # no indicators in this standard
    overview = table(wb["总体结论"])
    assert [(r["区县名称"], r["等级"], fill(r["_cells"]["等级"])) for r in overview] == \
        [("甲县", "合格", ""), ("乙县", "基本合格", AMBER), ("丙县", "不合格", RED)]
    items = table(wb["县级项目"])
    assert [(r["数值"], r["要求"], r["等级"], fill(r["_cells"]["等级"])) for r in items] == \
        [(0.95, 0.9, "合格", ""), (0.85, 0.9, "基本合格", AMBER), (0.7, 0.9, "不合格", RED)]
    assert all(r["_cells"]["数值"].number_format == "0.0%" and r["单位"] is None for r in items)
    d = docx.Document(str(tmp_path / "o" / "graded-test.docx"))
    graded = [t for t in d.tables if t.rows[0].cells[0].text == "序号"]
    shades = []
    for t in graded:
        cell = t.rows[1].cells[4]
        shd = cell._tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
        shades.append((cell.text, shd.get(qn("w:fill")) if shd is not None else ""))
    assert shades == [("合格", ""), ("基本合格", AMBER), ("不合格", RED)]
    assert [t.rows[1].cells[2].text for t in graded] == ["95%", "85%", "70%"]
