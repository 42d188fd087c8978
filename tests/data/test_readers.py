"""Tests of the CSV, Excel and JSON readers.

Every fixture file is written into ``tmp_path`` by the test itself, in the
encodings and layouts county returns really come in (GBK from Chinese Excel,
a title row above the header, several sheets), and the expected cells and
row numbers are written out by hand.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbe.data.readers import (
    DataSourceError,
    find_header_row,
    read_any,
    read_csv,
    read_json,
    read_xlsx,
)

HEADER_ZH = "学校代码,学校名称,学段,在校生数,教学及辅助用房面积（㎡）"
ROWS_ZH = "3301001,第一小学,小学,1200,5400.5\n3301002,第二中学,初中,,3000\n"
EXPECTED_HEADERS = ["学校代码", "学校名称", "学段", "在校生数", "教学及辅助用房面积（㎡）"]
EXPECTED_ROWS = [
    ["3301001", "第一小学", "小学", "1200", "5400.5"],
    ["3301002", "第二中学", "初中", None, "3000"],
]


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_give_the_same_cells(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "schools.csv", HEADER_ZH + "\n" + ROWS_ZH, encoding)
    (sheet,) = read_csv(path)
    assert sheet.headers == EXPECTED_HEADERS  # no BOM glued to the first header
    assert sheet.rows == EXPECTED_ROWS
    assert sheet.row_numbers == [2, 3]
    assert sheet.header_row == 1
    assert sheet.source == str(path)
    assert sheet.sheet is None


def test_csv_gbk_bytes_really_are_not_utf8(tmp_path: Path) -> None:
    # Guards the test above: if GBK bytes happened to be valid UTF-8 the
    # GB18030 fallback would never run.
    data = (HEADER_ZH + "\n").encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_csv_crlf_quotes_and_multiline_cell(tmp_path: Path) -> None:
    text = '学校代码,备注\r\n3301001,"两行\r\n说明"\r\n3301002,"含,逗号"\r\n'
    (sheet,) = read_csv(write(tmp_path / "a.csv", text, "utf-8"))
    assert sheet.rows == [["3301001", "两行\r\n说明"], ["3301002", "含,逗号"]]
    # Record numbers, as a spreadsheet shows them, not physical lines.
    assert sheet.row_numbers == [2, 3]


def test_csv_blank_rows_are_skipped_but_numbering_is_kept(tmp_path: Path) -> None:
    text = "a,b\n1,2\n\n,\n3,\n"
    (sheet,) = read_csv(write(tmp_path / "a.csv", text, "utf-8"))
    assert sheet.rows == [["1", "2"], ["3", None]]
    assert sheet.row_numbers == [2, 5]


def test_csv_ragged_rows_are_squared(tmp_path: Path) -> None:
    text = "a,b,c\n1\n2,3,4,,5\n"
    (sheet,) = read_csv(write(tmp_path / "a.csv", text, "utf-8"))
    # The long row has a value under no header: the column is kept, unnamed.
    assert sheet.headers == ["a", "b", "c", "", ""]
    assert sheet.rows == [["1", None, None, None, None], ["2", "3", "4", None, "5"]]


def test_csv_trailing_empty_header_cells_are_dropped(tmp_path: Path) -> None:
    text = "a,b,,\n1,2,,\n"
    (sheet,) = read_csv(write(tmp_path / "a.csv", text, "utf-8"))
    assert sheet.headers == ["a", "b"]
    assert sheet.rows == [["1", "2"]]


def test_csv_title_row_found_with_known_headers(tmp_path: Path) -> None:
    text = "某某县义务教育学校统计表,,\n,,\n学校代码,学段,在校生数\n3301001,小学,300\n"
    path = write(tmp_path / "a.csv", text, "gbk")
    (sheet,) = read_csv(path, known_headers=["学校代码", "在校生数"])
    assert sheet.header_row == 3
    assert sheet.headers == ["学校代码", "学段", "在校生数"]
    assert sheet.rows == [["3301001", "小学", "300"]]
    assert sheet.row_numbers == [4]
    # Without known headers the first non-empty row is the header.
    (plain,) = read_csv(path)
    assert plain.header_row == 1
    # Data sits under the empty header cells, so those columns are kept, unnamed.
    assert plain.headers == ["某某县义务教育学校统计表", "", ""]
    assert plain.rows[0] == ["学校代码", "学段", "在校生数"]
    assert plain.row_numbers == [3, 4]  # the blank row 2 is skipped


def test_tab_separated_txt(tmp_path: Path) -> None:
    text = "学校代码\t在校生数\n3301001\t1,200\n"
    (sheet,) = read_any(write(tmp_path / "a.txt", text, "utf-16"))
    assert sheet.headers == ["学校代码", "在校生数"]
    assert sheet.rows == [["3301001", "1,200"]]


def test_csv_whitespace_only_header_row_cells_are_stripped(tmp_path: Path) -> None:
    text = " 学校代码 ,在校生数\n3301001, 12 \n"
    (sheet,) = read_csv(write(tmp_path / "a.csv", text, "utf-8"))
    assert sheet.headers == ["学校代码", "在校生数"]
    assert sheet.rows == [["3301001", " 12 "]]  # cells are left for validation


def test_empty_csv_gives_an_empty_sheet(tmp_path: Path) -> None:
    (sheet,) = read_csv(write(tmp_path / "a.csv", "\n\n", "utf-8"))
    assert (sheet.headers, sheet.rows, sheet.row_numbers) == ([], [], [])


def test_missing_file_is_a_bilingual_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataSourceError) as caught:
        read_any(path)
    assert "找不到文件" in caught.value.message_zh
    assert "File not found" in caught.value.message_en
    assert str(path) in str(caught.value)
    assert caught.value.source == str(path)


def test_directory_is_a_bilingual_error(tmp_path: Path) -> None:
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(DataSourceError) as caught:
        read_csv(folder)
    assert "文件夹" in caught.value.message_zh
    assert "folder" in caught.value.message_en


def test_undecodable_csv_is_a_bilingual_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n\x80\x80,1\n")  # invalid in UTF-8 and in GB18030
    with pytest.raises(DataSourceError) as caught:
        read_csv(path)
    assert "编码" in caught.value.message_zh
    assert "decode" in caught.value.message_en


def test_xlsx_renamed_to_csv_is_explained(tmp_path: Path) -> None:
    book = tmp_path / "real.xlsx"
    openpyxl.Workbook().save(book)
    fake = tmp_path / "fake.csv"
    fake.write_bytes(book.read_bytes())
    with pytest.raises(DataSourceError) as caught:
        read_csv(fake)
    assert ".xlsx" in caught.value.message_en


def test_unclosed_quote_does_not_leak_a_csv_error(tmp_path: Path) -> None:
    # The csv module accepts an unclosed quote at the end of the file (the
    # cell runs to the end); make sure that gives data, not a traceback.
    (sheet,) = read_csv(write(tmp_path / "a.csv", 'a,b\n1,"open\n2,3\n', "utf-8"))
    assert sheet.rows == [["1", "open\n2,3\n"]]


@pytest.mark.parametrize(
    ("name", "words"),
    [("data.xls", "(.xls)"), ("data.parquet", ".parquet"), ("data", "(none)")],
)
def test_unsupported_extensions(tmp_path: Path, name: str, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(DataSourceError) as caught:
        read_any(path)
    assert words in caught.value.message_en
    assert caught.value.message_zh


CELL = st.text(alphabet="学校代码小学初中0123456789.,\"' -\n是否", max_size=6)


@settings(max_examples=60, deadline=None)
@given(table=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=8))
def test_csv_round_trip(tmp_path_factory: pytest.TempPathFactory, table: list[list[str]]) -> None:
    """Whatever csv.writer writes (in GBK), read_csv gives back, with "" as None."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["学校代码", "学段", "在校生数"])
    writer.writerows(table)
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    path.write_bytes(buffer.getvalue().encode("gbk"))
    (sheet,) = read_csv(path)
    expected = [
        ([c if c else None for c in row], number)
        for number, row in enumerate(table, start=2)
        if any(row)
    ]
    assert sheet.headers == ["学校代码", "学段", "在校生数"]
    assert list(zip(sheet.rows, sheet.row_numbers)) == expected


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def make_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "学校"
    first["A1"] = "某某县学校基本情况表（2023年）"
    first.merge_cells("A1:D1")
    # row 2 left empty; the header is on row 3
    for col, text in enumerate(["学校代码", "学校名称", "在校生数", "城镇"], start=1):
        first.cell(row=3, column=col, value=text)
    first.cell(row=4, column=1, value=3301001)
    first.cell(row=4, column=2, value="第一小学")
    first.cell(row=4, column=3, value=1200)
    first.cell(row=4, column=4, value=True)
    # row 5 empty; row 6 has a blank-looking text cell and a float
    first.cell(row=6, column=1, value="3301002")
    first.cell(row=6, column=2, value="   ")
    first.cell(row=6, column=3, value=80.5)
    second = book.create_sheet("县级")
    second.append(["区县代码", "区县名称", "学校规划布局合理"])
    second.append(["330102", "上城区", "是"])
    book.create_sheet("空表")
    book.save(path)
    return path


