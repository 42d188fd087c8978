"""The LALR tables of the ruleset grammar, built once per machine instead of once per run,
and each ruleset file's parse, made once per version of the file.

Building Lark's LALR parser for ``grammar.lark`` takes about a quarter of a
second, more than parsing a whole standard; every ``qbe`` command would pay
it again. The built parser is saved in the user's cache folder and loaded
from there next time (~30 ms). The file name carries a hash of the grammar,
the options, and the Lark and Python versions, so a changed grammar or an
upgrade simply builds a new one. Files are written to a temporary name and
renamed, so two runs at once never read half a file; an unreadable file is
rebuilt, and a cache folder that cannot be written only costs the build.

A parsed ruleset (its AST) is kept the same way (:func:`parsed`): parsing
the 2017 national standard takes about a tenth of a second, reading its AST
back about three milliseconds. Its key is the file's name and text and the
code that parses it (the grammar, the parser and the AST's classes), so an
edited file or a changed parser is parsed afresh; a text that does not parse
is never kept. At most :data:`MAX_PARSED` are kept, the oldest removed.

``QBE_CACHE_DIR`` chooses the folder; ``QBE_CACHE_DIR=off`` turns caching off.
The folder is created private to the user (mode 700): a cached parser is a
pickle, and only the user's own files are ever loaded.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lark import Lark


def cache_dir() -> Path | None:
    """Where qbe keeps machine-local caches, or None when caching is off."""
    env = os.environ.get("QBE_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no") else Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / "qbe" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "qbe"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qbe"


def build(grammar: str, name: str, **options: object) -> Lark:
    """``Lark(grammar, parser="lalr", **options)``, loaded from the cache when it was built before."""
    import lark
    from lark import Lark

    options = {"parser": "lalr", **options}
    folder = cache_dir()
    if folder is None:
        return Lark(grammar, **options)
    key = repr(sorted(options.items())) + lark.__version__ + repr(sys.version_info[:2]) + grammar
    path = folder / f"{name}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}.lark"
    try:
        with open(path, "rb") as f:
            return Lark.load(f)
    except Exception:  # not built yet, or a damaged or foreign file: build afresh and replace it
        pass
    parser = Lark(grammar, **options)
    _save(path, parser.save)
    return parser


def _save(path: Path, write: Callable[[Any], object]) -> bool:
    """Write a cache file: ``write(file)`` into a temporary name beside ``path``, then renamed, so two
    runs at once never read half a file. A folder that cannot be written only loses the cache."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
        return True
    except (OSError, pickle.PicklingError):
        try:
            tmp.unlink()
        except OSError:
            pass
        return False


#: Parsed ruleset files kept at most; the least recently written are removed beyond it.
MAX_PARSED = 64

T = TypeVar("T")


@functools.cache
def _parser_code() -> bytes:
    """What a parse depends on besides the text: the grammar, the parser, the AST classes, Lark, Python.

    Lark's version is read from its package's opening file (which states it), not by importing it:
    reading a parse back should not cost the parser's import.
    """
    import importlib.util

    here = Path(__file__).parent
    spec = importlib.util.find_spec("lark")
    h = hashlib.sha256(repr(sys.version_info[:2]).encode())
    for path in [here / "grammar.lark", here / "parser.py", here / "ast.py", Path(spec.origin or "") if spec else None]:
        try:
            h.update(path.read_bytes())  # type: ignore[union-attr]
        except (OSError, AttributeError):  # a packaging without sources: never reuse a parse then
            h.update(os.urandom(16))
    return h.digest()


def parsed(text: str, file: str, parse: Callable[[str, str], T]) -> T:
    """``parse(text, file)``, read back from the cache when this text was parsed under this name before.

    Whatever ``parse`` raises (a syntax error, a broken limit) goes to the caller and nothing is kept.
    """
    folder = cache_dir()
    if folder is None:
        return parse(text, file)
    h = hashlib.sha256(_parser_code())
    h.update(file.encode("utf-8", "surrogatepass") + b"\x00" + text.encode("utf-8", "surrogatepass"))
    path = folder / "parsed" / f"{h.hexdigest()[:32]}.pickle"
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - not parsed yet, or a damaged or foreign file: parse afresh
        pass
    result = parse(text, file)
    if _save(path, lambda f: pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)):
        _prune(path.parent)
    return result


def _prune(folder: Path) -> None:
    """Keep the :data:`MAX_PARSED` newest parses (a policy officer editing a file makes one per run)."""
    files = list(folder.glob("*.pickle"))
    if len(files) <= MAX_PARSED:
        return
    aged = []
    for p in files:
        try:
            aged.append((p.stat().st_mtime, p))
        except OSError:
            pass
    for _, p in sorted(aged)[: len(aged) - MAX_PARSED]:
        try:
            p.unlink()
        except OSError:
            pass
