"""The HTML report in a real browser: Debian's headless chromium renders the demo report.

What is checked, and how:

* **It renders, with its charts.** ``--dump-dom`` gives the DOM after the page
  has loaded and laid out; it must hold the CV charts (14 bars, 14 limit
  lines), the strip chart with its 85% and 100% lines, the verdict charts and
  the summary sentence. ``--screenshot`` gives a PNG, which is decoded here
  (zlib and the PNG row filters, no imaging library) to check that it is the
  window's size, that the page header has its colour, and that the charts'
  status colours were painted — so a blank or unstyled page fails.
* **Nothing is fetched from the network.** Three independent layers:
  (1) the served page and the rendered DOM hold no external reference at all
  (no ``src``, no ``<link>``, no ``<script>``, no ``http(s)://``);
  (2) chromium runs with ``--proxy-server=127.0.0.1:9`` (the discard port,
  nothing listens), so no request could leave the machine anyway;
  (3) chromium writes a NetLog (``--log-net-log``), the browser's own record of
  every network request, and no request may have been made *for the page*:
  a request made for the page carries the page's ``file://`` network
  isolation key or blink's resource-loader traffic annotation, unlike the
  browser's own background traffic (update and account checks, which the
  proxy swallows). A canary page with an external image and style sheet is
  loaded the same way first, and must be caught — so the check is shown to
  work with this chromium, rather than passing because it sees nothing.

The screenshot is kept as a test artifact in ``$QBE_ARTIFACTS`` (default: the
test's temporary folder) as ``html-demo.png``; ``QBE_ARTIFACTS=docs/gallery``
refreshes the gallery picture. Without chromium the test is skipped, saying why.
"""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import chromium_or_skip
from qbe.cli import main

pytest.importorskip("jinja2", reason="the HTML writer needs the html extra: pip install 'qbe[html]'")

#: blink's resource loader (requests a page makes for its subresources), a fixed annotation hash
BLINK_RESOURCE_LOADER = 101845102
WINDOW = (1280, 2400)


def run_chromium(exe: str, profile: Path, netlog: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", f"--log-net-log={netlog}",
        "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}", *extra, url,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def page_requests(netlog: Path) -> list[str]:
    """URLs the browser requested on behalf of a page loaded from ``file://`` (from its NetLog)."""
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit lacks its closing brackets
        log = json.loads(text.rstrip(",") + "]}")
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls: dict[int, str] = {}
    for_page: set[int] = set()
    for e in log["events"]:
        p = e.get("params") or {}
        src = e.get("source", {}).get("id")
        kind = names.get(e["type"])
        if kind == "REQUEST_ALIVE" and p.get("traffic_annotation") == BLINK_RESOURCE_LOADER:
            for_page.add(src)
        if kind == "URL_REQUEST_START_JOB" and "url" in p:  # the job's begin event (its end event has no params)
            urls[src] = p["url"]
            if "file:" in p.get("network_isolation_key", "") or p.get("initiator") == "null":
                for_page.add(src)
    return sorted(u for s, u in urls.items() if s in for_page)


class Elements(HTMLParser):
    """Every element of a document as (tag, attributes), and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def having(self, tag: str, cls: str) -> list[dict]:
        return [a for t, a in self.elements if t == tag and cls in (a.get("class") or "").split()]


def elements(markup: str) -> Elements:
    p = Elements()
    p.feed(markup)
    p.close()
    return p


def no_external_references(doc: Elements, markup: str) -> None:
    low = markup.lower()
    assert "http://" not in low and "https://" not in low and "@import" not in low and "url(" not in low
    for tag, attrs in doc.elements:
        assert tag not in ("script", "link", "iframe", "object", "embed", "img"), tag
        assert "src" not in attrs and "srcset" not in attrs, (tag, attrs)
        href = attrs.get("href") or attrs.get("xlink:href")
        assert href is None or href.startswith("#"), (tag, href)


def png_pixels(path: Path) -> tuple[int, int, int, list[bytearray]]:
    """Decode an 8-bit RGB or RGBA PNG (what chromium writes) into rows of pixel bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert hdr is not None
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        start = y * (stride + 1)
        f, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def pixel(rows, bpp: int, x: int, y: int) -> tuple[int, int, int]:
    return tuple(rows[y][x * bpp:x * bpp + 3])


def count_colour(rows, bpp: int, rgb: tuple[int, int, int]) -> int:
    want = bytes(rgb)
    n = 0
    for line in rows:
        for x in range(0, len(line), bpp):
            if line[x:x + 3] == want:
                n += 1
    return n


def test_netlog_check_catches_a_page_that_fetches(request, tmp_path):
    """The canary: external image and style sheet must show up as page requests in the NetLog."""
    exe = chromium_or_skip(request, "the HTML report's browser test")
    page = tmp_path / "canary.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="stylesheet" href="http://127.0.0.1:9/canary.css"></head>'
                    '<body><img src="http://127.0.0.1:9/canary.png" alt=""><p>canary</p></body></html>', encoding="utf-8")
    netlog = tmp_path / "canary-netlog.json"
    run_chromium(exe, tmp_path / "profile", netlog, page.as_uri(), "--dump-dom")
    got = page_requests(netlog)
    assert "http://127.0.0.1:9/canary.png" in got and "http://127.0.0.1:9/canary.css" in got, got


