"""Built-in loader: a table (or a SELECT) of a database, through SQLAlchemy.

The source is a SQLAlchemy URL with the table named in its query string::

    sqlite:///schools.db?table=schools
    postgresql+psycopg://qbe@127.0.0.1:5432/edu?table=public.schools
    mysql+pymysql://reader:***@db.example/edu?query=SELECT+*+FROM+schools+WHERE+year%3D2024

``table`` (or ``query``, one read-only SELECT) is taken out of the URL before
connecting; every other parameter goes to the database driver as usual.
Without either, ``--sheet`` names the table. The loader only finds cells, like
every loader: the header is the result's column names and each row's number
is its 1-based position in the result (a database has no row numbers of its
own), which the returned sheet says by its name (``sheet`` = the table name,
or ``query``) and ``header_row = 0``.

SQLAlchemy is optional (``pip install 'qbe[sql]'``, and ``'qbe[postgres]'``
for PostgreSQL): it is imported only when a database is read, and ``claims``
looks at the URL's scheme alone. Every failure (a bad URL, a missing driver,
no such table, a refused connection) is a :class:`DataSourceError` that names
the source with its password hidden.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..data.readers import DataSourceError
from ..data.table import RawSheet
from ..hookspecs import hookimpl

#: Database kinds (the part of the scheme before "+driver") claimed without
#: looking further: SQLAlchemy's own dialects and widely used external ones,
#: including databases common in Chinese government systems (达梦, 人大金仓, openGauss).
KNOWN_DIALECTS = frozenset(
    {
        "sqlite", "postgresql", "mysql", "mariadb", "oracle", "mssql",
        "duckdb", "clickhouse", "snowflake", "redshift", "cockroachdb", "trino", "presto",
        "databricks", "bigquery", "db2", "ibm_db_sa", "firebird", "sybase", "teradatasql",
        "hana", "exasol", "vertica", "awsathena", "crate", "doris", "starrocks",
        "dm", "kingbase", "kingbase8", "opengauss",
    }
)

#: URL query parameters that belong to qbe, not to the database driver.
QBE_PARAMS = ("table", "query")

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)(?:\+[A-Za-z0-9_.-]+)?://")
_PASSWORD_RE = re.compile(r"(://[^/?#@:]*:)[^/?#@]*@")
_INSTALL_SQL = "pip install 'qbe[sql]'"


def _dialect(source: str) -> str | None:
    match = _SCHEME_RE.match(source.strip())
    return match.group(1).lower() if match else None


def _registered_dialects() -> frozenset[str]:
    """Dialects other packages register with SQLAlchemy (entry-point group ``sqlalchemy.dialects``)."""
    import importlib.metadata as md

    try:
        return frozenset(ep.name.split(".", 1)[0].lower() for ep in md.entry_points(group="sqlalchemy.dialects"))
    except Exception:  # noqa: BLE001 - broken metadata must not stop a run
        return frozenset()


def hide_password(text: str) -> str:
    """``postgresql://qbe:secret@host/db`` → ``postgresql://qbe:***@host/db``."""
    return _PASSWORD_RE.sub(r"\1***@", text)


def _shown(source: str) -> str:
    """The source as messages show it: no query string, no password."""
    return hide_password(source.strip().split("?", 1)[0])


