"""Built-in loaders: CSV (UTF-8 or GBK/GB18030), Excel .xlsx, JSON.

They only find cells (see :mod:`qbe.data.readers`); validation against the
standard's inputs happens afterwards in qbe, the same for every loader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..data import readers
from ..data.table import RawSheet
from ..hookspecs import hookimpl


@dataclass
class FileLoader:
    name: str
    description: str
    extensions: tuple[str, ...]

    def claims(self, source: str) -> bool:
        return Path(source.split("?", 1)[0]).suffix.lower() in self.extensions and "://" not in source

    def read(self, source: str, sheet: str | None = None, known_headers: Iterable[str] | None = None) -> list[RawSheet]:
        return readers.read_any(source, sheet=sheet, known_headers=known_headers)


CSV = FileLoader("csv", "CSV 文本（UTF-8、GBK/GB18030）/ CSV text (UTF-8, GBK/GB18030)", (".csv", ".txt"))
XLSX = FileLoader("xlsx", "Excel 工作簿（任一工作表，自动查找表头行）/ Excel workbook (any sheet, header row found)", (".xlsx", ".xlsm"))
JSON = FileLoader("json", "JSON（对象数组）/ JSON (a list of objects)", (".json",))


@hookimpl
def qbe_loaders() -> list[FileLoader]:
    return [CSV, XLSX, JSON]
