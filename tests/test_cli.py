"""The command line end to end: commands, exit codes, messages and the JSON contract."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import GOOD_COUNTY, GOOD_PRIMARY, NATIONAL
from qbe.cli import ExitCode, main
from qbe.results.schema import Report

EXAMPLE = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    headers = list(rows[0])
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, headers)
        w.writeheader()
        w.writerows(rows)
    return path


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_run_json_validates_against_the_schema(tmp_path):
    res = invoke("run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-c", str(EXAMPLE / "counties.csv"),
                 "-f", "json", "-o", str(tmp_path))
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "national-2017.json").read_text(encoding="utf-8"))
    Report.model_validate(data)  # raises on any key the schema does not define
    row = data["schools"][0]
    assert set(row["indicators"]) == {
        "teachers_above_degree_per100", "backbone_teachers_per100", "pe_art_teachers_per100",
        "teaching_area_per_student", "sports_area_per_student", "equipment_value_per_student",
        "multimedia_rooms_per100",
    }
    assert set(row["indicators"]["teaching_area_per_student"]) >= {"value", "required", "ratio", "met", "status"}
    c = data["counties"][0]
    assert {"county_code", "balance", "items", "verdict"} <= set(c)
    assert c["balance"]["junior"]["teachers_above_degree_per100"]["limit"] == 0.45


def test_big_json_path_equals_dict_path(monkeypatch, tmp_path):
    from qbe.default_plugins.writers import json_writer

    a, b = tmp_path / "a", tmp_path / "b"
    args = ["-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-c", str(EXAMPLE / "counties.csv"), "-f", "json"]
    assert invoke("run", *args, "-o", str(a)).exit_code == 0
    monkeypatch.setattr(json_writer, "BIG", 0)
    import qbe.pipeline as pl

    monkeypatch.setattr(pl, "ROWS_IN_REPORT_DICT", 0)
    assert invoke("run", *args, "-o", str(b)).exit_code == 0
    ja = json.loads((a / "national-2017.json").read_text(encoding="utf-8"))
    jb = json.loads((b / "national-2017.json").read_text(encoding="utf-8"))
    assert ja == jb


def test_timings_lines(tmp_path):
    res = invoke("run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-f", "json", "-o", str(tmp_path), "--timings")
    assert res.exit_code == 0
    lines = [ln for ln in res.output.splitlines() if ln.split(":")[0] in ("load", "compile", "evaluate", "write")]
    assert [ln.split(":")[0] for ln in lines] == ["compile", "load", "evaluate", "write"]
    for ln in lines:
        assert ln.endswith(" s") and float(ln.split(":")[1].split()[0]) >= 0


def test_no_county_table_gives_not_assessed_items(tmp_path):
    res = invoke("run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-f", "json", "-o", str(tmp_path))
    assert res.exit_code == 0
    c = json.loads((tmp_path / "national-2017.json").read_text(encoding="utf-8"))["counties"][0]
    assert c["in_county_table"] is False
    assert c["items"]["guarantee_07"]["status"] == "not_assessed"
    assert c["items"]["guarantee_04"]["status"] == "not_met"  # computed from school data: still judged
    assert c["verdict"] == "not_met"


def test_bad_data_names_file_row_column_value_and_exits_4(tmp_path):
    rows = [dict(GOOD_PRIMARY), dict(GOOD_PRIMARY, school_code="S002", students="abc"),
            dict(GOOD_PRIMARY, school_code="S003", sports_area_m2=-5),
            dict(GOOD_PRIMARY, school_code="S004", students=0),
            dict(GOOD_PRIMARY, school_code="S005", school_type="大学"),
            dict(GOOD_PRIMARY)]  # duplicate of S001 primary
    data = write_csv(tmp_path / "schools.csv", rows, encoding="gb18030")
    out = tmp_path / "out"
    res = invoke("run", "-s", "national-2017", "-d", str(data), "-f", "json", "-o", str(out), "--lang", "en")
    assert res.exit_code == ExitCode.DATA
    report = json.loads((out / "national-2017.json").read_text(encoding="utf-8"))
    errs = {(e["code"], e["row"], e["column"]) for e in report["errors"]}
    assert ("not_a_number", 3, "students") in errs
    assert ("out_of_range", 4, "sports_area_m2") in errs
    assert ("out_of_range", 5, "students") in errs
    assert ("unknown_category", 6, "school_type") in errs
    assert ("duplicate_key", 7, "school_code") in {(c, r, col) for c, r, col in errs if c == "duplicate_key"} or any(
        c == "duplicate_key" and r == 7 for c, r, _ in errs)
    assert all(e["source"].endswith("schools.csv") for e in report["errors"])
    # nothing dropped: every input row is in the result, the bad ones marked and not assessed
    assert len(report["schools"]) == 6
    bad = report["schools"][1]
    assert bad["errors"] and bad["errors"][0]["value"] == "abc"
    assert bad["status"] == "not_assessed"
    assert "schools.csv" in res.output


def test_missing_column_reported(tmp_path):
    rows = [{k: v for k, v in GOOD_PRIMARY.items() if k != "sports_area_m2"}]
    data = write_csv(tmp_path / "s.csv", rows)
    res = invoke("run", "-s", "national-2017", "-d", str(data), "-f", "json", "-o", str(tmp_path / "o"))
    assert res.exit_code == ExitCode.DATA
    rep = json.loads((tmp_path / "o" / "national-2017.json").read_text(encoding="utf-8"))
    assert any(e["code"] == "missing_column" and "sports_area_m2" in e["column"] for e in rep["errors"])


def test_unreadable_data_file_is_a_clear_error(tmp_path):
    res = invoke("run", "-s", "national-2017", "-d", str(tmp_path / "nope.csv"))
    assert res.exit_code == ExitCode.DATA
    assert "nope.csv" in res.output and "Traceback" not in res.output


def test_unknown_standard_suggests(tmp_path):
    res = invoke("run", "-s", "nationl-2017", "-d", "x.csv", "--lang", "en")
    assert res.exit_code == ExitCode.USAGE
    assert "did you mean 'national-2017'" in res.output.lower()


def test_unknown_format(tmp_path):
    res = invoke("run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"), "-f", "pdfx")
    assert res.exit_code == ExitCode.USAGE
    assert "pdfx" in res.output


def test_broken_ruleset_exits_3_with_location(tmp_path):
    bad = tmp_path / "bad.qbe"
    bad.write_text(NATIONAL.read_text(encoding="utf-8").replace("teachers_above_degree / students", "teachers_above_degree / studnets"),
                   encoding="utf-8")
    res = invoke("run", "-s", str(bad), "-d", str(EXAMPLE / "schools.csv"), "--lang", "en")
    assert res.exit_code == ExitCode.RULESET
    assert "unknown name 'studnets' — did you mean 'students'?" in res.output
    assert f"{bad}:" in res.output and "^" in res.output


def test_check_command(tmp_path):
    res = invoke("check", str(NATIONAL))
    assert res.exit_code == 0 and "0 个错误" in res.output
    bad = tmp_path / "b.qbe"
    bad.write_text('standard x-1 { version 2020 stages { primary "小学" } }\n'
                   'inputs row { students: count "在校生数" }\n'
                   'indicator a "A" { value = studnets require primary >= 1 }\n'
                   'indicator a "B" { value = students require junior >= 1 }\n', encoding="utf-8")
    res = invoke("check", str(bad), "--lang", "en")
    assert res.exit_code == ExitCode.RULESET
    assert f"{bad}:3:27: error[unknown_name]" in res.output
    assert f"{bad}:4:11: error[duplicate_id]" in res.output
    assert "2 error(s)" in res.output or "3 error(s)" in res.output


def test_standards_and_schema():
    res = invoke("standards")
    assert res.exit_code == 0
    assert any(line.startswith("national-2017\t2017\t") for line in res.output.splitlines())
    res = invoke("schema")
    s = json.loads(res.output)
    assert s["title"] == "qbe report, schema 1.2"
    assert {"standard", "schools", "counties", "errors"} <= set(s["properties"])


def test_help_has_examples():
    for cmd in ("run", "check", "demo", "standards", "schema", "plugins"):
        res = invoke(cmd, "--help")
        assert res.exit_code == 0 and "Example" in res.output, cmd


def test_config_file(tmp_path, monkeypatch):
    rows = [dict(GOOD_PRIMARY)]
    rows[0]["学生总数"] = rows[0].pop("students")
    write_csv(tmp_path / "s.csv", rows)
    write_csv(tmp_path / "c.csv", [GOOD_COUNTY])
    (tmp_path / "qbe.toml").write_text(
        'standard = "national-2017"\ndata = "s.csv"\ncounty_data = "c.csv"\nformats = ["json"]\noutput = "rep"\n'
        '[columns]\n"学生总数" = "students"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    res = invoke("run")
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "rep" / "national-2017.json").read_text(encoding="utf-8"))
    assert rep["schools"][0]["students"] == 1000
    assert rep["counties"][0]["verdict"] == "met"


def test_config_sqlite_url_is_relative_to_the_config_file(tmp_path, monkeypatch):
    """A relative SQLite file in qbe.toml is found from the config's folder, not the working directory."""
    pytest.importorskip("sqlalchemy")
    import sqlite3

    cols = list(GOOD_PRIMARY)
    (tmp_path / "db").mkdir()
    con = sqlite3.connect(tmp_path / "db" / "s.db")
    con.execute(f"CREATE TABLE schools ({', '.join(f'{c!r}' for c in cols)})")
    con.execute(f"INSERT INTO schools VALUES ({', '.join('?' for _ in cols)})", [GOOD_PRIMARY[c] for c in cols])
    con.commit()
    con.close()
    write_csv(tmp_path / "c.csv", [GOOD_COUNTY])
    (tmp_path / "qbe.toml").write_text(
        'standard = "national-2017"\ndata = "sqlite:///db/s.db?table=schools"\ncounty_data = "c.csv"\n'
        'formats = ["json"]\noutput = "rep"\n', encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    res = invoke("run")
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "rep" / "national-2017.json").read_text(encoding="utf-8"))
    assert [s["school_code"] for s in rep["schools"]] == [str(GOOD_PRIMARY["school_code"])]
    assert not (tmp_path / "elsewhere" / "db").exists()