class SqlLoader:
    name = "sql"
    description = "数据库表或查询（SQLAlchemy URL，?table=表名）/ a database table or query (SQLAlchemy URL, ?table=name)"

    def claims(self, source: str) -> bool:
        dialect = _dialect(source)
        if dialect is None:
            return False
        return dialect in KNOWN_DIALECTS or dialect == "postgres" or dialect in _registered_dialects()

    def read(self, source: str, sheet: str | None = None, known_headers: Iterable[str] | None = None) -> list[RawSheet]:
        shown = _shown(source)
        if _dialect(source) == "postgres":
            raise DataSourceError(
                f"{shown}：SQLAlchemy 不接受 postgres://，请改写为 postgresql://（或 postgresql+psycopg://）。",
                f"{shown}: SQLAlchemy does not accept postgres://; write postgresql:// (or postgresql+psycopg://).",
                shown,
            )
        try:
            import sqlalchemy as sa
        except ImportError:
            raise DataSourceError(
                f"读取数据库 {shown} 需要 SQLAlchemy，请安装：{_INSTALL_SQL}",
                f"Reading the database {shown} needs SQLAlchemy; install it: {_INSTALL_SQL}",
                shown,
            ) from None
        url, table_name, query = _parse_url(sa, source, sheet, shown)
        password = url.password or ""
        if url.get_backend_name() == "sqlite":
            _check_sqlite_file(url.database, shown)
        engine = _engine(sa, url, shown)
        try:
            try:
                conn = engine.connect()
            except sa.exc.SQLAlchemyError as exc:
                raise _connect_error(exc, shown, password) from None
            with conn:
                try:
                    _read_only(conn, url.get_backend_name())
                    if query is not None:
                        result = conn.execute(sa.text(query))
                        label = "query"
                    else:
                        selectable = _table(sa, conn, table_name, shown)
                        result = conn.execute(sa.select(sa.text("*")).select_from(selectable))
                        label = table_name
                    headers = [str(key) for key in result.keys()]
                    records = result.fetchall()
                except sa.exc.SQLAlchemyError as exc:
                    raise _read_error(exc, shown, password, table_name, query) from None
                finally:
                    try:
                        conn.rollback()  # nothing to keep: the connection only ever reads
                    except sa.exc.SQLAlchemyError:
                        pass
        finally:
            engine.dispose()
        return [_sheet(shown, label, headers, records)]


# --------------------------------------------------------------------------- URL


def _parse_url(sa, source: str, sheet: str | None, shown: str):
    """The URL to connect to (without qbe's parameters), and the table or the query."""
    try:
        url = sa.engine.make_url(source.strip())
    except Exception:  # noqa: BLE001 - ArgumentError, ValueError on a bad port …
        raise DataSourceError(
            f"“{shown}”不是有效的数据库地址。格式示例：sqlite:///schools.db?table=schools，"
            "postgresql+psycopg://用户@主机:5432/库名?table=schools",
            f"'{shown}' is not a valid database URL. Examples: sqlite:///schools.db?table=schools, "
            "postgresql+psycopg://user@host:5432/dbname?table=schools",
            shown,
        ) from None
    params = {key: url.query[key] for key in QBE_PARAMS if key in url.query}
    for key, value in params.items():
        if not isinstance(value, str):  # ?table=a&table=b
            raise DataSourceError(
                f"{shown}：参数 {key} 只能给一次。",
                f"{shown}: give the parameter {key} only once.",
                shown,
            )
    url = url.difference_update_query(list(params))
    table_name = (params.get("table") or "").strip() or None
    query = (params.get("query") or "").strip() or None
    if table_name and query:
        raise DataSourceError(
            f"{shown}：table 和 query 只能二选一。",
            f"{shown}: give either table or query, not both.",
            shown,
        )
    if query is not None:
        query = _check_select(query, shown)
    elif table_name is None:
        table_name = (sheet or "").strip() or None
        if table_name is None:
            raise DataSourceError(
                f"{shown}：请指明要读取的表，例如 {shown}?table=schools（或用 --sheet 表名，或 ?query=SELECT…）。",
                f"{shown}: name the table to read, e.g. {shown}?table=schools (or --sheet <table>, or ?query=SELECT…).",
                shown,
            )
    return url, table_name, query


