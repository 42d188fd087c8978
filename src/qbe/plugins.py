"""Building the plugin manager, and the shapes loaders and writers have.

:func:`get_plugin_manager` is a factory, not a global: each call builds a
fresh manager (hookspecs → entry points → built-ins), so tests get isolation
for free. A plugin that fails to import or whose hook raises is recorded in
``manager.qbe_failures`` by name and skipped; it never stops a run.
"""

from __future__ import annotations

import importlib.metadata as md
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

from . import hookspecs

if TYPE_CHECKING:
    from .data.table import RawSheet
    from .results.assemble import Evaluation

ENTRY_POINT_GROUP = "qbe"


@runtime_checkable
class Loader(Protocol):
    name: str
    description: str

    def claims(self, source: str) -> bool: ...

    def read(self, source: str, sheet: str | None = None, known_headers: Iterable[str] | None = None) -> list[RawSheet]: ...


@runtime_checkable
class Writer(Protocol):
    format: str
    extension: str | None
    description: str

    def render(self, evaluation: Evaluation, report: dict, lang: str = "zh") -> str | bytes: ...


@dataclass(frozen=True)
class Function:
    """A function a plugin adds to the ruleset language (see ``qbe_functions``)."""

    name: str
    compute: Any
    arity: int | tuple[int, int] = 1
    aggregate: bool = False
    returns: str = "number"  #: "number", "percent" or "same" (the unit of the first argument)
    description: str = ""

    @property
    def arity_range(self) -> tuple[int, int]:
        return (self.arity, self.arity) if isinstance(self.arity, int) else tuple(self.arity)  # type: ignore[return-value]


@dataclass
class PluginFailure:
    plugin: str
    error: str


@dataclass
class Registry:
    """What the loaded plugins provide, with failures kept for reporting."""

    manager: pluggy.PluginManager
    loaders: list[tuple[str, Any]] = field(default_factory=list)
    writers: dict[str, tuple[str, Any]] = field(default_factory=dict)
    rulesets: list[tuple[str, Path]] = field(default_factory=list)
    functions: dict[str, tuple[str, Function]] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)


def get_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("qbe")
    pm.add_hookspecs(hookspecs)
    pm.qbe_failures = []  # type: ignore[attr-defined]
    pm.qbe_versions = {}  # type: ignore[attr-defined]
    if load_entry_points and not os.environ.get("QBE_DISABLE_PLUGINS"):
        for ep in md.entry_points(group=ENTRY_POINT_GROUP):
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
                if ep.dist is not None:
                    pm.qbe_versions[ep.name] = ep.dist.version  # type: ignore[attr-defined]
            except Exception as e:  # a broken plugin must not take down the run
                pm.qbe_failures.append(PluginFailure(ep.name, f"{type(e).__name__}: {e}"))  # type: ignore[attr-defined]
    from .default_plugins import loaders, parquet, sql, writers  # noqa: I001

    for mod in (loaders, sql, parquet, writers):
        pm.register(mod, name=f"qbe.{mod.__name__.rsplit('.', 1)[-1]}")
    pm.check_pending()
    return pm


def _call_each(pm: pluggy.PluginManager, hook: str, failures: list[PluginFailure]) -> list[tuple[str, Any]]:
    """Call one hook implementation at a time, so one failing plugin is contained."""
    out = []
    caller = getattr(pm.hook, hook)
    # third-party plugins first, qbe's built-ins last, so a plugin can take over a format or a file type
    impls = sorted(caller.get_hookimpls(), key=lambda i: (pm.get_name(i.plugin) or "").startswith("qbe."))
    for impl in impls:
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            res = impl.function()
        except Exception as e:
            failures.append(PluginFailure(name, f"{hook}: {type(e).__name__}: {e}"))
            continue
        for item in res or []:
            out.append((name, item))
    return out