KNOWN = ["学校代码", "学校名称", "在校生数", "城镇", "区县代码", "区县名称"]


def test_xlsx_every_sheet_with_title_row(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "returns.xlsx")
    sheets = read_xlsx(path, known_headers=KNOWN)
    assert [s.sheet for s in sheets] == ["学校", "县级"]  # the empty sheet is skipped
    schools, counties = sheets
    assert schools.header_row == 3
    assert schools.headers == ["学校代码", "学校名称", "在校生数", "城镇"]
    assert schools.rows == [[3301001, "第一小学", 1200, True], ["3301002", None, 80.5, None]]
    assert schools.row_numbers == [4, 6]  # Excel row numbers; empty row 5 skipped
    assert schools.source == str(path)
    assert counties.header_row == 1
    assert counties.rows == [["330102", "上城区", "是"]]
    assert counties.row_numbers == [2]


def test_xlsx_without_known_headers_takes_the_title_as_header(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "returns.xlsx")
    schools = read_xlsx(path, sheet="学校")[0]
    assert schools.header_row == 1
    assert schools.headers == ["某某县学校基本情况表（2023年）", "", "", ""]
    assert schools.rows[0] == ["学校代码", "学校名称", "在校生数", "城镇"]
    assert schools.row_numbers[0] == 3


