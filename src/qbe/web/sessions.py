"""Per-browser sessions: each keeps its uploads and runs in its own temporary folder.

A session is a random id in a cookie; nothing a user sends is ever used as a
path. Uploaded files are stored under names the server makes up (keeping only
a whitelisted extension, so the loaders know the format), and the name the
user gave is kept for display only. A session's folder is removed when it has
been idle for ``ttl`` seconds, when the user ends it, and when the server stops.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: file extensions an upload may have (lower case), the formats the built-in loaders read
UPLOAD_EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".txt", ".json")


@dataclass
class Upload:
    """A stored upload: the server's own path and the name the user's file had."""

    path: Path
    name: str


@dataclass
class Session:
    id: str
    folder: Path
    last_seen: float
    runs: dict[str, Any] = field(default_factory=dict)
    counter: int = 0

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def new_name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"


class SessionStore:
    """Every live session, under one root temporary folder that is removed on shutdown."""

    def __init__(self, ttl: float = 2 * 3600, root: Path | None = None) -> None:
        self.ttl = ttl
        self.root = Path(tempfile.mkdtemp(prefix="qbe-web-", dir=root))
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> Session | None:
        with self._lock:
            s = self._sessions.get(sid or "")
            if s is not None:
                s.touch()
            return s

    def create(self) -> Session:
        sid = secrets.token_urlsafe(24)
        self.root.mkdir(mode=0o700, exist_ok=True)  # again after a shutdown, when the same app serves once more
        folder = self.root / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        s = Session(sid, folder, time.monotonic())
        with self._lock:
            self._sessions[sid] = s
        return s

    def end(self, sid: str) -> None:
        with self._lock:
            s = self._sessions.pop(sid, None)
        if s is not None:
            shutil.rmtree(s.folder, ignore_errors=True)

    def sweep(self, now: float | None = None) -> int:
        """End the sessions idle longer than ``ttl``; returns how many were ended."""
        now = time.monotonic() if now is None else now
        with self._lock:
            old = [sid for sid, s in self._sessions.items() if now - s.last_seen > self.ttl and not _busy(s)]
        for sid in old:
            self.end(sid)
        return len(old)

    def close(self) -> None:
        with self._lock:
            self._sessions.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def __len__(self) -> int:
        return len(self._sessions)


def _busy(s: Session) -> bool:
    return any(getattr(r, "state", "") in ("queued", "running") for r in s.runs.values())


def safe_extension(filename: str) -> str | None:
    """The upload's extension if it is one qbe reads, else None (the name itself is never used as a path)."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    return suffix if suffix in UPLOAD_EXTENSIONS else None


def display_name(filename: str) -> str:
    """The last part of the user's file name, for messages only."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:120] or "upload"
