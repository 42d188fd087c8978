"""The SQL loader: a database table (or a SELECT) read through SQLAlchemy.

SQLite is tested always. PostgreSQL is tested against a real server: the one
named by QBE_TEST_POSTGRES_URL, else a throwaway one started here with the
machine's PostgreSQL binaries (tests/setup/postgres.sh); when neither is
possible the PostgreSQL tests are skipped with the reason printed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.data.readers import DataSourceError
from qbe.default_plugins import sql
from qbe.default_plugins.sql import SqlLoader, hide_password

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
SETUP = ROOT / "tests" / "setup" / "postgres.sh"

pytest.importorskip("sqlalchemy")

LOADER = SqlLoader()


def typed_value(text: str):
    """A CSV cell as a database would store it: numbers as numbers, "" as NULL."""
    if text == "":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def example_records(name: str) -> tuple[list[str], list[list]]:
    with (EXAMPLE / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [[typed_value(v) for v in row] for row in rows[1:]]


def column_type(values) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int}:
        return "INTEGER"
    if kinds <= {int, float}:
        return "REAL"
    return "TEXT"


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sql") / "schools.db"
    con = sqlite3.connect(path)
    for name in ("schools", "counties"):
        headers, records = example_records(name)
        cols = ", ".join(f'"{h}" {column_type([r[i] for r in records])}' for i, h in enumerate(headers))
        con.execute(f"CREATE TABLE {name} ({cols})")
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(headers))})", records)
    con.execute("CREATE TABLE odd (code TEXT, amount NUMERIC, note TEXT, day DATE)")
    con.executemany("INSERT INTO odd VALUES (?, ?, ?, ?)", [
        ("A", 1800, "  ", "2021-09-01"),
        (None, None, None, None),  # an empty row: skipped, its number is not reused
        ("B", 2.5, "ok", None),
    ])
    con.commit()
    con.close()
    return path


def run_json(tmp_path: Path, name: str, data: str, county: str, *extra: str) -> dict:
    out = tmp_path / name
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", data, "--county-data", county,
                                    "--format", "json", "-o", str(out), *extra])
    assert res.exit_code == 0, res.output
    return json.loads((out / "national-2017.json").read_text(encoding="utf-8"))


def without_rows(report: dict) -> dict:
    """The report with each school's row number removed (a CSV row 2 is database row 1)."""
    out = dict(report)
    out["schools"] = [{k: v for k, v in s.items() if k != "row"} for s in report["schools"]]
    return out


@pytest.fixture(scope="module")
def csv_report(tmp_path_factory) -> dict:
    return run_json(tmp_path_factory.mktemp("csv"), "csv", str(EXAMPLE / "schools.csv"), str(EXAMPLE / "counties.csv"))


# --------------------------------------------------------------------------- claims


@pytest.mark.parametrize("source", [
    "sqlite:///schools.db?table=schools",
    "sqlite:////abs/path/schools.db?table=schools",
    "postgresql://qbe@127.0.0.1:5432/qbe?table=schools",
    "postgresql+psycopg://qbe:pw@db/qbe?table=public.schools",
    "mysql+pymysql://u:p@h/db?table=t",
    "mssql+pyodbc://dsn?table=t",
    "postgres://qbe@h/db?table=t",  # claimed, to say that SQLAlchemy wants postgresql://
])
def test_claims_database_urls(source):
    assert LOADER.claims(source)


@pytest.mark.parametrize("source", [
    "schools.csv", "schools.db", "https://example.org/schools.csv", "ftp://h/x.csv", "sqlite.csv", "C:\\data\\x.xlsx",
])
def test_does_not_claim_other_sources(source):
    assert not LOADER.claims(source)


# --------------------------------------------------------------------------- SQLite


def test_sqlite_run_matches_csv(sqlite_db, csv_report, tmp_path):
    url = f"sqlite:///{sqlite_db}"
    report = run_json(tmp_path, "sql", f"{url}?table=schools", f"{url}?table=counties")
    assert without_rows(report) == without_rows(csv_report)
    assert [s["row"] for s in report["schools"]] == list(range(1, 36))
    assert [s["row"] for s in csv_report["schools"]] == list(range(2, 37))
    assert report["counties"][0]["verdict"] == "not_met"


def test_relative_sqlite_path_and_sheet_as_table(sqlite_db, csv_report, tmp_path, monkeypatch):
    monkeypatch.chdir(sqlite_db.parent)
    # the usage of the issue: a relative path; --sheet names the table when the URL does not
    report = run_json(tmp_path, "rel", "sqlite:///schools.db", "sqlite:///schools.db?table=counties",
                      "--sheet", "schools")
    assert without_rows(report) == without_rows(csv_report)


def test_raw_sheet_shape(sqlite_db):
    (sheet,) = LOADER.read(f"sqlite:///{sqlite_db}?table=odd")
    assert sheet.source == f"sqlite:///{sqlite_db}"  # no query string
    assert sheet.sheet == "odd" and sheet.header_row == 0
    assert sheet.headers == ["code", "amount", "note", "day"]
    assert sheet.rows == [["A", 1800, None, "2021-09-01"], ["B", 2.5, "ok", None]]
    assert sheet.row_numbers == [1, 3]  # positions in the result; the empty row 2 is skipped


