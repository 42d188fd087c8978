"""Inputs that must not hurt: a workbook that would expand to gigabytes, and runs that must repeat exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import GOOD_PRIMARY
from qbe.cli import ExitCode, main
from qbe.data import readers
from qbe.data.readers import XLSX_LIMIT_ENV, DataSourceError, check_xlsx_expansion, xlsx_limit_bytes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
MB = 1024 * 1024


def workbook(path: Path, rows: list[dict]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = list(rows[0])
    ws.append(headers)
    for r in rows:
        ws.append([r[h] for h in headers])
    wb.save(path)
    return path


def bomb(path: Path, inflated_mb: int) -> Path:
    """A real, readable workbook plus one member of zeros that deflates ~1000:1."""
    workbook(path, [GOOD_PRIMARY])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", bytes(inflated_mb * MB))
    return path


def run_cli(args: list[str]):
    return CliRunner().invoke(main, args)


def test_a_workbook_past_the_limit_is_refused_before_any_decompression(tmp_path, monkeypatch):
    path = bomb(tmp_path / "schools.xlsx", 24)
    assert path.stat().st_size < 200 * 1024  # small on disk …
    declared = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    assert declared > 24 * MB  # … large when expanded

    def no_decompression(*args, **kwargs):
        raise AssertionError("a member was opened")

    monkeypatch.setenv(XLSX_LIMIT_ENV, "16")
    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    res = run_cli(["run", "-s", "national-2017", "-d", str(path), "-f", "json", "-o", str(tmp_path / "out")])
    assert res.exit_code == ExitCode.DATA, res.output
    text = res.output
    assert str(path) in text
    assert f"{declared} 字节" in text and "上限 16.0 MB" in text and XLSX_LIMIT_ENV in text
    assert not (tmp_path / "out").exists()  # nothing written
    res = run_cli(["run", "--lang", "en", "-s", "national-2017", "-d", str(path), "-f", "json", "-o", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.DATA, res.output
    assert f"({declared} bytes)" in res.output and "over the limit of 16.0 MB" in res.output
    assert f"{XLSX_LIMIT_ENV}=25" in res.output  # the value that would let this file through, in whole MB


def test_raising_the_limit_lets_the_same_workbook_through(tmp_path, monkeypatch):
    path = bomb(tmp_path / "schools.xlsx", 24)
    monkeypatch.setenv(XLSX_LIMIT_ENV, "32")
    res = run_cli(["run", "-s", "national-2017", "-d", str(path), "-f", "json", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "national-2017.json").is_file()


def test_the_default_limit_and_bad_settings(tmp_path, monkeypatch):
    monkeypatch.delenv(XLSX_LIMIT_ENV, raising=False)
    assert xlsx_limit_bytes() == readers.XLSX_LIMIT_MB * MB == 2048 * MB
    monkeypatch.setenv(XLSX_LIMIT_ENV, "0.5")
    assert xlsx_limit_bytes() == MB // 2
    for bad in ("0", "-3", "lots", "nan", "inf"):
        monkeypatch.setenv(XLSX_LIMIT_ENV, bad)
        with pytest.raises(DataSourceError) as e:
            xlsx_limit_bytes()
        assert XLSX_LIMIT_ENV in e.value.message_zh and XLSX_LIMIT_ENV in e.value.message_en
    # an ordinary workbook is far inside the default
    monkeypatch.delenv(XLSX_LIMIT_ENV)
    check_xlsx_expansion(workbook(tmp_path / "ok.xlsx", [GOOD_PRIMARY]))
    # not a zip at all: left to the engines, which say what is wrong
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    check_xlsx_expansion(fake)


def test_the_limit_applies_to_the_county_table_too(tmp_path, monkeypatch):
    county = bomb(tmp_path / "counties.xlsx", 8)
    monkeypatch.setenv(XLSX_LIMIT_ENV, "4")
    res = run_cli(["run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-c", str(county),
                   "-f", "json", "-o", str(tmp_path / "out")])
    assert res.exit_code == ExitCode.DATA and str(county) in res.output and "上限 4.0 MB" in res.output


# ------------------------------------------------------------------------------ repeatability


def qbe_json(tmp: Path, data: Path, counties: Path | None, seed: str) -> bytes:
    out = tmp / f"out-{seed}"
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "qbe", "run", "-s", "national-2017", "-d", str(data), "-f", "json", "-o", str(out)]
    if counties is not None:
        cmd += ["-c", str(counties)]
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return (out / "national-2017.json").read_bytes()


def test_the_same_inputs_give_the_same_bytes_under_different_hash_seeds(tmp_path):
    # The report holds no wall-clock time, so nothing is normalised: the files must be identical.
    a = qbe_json(tmp_path, EXAMPLE / "schools.csv", EXAMPLE / "counties.csv", "1")
    b = qbe_json(tmp_path, EXAMPLE / "schools.csv", EXAMPLE / "counties.csv", "2")
    assert a == b and len(a) > 10_000


def test_large_reports_repeat_byte_for_byte_too(tmp_path):
    # more than 2,000 rows: the column-wise writer; 40 counties give about 3,000 rows
    data = tmp_path / "data"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--out", str(data), "--counties", "40",
                    "--seed", "3"], check=True, capture_output=True)
    a = qbe_json(tmp_path, data / "schools.csv", data / "counties.csv", "11")
    b = qbe_json(tmp_path, data / "schools.csv", data / "counties.csv", "12345")
    assert a.count(b'"row":') > 2000
    assert a == b


def lying_workbook(path: Path, rows: int) -> Path:
    """A workbook whose sheet declares 1,000 bytes but inflates to megabytes (sizes patched in the
    local header and the central directory), the form a limit on declared sizes alone would miss."""
    import struct

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(list(GOOD_PRIMARY))
    for i in range(rows):
        ws.append([f"{v}{i}" if k == "school_code" else v for k, v in GOOD_PRIMARY.items()])
    wb.save(path)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for sig, name_len_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        i = data.find(sig)
        while i >= 0:
            n = struct.unpack_from("<H", data, i + name_len_at)[0]
            if data[i + name_at : i + name_at + n] == name:
                assert struct.unpack_from("<I", data, i + size_at)[0] > 2 * MB
                struct.pack_into("<I", data, i + size_at, 1000)
            i = data.find(sig, i + 4)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_a_workbook_lying_about_its_size_is_a_located_data_error_not_a_blow_up(tmp_path, monkeypatch, engine):
    if engine == "calamine":
        pytest.importorskip("python_calamine")
    path = lying_workbook(tmp_path / "schools.xlsx", 20_000)
    assert sum(i.file_size for i in zipfile.ZipFile(path).infolist()) < MB  # passes the declared-size check
    monkeypatch.setenv("QBE_EXCEL_ENGINE", engine)
    res = run_cli(["run", "--lang", "en", "-s", "national-2017", "-d", str(path), "-f", "json", "-o", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.DATA, res.output
    assert str(path) in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