def _strip_sql(query: str) -> str:
    """The query with comments removed and string literals and quoted names emptied."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif ch in "'\"`":
            end = i + 1
            while end < n:
                if query[end] == ch:
                    if end + 1 < n and query[end + 1] == ch:  # '' inside a literal
                        end += 2
                        continue
                    break
                end += 1
            out.append(ch + ch)
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _check_select(query: str, shown: str) -> str:
    """One SELECT (or WITH … SELECT) statement; a trailing ``;`` is dropped.

    This is the first of two guards: the connection is also made read-only
    where the database allows it (SQLite, PostgreSQL, MySQL) and never commits.
    """
    bare = _strip_sql(query).strip()
    while bare.endswith(";"):
        bare = bare[:-1].rstrip()
    first = re.match(r"[\s(]*([A-Za-z]+)", bare)
    if first is None or first.group(1).lower() not in ("select", "with") or ";" in bare:
        raise DataSourceError(
            f"{shown}：query 只能是一条 SELECT 查询语句（只读）。",
            f"{shown}: query must be a single SELECT statement (read-only).",
            shown,
        )
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _check_sqlite_file(database: str | None, shown: str) -> None:
    """SQLite would silently create a missing file; say that it is missing instead."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_file():
        what_zh = "是一个文件夹，不是数据库文件" if path.is_dir() else "不存在"
        what_en = "is a folder, not a database file" if path.is_dir() else "does not exist"
        raise DataSourceError(
            f"SQLite 数据库文件 {database} {what_zh}（{shown}）。请检查路径；相对路径从当前目录算起。",
            f"The SQLite database file {database} {what_en} ({shown}). Check the path; a relative path "
            "starts from the current folder.",
            shown,
        )


def _engine(sa, url, shown: str):
    """An engine without a pool (one connection, closed at once), with a connect timeout."""
    kwargs: dict[str, Any] = {"poolclass": sa.pool.NullPool}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        return sa.create_engine(url, **kwargs)
    except ImportError as exc:  # the driver is not installed
        driver = getattr(exc, "name", None) or str(exc)
        if url.get_backend_name() == "postgresql":
            hint_zh = "pip install 'qbe[postgres]'，并使用 postgresql+psycopg:// 开头的地址"
            hint_en = "pip install 'qbe[postgres]' and use a postgresql+psycopg:// URL"
        else:
            hint_zh = hint_en = f"pip install {driver}"
        raise DataSourceError(
            f"读取 {shown} 需要数据库驱动 {driver}，尚未安装。请运行：{hint_zh}",
            f"Reading {shown} needs the database driver {driver}, which is not installed. Run: {hint_en}",
            shown,
        ) from None
    except Exception as exc:  # noqa: BLE001 - NoSuchModuleError (unknown dialect), ArgumentError …
        kind = url.drivername
        raise DataSourceError(
            f"SQLAlchemy 无法使用数据库类型“{kind}”（{shown}）：{type(exc).__name__}。请检查地址开头，"
            "或安装该数据库的 SQLAlchemy 方言包。",
            f"SQLAlchemy cannot use the database kind '{kind}' ({shown}): {type(exc).__name__}. Check the "
            "start of the URL, or install that database's SQLAlchemy dialect.",
            shown,
        ) from None


def _read_only(conn, backend: str) -> None:
    """Ask the database to refuse writes for this connection (best effort)."""
    statement = {
        "sqlite": "PRAGMA query_only = ON",
        "postgresql": "SET TRANSACTION READ ONLY",
        "mysql": "SET TRANSACTION READ ONLY",
        "mariadb": "SET TRANSACTION READ ONLY",
    }.get(backend)
    if statement is not None:
        conn.exec_driver_sql(statement)


def _table(sa, conn, name: str, shown: str):
    """``name`` as a selectable: ``schools`` or ``schema.schools``; missing is an error listing the tables."""
    inspector = sa.inspect(conn)
    candidates = [(None, name)]
    if "." in name:
        schema, _, bare = name.partition(".")
        candidates.append((schema, bare))
    for schema, bare in candidates:
        if inspector.has_table(bare, schema=schema):
            return sa.table(bare, schema=schema)
    try:
        tables = sorted(set(inspector.get_table_names()) | set(inspector.get_view_names()))
    except Exception:  # noqa: BLE001 - listing is only a hint
        tables = []
    listed_zh = "、".join(tables) if tables else "（没有表）"
    listed_en = ", ".join(tables) if tables else "(no tables)"
    raise DataSourceError(
        f"数据库 {shown} 中没有表“{name}”。现有的表：{listed_zh}。",
        f"The database {shown} has no table '{name}'. Tables: {listed_en}.",
        shown,
    )


