"""The Parquet loader: columns to a RawSheet, and the same report as the CSV example."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.data.readers import DataSourceError
from qbe.default_plugins.parquet import ParquetLoader

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

EXAMPLE = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"
LOADER = ParquetLoader()


def run_json(out: Path, data: str, county: str) -> dict:
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", data, "--county-data", county,
                                    "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads((out / "national-2017.json").read_text(encoding="utf-8"))


def without_rows(report: dict) -> dict:
    out = dict(report)
    out["schools"] = [{k: v for k, v in s.items() if k != "row"} for s in report["schools"]]
    return out


@pytest.fixture(scope="module")
def parquet_files(tmp_path_factory) -> dict[str, Path]:
    """The example CSVs as Parquet, with the types pyarrow infers (codes become int64)."""
    folder = tmp_path_factory.mktemp("parquet")
    out = {}
    for name in ("schools", "counties"):
        table = pacsv.read_csv(EXAMPLE / f"{name}.csv")
        out[name] = folder / f"{name}.parquet"
        pq.write_table(table, out[name])
    return out


def test_claims():
    assert LOADER.claims("schools.parquet") and LOADER.claims("DATA.PARQUET") and LOADER.claims("x.pq")
    assert not LOADER.claims("schools.csv") and not LOADER.claims("s3://bucket/schools.parquet")


def test_run_matches_csv(parquet_files, tmp_path):
    assert pa.types.is_integer(pq.read_schema(parquet_files["schools"]).field("school_code").type)
    csv_report = run_json(tmp_path / "csv", str(EXAMPLE / "schools.csv"), str(EXAMPLE / "counties.csv"))
    report = run_json(tmp_path / "pq", str(parquet_files["schools"]), str(parquet_files["counties"]))
    assert without_rows(report) == without_rows(csv_report)
    assert [s["row"] for s in report["schools"]] == list(range(1, 36))  # positions in the file


def test_raw_sheet_shape_and_cells(tmp_path):
    table = pa.table({
        "code": pa.array(["A", None, "  ", "D"]),
        "n": pa.array([1, None, None, 4], type=pa.int32()),
        "x": pa.array([1.5, None, float("nan"), 2.0]),
        "kind": pa.array(["小学", None, None, "初中"]).dictionary_encode(),
        "money": pa.array([decimal.Decimal("1800.00"), None, None, decimal.Decimal("2.50")], type=pa.decimal128(10, 2)),
        "day": pa.array([dt.date(2021, 9, 1), None, None, None]),
        "flag": pa.array([True, None, None, False]),
        "half": pa.array([0.5, None, None, 1.0], type=pa.float16()),
    })
    path = tmp_path / "cells.parquet"
    pq.write_table(table, path)
    (sheet,) = LOADER.read(str(path))
    assert sheet.source == str(path) and sheet.sheet is None and sheet.header_row == 0
    assert sheet.headers == ["code", "n", "x", "kind", "money", "day", "flag", "half"]
    assert sheet.rows == [
        ["A", 1, 1.5, "小学", 1800, "2021-09-01", True, 0.5],
        ["D", 4, 2.0, "初中", 2.5, None, False, 1.0],
    ]
    assert sheet.row_numbers == [1, 4]  # rows 2 and 3 hold no value (blank text and NaN count as none)
    assert type(sheet.rows[0][4]) is int  # a whole decimal is an int


def test_folder_dataset(parquet_files, tmp_path):
    folder = tmp_path / "schools.parquet"
    folder.mkdir()
    table = pq.read_table(parquet_files["schools"])
    pq.write_table(table.slice(0, 20), folder / "part-0.parquet")
    pq.write_table(table.slice(20), folder / "part-1.parquet")
    (sheet,) = LOADER.read(str(folder))
    assert len(sheet.rows) == 35


def test_empty_table(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], type=pa.int64())}), path)
    (sheet,) = LOADER.read(str(path))
    assert sheet.headers == ["a"] and sheet.rows == [] and sheet.row_numbers == []


def test_errors(tmp_path):
    with pytest.raises(DataSourceError, match="File not found"):
        LOADER.read(str(tmp_path / "missing.parquet"))
    bad = tmp_path / "bad.parquet"
    bad.write_text("county_code,students\n1,2\n", encoding="utf-8")
    with pytest.raises(DataSourceError) as e:
        LOADER.read(str(bad))
    assert "not a valid Parquet file" in e.value.message_en and "Parquet" in e.value.message_zh
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", str(bad), "-o", str(tmp_path)])
    assert res.exit_code == 4 and "Traceback" not in res.output


def test_without_pyarrow(monkeypatch, parquet_files):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataSourceError) as e:
        LOADER.read(str(parquet_files["schools"]))
    assert "pip install 'qbe[parquet]'" in e.value.message_en and "pip install 'qbe[parquet]'" in e.value.message_zh
