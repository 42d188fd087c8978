"""Starting the web app: checks that make the defaults safe, then uvicorn, then the browser."""

from __future__ import annotations

import re
import socket
import threading
import webbrowser
from collections.abc import Callable
from urllib.parse import quote

from ..errors import UsageError
from .app import Settings, create_app
from .guard import is_loopback

#: a shorter token is too easy to guess for an app reachable from other computers
MIN_TOKEN_LENGTH = 12
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


def check_settings(s: Settings) -> None:
    """Refuse settings that would expose the app or cannot work, with a bilingual usage error."""
    if not is_loopback(s.host) and not s.token:
        raise UsageError(
            f"在 {s.host} 上提供服务会让其他计算机访问本应用，必须同时用 --token（或环境变量 QBE_WEB_TOKEN）设置访问口令",
            f"serving on {s.host} lets other computers reach the app: set an access token with --token (or QBE_WEB_TOKEN)",
        )
    if s.token is not None and len(s.token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"访问口令至少需要 {MIN_TOKEN_LENGTH} 个字符", f"the access token needs at least {MIN_TOKEN_LENGTH} characters")
    if s.token is not None and not TOKEN_CHARS.fullmatch(s.token):
        raise UsageError("访问口令只能含英文字母、数字和 . _ ~ -（它会出现在网址和 Cookie 中）",
                         "the access token may hold only letters, digits and . _ ~ - (it goes into an address and a cookie)")
    if s.max_upload_mb <= 0 or s.session_minutes <= 0:
        raise UsageError("--max-upload-mb 和 --session-minutes 必须大于 0", "--max-upload-mb and --session-minutes must be above 0")
    if not 0 <= s.port <= 65535:
        raise UsageError(f"端口号无效：{s.port}", f"not a port number: {s.port}")


def free_port(host: str, port: int) -> int:
    """``port`` if it can be bound on ``host`` (0: any free one), else a usage error naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as e:
            raise UsageError(f"无法在 {host}:{port} 上提供服务（{e.strerror}）；请用 --port 换一个端口",
                             f"cannot serve on {host}:{port} ({e.strerror}); choose another with --port") from None
        return sock.getsockname()[1]


def url_of(s: Settings, port: int) -> str:
    host = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/" + (f"?token={quote(s.token)}" if s.token else "")


def serve(s: Settings, open_browser: bool = True, echo: Callable[..., None] = print, lang: str = "zh") -> None:
    """Run the app until interrupted (Ctrl+C); the sessions' temporary files are removed on the way out."""
    import uvicorn

    check_settings(s)
    port = free_port(s.host, s.port)
    s.port = port
    app = create_app(s)
    url = url_of(s, port)
    if lang == "zh":
        echo(f"qbe 网页版已启动：{url}\n按 Ctrl+C 停止（上传的文件会随之删除）。")
    else:
        echo(f"qbe web app running at {url}\nPress Ctrl+C to stop (uploaded files are then deleted).")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=s.host, port=port, log_level="warning", lifespan="on")
