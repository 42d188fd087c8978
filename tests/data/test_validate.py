"""Tests of validate_sheet: header matching, typing, and every issue kind.

Expected values are written out by hand. Each issue is checked for its exact
code, row, column and value, because those are what a county clerk uses to
find the cell to fix. The property tests compare the vectorised fast path
with the obviously correct per-value ``float``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbe.data import validate as validate_module
from qbe.data.cells import parse_decimals
from qbe.data.schema import (
    STRUCTURAL_COUNTY_FIELDS,
    STRUCTURAL_ROW_FIELDS,
    FieldSpec,
    FieldType,
    Level,
    TableSchema,
)
from qbe.data.table import DataIssue, RawSheet, Table
from qbe.data.validate import (
    known_headers,
    normalize_header,
    split_unit,
    validate_sheet,
)

ROW_SCHEMA = TableSchema(
    Level.ROW,
    STRUCTURAL_ROW_FIELDS
    + (
        FieldSpec("students", FieldType.COUNT, "在校生数", Level.ROW, unit="人", minimum=1,
                  aliases=("学生数",)),
        FieldSpec("teaching_area_m2", FieldType.AREA, "教学及辅助用房面积", Level.ROW,
                  unit="m²", minimum=0),
        FieldSpec("equipment_value_yuan", FieldType.MONEY, "教学仪器设备值", Level.ROW,
                  unit="元", minimum=0),
        FieldSpec("urban", FieldType.YESNO, "城镇", Level.SCHOOL),
        FieldSpec("design_capacity", FieldType.COUNT, "设计规模", Level.SCHOOL, minimum=0),
        FieldSpec("training_spend_share", FieldType.PERCENT, "教师培训经费占公用经费比例",
                  Level.SCHOOL, minimum=0, maximum=1, optional=True),
    ),
)  # fmt: skip

COUNTY_SCHEMA = TableSchema(
    Level.COUNTY,
    STRUCTURAL_COUNTY_FIELDS
    + (
        FieldSpec("layout_reasonable", FieldType.YESNO, "学校规划布局合理", Level.COUNTY,
                  evidence=True),
        FieldSpec("rotation_share", FieldType.PERCENT, "教师交流轮岗比例", Level.COUNTY,
                  minimum=0, maximum=1),
        FieldSpec("max_class_size", FieldType.COUNT, "最大班额", Level.COUNTY, minimum=20,
                  maximum=60, optional=True),
    ),
)  # fmt: skip

HEADERS = [
    "区县代码", "学校代码", "学校名称", "学校类型", "学段", "在校生数",
    "教学及辅助用房面积", "教学仪器设备值", "城镇", "设计规模", "教师培训经费占公用经费比例",
]  # fmt: skip
GOOD = ["330102", "3301001", "第一小学", "小学", "小学", "1200", "5400.5", "2500000", "是",
        "1350", "8%"]  # fmt: skip


def row(changes: dict[str, Any] | None = None, headers: list[str] = HEADERS) -> list[Any]:
    """A valid school row, with some cells (by header) replaced."""
    values = dict(zip(HEADERS, GOOD))
    values.update(changes or {})
    return [values.get(h) for h in headers]


def sheet(headers: list[str], *rows: list[Any], name: str | None = None) -> RawSheet:
    """A raw sheet as a CSV reader would give it: data from row 2."""
    numbers = list(range(2, len(rows) + 2))
    return RawSheet("returns.csv", list(headers), [list(r) for r in rows], numbers, sheet=name)


def check(
    raw: RawSheet,
    schema: TableSchema = ROW_SCHEMA,
    mapping: dict[str, str] | None = None,
    key: tuple[str, ...] = ("school_code", "stage"),
) -> tuple[Table, list[DataIssue]]:
    return validate_sheet(raw, schema, mapping, key)


def where(issues: list[DataIssue]) -> list[tuple[str, int | None, str | None, Any]]:
    """The part of each issue a person uses to find the cell."""
    return [(i.code, i.row, i.column, i.value) for i in issues]


def errors(issues: list[DataIssue]) -> list[DataIssue]:
    return [i for i in issues if i.severity == "error"]


def one_column(schema_field: FieldSpec, cells: list[Any]) -> tuple[Table, list[DataIssue]]:
    """Validate a single column holding ``cells``."""
    schema = TableSchema(Level.ROW, (schema_field,))
    raw = sheet([schema_field.label], *[[c] for c in cells])
    return validate_sheet(raw, schema)


STUDENTS = ROW_SCHEMA.by_name()["students"]
SHARE = ROW_SCHEMA.by_name()["training_spend_share"]
URBAN = ROW_SCHEMA.by_name()["urban"]
AREA = ROW_SCHEMA.by_name()["teaching_area_m2"]


# ---------------------------------------------------------------------------
# a clean sheet
# ---------------------------------------------------------------------------


def test_clean_sheet_is_typed_exactly() -> None:
    raw = sheet(
        HEADERS,
        row(),
        row({"学校代码": "3301002", "学校类型": "九年一贯制", "在校生数": "450",
             "教学及辅助用房面积": "2,025.0", "教学仪器设备值": "900000", "城镇": "否",
             "设计规模": "1,000", "教师培训经费占公用经费比例": "0.075"}),
        row({"学校代码": "3301002", "学校类型": "nine_year", "学段": "初中", "在校生数": "300",
             "教学及辅助用房面积": "1800", "教学仪器设备值": "750000", "城镇": "no",
             "设计规模": "1000", "教师培训经费占公用经费比例": "7.5%"}),
    )  # fmt: skip
    table, issues = check(raw)
    assert issues == []
    assert table.n == 3
    assert table.source == "returns.csv"
    assert table.row_numbers.tolist() == [2, 3, 4]
    assert table.bad_rows.tolist() == [False, False, False]
    cols = table.columns
    assert cols["students"].dtype == np.float64
    assert cols["students"].tolist() == [1200.0, 450.0, 300.0]
    assert cols["teaching_area_m2"].tolist() == [5400.5, 2025.0, 1800.0]
    assert cols["equipment_value_yuan"].tolist() == [2500000.0, 900000.0, 750000.0]
    assert cols["urban"].tolist() == [1.0, 0.0, 0.0]
    assert cols["design_capacity"].tolist() == [1350.0, 1000.0, 1000.0]
    # "7.5%" and "0.075" must be the very same float, or the school-level
    # consistency check above would have fired.
    assert cols["training_spend_share"].tolist() == [0.08, 0.075, 0.075]
    assert cols["school_type"].dtype == np.int16
    assert cols["school_type"].tolist() == [0, 2, 2]
    assert cols["stage"].tolist() == [0, 0, 1]
    assert cols["school_code"].dtype == object
    assert cols["school_code"].tolist() == ["3301001", "3301002", "3301002"]
    # county_name is optional and absent: a column of "" that is not "present"
    assert cols["county_name"].tolist() == ["", "", ""]
    assert table.present == frozenset(f.name for f in ROW_SCHEMA.fields) - {"county_name", "year"}
    assert table.evidence == {}


def test_empty_sheet() -> None:
    table, issues = check(sheet(HEADERS))
    assert issues == []
    assert table.n == 0
    assert table.columns["students"].shape == (0,)
    assert table.columns["school_code"].shape == (0,)


# ---------------------------------------------------------------------------
# headers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["在校生数", " 在校生数 ", "在校\n生数", "在校生数（人）", "在校生数(人)", "在校生数 ( 人 )",
     "学生数", "students", "Students", "ＳＴＵＤＥＮＴＳ"],
)  # fmt: skip
def test_header_variants_match(header: str) -> None:
    raw = sheet([header], ["42"])
    table, issues = validate_sheet(raw, TableSchema(Level.ROW, (STUDENTS,)))
    assert issues == []
    assert table.columns["students"].tolist() == [42.0]
    assert "students" in table.present


@pytest.mark.parametrize(
    "header",
    ["教学及辅助用房面积（m²）", "教学及辅助用房面积(m2)", "教学及辅助用房面积（㎡）",
     "教学及辅助用房面积(平方米)", "教学及辅助用房面积【平方米】", "教学及辅助用房面积(单位：m²)",
     "TEACHING_AREA_M2"],
)  # fmt: skip
def test_header_with_unit_suffix(header: str) -> None:
    raw = sheet([header], ["5400.5"])
    table, issues = validate_sheet(raw, TableSchema(Level.ROW, (AREA,)))
    assert issues == []
    assert table.columns["teaching_area_m2"].tolist() == [5400.5]


def test_header_normalisation_helpers() -> None:
    assert normalize_header(" 教学及辅助用房\n面积（m²） ") == "教学及辅助用房面积(m2)"
    assert split_unit("教学及辅助用房面积(m2)") == ("教学及辅助用房面积", "m2")
    assert split_unit("经费(单位:万元)") == ("经费", "万元")
    assert split_unit("在校生数") == ("在校生数", None)
    assert split_unit("(m2)") == ("(m2)", None)  # nothing before the brackets
    assert "学校标识码" in known_headers(ROW_SCHEMA)
    assert "学校规划布局合理（佐证）" in known_headers(COUNTY_SCHEMA)


def test_scaled_unit_in_header_is_converted_with_a_warning() -> None:
    money = ROW_SCHEMA.by_name()["equipment_value_yuan"]
    raw = sheet(["教学仪器设备值（万元）"], ["250"], ["12.5"], ["0.07"])
    table, issues = validate_sheet(raw, TableSchema(Level.ROW, (money,)))
    # 0.07 * 10000 is 700.0000000000001 in floating point; the result must be exact.
    assert table.columns["equipment_value_yuan"].tolist() == [2500000.0, 125000.0, 700.0]
    assert where(issues) == [("unit_converted", None, "教学仪器设备值（万元）", None)]
    assert issues[0].severity == "warning"
    assert "10000" in issues[0].message_en
    assert not table.bad_rows.any()


def test_area_in_hectares_and_mu() -> None:
    raw = sheet(["教学及辅助用房面积（公顷）", "体育运动场馆面积（亩）"], ["0.54", "3"])
    sports = FieldSpec("sports_area_m2", FieldType.AREA, "体育运动场馆面积", Level.ROW, unit="m²")
    table, issues = validate_sheet(raw, TableSchema(Level.ROW, (AREA, sports)))
    assert table.columns["teaching_area_m2"].tolist() == [5400.0]
    assert table.columns["sports_area_m2"].tolist() == [2000.0]  # 1 亩 = 10000/15 m²
    assert [i.code for i in issues] == ["unit_converted", "unit_converted"]


def test_mapping_names_columns() -> None:
    headers = ["区县", "校码", "类型", "学段", "学生人数", "校舍面积", "设备", "城镇", "规模"]
    cells = ["330102", "3301001", "小学", "小学", "1200", "5400", "100", "是", "1350"]
    mapping = {
        "区县": "county_code",
        "校码": "学校代码",  # a Chinese header works as a target too
        " 类型 ": "school_type",  # keys are compared like headers
        "学生人数": "students",
        "校舍面积": "teaching_area_m2",
        "设备": "equipment_value_yuan",
        "规模": "design_capacity",
    }
    table, issues = check(sheet(headers, cells), mapping=mapping)
    assert issues == []
    assert table.columns["students"].tolist() == [1200.0]
    assert table.columns["school_code"].tolist() == ["3301001"]
    assert table.columns["school_type"].tolist() == [0]


def test_mapping_wins_over_a_matching_header() -> None:
    headers = [*HEADERS, "实际在校生数"]
    cells = [*row({"在校生数": "999"}), "1200"]
    table, issues = check(sheet(headers, cells), mapping={"实际在校生数": "students"})
    assert table.columns["students"].tolist() == [1200.0]
    assert where(issues) == [("unused_column", None, "在校生数", None)]
    assert issues[0].severity == "warning"


def test_mapping_to_unknown_field_and_to_nothing() -> None:
    headers = [*HEADERS, "备注", "学生人数"]
    cells = [*row(), "无", "12"]
    table, issues = check(sheet(headers, cells), mapping={"学生人数": "pupils", "备注": ""})
    assert where(issues) == [("bad_mapping", None, "学生人数", None)]
    assert "pupils" in issues[0].message_en
    assert "pupils" in issues[0].message_zh
    assert table.columns["students"].tolist() == [1200.0]  # the real column is used


def test_missing_required_column() -> None:
    headers = [h for h in HEADERS if h != "在校生数"]
    table, issues = check(sheet(headers, row(headers=headers), row(headers=headers)), key=())
    assert where(issues) == [("missing_column", None, "在校生数 (students)", None)]
    found = issues[0]
    assert found.severity == "error"
    assert (found.source, found.sheet) == ("returns.csv", None)
    assert "在校生数" in found.message_zh and "学生数" in found.message_zh
    assert "students" in found.message_en
    assert np.isnan(table.columns["students"]).all()
    assert "students" not in table.present
    assert table.bad_rows.tolist() == [False, False]  # no single row is to blame


def test_missing_optional_columns_are_empty_not_errors() -> None:
    headers = [h for h in HEADERS if h not in ("教师培训经费占公用经费比例", "学校名称")]
    table, issues = check(sheet(headers, row(headers=headers)))
    assert issues == []
    assert np.isnan(table.columns["training_spend_share"]).all()
    assert table.columns["school_name"].tolist() == [""]
    assert {"training_spend_share", "school_name"}.isdisjoint(table.present)


def test_missing_optional_category_is_minus_one() -> None:
    optional_stage = FieldSpec("stage", FieldType.CATEGORY, "学段", Level.ROW, optional=True,
                               values=ROW_SCHEMA.by_name()["stage"].values)  # fmt: skip
    table, issues = validate_sheet(sheet(["其他"], ["x"]), TableSchema(Level.ROW, (optional_stage,)))
    assert table.columns["stage"].tolist() == [-1]
    assert table.columns["stage"].dtype == np.int16
    assert where(issues) == [("unused_column", None, "其他", None)]


def test_two_columns_for_one_field() -> None:
    headers = [*HEADERS, "学生数"]
    table, issues = check(sheet(headers, [*row(), "7"]))
    assert where(issues) == [("duplicate_column", None, "学生数", None)]
    assert "在校生数" in issues[0].message_zh
    assert table.columns["students"].tolist() == [1200.0]  # the first one is used


def test_unused_columns_warn_once() -> None:
    headers = [*HEADERS, "备注", "", ""]
    raw = sheet(headers, [*row(), "a", None, "stray"], [*row({"学段": "初中"}), "b", None, None])
    table, issues = check(raw)
    assert where(issues) == [
        ("unused_column", None, "备注", None),
        ("unused_column", None, "", None),  # only the unnamed column that has data
    ]
    assert all(i.severity == "warning" for i in issues)
    assert "Column 14" in issues[1].message_en
    assert "第 14 列" in issues[1].message_zh
    assert not table.bad_rows.any()


def test_evidence_columns() -> None:
    headers = ["区县代码", "学校规划布局合理", "学校规划布局合理（佐证）", "教师交流轮岗比例",
               "教师交流轮岗比例(佐证说明)"]  # fmt: skip
    raw = sheet(headers, ["330102", "是", "见附件1", "15%", None], ["330103", "否", None, "0.2", "表3"])
    table, issues = check(raw, COUNTY_SCHEMA, key=("county_code",))
    assert issues == []
    assert table.columns["layout_reasonable"].tolist() == [1.0, 0.0]
    assert table.evidence["layout_reasonable"].tolist() == ["见附件1", ""]
    assert table.evidence["rotation_share"].tolist() == ["", "表3"]
    assert table.columns["rotation_share"].tolist() == [0.15, 0.2]


def test_evidence_note_header_by_name() -> None:
    raw = sheet(["county_code", "layout_reasonable", "layout_reasonable_note", "rotation_share"],
                ["330102", "yes", "文件", "0.5"])  # fmt: skip
    table, issues = check(raw, COUNTY_SCHEMA, key=())
    assert issues == []
    assert table.evidence["layout_reasonable"].tolist() == ["文件"]


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1200", 1200.0), ("1,234", 1234.0), ("1,234.5", 1234.5), (" 56 ", 56.0),
     ("１２", 12.0), ("+7", 7.0), ("1e3", 1000.0), ("12,345,678", 12345678.0),
     (1200, 1200.0), (80.5, 80.5), ("1\u00a0200", 1200.0)],
)  # fmt: skip
def test_numeric_forms(cell: Any, expected: float) -> None:
    table, issues = one_column(STUDENTS, [cell])
    assert issues == []
    assert table.columns["students"].tolist() == [expected]


@pytest.mark.parametrize("cell", ["12人", "1,23", "abc", "inf", True, "1.2.3", "--5", "95%"])
def test_not_a_number(cell: Any) -> None:
    table, issues = one_column(STUDENTS, ["5", cell, "6"])
    assert where(issues) == [("not_a_number", 3, "在校生数", cell)]
    assert "not a number" in issues[0].message_en
    assert "不是数字" in issues[0].message_zh
    values = table.columns["students"]
    assert values[0] == 5.0 and np.isnan(values[1]) and values[2] == 6.0
    assert table.bad_rows.tolist() == [False, True, False]


@pytest.mark.parametrize("cell", [None, "", "   ", "-", "—", "/", "N/A", "nan", float("nan")])
def test_missing_numbers(cell: Any) -> None:
    table, issues = one_column(STUDENTS, ["5", cell])
    assert where(issues) == [("missing_value", 3, "在校生数", cell)]  # NaN: same object
    assert np.isnan(table.columns["students"][1])
    optional = FieldSpec("students", FieldType.COUNT, "在校生数", Level.ROW, optional=True)
    table, issues = one_column(optional, ["5", cell])
    assert issues == []
    assert np.isnan(table.columns["students"][1])


def test_negative_amount() -> None:
    table, issues = one_column(AREA, ["10", "-1"])
    assert where(issues) == [("out_of_range", 3, "教学及辅助用房面积", "-1")]
    assert "negative amount" in issues[0].message_en
    assert "负数" in issues[0].message_zh
    assert table.columns["teaching_area_m2"].tolist() == [10.0, -1.0]  # kept, row marked bad
    assert table.bad_rows.tolist() == [False, True]


def test_zero_students() -> None:
    table, issues = one_column(STUDENTS, ["0", "1"])
    assert where(issues) == [("out_of_range", 2, "在校生数", "0")]
    assert "zero students" in issues[0].message_en
    assert "不小于 1" in issues[0].message_zh


def test_out_of_declared_range() -> None:
    size = COUNTY_SCHEMA.by_name()["max_class_size"]
    table, issues = one_column(size, ["20", "61", "19.5", "60"])
    assert where(issues) == [
        ("out_of_range", 3, "最大班额", "61"),
        ("out_of_range", 4, "最大班额", "19.5"),
    ]
    assert "20 to 60" in issues[0].message_en
    assert "20 至 60" in issues[0].message_zh


# ---------------------------------------------------------------------------
# percents
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("95%", 0.95), ("95 %", 0.95), ("９５％", 0.95), ("0.95", 0.95), (0.95, 0.95),
     ("1", 1.0), ("0", 0.0), ("33.3%", 0.333), ("100%", 1.0), ("0.5%", 0.005), (1, 1.0)],
)  # fmt: skip
def test_percent_forms(cell: Any, expected: float) -> None:
    table, issues = one_column(SHARE, [cell])
    assert issues == []
    assert table.columns["training_spend_share"].tolist() == [expected]


@pytest.mark.parametrize("cell", ["95", 95, "1.5"])
def test_percent_scale(cell: Any) -> None:
    table, issues = one_column(SHARE, ["0.5", cell])
    assert where(issues) == [("percent_scale", 3, "教师培训经费占公用经费比例", cell)]
    shown = str(cell)
    assert f"'{shown}%'" in issues[0].message_en
    assert f"“{shown}%”" in issues[0].message_zh
    assert np.isnan(table.columns["training_spend_share"][1])
    assert table.bad_rows.tolist() == [False, True]


def test_percent_scale_message_gives_the_fraction() -> None:
    _, issues = one_column(SHARE, ["95"])
    assert "or 0.95" in issues[0].message_en


def test_percent_out_of_range() -> None:
    table, issues = one_column(SHARE, ["120%", "-5%"])
    assert where(issues) == [
        ("out_of_range", 2, "教师培训经费占公用经费比例", "120%"),
        ("out_of_range", 3, "教师培训经费占公用经费比例", "-5%"),
    ]
    assert "120% is outside the allowed range (0% to 100%)" in issues[0].message_en
    assert "negative amount" in issues[1].message_en


# ---------------------------------------------------------------------------
# yes/no, categories, text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("是", 1.0), ("否", 0.0), ("有", 1.0), ("无", 0.0), ("yes", 1.0), ("No", 0.0),
     ("Y", 1.0), ("n", 0.0), ("TRUE", 1.0), ("false", 0.0), ("1", 1.0), ("0", 0.0),
     ("√", 1.0), ("×", 0.0), ("✓", 1.0), ("✗", 0.0), (" 是 ", 1.0), ("ＹＥＳ", 1.0),
     (True, 1.0), (False, 0.0), (1, 1.0), (0, 0.0), (1.0, 1.0), ("1.0", 1.0)],
)  # fmt: skip
def test_yes_no_forms(cell: Any, expected: float) -> None:
    table, issues = one_column(URBAN, [cell])
    assert issues == []
    assert table.columns["urban"].tolist() == [expected]


@pytest.mark.parametrize("cell", ["maybe", "2", "对", 0.5])
def test_not_yes_no(cell: Any) -> None:
    table, issues = one_column(URBAN, ["是", cell])
    assert where(issues) == [("not_yes_no", 3, "城镇", cell)]
    assert "是/否" in issues[0].message_zh
    assert np.isnan(table.columns["urban"][1])
    assert table.bad_rows.tolist() == [False, True]


def test_missing_yes_no() -> None:
    table, issues = one_column(URBAN, [None, "-"])
    assert where(issues) == [("missing_value", 2, "城镇", None), ("missing_value", 3, "城镇", "-")]


@pytest.mark.parametrize(
    ("field", "cell", "expected"),
    [("stage", "小学", 0), ("stage", "primary", 0), ("stage", "PRIMARY", 0),
     ("stage", " 小学段 ", 0), ("stage", "初中段", 1), ("stage", "Junior", 1),
     ("school_type", "初级中学", 1), ("school_type", "完中", 4), ("school_type", "九年制", 2),
     ("school_type", "teaching_point", 5), ("school_type", "小学教学点", 5)],
)  # fmt: skip
def test_category_forms(field: str, cell: str, expected: int) -> None:
    table, issues = one_column(ROW_SCHEMA.by_name()[field], [cell])
    assert issues == []
    assert table.columns[field].tolist() == [expected]


def test_unknown_category_lists_allowed_values() -> None:
    stage = ROW_SCHEMA.by_name()["stage"]
    table, issues = one_column(stage, ["小学", "高中", None])
    assert where(issues) == [("unknown_category", 3, "学段", "高中"), ("missing_value", 4, "学段", None)]
    assert "小学（primary）、初中（junior）" in issues[0].message_zh
    assert "小学 (primary), 初中 (junior)" in issues[0].message_en
    assert table.columns["stage"].tolist() == [0, -1, -1]
    assert table.bad_rows.tolist() == [False, True, True]


def test_text_from_excel_numbers() -> None:
    code = ROW_SCHEMA.by_name()["school_code"]
    table, issues = one_column(code, [3301001.0, 330102, " 3301 ", "A-1", 12.5])
    assert issues == []
    assert table.columns["school_code"].tolist() == ["3301001", "330102", "3301", "A-1", "12.5"]


def test_missing_values_in_every_kind_of_required_field() -> None:
    raw = sheet(
        HEADERS,
        row({"在校生数": None, "学校代码": "", "学段": None}),
        row({"学校代码": "3301002", "城镇": "-", "区县代码": "  "}),
        row({"学校代码": "3301003", "教师培训经费占公用经费比例": None}),  # optional: fine
    )
    table, issues = check(raw)
    assert where(issues) == [
        ("missing_value", 2, "学校代码", ""),
        ("missing_value", 2, "学段", None),
        ("missing_value", 2, "在校生数", None),
        ("missing_value", 3, "区县代码", "  "),
        ("missing_value", 3, "城镇", "-"),
    ]
    assert table.bad_rows.tolist() == [True, True, False]
    assert table.columns["school_code"].tolist() == ["", "3301002", "3301003"]


# ---------------------------------------------------------------------------
# whole-table checks
# ---------------------------------------------------------------------------


def test_inconsistent_school_values() -> None:
    raw = sheet(
        HEADERS,
        row({"学校代码": "3301002", "学校类型": "九年一贯制", "城镇": "是", "设计规模": "1,000"}),
        row({"学校代码": "3301002", "学校类型": "九年一贯制", "学段": "初中", "城镇": "否",
             "设计规模": "1000"}),
        row({"学校代码": "3301003", "学校类型": "小学"}),
        row({"学校代码": "3301003", "学校类型": "初中", "学段": "初中"}),
        row({"学校代码": "3301004"}),
    )  # fmt: skip
    table, issues = check(raw)
    assert where(issues) == [
        ("inconsistent_school_value", 2, "城镇", "是"),
        ("inconsistent_school_value", 3, "城镇", "否"),
        ("inconsistent_school_value", 4, "学校类型", "小学"),
        ("inconsistent_school_value", 5, "学校类型", "初中"),
    ]
    assert "第 2 行：是；第 3 行：否" in issues[0].message_zh
    assert "row 2: 是; row 3: 否" in issues[0].message_en
    assert "3301002" in issues[0].message_en
    assert table.bad_rows.tolist() == [True, True, True, True, False]


def test_school_level_missing_value_is_not_an_inconsistency() -> None:
    raw = sheet(
        HEADERS,
        row({"教师培训经费占公用经费比例": "8%"}),
        row({"学段": "初中", "教师培训经费占公用经费比例": None}),
    )
    _, issues = check(raw)
    assert issues == []


def test_duplicate_keys_name_both_rows() -> None:
    raw = sheet(
        HEADERS,
        row(),
        row({"学段": "primary"}),  # same stage, written differently
        row({"学段": "初中", "学校类型": "小学"}),
        row(),
    )
    table, issues = check(raw)
    dupes = [i for i in issues if i.code == "duplicate_key"]
    assert where(dupes) == [
        ("duplicate_key", 3, "学校代码, 学段", ("3301001", "primary")),
        ("duplicate_key", 5, "学校代码, 学段", ("3301001", "小学")),
    ]
    assert "Row 3 duplicates row 2" in dupes[0].message_en
    assert "第 5 行与第 2 行重复" in dupes[1].message_zh
    assert table.bad_rows.tolist() == [False, True, False, True]


def test_duplicate_county() -> None:
    headers = ["区县代码", "学校规划布局合理", "教师交流轮岗比例"]
    raw = sheet(headers, ["330102", "是", "0.1"], ["330103", "是", "0.1"], [330102, "否", "0.2"])
    table, issues = check(raw, COUNTY_SCHEMA, key=("county_code",))
    assert where(issues) == [("duplicate_key", 4, "区县代码", 330102)]
    assert table.bad_rows.tolist() == [False, False, True]


def test_rows_without_a_key_are_not_duplicates() -> None:
    raw = sheet(HEADERS, row({"学校代码": None}), row({"学校代码": None}))
    _, issues = check(raw)
    assert [i.code for i in issues] == ["missing_value", "missing_value"]


def test_unknown_key_field_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="pupils"):
        check(sheet(HEADERS, row()), key=("pupils",))


def test_row_numbers_must_match_rows() -> None:
    raw = RawSheet("x.csv", ["学校代码"], [["1"]], [2, 3])
    with pytest.raises(ValueError, match="row numbers"):
        validate_sheet(raw, ROW_SCHEMA)


# ---------------------------------------------------------------------------
# issue bookkeeping
# ---------------------------------------------------------------------------


def test_issues_carry_their_location_and_are_ordered() -> None:
    headers = [*HEADERS, "备注"]
    raw = RawSheet(
        "returns.xlsx",
        headers,
        [[*row({"在校生数": "x"}), None], [*row({"学段": "初中", "城镇": "?"}), None]],
        [7, 9],
        sheet="学校",
    )
    table, issues = validate_sheet(raw, ROW_SCHEMA, key=("school_code", "stage"))
    assert where(issues) == [
        ("unused_column", None, "备注", None),
        ("not_a_number", 7, "在校生数", "x"),
        ("not_yes_no", 9, "城镇", "?"),
    ]
    for found in issues:
        assert (found.source, found.sheet) == ("returns.xlsx", "学校")
        assert found.message_zh and found.message_en
    assert issues[1].render("en").startswith("returns.xlsx[学校]:7 列/column '在校生数': error[not_a_number]:")
    assert table.bad_rows.tolist() == [True, True]
    assert table.sheet == "学校"


def test_ragged_hand_built_rows() -> None:
    raw = RawSheet("x", ["学校代码", "在校生数"], [["1", "5"], ["2"]], [2, 3])
    schema = TableSchema(Level.ROW, (ROW_SCHEMA.by_name()["school_code"], STUDENTS))
    table, issues = validate_sheet(raw, schema)
    assert where(issues) == [("missing_value", 3, "在校生数", None)]
    assert table.columns["school_code"].tolist() == ["1", "2"]


# ---------------------------------------------------------------------------
# fast path against the obviously correct one
# ---------------------------------------------------------------------------

DECIMAL = st.from_regex(r"[+-]?[0-9]{1,15}(\.[0-9]{0,6})?|[+-]?\.[0-9]{1,6}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(DECIMAL | st.just(""), min_size=1, max_size=30))
def test_parse_decimals_is_float(cells: list[str]) -> None:
    values = parse_decimals("\n".join(cells) + "\n", len(cells))
    digits = [sum(ch.isdigit() for ch in c) for c in cells]
    if max(digits) > 15:
        assert values is None  # left to numpy, which is exact anyway
        return
    assert values is not None
    expected = [float(c) if c else math.nan for c in cells]
    assert np.array_equal(values, np.array(expected), equal_nan=True)
    # -0.0 and 0.0 compare equal; the sign must still match float's
    assert [math.copysign(1, v) for v in values if v == 0] == [
        math.copysign(1, v) for v in expected if v == 0
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.+-e ,x", max_size=8))
def test_parse_decimals_never_accepts_what_float_rejects(text: str) -> None:
    values = parse_decimals(text + "\n", 1)
    if values is None:
        return
    if text == "":
        assert np.isnan(values[0])
    else:
        assert values[0] == float(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(DECIMAL.filter(lambda s: sum(c.isdigit() for c in s) <= 15) | st.none(),
                min_size=1, max_size=20))  # fmt: skip
def test_fast_and_per_cell_paths_agree(cells: list[str | None]) -> None:
    number = FieldSpec("x", FieldType.NUMBER, "x", Level.ROW, optional=True)
    fast, issues = one_column(number, cells)
    assert issues == []
    # "1,234" forces the per-cell parser for the whole column.
    slow, issues = one_column(number, [*cells, "1,234"])
    assert issues == []
    assert np.array_equal(fast.columns["x"], slow.columns["x"][:-1], equal_nan=True)
    assert slow.columns["x"][-1] == 1234.0
    expected = [math.nan if c is None else float(c) for c in cells]
    assert np.array_equal(fast.columns["x"], np.array(expected), equal_nan=True)


def test_plain_columns_never_reach_the_per_cell_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cell: Any, allow_percent: bool) -> tuple[int, float, bool]:
        raise AssertionError(f"per-cell parse of {cell!r}")

    monkeypatch.setattr(validate_module, "parse_number", refuse)
    area = FieldSpec("area", FieldType.AREA, "面积", Level.ROW, minimum=0, optional=True)
    cells: list[Any] = [str(i * 7 % 1000) + ".5" for i in range(2000)] + [None, "12"]
    table, issues = one_column(area, cells)
    assert issues == []
    assert table.columns["area"][:3].tolist() == [0.5, 7.5, 14.5]
    assert table.columns["area"][-1] == 12.0
    assert np.isnan(table.columns["area"][-2])
    numbers: list[Any] = [1, 2.5, None, 4]  # as from Excel
    table, issues = one_column(area, numbers)
    assert issues == []
    assert table.columns["area"][[0, 1, 3]].tolist() == [1.0, 2.5, 4.0]
