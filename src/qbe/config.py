"""Project configuration: ``qbe.toml``, or ``[tool.qbe]`` in ``pyproject.toml``.

Looked up in the current directory and its parents. Command-line options
override it. Example::

    standard = "national-2017"
    data = "data/schools.xlsx"
    county_data = "data/county.xlsx"
    formats = ["terminal", "markdown", "json"]
    output = "report"
    lang = "zh"

    [columns]          # local header → qbe column, for the school table
    "学生总数" = "students"

    [county_columns]   # the same for the county table
    "满意度" = "satisfaction_rate"

    [web]              # qbe serve on a shared office machine
    host = "0.0.0.0"
    token = "a-long-random-token"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib


#: How pydantic validates the configuration classes: an unknown key is an error (a typo, say).
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass
class WebConfig:
    """``[web]``: defaults for ``qbe serve`` (its command-line options win)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT

    host: str | None = None
    port: int | None = None
    #: access token for a shared office machine; keep a file holding one out of shared folders
    token: str | None = None
    max_upload_mb: float | None = None
    session_minutes: float | None = None


@dataclass
class QbeConfig:
    """The project configuration, validated by pydantic from the file (see :func:`load_config`).

    Plain dataclasses that pydantic validates, rather than pydantic models: a
    run without a configuration file (the usual case) then never imports
    pydantic, which took a tenth of a second of every such run's start.
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT

    standard: str | None = None
    data: str | None = None
    county_data: str | None = None
    sheet: str | None = None
    county_sheet: str | None = None
    formats: list[str] = field(default_factory=lambda: ["terminal"])
    output: str | None = None
    lang: str = "zh"
    columns: dict[str, str] = field(default_factory=dict)
    county_columns: dict[str, str] = field(default_factory=dict)
    web: WebConfig = field(default_factory=WebConfig)
    #: the file this configuration came from
    path: str | None = None


def find_config(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        q = d / "qbe.toml"
        if q.is_file():
            return q
        pp = d / "pyproject.toml"
        if pp.is_file():
            try:
                data = tomllib.loads(pp.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError):
                continue
            if "qbe" in data.get("tool", {}):
                return pp
    return None


def load_config(path: Path | None = None) -> QbeConfig:
    path = path or find_config()
    if path is None:
        return QbeConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"配置文件 {path} 格式有误：{e}", f"configuration file {path} is not valid TOML: {e}") from None
    except OSError as e:
        raise UsageError(f"无法读取配置文件 {path}：{e.strerror}", f"cannot read configuration {path}: {e.strerror}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("qbe", {})
    from pydantic import TypeAdapter, ValidationError

    try:
        cfg = TypeAdapter(QbeConfig).validate_python(data)
    except ValidationError as e:
        msgs = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
        raise UsageError(f"配置文件 {path} 有误：{msgs}", f"configuration file {path} is invalid: {msgs}") from None
    base = path.parent
    if cfg.standard and cfg.standard.endswith(".qbe") and not Path(cfg.standard).is_absolute():
        cfg.standard = str(base / cfg.standard)
    for key in ("data", "county_data", "output"):
        v = getattr(cfg, key)
        if v and "://" not in v and not Path(v).is_absolute():
            setattr(cfg, key, str(base / v))
        elif v and "://" in v:
            setattr(cfg, key, _rebase_sqlite_url(v, base))
    cfg.path = str(path)
    return cfg


_SQLITE_SCHEME = re.compile(r"^sqlite(\+[A-Za-z0-9_]+)?:///")


def _rebase_sqlite_url(url: str, base: Path) -> str:
    """A relative SQLite file in a configured URL is relative to the configuration file.

    Without this, ``data = "sqlite:///schools.db?table=schools"`` in a project's
    qbe.toml would open (or fail to find) ``schools.db`` in whatever folder the
    command happens to run from, unlike every plain path in the same file.
    ``sqlite:////abs/path.db`` (absolute) and ``:memory:`` are left alone.
    """
    m = _SQLITE_SCHEME.match(url)
    if not m:
        return url
    rest = url[m.end():]
    db, sep, query = rest.partition("?")
    if not db or db.startswith("/") or db == ":memory:" or Path(db).is_absolute():
        return url
    return f"{m.group(0)}{(base / db).resolve().as_posix()}{sep}{query}"