def test_config_sqlite_url_rebasing_leaves_absolute_and_other_urls(tmp_path):
    from qbe.config import load_config

    for given, expected in [
        ("sqlite:///a.db?table=t", f"sqlite:///{(tmp_path / 'a.db').as_posix()}?table=t"),
        ("sqlite+pysqlite:///d/a.db", f"sqlite+pysqlite:///{(tmp_path / 'd' / 'a.db').as_posix()}"),
        ("sqlite:////abs/a.db?table=t", "sqlite:////abs/a.db?table=t"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://u@h/db?table=t", "postgresql://u@h/db?table=t"),
    ]:
        (tmp_path / "qbe.toml").write_text(f'data = "{given}"\n', encoding="utf-8")
        assert load_config(tmp_path / "qbe.toml").data == expected, given


def test_bad_config_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / "qbe.toml").write_text('standrd = "x"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    res = invoke("run")
    assert res.exit_code == ExitCode.USAGE and "standrd" in res.output


def test_a_run_without_a_config_file_does_not_load_pydantic(tmp_path):
    """Importing pydantic and building its models took a tenth of a second of every run's start: a
    run needs them only to validate a configuration file, or to print the report's schema."""
    code = ("import sys\n"
            "from qbe.cli import main\n"
            f"sys.argv = ['qbe', 'run', '--example', '--standard', 'national-2017', '-f', 'json', '-o', {str(tmp_path)!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=300,
                         cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
    # with one, pydantic validates it as before
    (tmp_path / "qbe.toml").write_text('formats = "json"\n', encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "qbe", "run", "--example", "--standard", "national-2017"],
                         capture_output=True, text=True, encoding="utf-8", timeout=300, cwd=tmp_path)  # fmt: skip
    assert bad.returncode == 2 and "formats" in bad.stderr and "valid list" in bad.stderr


def test_the_program_collects_young_objects_less_often():
    """The ``qbe`` program raises the garbage collector's first threshold (see ``entry``); a library
    caller's own setting is left alone."""
    import gc

    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print(gc.get_threshold()))\n"
            "sys.argv = ['qbe', 'standards']\n"
            "from qbe.cli import entry\n"
            "entry()\n")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "(20000, 20, 10)"
    assert gc.get_threshold() != (20000, 20, 10)  # importing qbe.cli here changed nothing


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "json"])
def test_each_builtin_writer(tmp_path, fmt):
    res = invoke("demo", "-f", fmt, "-o", str(tmp_path))
    assert res.exit_code == 0


