"""The safety checks every request passes before it reaches a page.

* **Host**: on loopback the ``Host`` header must name the loopback address
  (a web page elsewhere cannot reach the app through a DNS name it controls).
* **Token**: when the app listens beyond this computer, every request must
  carry the access token — once as ``?token=…`` (then kept in a cookie), or as
  ``Authorization: Bearer …``.
* **Origin**: a form posted from another site is refused.
* **Size**: a request body larger than the limit is refused as it arrives,
  before it is stored anywhere.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
TOKEN_COOKIE = "qbe_token"


def is_loopback(host: str) -> bool:
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass
class GuardSettings:
    token: str | None
    loopback: bool
    max_body: int  #: bytes a request body may have


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware applying the checks above."""

    def __init__(self, app, settings: GuardSettings) -> None:
        self.app = app
        self.s = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        lang = _lang(headers)
        host = headers.get("host", "")
        if self.s.loopback and _hostname(host) not in LOOPBACK_NAMES and not is_loopback(_hostname(host)):
            return await _plain(send, 421, "请用 http://127.0.0.1 打开本页面 / open this page at http://127.0.0.1")
        if self.s.token:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.get("token")
            if given is not None and _same(given, self.s.token) and scope["method"] == "GET":
                rest = urlencode({k: v for k, v in query.items() if k != "token"})
                return await _redirect(send, scope["path"] + (f"?{rest}" if rest else ""), self.s.token)
            bearer = headers.get("authorization", "")
            cookie = SimpleCookie(headers.get("cookie", ""))
            ok = (bearer.startswith("Bearer ") and _same(bearer[7:], self.s.token)) or (
                TOKEN_COOKIE in cookie and _same(cookie[TOKEN_COOKIE].value, self.s.token))
            if not ok:
                return await _plain(send, 401, "需要访问口令：请使用启动时给出的完整地址（含 ?token=…）/ "
                                               "an access token is needed: open the full address printed at start-up")
        if scope["method"] == "POST":
            origin = headers.get("origin")
            if origin and origin != "null" and origin.split("://", 1)[-1] != host:
                return await _plain(send, 403, "拒绝来自其他网站的提交 / a form posted from another site is refused")
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.s.max_body:
                return await _too_large(send, self.s.max_body, lang)
        seen = 0
        limit = self.s.max_body
        started = False

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit, lang)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _lang(headers: dict[str, str]) -> str:
    cookie = SimpleCookie(headers.get("cookie", ""))
    return "en" if "qbe_lang" in cookie and cookie["qbe_lang"].value == "en" else "zh"


async def _plain(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int, lang: str) -> None:
    mb = f"{limit / 2**20:.0f}"
    body = json.dumps({"error": "too_large", "limit_bytes": limit,
                       "message": f"上传的内容过大（上限约 {mb} MB）" if lang == "zh" else f"the upload is too large (limit about {mb} MB)"},
                      ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, location: str, token: str) -> None:
    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                            (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
