"""Built-in loader: Apache Parquet files, through pyarrow.

pyarrow is optional (``pip install 'qbe[parquet]'``) and imported only when a
Parquet file is read; ``claims`` looks at the extension alone. A Parquet
"file" may also be a folder of parts (as Spark and pandas write it).

The loader works column by column: each Arrow column becomes a Python list
in one ``to_pylist`` call, with only the columns that need it tidied in
Python (blank text, NaN, decimals, dates); rows are then formed with one
``zip``. Parquet has no header row and no row numbers, so a row's number is
its 1-based position in the file and ``header_row`` is 0, as for JSON.
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..data.readers import DataSourceError
from ..data.table import RawSheet
from ..hookspecs import hookimpl

EXTENSIONS = (".parquet", ".parq", ".pq")
_INSTALL = "pip install 'qbe[parquet]'"


class ParquetLoader:
    name = "parquet"
    description = "Apache Parquet（列式存储文件）/ Apache Parquet (columnar files)"

    def claims(self, source: str) -> bool:
        return "://" not in source and Path(source).suffix.lower() in EXTENSIONS

    def read(self, source: str, sheet: str | None = None, known_headers: Iterable[str] | None = None) -> list[RawSheet]:
        path = Path(source)
        if not path.exists():
            raise DataSourceError(
                f"找不到文件：{path}。请检查文件路径和文件名是否正确。",
                f"File not found: {path}. Check the path and the file name.",
                str(path),
            )
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataSourceError(
                f"读取 Parquet 文件 {path} 需要 pyarrow，请安装：{_INSTALL}",
                f"Reading the Parquet file {path} needs pyarrow; install it: {_INSTALL}",
                str(path),
            ) from None
        try:
            table = pq.read_table(path)
        except OSError as exc:  # permission denied, or pyarrow's ArrowIOError
            reason = exc.strerror or str(exc)
            raise DataSourceError(
                f"无法读取 Parquet 文件 {path}（{reason}）。",
                f"Cannot read the Parquet file {path} ({reason}).",
                str(path),
            ) from None
        except Exception as exc:  # noqa: BLE001 - ArrowInvalid: not Parquet, damaged …
            raise DataSourceError(
                f"{path} 不是有效的 Parquet 文件（{type(exc).__name__}: {exc}）。",
                f"{path} is not a valid Parquet file ({type(exc).__name__}: {exc}).",
                str(path),
            ) from None
        return [table_to_sheet(table, str(path))]


def table_to_sheet(table: Any, source: str) -> RawSheet:
    """A ``pyarrow.Table`` as a :class:`RawSheet` (usable by other Arrow-based loaders)."""
    headers = [str(name) for name in table.column_names]
    width = len(headers)
    n = table.num_rows
    if width == 0 or n == 0:
        return RawSheet(source, headers, [], [], sheet=None, header_row=0)
    columns = [_column_values(table.column(i)) for i in range(width)]
    rows = [list(row) for row in zip(*columns)]
    del columns
    numbers = list(range(1, n + 1))
    keep = [row.count(None) < width for row in rows]
    if not all(keep):
        rows = [row for row, k in zip(rows, keep) if k]
        numbers = [num for num, k in zip(numbers, keep) if k]
    return RawSheet(source, headers, rows, numbers, sheet=None, header_row=0)


def _column_values(column: Any) -> list[Any]:
    """One Arrow column as a list of ``str``, ``int``, ``float``, ``bool`` or ``None``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):  # pandas "category" columns
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return column.to_pylist()
    if pa.types.is_floating(kind):
        if pa.types.is_float16(kind):
            column = column.cast(pa.float64())
        if pc.any(pc.is_nan(column)).as_py():  # pandas writes a missing number as NaN
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        return column.to_pylist()
    values = column.to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return [None if value is not None and not value.strip() else value for value in values]
    return [_plain(value) for value in values]


def _plain(value: Any) -> Any:
    """A cell of any other Arrow type as a plain value."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", errors="replace")
        return text if text.strip() else None
    return str(value)  # durations, lists, structs: their text


PARQUET = ParquetLoader()


@hookimpl
def qbe_loaders() -> list[ParquetLoader]:
    return [PARQUET]