def _reason(exc, password: str) -> str:
    """The driver's reason for a SQLAlchemy error, on one line, without the password."""
    orig = getattr(exc, "orig", None)
    lines = [line.strip() for line in str(orig if orig is not None else exc).strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith(("[SQL:", "[parameters:", "(Background on"))]
    text = " ".join(lines[:3]) or type(exc).__name__  # psycopg puts "FATAL: …" on the next lines
    if password:
        text = text.replace(password, "***")
    text = hide_password(text)
    return text if len(text) <= 300 else text[:300] + "…"


def _connect_error(exc, shown: str, password: str) -> DataSourceError:
    text = _reason(exc, password)
    return DataSourceError(
        f"无法连接数据库 {shown}（{text}）。请检查主机、端口、用户名和密码，以及数据库是否已启动。",
        f"Cannot connect to the database {shown} ({text}). Check the host, port, user and password, "
        "and that the database is running.",
        shown,
    )


def _read_error(exc, shown: str, password: str, table_name: str | None, query: str | None) -> DataSourceError:
    text = _reason(exc, password)
    what_zh = "查询" if query is not None else f"表“{table_name}”"
    what_en = "the query" if query is not None else f"the table '{table_name}'"
    return DataSourceError(
        f"读取数据库 {shown} 中的{what_zh}时出错（{text}）。",
        f"Error while reading {what_en} from the database {shown} ({text}).",
        shown,
    )


# --------------------------------------------------------------------------- cells


def _plain_column(column: tuple[Any, ...]) -> list[Any]:
    """One result column as loaders hand cells over: ``str``, ``int``, ``float``, ``bool`` or ``None``.

    Whole decimals (``NUMERIC`` 1800.00) become ``int``, other decimals
    ``float``; dates and times ISO text; blank text ``None``. A column that
    already holds only plain numbers is returned as it is.
    """
    kinds = set(map(type, column))
    kinds.discard(type(None))
    if kinds <= {int, bool}:
        return list(column)
    out = []
    for value in column:
        if value is None or type(value) is int or type(value) is bool:
            out.append(value)
        elif isinstance(value, str):
            out.append(value if value.strip() else None)
        elif isinstance(value, float):
            out.append(None if value != value else value)  # NaN is "no value"
        elif isinstance(value, decimal.Decimal):
            if not value.is_finite():
                out.append(None)
            elif value == value.to_integral_value():
                out.append(int(value))
            else:
                out.append(float(value))
        elif isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
            out.append(value.isoformat())
        elif isinstance(value, (bytes, bytearray, memoryview)):
            text = bytes(value).decode("utf-8", errors="replace")
            out.append(text if text.strip() else None)
        else:  # UUID, interval, JSON …: their text
            out.append(str(value))
    return out


def _sheet(shown: str, label: str, headers: list[str], records) -> RawSheet:
    width = len(headers)
    if not records:
        return RawSheet(shown, headers, [], [], sheet=label, header_row=0)
    columns = [_plain_column(col) for col in zip(*records)]
    rows = [list(row) for row in zip(*columns)]
    numbers = list(range(1, len(rows) + 1))
    keep = [row.count(None) < width for row in rows]
    if not all(keep):
        rows = [row for row, k in zip(rows, keep) if k]
        numbers = [num for num, k in zip(numbers, keep) if k]
    return RawSheet(shown, headers, rows, numbers, sheet=label, header_row=0)


SQL = SqlLoader()


@hookimpl
def qbe_loaders() -> list[SqlLoader]:
    return [SQL]
