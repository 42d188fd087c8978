"""The loader: recognise an export (``claims``) and turn it into qbe's raw sheets (``read``).

An export sheet looks like this (an .xlsx file, or the same cells as .csv)::

    row 1   省教育统计报表系统导出 | 报表：… | 统计年度：2021 | 导出时间：…      ← marker row
    row 2   序号 | 学校标识码 | 学校名称 | 所在区县 ······ | 办学类型 | … | 办学规模 ······ | …  ← group row
    row 3        |            |          | 区县代码 | 区县名称 |    | … | 在校学生数（人）| …  ← field row
    row 4…  1    | 9999010001 | …                                                        ← one row per school per stage
            总计 |            | …  (sums)                                                ← totals: data ends here
            填报说明：…                                                                  ← notes

The loader only finds cells and names the columns the way qbe knows them;
qbe then checks every value against the standard, as for any other source.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from qbe.data.readers import DataSourceError
from qbe.data.table import RawSheet

from . import columns

#: How many rows from the top are searched for the field row.
HEADER_SEARCH_ROWS = 10
#: How many sheets of a workbook ``claims`` looks at.
SNIFF_SHEETS = 10

_EXCEL = (".xlsx", ".xlsm")
_TEXT = (".csv", ".txt")


class ProvincialLoader:
    name = "provincial-export"
    description = "省教育统计报表系统导出的学校表（.xlsx/.csv，两行表头）/ provincial reporting-system school export"

    # ------------------------------------------------------------------ claims

    def claims(self, source: str) -> bool:
        """An .xlsx/.csv file whose first cell is the system's marker text.

        Cheap, and never raises: a workbook is opened read-only and only the
        first cell of its first sheets is read; a text file's first 4 KB.
        """
        if "://" in source:
            return False
        path = Path(source)
        suffix = path.suffix.lower()
        try:
            if suffix in _EXCEL and path.is_file():
                return bool(_marked_sheets(path, limit=SNIFF_SHEETS))
            if suffix in _TEXT and path.is_file():
                with path.open("rb") as fh:
                    head = fh.read(4096)
                first_line = _decode(head, partial=True).splitlines()[0] if head else ""
                return _first_cell(first_line).startswith(columns.MARKER)
        except Exception:  # noqa: BLE001 - a file we cannot sniff is not ours
            return False
        return False

    # ------------------------------------------------------------------ read

    def read(self, source: str, sheet: str | None = None, known_headers: Iterable[str] | None = None) -> list[RawSheet]:
        path = Path(source)
        try:
            if path.suffix.lower() in _EXCEL:
                grids = _read_workbook(path, sheet)
            else:
                text = _decode(path.read_bytes())
                grids = [(None, [[cell.strip() or None for cell in row] for row in csv.reader(io.StringIO(text))])]
        except DataSourceError:
            raise
        except OSError as exc:
            raise DataSourceError(
                f"无法读取省统计系统导出文件 {path}（{exc.strerror or exc}）。",
                f"Cannot read the provincial export {path} ({exc.strerror or exc}).",
                str(path),
            ) from None
        return [parse_grid(str(path), name, rows) for name, rows in grids]


# ---------------------------------------------------------------------- parsing


def parse_grid(source: str, sheet: str | None, rows: Sequence[Sequence[Any]]) -> RawSheet:
    """One export sheet (every row from row 1, ``None`` for empty cells) as a :class:`RawSheet`.

    Row numbers are the ones a person sees in Excel (or the CSV record numbers).
    """
    field_at = _field_row(rows)
    if field_at is None:
        raise DataSourceError(
            f"{source}{_where(sheet)} 看起来是省统计系统导出文件，但前 {HEADER_SEARCH_ROWS} 行中找不到含“学校标识码”的表头行。",
            f"{source}{_where(sheet)} looks like a provincial export, but none of its first {HEADER_SEARCH_ROWS} "
            "rows is a header row with 学校标识码.",
            source,
        )
    group_row = rows[field_at - 1] if field_at >= 1 and not _is_marker_row(rows[field_at - 1]) else []
    field_row = rows[field_at]
    width = max(len(group_row), len(field_row))

    keep: list[int] = []  # columns handed to qbe
    headers: list[str] = []
    translate = []
    group: str | None = None
    for col in range(width):
        above = _text(group_row[col] if col < len(group_row) else None)
        below = _text(field_row[col] if col < len(field_row) else None)
        if above and not below:  # one field spanning both header rows
            group, field = None, above
            column_group: str | None = None
        elif above:  # the first column of a new group
            group, field, column_group = above, below, above
        elif below:  # a further column of the current group
            field, column_group = below, group
        else:
            continue  # no header at all: the system pads with such columns
        if columns.is_ignored(column_group, field):
            continue
        name = columns.qbe_name(column_group, field)
        keep.append(col)
        headers.append(name or (f"{column_group}-{field}" if column_group else field))
        translate.append(columns.VALUES.get(name) if name else None)

    data: list[list[Any]] = []
    numbers: list[int] = []
    for index in range(field_at + 1, len(rows)):
        row = rows[index]
        if _is_totals(row):
            break  # the totals row; below it only notes
        cells = [row[col] if col < len(row) else None for col in keep]
        cells = [None if isinstance(v, str) and not v.strip() else v for v in cells]
        if all(v is None for v in cells):
            continue
        for at, fn in enumerate(translate):
            if fn is not None:
                cells[at] = fn(cells[at])
        data.append(cells)
        numbers.append(index + 1)
    return RawSheet(source, headers, data, numbers, sheet=sheet, header_row=field_at + 1)


def _field_row(rows: Sequence[Sequence[Any]]) -> int | None:
    """Index of the field row, found by the cell 学校标识码.

    学校标识码 belongs to no group, so it spans both header rows and is written
    in the upper one, with an empty cell below it: the field row is then the
    next row. (An export written with one header row has it in the field row.)
    """
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        for col, cell in enumerate(row):
            if columns.key(cell) == "学校标识码":
                below = rows[index + 1] if index + 1 < len(rows) else []
                return index + 1 if col >= len(below) or not _text(below[col]) else index
    return None


def _is_marker_row(row: Sequence[Any]) -> bool:
    return bool(row) and _text(row[0]).startswith(columns.MARKER)


def _is_totals(row: Sequence[Any]) -> bool:
    for cell in row[:3]:
        text = _text(cell)
        if text:
            return columns.key(text) in columns.TOTAL_LABELS
    return False


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _where(sheet: str | None) -> str:
    return f"[{sheet}]" if sheet else ""


def _first_cell(line: str) -> str:
    first = next(csv.reader([line]), [""])
    return (first[0] if first else "").strip()


def _decode(data: bytes, partial: bool = False) -> str:
    """UTF-8 (with or without BOM), else GB18030, which is what the system writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 3:  # a character cut at the end of the sniffed block
            return data[: exc.start].decode("utf-8-sig")
    return data.decode("gb18030", errors="ignore" if partial else "strict")