def test_xlsx_named_sheet_and_unknown_sheet(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "returns.xlsx")
    (counties,) = read_any(path, sheet="县级", known_headers=KNOWN)
    assert counties.sheet == "县级"
    with pytest.raises(DataSourceError) as caught:
        read_xlsx(path, sheet="Sheet9")
    assert "学校、县级、空表" in caught.value.message_zh
    assert "Sheet9" in caught.value.message_en


def test_xlsx_all_empty_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(DataSourceError) as caught:
        read_xlsx(path)
    assert "empty" in caught.value.message_en


def test_broken_xlsx_is_a_bilingual_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(DataSourceError) as caught:
        read_any(path)
    assert "Excel" in caught.value.message_zh
    assert "Cannot open the Excel file" in caught.value.message_en


def test_missing_xlsx_is_a_bilingual_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError) as caught:
        read_xlsx(tmp_path / "none.xlsx")
    assert "找不到文件" in caught.value.message_zh


# ---------------------------------------------------------------------------
# find_header_row
# ---------------------------------------------------------------------------


def test_find_header_row_needs_two_known_cells() -> None:
    rows = [
        ["学校代码一览"],  # a title that is not a header
        ["学校代码", "说明"],  # only one known header: not enough
        [None, "学校代码", "在校生数（人）", "其他"],  # unit suffix ignored
        ["学校代码", "在校生数"],
    ]
    assert find_header_row(rows, ["学校代码", "在校生数"]) == 2


def test_find_header_row_matches_loosely() -> None:
    rows = [["标题"], ["ＳＣＨＯＯＬ_code", " 在校 生数 (人) "]]
    assert find_header_row(rows, ["school_code", "在校生数"]) == 1


def test_find_header_row_fallbacks() -> None:
    rows: list[list[object]] = [[None, ""], ["  "], ["标题", None], ["a", "b"]]
    assert find_header_row(rows, ["学校代码", "在校生数"]) == 2  # no match: first non-empty
    assert find_header_row(rows) == 2
    assert find_header_row([[None], []]) is None
    assert find_header_row([]) is None


def test_find_header_row_only_searches_twenty_rows() -> None:
    rows: list[list[object]] = [["标题"]] + [[None]] * 25 + [["学校代码", "在校生数"]]
    assert find_header_row(rows, ["学校代码", "在校生数"]) == 0


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def test_json_list_of_objects(tmp_path: Path) -> None:
    records = [
        {"学校代码": "3301001", "在校生数": 1200},
        {"学校代码": "3301002", "城镇": "是", "在校生数": ""},
        {},
        {"备注": None, "学校代码": "3301003"},
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (sheet,) = read_json(path)
    assert sheet.headers == ["学校代码", "在校生数", "城镇", "备注"]
    assert sheet.rows == [
        ["3301001", 1200, None, None],
        ["3301002", None, "是", None],
        ["3301003", None, None, None],
    ]
    assert sheet.row_numbers == [1, 2, 4]  # positions in the list; the empty object skipped
    assert sheet.header_row == 0


def test_json_rows_object_via_read_any(tmp_path: Path) -> None:
    path = tmp_path / "rows.JSON"
    path.write_text(json.dumps({"rows": [{"a": 1.5, "b": True}]}), encoding="utf-8")
    (sheet,) = read_any(path)
    assert sheet.headers == ["a", "b"]
    assert sheet.rows == [[1.5, True]]


def test_json_gbk_is_read(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_bytes(json.dumps([{"学段": "小学"}], ensure_ascii=False).encode("gbk"))
    assert read_json(path)[0].rows == [["小学"]]


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ('[{"a": 1},', "不是有效的 JSON", "line 1"),
        ('{"data": []}', "对象列表", "list of objects"),
        ('[{"a": 1}, 5]', "第 2 条记录", "record 2"),
    ],
)
def test_json_errors(tmp_path: Path, text: str, zh: str, en: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataSourceError) as caught:
        read_json(path)
    assert zh in caught.value.message_zh
    assert en in caught.value.message_en