def registry(pm: pluggy.PluginManager | None = None) -> Registry:
    pm = pm or get_plugin_manager()
    reg = Registry(pm, failures=list(getattr(pm, "qbe_failures", [])))
    for name, loader in _call_each(pm, "qbe_loaders", reg.failures):
        reg.loaders.append((name, loader))
    # plugins are called first (see _call_each), so a plugin's writer of a built-in format wins
    for name, writer in _call_each(pm, "qbe_writers", reg.failures):
        reg.writers.setdefault(writer.format, (name, writer))
    for name, path in _call_each(pm, "qbe_rulesets", reg.failures):
        reg.rulesets.append((name, Path(path)))
    from .semantics.checker import FUNCTIONS

    for name, fn in _call_each(pm, "qbe_functions", reg.failures):
        if fn.name in FUNCTIONS or fn.name in reg.functions or not str(fn.name).isidentifier():
            reg.failures.append(PluginFailure(name, f"qbe_functions: function name '{fn.name}' is taken or invalid; skipped"))
            continue
        reg.functions[fn.name] = (name, fn)
    return reg


def plugin_version(pm: pluggy.PluginManager, name: str) -> str:
    known = getattr(pm, "qbe_versions", {})
    if name in known:
        return known[name]
    for dist_plugin, dist in pm.list_plugin_distinfo():
        if pm.get_name(dist_plugin) == name:
            return dist.version
    if name.startswith("qbe."):
        from . import __version__

        return __version__
    return "?"


@dataclass(frozen=True)
class AppendTo:
    """First piece of a writer's output: the report continues this file, already begun beside it
    (by a second process, say); the pieces that follow are appended and the file is renamed into
    place. It must be in the report's folder; it is removed if writing fails."""

    path: Path


def atomic_write(path: Path, data: bytes | str | Iterable[str | bytes | Path | AppendTo]) -> Path:
    """Write to a temporary file beside ``path``, then rename: no half-written reports.

    ``data`` may be one string or bytes object, or an iterable of pieces (large
    reports are streamed rather than built as one string). A piece that is a
    :class:`~pathlib.Path` stands for that file's contents (a part of the
    report made ahead in a spool file), copied by the kernel where it can; a
    first piece that is an :class:`AppendTo` names the file to go on with
    instead of a new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = iter([data] if isinstance(data, (str, bytes)) else data)
    first = next(pieces, b"")
    if isinstance(first, AppendTo):
        tmp = str(first.path)
        fd = os.open(tmp, os.O_WRONLY | os.O_APPEND)
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        pieces = itertools.chain([first], pieces)
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, 0o666 & ~umask)  # a report is an ordinary file, readable like any other the user writes
            for piece in pieces:
                if isinstance(piece, Path):
                    _copy_into(fh, piece)
                else:
                    fh.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        _put_in_place(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _put_in_place(tmp: str, path: Path) -> None:
    """Rename the finished file ``tmp`` to ``path``, moving an earlier report out of the way first.

    Why not one ``os.replace``: renaming over an existing file makes ext4 start
    writing the new file out to disk then and there (its guard for programs
    that replace files without syncing them), which held a 450 MB report back
    by 0.15–0.2 s on every rerun. The earlier report is renamed aside, the new
    one takes its name, and the old one is deleted; if the second rename fails
    the old report gets its name back. A reader never sees a partly written
    report (for a fraction of a millisecond it sees none).
    """
    if not path.exists():
        os.replace(tmp, path)
        return
    aside = tmp + ".old"
    try:
        os.rename(path, aside)
    except OSError:  # gone meanwhile, or cannot be moved: replace it the usual way
        os.replace(tmp, path)
        return
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(aside, path)
        raise
    try:
        os.unlink(aside)
    except OSError:
        pass


def _copy_into(fh: Any, source: Path) -> None:
    """Append the file ``source`` to the open file ``fh``: with ``copy_file_range`` where the
    system has it (no copy through Python), else in large chunks."""
    fh.flush()
    with open(source, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        done = 0
        if hasattr(os, "copy_file_range"):
            try:
                while done < size:
                    n = os.copy_file_range(src.fileno(), fh.fileno(), size - done)
                    if n <= 0:
                        break
                    done += n
            except OSError:  # another file system, or a kernel without it: copy the rest by hand
                pass
        if done < size:
            src.seek(done)
            os.lseek(fh.fileno(), 0, os.SEEK_END)
            shutil.copyfileobj(src, fh, 1 << 23)