def test_query_parameter(sqlite_db):
    query = "SELECT school_code, students FROM schools WHERE stage = 'junior' ORDER BY students DESC;"
    from urllib.parse import quote_plus

    (sheet,) = LOADER.read(f"sqlite:///{sqlite_db}?query={quote_plus(query)}")
    assert sheet.sheet == "query" and sheet.headers == ["school_code", "students"]
    assert len(sheet.rows) == 13 and sheet.rows[0][1] == 1000
    assert sheet.row_numbers == list(range(1, 14))
    # unencoded spaces work too, as typed in a shell
    (sheet,) = LOADER.read(f"sqlite:///{sqlite_db}?query=SELECT * FROM schools WHERE stage='primary'")
    assert len(sheet.rows) == 22


@pytest.mark.parametrize("query", [
    "DELETE FROM schools",
    "DROP TABLE schools",
    "SELECT 1; DROP TABLE schools",
    "UPDATE schools SET students = 0",
    "/* SELECT */ DELETE FROM schools",
    "ATTACH DATABASE 'x.db' AS x",
])
def test_query_must_be_one_select(sqlite_db, query):
    with pytest.raises(DataSourceError, match="SELECT"):
        LOADER.read(f"sqlite:///{sqlite_db}?query={query}")
    assert sqlite3.connect(sqlite_db).execute("SELECT count(*) FROM schools").fetchone() == (35,)


def test_select_check_ignores_literals_and_comments():
    assert sql._check_select("SELECT ';' AS x -- ; DROP\n FROM t;", "src") == "SELECT ';' AS x -- ; DROP\n FROM t"
    assert sql._check_select("WITH s AS (SELECT 1) SELECT * FROM s", "src")
    assert sql._check_select("(SELECT 1)", "src")


def test_sqlite_connection_is_read_only(sqlite_db):
    # a SELECT that would write (through a function with side effects) is refused by SQLite itself
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(f"sqlite:///{sqlite_db}")
    with engine.connect() as conn:
        sql._read_only(conn, "sqlite")
        with pytest.raises(sa.exc.OperationalError):
            conn.exec_driver_sql("INSERT INTO odd VALUES ('C', 1, 'x', NULL)")
    engine.dispose()


def test_missing_table_is_named(sqlite_db, tmp_path):
    with pytest.raises(DataSourceError) as e:
        LOADER.read(f"sqlite:///{sqlite_db}?table=school")
    assert "“school”" in e.value.message_zh and "counties、odd、schools" in e.value.message_zh
    assert "'school'" in e.value.message_en
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", f"sqlite:///{sqlite_db}?table=school",
                                    "-o", str(tmp_path)])
    assert res.exit_code == 4
    assert "Traceback" not in res.output and "school" in res.output


def test_no_table_given(sqlite_db):
    with pytest.raises(DataSourceError, match=r"\?table="):
        LOADER.read(f"sqlite:///{sqlite_db}")
    with pytest.raises(DataSourceError, match="table"):
        LOADER.read(f"sqlite:///{sqlite_db}?table=schools&query=SELECT+1")


