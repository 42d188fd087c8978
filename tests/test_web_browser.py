"""``qbe serve`` end to end in a real headless browser (Debian's chromium, driven by Playwright).

The app runs under uvicorn on a free loopback port, as ``qbe serve`` runs it,
and the browser does what a user does: picks the bundled example, waits for
the verdict, opens a school's explanation, sorts and filters the school table,
downloads every format, compares two years, checks an edited ruleset, and
uploads a bad table to see the data error table.

Playwright drives the system's chromium (``/usr/bin/chromium``, or
``$QBE_CHROMIUM``) through ``executable_path``; Playwright's own browser
downloads are never used. Screenshots are saved in ``$QBE_ARTIFACTS``
(default: the test's temporary folder) as ``web-*.png``;
``QBE_ARTIFACTS=docs/web`` refreshes the pictures of docs/web.md. Without
chromium or Playwright the test is skipped, saying why.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'qbe[web]'")
pytest.importorskip("uvicorn", reason="the web app needs the web extra: pip install 'qbe[web]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs Playwright: pip install playwright")

from conftest import chromium_or_skip  # noqa: E402
from qbe.web.app import Settings, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
WINDOW = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server():
    """The app under uvicorn in a thread, on a free loopback port; stopped (and its files removed) afterwards."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(port=port))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not srv.started:
        assert time.monotonic() - t0 < 30, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.store
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(request, server):
    exe = chromium_or_skip(request, "the web app's browser test")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport=WINDOW, accept_downloads=True, locale="zh-CN")
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


def test_example_verdict_explanation_table_downloads_compare(page, server, artifacts, tmp_path):
    base, store = server
    page.goto(base + "/")
    assert page.locator("#std-national-2017").is_checked()
    page.screenshot(path=str(artifacts / "web-home.png"), full_page=True)

    # 1. the bundled example: the verdict comes first
    page.check("#example")
    page.click("#evaluate")
    verdict = page.locator("#verdict-999901")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") == "not_met"
    assert "未达标" in verdict.inner_text()
    assert page.locator("svg.cv-chart").count() == 2 and page.locator("rect.cv-bar").count() == 14
    page.screenshot(path=str(artifacts / "web-report.png"), full_page=False)

    # 2. a school's explanation, on click
    page.click('a.explain-school[data-school="9999010001"]')
    panel = page.locator("#explain-text")
    page.wait_for_function("document.getElementById('explain-text').textContent.includes('5.778')")
    assert "104 / 1800 * 100 = 5.778" in panel.inner_text()
    page.screenshot(path=str(artifacts / "web-explain.png"))
    page.click("#explain-panel button")

    # 3. sort by the teaching-room indicator (ascending: 博雅小学's 86% is lowest), then filter
    rows = page.locator("#school-table tbody tr")
    page.click('#school-table th[title="teaching_area_per_student"]')
    first = rows.nth(0).inner_text()
    assert "博雅小学" in first and "86%" in first
    page.fill("#school-filter", "博雅")
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 1 and "博雅小学" in visible[0].inner_text()
    page.fill("#school-filter", "")
    page.check("#only-problems")
    bad = [r.get_attribute("data-statuses") for r in rows.all() if r.is_visible()]
    assert bad and all(any(k in s for k in ("not_met", "not_assessed", "tolerated")) for s in bad) and len(bad) < 35
    page.uncheck("#only-problems")
    page.locator("#schools").screenshot(path=str(artifacts / "web-schools.png"))

    # 4. every download, through the browser's own download
    for fmt in ("xlsx", "docx", "html", "json"):
        with page.expect_download() as info:
            page.click(f'#downloads a[data-format="{fmt}"]')
        dl = info.value
        assert dl.suggested_filename == f"national-2017.{fmt}"
        path = tmp_path / dl.suggested_filename
        dl.save_as(str(path))
        if fmt in ("xlsx", "docx"):
            assert zipfile.is_zipfile(path)
        elif fmt == "html":
            assert "尚有二项指标未全面达标" in path.read_text(encoding="utf-8")
        else:
            assert json.loads(path.read_text(encoding="utf-8"))["counties"][0]["verdict"] == "not_met"

    # 5. compare with national-2019 on the same upload: this data has none of 2019's optional
    #    columns, so no allowance applies and no verdict changes (as `qbe compare` says)
    page.select_option("#compare-other", "national-2019")
    page.click("#do-compare")
    page.locator("#comparison").wait_for()
    cells = page.locator("#compare-counties tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["✗ 未达标", "✗ 未达标", "否"]
    assert "各项结论相同" in page.locator("#comparison").inner_text()


def test_compare_two_years_of_a_yearly_standard(page, server, artifacts):
    """qiantang-2022's example meets the 2022 targets but not the 2024 ones (as `qbe compare` says)."""
    base, _ = server
    page.goto(base + "/")
    page.check("#std-qiantang-2022")
    page.select_option("#year", "2022")
    page.check("#example")
    page.click("#evaluate")
    verdict = page.locator("#verdict-999903")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") == "met"
    page.select_option("#compare-other", "qiantang-2022@2024")
    page.click("#do-compare")
    page.locator("#comparison").wait_for()
    cells = page.locator("#compare-counties tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["✓ 达标", "✗ 未达标", "是"]
    assert "t01_good_youth" in page.locator("#comparison").inner_text()
    page.screenshot(path=str(artifacts / "web-compare.png"), full_page=False)


def test_bad_upload_shows_the_data_error_table(page, server, artifacts, tmp_path):
    base, _ = server
    lines = (EXAMPLE / "schools.csv").read_text(encoding="utf-8").splitlines()
    col = lines[0].split(",").index("students")
    cells = lines[2].split(",")
    cells[col] = "一千"
    lines[2] = ",".join(cells)
    bad = tmp_path / "学校数据.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    page.goto(base + "/")
    page.set_input_files("#schools", str(bad))
    page.set_input_files("#counties", str(EXAMPLE / "counties.csv"))
    page.click("#evaluate")
    page.locator("#issues").wait_for()
    row = page.locator("#issues tbody tr").first.locator("td").all_inner_texts()
    assert row[0] == "学校数据.csv" and row[2] == "3" and row[3] == "students" and row[4] == "一千"
    assert page.locator("[data-verdict]").count() == 0
    page.screenshot(path=str(artifacts / "web-data-errors.png"))


def test_ruleset_view_and_check_in_english(page, server, artifacts):
    base, _ = server
    page.goto(base + "/standards/national-2017?lang=en")
    assert page.locator("#source .k").count() > 100  # keywords highlighted
    text = page.input_value("#ruleset-text")
    page.fill("#ruleset-text", text.replace("/ students", "/ studnets", 1))
    page.click("#check")
    page.locator("#problems").wait_for()
    assert "studnets" in page.locator("#problems").inner_text()
    page.locator(".ln.bad").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "web-check.png"))
