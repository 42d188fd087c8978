"""Finding standards by id: the bundled rulesets, plugin-provided ones, or a path.

Bundled rulesets live in the repository's ``rulesets/`` folder; an installed
wheel carries them inside the package as ``qbe/rulesets``. Example datasets
sit beside them in ``examples/<standard-id>/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import UsageError

_ID = re.compile(r"^\s*standard\s+([A-Za-z][A-Za-z0-9_-]*)", re.M)


def ruleset_dirs() -> list[Path]:
    out = []
    pkg = resources.files("qbe").joinpath("rulesets")
    if pkg.is_dir():
        out.append(Path(str(pkg)))
    repo = Path(__file__).resolve().parents[2] / "rulesets"
    if repo.is_dir() and repo not in out:
        out.append(repo)
    return out


@dataclass(frozen=True)
class StandardInfo:
    id: str
    path: Path
    provider: str

    @property
    def example_dir(self) -> Path:
        return self.path.parent / "examples" / self.id


def _id_of(path: Path) -> str | None:
    """The id a ruleset file declares, or None (unreadable, or too large to be a ruleset at all:
    such a file would be refused when parsed, so it is not read just to be listed)."""
    from .language.reading import MAX_FILE_BYTES

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        m = _ID.search(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return m.group(1) if m else None


def installed(extra: list[tuple[str, Path]] | None = None) -> list[StandardInfo]:
    """Every standard qbe can run by id, bundled first, then plugins'."""
    seen: dict[str, StandardInfo] = {}
    for d in ruleset_dirs():
        for p in sorted(d.glob("*.qbe")):
            sid = _id_of(p)
            if sid and sid not in seen:
                seen[sid] = StandardInfo(sid, p, "qbe")
    for provider, p in extra or []:
        sid = _id_of(p)
        if sid and sid not in seen:
            seen[sid] = StandardInfo(sid, p, provider)
    return list(seen.values())


def resolve(standard: str, extra: list[tuple[str, Path]] | None = None) -> StandardInfo:
    """A standard id, or a path to a ``.qbe`` file."""
    p = Path(standard)
    if p.suffix == ".qbe" or p.exists():
        if not p.is_file():
            raise UsageError(f"找不到规则文件：{p}", f"ruleset file not found: {p}")
        return StandardInfo(_id_of(p) or p.stem, p, "file")
    known = installed(extra)
    for s in known:
        if s.id == standard:
            return s
    import difflib

    ids = [s.id for s in known]
    close = difflib.get_close_matches(standard, ids, n=1)
    hint_zh = f"是否想用 '{close[0]}'？" if close else ""
    hint_en = f" Did you mean '{close[0]}'?" if close else ""
    raise UsageError(
        f"未知标准 '{standard}'。{hint_zh}可用标准：{', '.join(ids)}（qbe standards 可列出全部）",
        f"unknown standard '{standard}'.{hint_en} Available: {', '.join(ids)} (see qbe standards)",
    )