def _qbe(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    """The real program in its own process (``python -m qbe``), as a user runs it."""
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "qbe", *args]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=300)


def test_the_program_exits_with_its_codes_and_says_everything(tmp_path):
    """`qbe` leaves without freeing the run's objects one by one (cli.entry): what it prints must
    still all arrive, its files be written and closed, and its exit codes be the documented ones."""
    ok = _qbe("run", "--standard", "national-2017", "--example", "--format", "terminal,json", "-o", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "区县 1 个" in ok.stdout and ok.stdout.rstrip().endswith("有误 0")  # the summary, to its last line
    assert json.loads((tmp_path / "national-2017.json").read_text(encoding="utf-8"))["summary"]["rows"] == 35
    bad = tmp_path / "bad.csv"
    bad.write_text("区县代码,学校代码,学段,在校生数\n990001,S1,小学,abc\n", encoding="utf-8")
    data = _qbe("run", "--standard", "national-2017", "--data", str(bad), "-o", str(tmp_path / "b"))
    assert data.returncode == 4 and "abc" in data.stderr
    usage = _qbe("run", "--standard", "no-such-standard", "--data", str(bad))
    assert usage.returncode == 2


def test_the_program_runs_exit_handlers_before_it_leaves():
    code = ("import atexit, sys\n"
            "from qbe.cli import entry\n"
            "atexit.register(lambda: print('exit handler ran'))\n"  # not flushed by the handler itself
            "sys.argv = ['qbe', 'standards']\n"
            "entry()\n")
    out = _qbe(code=code)
    assert out.returncode == 0 and "national-2017" in out.stdout
    assert out.stdout.rstrip().endswith("exit handler ran")


def test_main_inside_another_program_keeps_no_results():
    """Only the qbe program itself (cli.entry) keeps its runs' results to the end; a program that
    calls main (a test, an embedding) gets them freed as usual, run after run."""
    import qbe.cli as cli

    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0
    assert cli._KEPT is None
