"""The LALR tables of the ruleset grammar, built once per machine instead of once per run.

Building Lark's LALR parser for ``grammar.lark`` takes about a quarter of a
second, more than parsing a whole standard; every ``qbe`` command would pay
it again. The built parser is saved in the user's cache folder and loaded
from there next time (~30 ms). The file name carries a hash of the grammar,
the options, and the Lark and Python versions, so a changed grammar or an
upgrade simply builds a new one. Files are written to a temporary name and
renamed, so two runs at once never read half a file; an unreadable file is
rebuilt, and a cache folder that cannot be written only costs the build.

``QBE_CACHE_DIR`` chooses the folder; ``QBE_CACHE_DIR=off`` turns caching off.
The folder is created private to the user (mode 700): a cached parser is a
pickle, and only the user's own files are ever loaded.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import lark
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
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            parser.save(f)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
    return parser