# ---------------------------------------------------------------------- workbooks


def _open(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - damaged, encrypted …
        raise DataSourceError(
            f"无法打开省统计系统导出文件 {path}（{type(exc).__name__}: {exc}）。",
            f"Cannot open the provincial export {path} ({type(exc).__name__}: {exc}).",
            str(path),
        ) from None


def _marked_sheets(path: Path, limit: int | None = None) -> list[str]:
    """Names of the worksheets (of the first ``limit``) whose cell A1 starts with the marker."""
    workbook = _open(path)
    try:
        names = []
        for ws in workbook.worksheets[:limit]:
            first = next(ws.iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), (None,))
            if first and isinstance(first[0], str) and first[0].strip().startswith(columns.MARKER):
                names.append(ws.title)
        return names
    finally:
        workbook.close()


def _read_workbook(path: Path, sheet: str | None) -> list[tuple[str, list[list[Any]]]]:
    """Every marked sheet (or only ``sheet``) as rows of cell values from row 1."""
    names = _marked_sheets(path)
    if sheet is not None:
        if sheet not in names:
            raise DataSourceError(
                f"{path} 中没有名为“{sheet}”的导出工作表。导出工作表：{'、'.join(names) or '（无）'}。",
                f"{path} has no export sheet named '{sheet}'. Export sheets: {', '.join(names) or '(none)'}.",
                str(path),
            )
        names = [sheet]
    workbook = _open(path)
    try:
        out = []
        for name in names:
            ws = workbook[name]
            ws.reset_dimensions()
            rows = [[_cell(v) for v in row] for row in ws.iter_rows(min_row=1, values_only=True)]
            out.append((name, rows))
        return out
    finally:
        workbook.close()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if hasattr(value, "isoformat"):  # dates: ISO text, as qbe's own readers give them
        return value.isoformat()
    return value
