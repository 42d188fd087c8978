"""The Excel input template: derived from a standard's inputs, filled in, read back with no mapping."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.data.schema import SCHOOL_TYPES, STAGES, FieldType
from qbe.data.table import RawSheet
from qbe.data.validate import validate_sheet
from qbe.pipeline import load_model
from qbe.standards import installed

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
LABEL = {v.code: v.label for v in (*SCHOOL_TYPES, *STAGES)}


def make_template(tmp_path: Path, standard: str = "national-2017", *extra: str) -> Path:
    out = tmp_path / "填报模板.xlsx"
    res = CliRunner().invoke(main, ["template", "--standard", standard, "-o", str(out), *extra])
    assert res.exit_code == 0, res.output
    return out


def field_columns(ws) -> dict[str, int]:
    """Canonical field name → column number, read from the header notes ("字段名 / field: students")."""
    out = {}
    for cell in ws[1]:
        name = cell.comment.text.splitlines()[0].split(": ", 1)[1]
        if "佐证" in name:
            name = name.split("（", 1)[0] + "_note"
        out[name] = cell.column
    return out


def fill(ws, csv_path: Path, model) -> int:
    """Copy a CSV of canonical columns into a template sheet, writing categories and yes/no in Chinese."""
    cols = field_columns(ws)
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows, 2):
        for name, text in row.items():
            if text == "":
                continue
            spec = model.fields.get(name)
            if name in ("school_type", "stage"):
                value = LABEL[text]
            elif spec is not None and spec.type is FieldType.YESNO:
                value = {"yes": "是", "no": "否"}[text]
            elif spec is not None and spec.type.numeric:
                value = float(text)
                value = int(value) if value.is_integer() else value
            else:
                value = text
            ws.cell(row=i, column=cols[name], value=value)
    return len(rows)


def verdicts(rep: dict) -> dict:
    return {
        "counties": [(c["county_code"], c["verdict"], c["parts"], {k: v["status"] for k, v in c["items"].items()},
                      {s: {i: b["status"] for i, b in inds.items()} for s, inds in c["balance"].items()})
                     for c in rep["counties"]],
        "rows": sorted((r["school_code"], r["stage"], r["status"], r["pass"],
                        tuple((k, v["status"], v["ratio"]) for k, v in r["indicators"].items())) for r in rep["schools"]),
        "school_checks": sorted((s["school_code"], tuple((k, v["status"]) for k, v in s["checks"].items()))
                                for s in rep["school_checks"]),
    }


def run_json(tmp_path: Path, name: str, *args: str) -> tuple[dict, object]:
    out = tmp_path / name
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", *args, "-f", "json", "-o", str(out)])
    return json.loads((out / "national-2017.json").read_text(encoding="utf-8")), res


def test_round_trip_gives_the_csv_verdicts(tmp_path):
    model = load_model("national-2017")
    path = make_template(tmp_path)
    wb = openpyxl.load_workbook(path)
    assert fill(wb["学校"], EXAMPLE / "schools.csv", model) == 35
    assert fill(wb["区县"], EXAMPLE / "counties.csv", model) == 1
    wb.save(path)

    got, res = run_json(tmp_path, "from-template", "--data", str(path), "--county-data", str(path))
    assert res.exit_code == 0, res.output
    want, res = run_json(tmp_path, "from-csv", "--example")
    assert res.exit_code == 0, res.output

    assert got["summary"]["rows"] == 35 and got["errors"] == []
    assert got["warnings"] == []  # every header recognised, nothing converted or ignored
    assert verdicts(got) == verdicts(want)
    (county,) = got["counties"]
    assert county["verdict"] == "not_met" and county["items"]["guarantee_04"]["status"] == "not_met"
    # evidence notes came through their "（佐证）" columns
    assert county["items"]["guarantee_01"]["evidence"] == {"layout_reasonable": "《示例区中小学布局规划（2021—2025）》（虚构）"}
    boya = next(r for r in got["schools"] if r["school_name"] == "博雅小学")
    assert boya["indicators"]["teaching_area_per_student"]["ratio"] == 0.86


def test_headers_units_notes_and_validation(tmp_path):
    wb = openpyxl.load_workbook(make_template(tmp_path))
    assert wb.sheetnames == ["学校", "区县", "填写说明"]
    ws = wb["学校"]
    headers = [c.value for c in ws[1]]
    assert headers[:6] == ["区县代码", "区县名称", "学校代码", "学校名称", "学校类型", "学段"]
    assert "教学及辅助用房面积（m²）" in headers and "在校生数（人）" in headers and "教学仪器设备值（元）" in headers
    assert ws.freeze_panes == "E2"
    cols = field_columns(ws)
    note = ws.cell(row=1, column=cols["students"]).comment.text
    assert "students" in note and "单位 / unit: 人" in note and "必填 / required" in note and "≥ 1" in note
    assert "选填 / optional" in ws.cell(row=1, column=cols["school_name"]).comment.text

    def rule(letter_of: int):
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(letter_of)
        found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2:{letter}1048576" in str(dv.sqref)]
        assert len(found) == 1, letter
        return found[0]

    students = rule(cols["students"])
    assert (students.type, students.operator, students.formula1) == ("whole", "greaterThanOrEqual", "1")
    area = rule(cols["teaching_area_m2"])
    assert (area.type, area.operator, area.formula1) == ("decimal", "greaterThanOrEqual", "0")
    share = rule(cols["training_spend_share"])
    assert (share.type, share.operator, share.formula1, share.formula2) == ("decimal", "between", "0", "1")
    from openpyxl.utils import get_column_letter

    assert ws.column_dimensions[get_column_letter(cols["training_spend_share"])].number_format == "0.0%"
    assert ws.column_dimensions[get_column_letter(cols["school_code"])].number_format == "@"
    assert rule(cols["stage"]).formula1 == '"小学,初中"'  # only the standard's stages
    assert rule(cols["urban"]).formula1 == '"是,否"'
    assert "九年一贯制" in rule(cols["school_type"]).formula1.strip('"').split(",")
    assert rule(cols["stage"]).showErrorMessage
    year = rule(cols["year"])
    assert (year.type, year.operator, year.formula1, year.formula2) == ("whole", "between", "1990", "2100")

    county = wb["区县"]
    heads = [c.value for c in county[1]]
    k = heads.index("学校规划布局合理")
    assert heads[k + 1] == "学校规划布局合理（佐证）"
    assert "小学生均公用经费基准定额（元/人）" in heads

    guide = wb["填写说明"]
    text = "\n".join(str(v) for row in guide.iter_rows(values_only=True) for v in row if v)
    assert "九年一贯制学校填两行" in text and "nine-year school has two rows" in text
    listed = {row[2] for row in guide.iter_rows(values_only=True) if row[0] in ("学校", "区县")}
    assert set(cols) <= listed and "layout_reasonable_note" in listed


@pytest.mark.parametrize("std", [s.id for s in installed()])
def test_every_standard_template_header_is_recognised(tmp_path, std):
    """Every header of every standard's template names its own field: none unused, none missing."""
    model = load_model(std)
    wb = openpyxl.load_workbook(make_template(tmp_path, std))
    for title, schema, key in (("学校", model.row_schema(), ("school_code", "stage")),
                               ("区县", model.county_schema(), ("county_code",))):
        if title not in wb.sheetnames:
            assert len(schema.fields) <= 2
            continue
        ws = wb[title]
        headers = [c.value for c in ws[1]]
        cols = field_columns(ws)
        row = [None] * len(headers)
        raw = RawSheet("t.xlsx", headers, [row], [2], sheet=title, header_row=1)
        _, issues = validate_sheet(raw, schema, {}, key)
        codes = {i.code for i in issues}
        assert "unused_column" not in codes and "missing_column" not in codes and "duplicate_column" not in codes
        assert set(cols) == {f.name for f in schema.fields} | {f"{f.name}_note" for f in schema.fields if f.evidence}


def test_existing_file_is_not_overwritten(tmp_path):
    path = make_template(tmp_path)
    path.write_bytes(b"filled in")
    res = CliRunner().invoke(main, ["template", "--standard", "national-2017", "-o", str(path)])
    assert res.exit_code == 2 and "--force" in res.output
    assert path.read_bytes() == b"filled in"
    make_template(tmp_path, "national-2017", "--force")
    assert openpyxl.load_workbook(path).sheetnames[0] == "学校"


def test_unknown_standard_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["template", "--standard", "no-such-standard", "-o", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert not (tmp_path / "t.xlsx").exists()