def test_missing_sqlite_file_is_not_created(tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(DataSourceError, match="nope.db"):
        LOADER.read(f"sqlite:///{missing}?table=schools")
    assert not missing.exists()


def test_bad_urls(tmp_path):
    with pytest.raises(DataSourceError, match="not a valid database URL"):
        LOADER.read("mysql://user:s3cret@host:notaport/db?table=t")
    with pytest.raises(DataSourceError) as e:
        LOADER.read("postgres://user:s3cret@host/db?table=t")
    assert "postgresql://" in e.value.message_en and "s3cret" not in str(e.value)
    with pytest.raises(DataSourceError) as e:
        LOADER.read("oracle+nosuchdriver://user:s3cret@host/db?table=t")
    assert "s3cret" not in str(e.value)


def test_password_never_shown(tmp_path):
    # nothing listens on port 1: the connection is refused
    url = "postgresql+psycopg://qbe:s3cr3t-pw@127.0.0.1:1/qbe?table=schools&connect_timeout=3"
    pytest.importorskip("psycopg")
    with pytest.raises(DataSourceError) as e:
        LOADER.read(url)
    text = f"{e.value} {e.value.source}"
    assert "s3cr3t-pw" not in text and "qbe:***@127.0.0.1:1/qbe" in text
    assert "Cannot connect" in e.value.message_en
    res = CliRunner().invoke(main, ["run", "--standard", "national-2017", "--data", url, "-o", str(tmp_path)])
    assert res.exit_code == 4 and "s3cr3t-pw" not in res.output and "Traceback" not in res.output


def test_hide_password():
    assert hide_password("postgresql://a:b@h/db") == "postgresql://a:***@h/db"
    assert hide_password("postgresql://a@h/db") == "postgresql://a@h/db"
    assert hide_password("sqlite:///x.db") == "sqlite:///x.db"


def test_without_sqlalchemy(monkeypatch, sqlite_db):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # import sqlalchemy → ImportError
    assert LOADER.claims(f"sqlite:///{sqlite_db}?table=schools")  # claiming needs no SQLAlchemy
    with pytest.raises(DataSourceError) as e:
        LOADER.read(f"sqlite:///{sqlite_db}?table=schools")
    assert "pip install 'qbe[sql]'" in e.value.message_zh and "pip install 'qbe[sql]'" in e.value.message_en


def test_cell_conversion():
    col = (decimal.Decimal("1800.00"), decimal.Decimal("2.5"), dt.date(2021, 9, 1), "  ", b"abc", float("nan"), True,
           uuid.UUID(int=1), None)
    assert sql._plain_column(col) == [1800, 2.5, "2021-09-01", None, "abc", None, True,
                                      "00000000-0000-0000-0000-000000000001", None]
    assert sql._plain_column((1, 2, None)) == [1, 2, None]


# --------------------------------------------------------------------------- PostgreSQL


def _start_throwaway_postgres():
    """Start a server with tests/setup/postgres.sh in a temporary folder; (url, stop) or (None, reason)."""
    if not SETUP.exists():
        return None, f"{SETUP} is missing"
    base = Path(tempfile.mkdtemp(prefix="qbe-pg-"))
    base.chmod(0o755)  # the server's own account must reach it when we are root
    env = dict(os.environ, QBE_PG_DIR=str(base / "cluster"), QBE_PG_NO_INSTALL="1")
    try:
        proc = subprocess.run(["bash", str(SETUP), "start"], env=env, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"could not run {SETUP.name}: {e}"
    url = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if proc.returncode != 0 or not url.startswith("postgresql"):
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"no PostgreSQL server could be started here ({reason})"

    def stop():
        subprocess.run(["bash", str(SETUP), "stop"], env=env, capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", str(base)], capture_output=True)

    return (url, stop), None


def _skip(request, reason: str):
    # printed even without -rs, so that CI logs say why PostgreSQL was not tested
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            reporter.write_line(f"\n[test_sql_loader] PostgreSQL tests skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres_url(request):
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'qbe[postgres]')")
    url = os.environ.get("QBE_TEST_POSTGRES_URL")
    stop = None
    if not url:
        started, reason = _start_throwaway_postgres()
        if started is None:
            _skip(request, f"QBE_TEST_POSTGRES_URL is not set and {reason}")
        url, stop = started
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(url, connect_args={"connect_timeout": 10})
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as e:
        engine.dispose()
        if stop:
            stop()
        _skip(request, f"cannot connect to {hide_password(url)}: {type(e).__name__}")
    engine.dispose()
    yield url
    if stop:
        stop()


@pytest.fixture(scope="module")
def postgres_schema(postgres_url):
    """The two example tables in a schema of their own, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"qbe_test_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    types = {"INTEGER": sa.BigInteger, "REAL": sa.Numeric(14, 4), "TEXT": sa.Text}
    meta = sa.MetaData(schema=schema)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        for name in ("schools", "counties"):
            headers, records = example_records(name)
            table = sa.Table(name, meta, *(sa.Column(h, types[column_type([r[i] for r in records])])
                                           for i, h in enumerate(headers)))
            table.create(conn)
            conn.execute(table.insert(), [dict(zip(headers, r)) for r in records])
    yield schema
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_postgres_run_matches_csv(postgres_url, postgres_schema, csv_report, tmp_path):
    report = run_json(tmp_path, "pg", f"{postgres_url}?table={postgres_schema}.schools",
                      f"{postgres_url}?table={postgres_schema}.counties")
    assert without_rows(report) == without_rows(csv_report)


def test_postgres_numeric_cells_and_query(postgres_url, postgres_schema):
    (sheet,) = LOADER.read(f"{postgres_url}?table={postgres_schema}.schools")
    assert sheet.sheet == f"{postgres_schema}.schools" and len(sheet.rows) == 35
    students = sheet.rows[0][sheet.headers.index("students")]
    share = sheet.rows[0][sheet.headers.index("training_spend_share")]
    assert students == 1800 and type(students) is int and share == 0.06  # NUMERIC → int / float
    query = f"SELECT school_code FROM {postgres_schema}.schools WHERE stage = 'junior'"
    (sheet,) = LOADER.read(f"{postgres_url}?query={query}")
    assert len(sheet.rows) == 13


def test_postgres_missing_table_and_read_only(postgres_url, postgres_schema):
    with pytest.raises(DataSourceError) as e:
        LOADER.read(f"{postgres_url}?table={postgres_schema}.nope")
    assert f"{postgres_schema}.nope" in e.value.message_en
    # a data-modifying WITH passes the SELECT check, and the read-only transaction stops it
    query = f"WITH gone AS (DELETE FROM {postgres_schema}.schools RETURNING *) SELECT * FROM gone"
    with pytest.raises(DataSourceError, match="read-only"):
        LOADER.read(f"{postgres_url}?query={query}")
    (sheet,) = LOADER.read(f"{postgres_url}?table={postgres_schema}.schools")
    assert len(sheet.rows) == 35