def test_demo_report_renders_in_chromium_offline(request, tmp_path, artifacts):
    exe = chromium_or_skip(request, "the HTML report's browser test")
    res = CliRunner().invoke(main, ["demo", "-f", "html", "-o", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    report = tmp_path / "report" / "national-2017.html"
    served = report.read_text(encoding="utf-8")
    no_external_references(elements(served), served)

    # 1. the DOM after loading: the charts are there
    netlog = tmp_path / "dom-netlog.json"
    dom = run_chromium(exe, tmp_path / "profile-dom", netlog, report.as_uri(), "--dump-dom").stdout
    doc = elements(dom)
    no_external_references(doc, dom)
    assert len(doc.having("svg", "cv-chart")) == 2
    assert len(doc.having("rect", "cv-bar")) == 14 and len(doc.having("line", "cv-limit")) == 14
    assert len(doc.having("svg", "strip-chart")) == 1
    assert len(doc.having("line", "ref-85")) == 1 and len(doc.having("line", "ref-100")) == 1
    assert len(doc.having("svg", "verdict-chart")) == 1 and len(doc.having("svg", "parts-chart")) == 1
    assert "尚有二项指标未全面达标" in "".join(doc.text)
    assert page_requests(netlog) == []

    # 2. the screenshot: the right size, styled, charts painted
    shot = artifacts / "html-demo.png"
    shot.unlink(missing_ok=True)
    netlog = tmp_path / "shot-netlog.json"
    run_chromium(exe, tmp_path / "profile-shot", netlog, report.as_uri(), f"--screenshot={shot}")
    assert page_requests(netlog) == []
    assert shot.is_file() and shot.stat().st_size > 50_000, "the screenshot is missing or nearly empty"
    w, h, bpp, rows = png_pixels(shot)
    assert (w, h) == WINDOW
    assert pixel(rows, bpp, 20, 20) == (0x0B, 0x4F, 0x8A), "the page header is not drawn with the report's CSS"
    assert pixel(rows, bpp, WINDOW[0] - 40, 700) == (255, 255, 255)
    assert count_colour(rows, bpp, (0x43, 0xA0, 0x47)) > 2_000, "no green (met) bars were painted"
    assert count_colour(rows, bpp, (0xD3, 0x2F, 0x2F)) > 500, "no red (not met) marks were painted"
    distinct = {bytes(rows[y][x:x + 3]) for y in range(0, h, 7) for x in range(0, w * bpp, bpp * 5)}
    assert len(distinct) > 50, "the screenshot is nearly blank"
