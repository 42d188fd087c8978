"""Read CSV, Excel and JSON sources into :class:`RawSheet` objects.

Why plain functions: each reader does one thing (bytes in, header texts and
cell values out) and knows nothing about rulesets or typing; validation does
all interpretation later. Keeping the readers dumb keeps them fast and makes
the same validation apply to every format.

What the readers guarantee, whatever the format:

* empty cells are ``None``; every row has exactly one cell per header;
* rows with no value at all are skipped, but the row numbers of the remaining
  rows are still the ones a person sees when opening the file (Excel row
  numbers, CSV record numbers counting the header as 1);
* anything that prevents reading (missing file, undecodable bytes, a broken
  workbook) raises :class:`DataSourceError` with a Chinese and an English
  message, never a raw traceback.

County returns are usually produced by Chinese Excel, which writes CSV as
GBK/GB18030 and often puts a title row above the header; both are handled.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from qbe.data.arrow_csv import arrow_wanted, read_csv_arrow, valid_utf8
from qbe.data.cells import blanks_to_none, gc_paused
from qbe.data.headers import normalize_header, split_unit
from qbe.data.table import RawSheet

__all__ = [
    "DataSourceError",
    "check_xlsx_expansion",
    "excel_engine",
    "find_header_row",
    "read_any",
    "read_csv",
    "read_json",
    "read_xlsx",
]

#: How many rows from the top are searched for the header row.
HEADER_SEARCH_ROWS = 20

_CSV_EXTENSIONS = frozenset({".csv", ".txt"})
_XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
_JSON_EXTENSIONS = frozenset({".json"})


class DataSourceError(Exception):
    """A source could not be read at all (as opposed to data issues inside it).

    Carries the message in Chinese and English; ``str()`` gives both.
    """

    def __init__(self, message_zh: str, message_en: str, source: str | None = None) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        self.source = source
        super().__init__(f"{message_zh} / {message_en}")

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------


def _unreadable(path: Path, exc: OSError) -> DataSourceError:
    """The error for a file the operating system would not let us read (locked, no permission …)."""
    reason = exc.strerror or str(exc)
    return DataSourceError(
        f"无法读取文件 {path}（{reason}）。请确认文件未被其他程序占用且有读取权限。",
        f"Cannot read {path} ({reason}). Make sure it is not locked by another program and that you may read it.",
        str(path),
    )


def _read_bytes(path: Path) -> bytes:
    """Read a whole file, turning OS errors into :class:`DataSourceError`."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataSourceError(
            f"找不到文件：{path}。请检查文件路径和文件名是否正确。",
            f"File not found: {path}. Check the path and the file name.",
            str(path),
        ) from None
    except IsADirectoryError:
        raise DataSourceError(
            f"{path} 是一个文件夹，不是数据文件。请指定具体的 CSV、XLSX 或 JSON 文件。",
            f"{path} is a folder, not a data file. Name a CSV, XLSX or JSON file.",
            str(path),
        ) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _check_not_binary(data: bytes, path: Path) -> None:
    """Refuse files that are clearly not text, with a hint at what they are."""
    head = data[:4096]
    if head.startswith(b"PK\x03\x04"):
        raise DataSourceError(
            f"{path} 看起来是 Excel（.xlsx）文件而不是文本文件。请把扩展名改为 .xlsx 后再读取。",
            f"{path} looks like an Excel (.xlsx) file, not text. Rename it to .xlsx.",
            str(path),
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataSourceError(
            f"{path} 看起来是旧版 Excel（.xls）文件。请在 Excel 中另存为 .xlsx 或 CSV。",
            f"{path} looks like an old Excel (.xls) file. Save it as .xlsx or CSV in Excel.",
            str(path),
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataSourceError(
            f"{path} 不是文本文件（含有二进制内容）。请导出为 CSV（UTF-8 或 GBK 编码）。",
            f"{path} is not a text file (it contains binary data). Export it as CSV "
            "(UTF-8 or GBK).",
            str(path),
        )


def _decode(data: bytes, path: Path) -> str:
    """Decode text: UTF-16 with BOM, else UTF-8 (with or without BOM), else GB18030.

    GB18030 is a superset of GBK and GB2312, which is what Chinese Excel
    writes when saving "CSV (逗号分隔)".
    """
    return _decode_named(data, path)[0]


def _decode_named(data: bytes, path: Path) -> tuple[str, str]:
    """:func:`_decode`, also naming the encoding it used (``utf-16``, ``utf-8-sig`` or ``gb18030``)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise DataSourceError(
        f"无法识别 {path} 的文字编码（既不是 UTF-8 也不是 GBK/GB18030）。"
        "请在 Excel 或记事本中另存为“CSV UTF-8”格式。",
        f"Cannot decode {path}: it is neither UTF-8 nor GBK/GB18030. "
        'Save it again as "CSV UTF-8" from Excel or a text editor.',
        str(path),
    )


def _header_text(value: Any) -> str:
    """A header cell as text: numbers without a spurious ``.0``; ``None`` is ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _last_value(row: Sequence[Any]) -> int:
    """Index of the last non-empty cell of ``row`` (-1 if there is none)."""
    for index in range(len(row) - 1, -1, -1):
        if row[index] is not None:
            return index
    return -1


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _known_set(known_headers: Iterable[str] | None) -> frozenset[str]:
    """Normalise known headers, adding each one's form without a unit suffix."""
    if not known_headers:
        return frozenset()
    out: set[str] = set()
    for header in known_headers:
        norm = normalize_header(header)
        if norm:
            out.add(norm)
            out.add(split_unit(norm)[0])
    return frozenset(out)


def find_header_row(
    rows: Sequence[Sequence[Any]], known_headers: Iterable[str] | None = None
) -> int | None:
    """Index (0-based, into ``rows``) of the header row, or ``None`` if all are empty.

    Among the first :data:`HEADER_SEARCH_ROWS` rows, the header is the first
    row with at least two non-empty text cells that match a known header
    (compared as validation compares them: whitespace, width of brackets,
    ASCII case and a trailing unit do not matter). Without known headers, or
    when no row qualifies, it is the first non-empty row, so a title row
    above the header is skipped only when the header can be recognised.
    """
    known = _known_set(known_headers)
    first_nonempty: int | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if first_nonempty is None and any(not _is_empty(cell) for cell in row):
            first_nonempty = index
        if not known:
            if first_nonempty is not None:
                return first_nonempty
            continue
        hits = 0
        for cell in row:
            if isinstance(cell, str) and cell.strip():
                norm = normalize_header(cell)
                if norm in known or split_unit(norm)[0] in known:
                    hits += 1
        if hits >= 2:
            return index
    if first_nonempty is None:
        for index in range(HEADER_SEARCH_ROWS, len(rows)):
            if any(not _is_empty(cell) for cell in rows[index]):
                return index
    return first_nonempty


def _build_sheet(
    source: str,
    rows: list[list[Any]],
    sheet: str | None,
    known_headers: Iterable[str] | None,
    *,
    strings_only: bool = False,
) -> RawSheet:
    """Split rows into header and data, square them up and drop empty rows.

    ``rows`` holds every row of the source from row 1, with ``None`` for empty
    cells, so a row's number is its index + 1. ``strings_only`` says every
    cell is a ``str`` or ``None``, so the cheap truth test ``any(row)`` finds
    empty rows (with numbers, 0 is a value).
    """
    header_index = find_header_row(rows, known_headers)
    if header_index is None:
        return RawSheet(source, [], [], [], sheet=sheet, header_row=1)
    header_row = header_index + 1
    headers = [_header_text(cell) for cell in rows[header_index]]
    # Trailing header cells that are empty are only kept if data sits below them.
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)

    first = header_index + 1
    data = rows[first:]
    data_numbers = list(range(first + 1, len(rows) + 1))
    # Whole-list checks run in C; the per-row loops below only run when needed.
    if strings_only:
        keep = list(map(any, data))
    else:
        keep = [any(cell is not None for cell in row) for row in data]
    if not all(keep):
        data = [row for row, k in zip(data, keep) if k]
        data_numbers = [num for num, k in zip(data_numbers, keep) if k]
    if data and set(map(len, data)) != {width}:
        width = max(width, *(_last_value(row) + 1 for row in data))
        headers.extend([""] * (width - len(headers)))
        data = [row[:width] + [None] * (width - len(row)) for row in data]
    return RawSheet(source, headers, data, data_numbers, sheet=sheet, header_row=header_row)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    """Comma, unless the first line is tab-separated (Excel "Unicode text")."""
    first = text[: text.find("\n")] if "\n" in text else text
    if "\t" in first and "," not in first:
        return "\t"
    return ","


def read_csv(path: str | Path, known_headers: Iterable[str] | None = None) -> list[RawSheet]:
    """Read a CSV (or tab-separated .txt) file into one :class:`RawSheet`.

    Cells stay strings (typing is validation's job, and converting per cell
    here would double the cost); empty cells become ``None``. Row numbers are
    record numbers, counting the header as 1, which is what a spreadsheet
    shows even when a quoted cell spans several lines.

    With pyarrow installed (``qbe[fast]``) a plain file (no quote characters,
    every line the same number of fields) is read column-wise by
    :mod:`qbe.data.arrow_csv` instead, giving the same sheet; the csv module
    reads everything else.
    """
    path = Path(path)
    data = _read_bytes(path)
    _check_not_binary(data, path)
    arrow = arrow_wanted()
    tried = False
    if arrow and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-8 (the usual case): checked by Arrow without making a Python string of the whole file
        # (the same verdict as decoding it); the text is decoded below only if the csv module reads it
        utf8 = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        if valid_utf8(utf8):
            tried = True
            first_nl = utf8.find(b"\n")
            delimiter = _sniff_delimiter((utf8 if first_nl < 0 else utf8[:first_nl]).decode("utf-8"))
            sheet = read_csv_arrow(utf8, str(path), delimiter, known_headers, _header_text, find_header_row)
            if sheet is not None:
                return [sheet]
        del utf8
    text = _decode(data, path)
    delimiter = _sniff_delimiter(text)
    if arrow and not tried:  # another encoding (GB18030, UTF-16): Arrow reads the text re-encoded as UTF-8
        utf8 = text.encode("utf-8")
        del data
        sheet = read_csv_arrow(utf8, str(path), delimiter, known_headers, _header_text, find_header_row)
        del utf8
        if sheet is not None:
            return [sheet]
    else:
        del data
    try:
        with gc_paused():
            rows: list[list[Any]] = list(
                csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            )
            del text
            for row in rows:
                blanks_to_none(row)
            sheet = _build_sheet(str(path), rows, None, known_headers, strings_only=True)
    except csv.Error as exc:
        raise DataSourceError(
            f"{path} 不是有效的 CSV 文件（{exc}）。请检查引号是否成对，或从 Excel 重新导出。",
            f"{path} is not valid CSV ({exc}). Check that quotes are paired, or export it "
            "again from Excel.",
            str(path),
        ) from None
    return [sheet]


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def _xlsx_cell(value: Any) -> Any:
    """Excel cell value as validation expects it: ``""`` and blanks are ``None``."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
        return value.isoformat() if not isinstance(value, _dt.timedelta) else str(value)
    return value


def read_xlsx(
    path: str | Path,
    sheet: str | None = None,
    known_headers: Iterable[str] | None = None,
) -> list[RawSheet]:
    """Read every worksheet (or only ``sheet``) of an Excel workbook.

    Cached formula results are read, not formulas (``data_only``); a workbook
    saved by a program that never calculated it has empty formula cells.
    Dates become ISO text. Worksheets without any value are skipped when
    reading all sheets. Row numbers are Excel's row numbers.

    python-calamine (``pip install 'qbe[fast]'``) reads the workbook when it
    is installed, openpyxl otherwise; the sheets returned are the same either
    way (see :func:`excel_engine` and :func:`_read_xlsx_calamine`).
    """
    path = Path(path)
    if not path.is_file():
        _read_bytes(path)  # raises the bilingual "not found" / "is a folder" error
    check_xlsx_expansion(path)
    if excel_engine() == "calamine":
        sheets = _read_xlsx_calamine(path, sheet, known_headers)
        if sheets is not None:
            return sheets
    return _read_xlsx_openpyxl(path, sheet, known_headers)


#: Environment variable: the most a workbook may expand to when decompressed, in megabytes.
XLSX_LIMIT_ENV = "QBE_XLSX_MAX_MB"

#: The default limit. A national return (~220,000 rows) is a few hundred megabytes of sheet XML.
XLSX_LIMIT_MB = 2048


def xlsx_limit_bytes() -> int:
    """The decompression limit in bytes: ``QBE_XLSX_MAX_MB`` if set, else :data:`XLSX_LIMIT_MB`."""
    text = os.environ.get(XLSX_LIMIT_ENV, "").strip()
    if not text:
        return XLSX_LIMIT_MB * 1024 * 1024
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not mb > 0 or mb != mb or mb == float("inf"):
        raise DataSourceError(
            f"环境变量 {XLSX_LIMIT_ENV} 的值“{text}”无效，应为正数（单位 MB），例如 {XLSX_LIMIT_ENV}=4096。",
            f"{XLSX_LIMIT_ENV}={text!r} is not valid; give a positive number of megabytes, e.g. {XLSX_LIMIT_ENV}=4096.",
        )
    return int(mb * 1024 * 1024)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB"


def check_xlsx_expansion(path: Path) -> None:
    """Refuse a workbook whose parts would decompress past the limit, before any is decompressed.

    Why: an .xlsx is a zip archive, and a few kilobytes can declare gigabytes
    of sheet XML (a "zip bomb"); reading it would exhaust memory rather than
    fail. Only the archive's directory is read here (each member's declared
    size). A member that holds more than it declares is cut off at its
    declared size by Python's zip reader (the one openpyxl uses). A file that
    is not a zip archive is left to the engines, which explain what is wrong
    with it.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            declared = sum(max(0, info.file_size) for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    limit = xlsx_limit_bytes()
    if declared > limit:
        raise DataSourceError(
            f"Excel 文件 {path} 解压后将达 {_mb(declared)}（{declared} 字节），超过上限 {_mb(limit)}，未读取。"
            f"文件可能已损坏或被恶意构造；如确为正常的大文件，可设置环境变量 {XLSX_LIMIT_ENV} 提高上限"
            f"（单位 MB，例如 {XLSX_LIMIT_ENV}={max(1, -(-declared // (1024 * 1024)))}），或改用 CSV。",
            f"The Excel file {path} would expand to {_mb(declared)} ({declared} bytes) when decompressed, "
            f"over the limit of {_mb(limit)}; it was not read. The file may be damaged or crafted; if it is a "
            f"genuine large file, raise the limit with the environment variable {XLSX_LIMIT_ENV} (megabytes, e.g. "
            f"{XLSX_LIMIT_ENV}={max(1, -(-declared // (1024 * 1024)))}), or use CSV.",
            str(path),
        )


def _read_xlsx_openpyxl(
    path: Path,
    sheet: str | None,
    known_headers: Iterable[str] | None,
) -> list[RawSheet]:
    """The reference reader: openpyxl in read-only mode."""
    import openpyxl  # imported here: it is slow to import and only needed for Excel

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:  # permission denied, file locked …
        raise _unreadable(path, exc) from None
    except Exception as exc:  # noqa: BLE001 - bad zip, bad XML, missing parts …
        raise DataSourceError(
            f"无法打开 Excel 文件 {path}（{type(exc).__name__}: {exc}）。文件可能已损坏、"
            "加密，或是改了扩展名的旧版 .xls 文件；请在 Excel 中另存为 .xlsx。",
            f"Cannot open the Excel file {path} ({type(exc).__name__}: {exc}). It may be "
            "damaged, password-protected, or an old .xls renamed; save it as .xlsx in Excel.",
            str(path),
        ) from None
    try:
        names = list(workbook.sheetnames)
        worksheets = list(workbook.worksheets)
        if sheet is not None:
            if sheet not in names:
                raise _no_such_sheet(path, sheet, names)
            worksheets = [workbook[sheet]]
        sheets: list[RawSheet] = []
        for ws in worksheets:
            if hasattr(ws, "reset_dimensions"):
                # Some writers store a wrong "dimension" that would cut the sheet short.
                ws.reset_dimensions()
            rows = [
                [_xlsx_cell(v) for v in row]
                for row in ws.iter_rows(min_row=1, values_only=True)
            ]
            raw = _build_sheet(str(path), rows, ws.title, known_headers)
            if sheet is None and not raw.headers and not raw.rows:
                continue
            sheets.append(raw)
    except DataSourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on broken files
        raise DataSourceError(
            f"读取 Excel 文件 {path} 时出错（{type(exc).__name__}: {exc}）。"
            "请在 Excel 中打开并另存为 .xlsx。",
            f"Error while reading the Excel file {path} ({type(exc).__name__}: {exc}). "
            "Open it in Excel and save it again as .xlsx.",
            str(path),
        ) from None
    finally:
        workbook.close()
    if not sheets:
        raise _all_sheets_empty(path)
    return sheets


def _no_such_sheet(path: Path, sheet: str, names: list[str]) -> DataSourceError:
    listed = "、".join(names)
    return DataSourceError(
        f"{path} 中没有名为“{sheet}”的工作表。现有工作表：{listed}。",
        f"{path} has no sheet named '{sheet}'. Sheets: {', '.join(names)}.",
        str(path),
    )


def _all_sheets_empty(path: Path) -> DataSourceError:
    return DataSourceError(
        f"{path} 中所有工作表都是空的。",
        f"Every sheet in {path} is empty.",
        str(path),
    )


# --- the python-calamine fast path ------------------------------------------

#: Environment variable that forces one Excel engine: ``openpyxl`` or ``calamine``.
EXCEL_ENGINE_ENV = "QBE_EXCEL_ENGINE"

_EXCEL_ENGINES = ("auto", "calamine", "openpyxl")

#: Integral numbers below this size are exact in a float, so calamine's 1800.0
#: can safely become the 1800 openpyxl returns; larger ones go to openpyxl.
_EXACT_INT = float(2**53)

#: An error cell (``#DIV/0!`` …) in the sheet XML: ``<c r="B2" t="e">``.
_ERROR_CELL_MARKS = (b't="e"', b"t='e'")


class _NeedsOpenpyxl(Exception):
    """Raised inside the calamine path when only openpyxl gives the exact result."""


def _calamine_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("python_calamine") is not None


def excel_engine() -> str:
    """The engine :func:`read_xlsx` uses: ``"calamine"`` or ``"openpyxl"``.

    ``QBE_EXCEL_ENGINE=openpyxl`` or ``=calamine`` forces one (tests compare
    the two); unset or ``auto`` means calamine when installed. Forcing
    calamine without python-calamine installed is a :class:`DataSourceError`
    that says how to install it.
    """
    wanted = os.environ.get(EXCEL_ENGINE_ENV, "").strip().lower() or "auto"
    if wanted not in _EXCEL_ENGINES:
        raise DataSourceError(
            f"环境变量 {EXCEL_ENGINE_ENV} 的值“{wanted}”无效，应为 openpyxl、calamine 或 auto。",
            f"{EXCEL_ENGINE_ENV}={wanted!r} is not valid; use openpyxl, calamine or auto.",
        )
    if wanted == "openpyxl":
        return "openpyxl"
    if _calamine_installed():
        return "calamine"
    if wanted == "calamine":
        raise DataSourceError(
            f"{EXCEL_ENGINE_ENV}=calamine，但未安装 python-calamine。请运行：pip install 'qbe[fast]'",
            f"{EXCEL_ENGINE_ENV}=calamine, but python-calamine is not installed. Run: pip install 'qbe[fast]'",
        )
    return "openpyxl"


def _has_error_cells(path: Path) -> bool:
    """Whether any worksheet of the workbook holds an error cell such as ``#DIV/0!``.

    openpyxl returns an error cell's text and calamine an empty string, so a
    workbook with error cells is read by openpyxl. The test is a byte search of
    each decompressed worksheet part, in chunks (no XML parsing). Anything
    unexpected counts as "yes": openpyxl then reads, or reports, the file.
    """
    import zipfile

    keep = max(map(len, _ERROR_CELL_MARKS)) - 1
    try:
        with zipfile.ZipFile(path) as zf:
            parts = [n for n in zf.namelist() if n.endswith(".xml") and "worksheets/" in n]
            if not parts:
                return True
            for name in parts:
                with zf.open(name) as fh:
                    tail = b""
                    while True:
                        chunk = fh.read(1 << 20)
                        if not chunk:
                            break
                        block = tail + chunk
                        if any(mark in block for mark in _ERROR_CELL_MARKS):
                            return True
                        tail = block[-keep:]
    except Exception:  # noqa: BLE001 - not a readable zip: let openpyxl say why
        return True
    return False


def _calamine_rows(raw: list[list[Any]]) -> list[list[Any]]:
    """calamine's cells as openpyxl (then :func:`_xlsx_cell`) gives them.

    calamine returns every number as a float, empty cells as ``""`` and a
    date without a time as a ``date``; openpyxl returns whole numbers as
    ``int``, empty cells as ``None`` and every date as a ``datetime``.
    Durations and huge whole numbers cannot be matched exactly and send the
    workbook to openpyxl.
    """
    dt_cls, date_cls, time_cls = _dt.datetime, _dt.date, _dt.time
    midnight = _dt.time()
    out: list[list[Any]] = []
    append = out.append
    for row in raw:
        cells: list[Any] = []
        add = cells.append
        for value in row:
            kind = type(value)
            if kind is str:
                add(value if value.strip() else None)
            elif kind is float:
                if value.is_integer():
                    if -_EXACT_INT < value < _EXACT_INT:
                        add(int(value))
                    else:
                        raise _NeedsOpenpyxl
                else:
                    add(value)
            elif kind is int or kind is bool:
                add(value)
            elif kind is dt_cls or kind is time_cls:
                add(value.isoformat())
            elif kind is date_cls:
                add(dt_cls.combine(value, midnight).isoformat())
            elif value is None:
                add(None)
            else:  # timedelta (openpyxl rounds it differently) or anything new
                raise _NeedsOpenpyxl
        append(cells)
    return out


def _read_xlsx_calamine(
    path: Path,
    sheet: str | None,
    known_headers: Iterable[str] | None,
) -> list[RawSheet] | None:
    """Read with python-calamine, or return ``None`` to let openpyxl read the file.

    ``None`` whenever calamine could differ from openpyxl: a file calamine
    cannot open (openpyxl then gives the usual message), chart or macro
    sheets, error cells, durations, whole numbers beyond 2**53. Otherwise the
    result is exactly :func:`_read_xlsx_openpyxl`'s: rows from row 1 and
    column A (``skip_empty_area=False``), the same sheet selection and the
    same errors for a missing sheet or an empty workbook.
    """
    import python_calamine

    try:
        workbook = python_calamine.load_workbook(path)
    except Exception:  # noqa: BLE001 - openpyxl reads it or explains why not
        return None
    try:
        names = list(workbook.sheet_names)
        kinds = [meta.typ for meta in workbook.sheets_metadata]
        if any(kind != python_calamine.SheetTypeEnum.WorkSheet for kind in kinds):
            return None  # openpyxl lists chart sheets by name but never reads them
        if sheet is not None and sheet not in names:
            raise _no_such_sheet(path, sheet, names)
        if _has_error_cells(path):
            return None
        wanted = names if sheet is None else [sheet]
        sheets: list[RawSheet] = []
        with gc_paused():
            for name in wanted:
                raw = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                rows = _calamine_rows(raw)
                del raw
                built = _build_sheet(str(path), rows, name, known_headers)
                if sheet is None and not built.headers and not built.rows:
                    continue
                sheets.append(built)
    except DataSourceError:
        raise
    except Exception:  # noqa: BLE001 - _NeedsOpenpyxl, or calamine failing on a part
        return None
    finally:
        try:
            workbook.close()
        except Exception:  # noqa: BLE001 - already closed
            pass
    if not sheets:
        raise _all_sheets_empty(path)
    return sheets


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def read_json(path: str | Path) -> list[RawSheet]:
    """Read a JSON list of objects, or an object whose ``"rows"`` is such a list.

    Headers are the union of the keys in first-seen order. Row numbers are the
    1-based positions of the objects in the list (there is no header row, so
    ``header_row`` is 0).
    """
    path = Path(path)
    data = _read_bytes(path)
    _check_not_binary(data, path)
    text = _decode(data, path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataSourceError(
            f"{path} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）。",
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            str(path),
        ) from None
    records = doc.get("rows") if isinstance(doc, dict) else doc
    shape_zh = "JSON 数据应为对象列表 [{...}, ...]，或形如 {\"rows\": [{...}, ...]} 的对象。"
    shape_en = (
        'JSON data must be a list of objects [{...}, ...] or an object {"rows": [{...}, ...]}.'
    )
    if not isinstance(records, list):
        raise DataSourceError(f"{path}：{shape_zh}", f"{path}: {shape_en}", str(path))
    headers: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DataSourceError(
                f"{path}：第 {number} 条记录不是对象。{shape_zh}",
                f"{path}: record {number} is not an object. {shape_en}",
                str(path),
            )
        for key in record:
            headers.setdefault(key, None)
    names = list(headers)
    rows: list[list[Any]] = []
    numbers: list[int] = []
    for number, record in enumerate(records, start=1):
        row = [record.get(name) for name in names]
        row = [None if isinstance(v, str) and not v.strip() else v for v in row]
        if any(v is not None for v in row):
            rows.append(row)
            numbers.append(number)
    return [RawSheet(str(path), names, rows, numbers, sheet=None, header_row=0)]


# ---------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------


def read_any(
    path: str | Path,
    sheet: str | None = None,
    known_headers: Iterable[str] | None = None,
) -> list[RawSheet]:
    """Read a source by its extension: .csv/.txt, .xlsx/.xlsm or .json.

    ``sheet`` only applies to workbooks; ``known_headers`` helps find a
    header row below a title in CSV and Excel files.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in _CSV_EXTENSIONS:
        return read_csv(path, known_headers)
    if ext in _XLSX_EXTENSIONS:
        return read_xlsx(path, sheet, known_headers)
    if ext in _JSON_EXTENSIONS:
        return read_json(path)
    if ext == ".xls":
        raise DataSourceError(
            f"不支持旧版 Excel 格式（.xls）：{path}。请在 Excel 中另存为 .xlsx。",
            f"The old Excel format (.xls) is not supported: {path}. Save it as .xlsx in Excel.",
            str(path),
        )
    shown = ext or "（无）"
    raise DataSourceError(
        f"不支持的文件类型“{shown}”：{path}。支持 .csv、.txt、.xlsx、.xlsm、.json。",
        f"Unsupported file type '{ext or '(none)'}': {path}. Use .csv, .txt, .xlsx, .xlsm "
        "or .json.",
        str(path),
    )
