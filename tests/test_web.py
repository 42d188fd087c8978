"""``qbe serve``: the web app through Starlette's test client.

Numbers checked here are worked out by hand from the bundled example
(rulesets/examples/national-2017): 示例区第一实验小学 has 1800 students, 8640 m²
of teaching rooms (4.8 m² a student against 4.5: 106.67%, shown as 106%) and
104 teachers above the required degree (104 / 1800 × 100 = 5.778 per hundred).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'qbe[web]'")
pytest.importorskip("multipart", reason="the web app needs the web extra: pip install 'qbe[web]'")
pytest.importorskip("starlette.testclient", reason="Starlette's test client needs httpx2 (or httpx)")

from starlette.testclient import TestClient  # noqa: E402

from qbe.cli import main  # noqa: E402
from qbe.web.app import Settings, create_app  # noqa: E402
from qbe.web.server import check_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
LOCAL = "http://127.0.0.1"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def app():
    return create_app(Settings())


@pytest.fixture
def client(app):
    with TestClient(app, base_url=LOCAL) as c:
        yield c


def wait(client: TestClient, location: str, timeout: float = 60) -> str:
    """Poll the run's status until it is no longer running; its final state."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        st = client.get(f"{location}/status").json()["state"]
        if st not in ("queued", "running"):
            return st
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def start(client: TestClient, files=None, **fields) -> str:
    data = {"standard": "national-2017", **fields}
    res = client.post("/runs", data=data, files=files, follow_redirects=False)
    assert res.status_code == 303, res.text
    return res.headers["location"]


def example_files(schools: bytes | None = None) -> dict:
    return {"schools": ("学校.csv", schools if schools is not None else (EXAMPLE / "schools.csv").read_bytes(), "text/csv"),
            "counties": ("区县.csv", (EXAMPLE / "counties.csv").read_bytes(), "text/csv")}


# ---------------------------------------------------------------------------- step 1: standards


def test_home_lists_every_installed_standard_with_parent_and_years(client):
    from qbe.standards import installed

    page = client.get("/").text
    for s in installed():
        assert f'value="{s.id}"' in page
    # national-2019 extends national-2017; qiantang-2022 has yearly values 2022–2024
    row_2019 = page.split('id="std-national-2019"', 1)[1].split("</tr>", 1)[0]
    assert "继承自 <code>national-2017</code>" in row_2019
    assert "教督〔2017〕6号" in row_2019
    row_qt = page.split('id="std-qiantang-2022"', 1)[1].split("</tr>", 1)[0]
    assert "2022–2024" in row_qt and "独立标准" in row_qt
    for y in (2022, 2023, 2024):
        assert f'<option value="{y}" data-std="qiantang-2022">' in page


def test_english_switch(client):
    res = client.get("/?lang=en")
    assert "Step 1: choose a standard and year" in res.text and res.cookies.get("qbe_lang") == "en"
    assert "Step 1" in client.get("/").text  # remembered in the cookie


# ---------------------------------------------------------------------------- runs


def test_example_run_gives_the_verdict_table_and_explanations(client):
    loc = start(client, example="1")
    assert wait(client, loc) == "done"
    page = client.get(loc).text
    assert 'id="verdict-999901" data-verdict="not_met"' in page
    assert "尚有二项指标未全面达标" in page
    # each part's items with badges; CV charts from the HTML report's SVG code
    assert page.count('class="cv-bar') == 14 and page.count('class="chart cv-chart') == 2
    # the school table: 35 rows, 106% for the first school's teaching rooms
    table = page.split('id="school-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('class="explain-school"') == 35
    first = table.split('data-school="9999010001"', 1)[1].split("</tr>", 1)[0]
    assert ">106%</td>" in first
    boya = table.split('data-school="9999010003"', 1)[1].split("</tr>", 1)[0]
    assert ">86% △</td>" in boya  # 博雅小学: 0.86 of the teaching-room requirement, tolerated (≥ 85%)
    # the explanation is qbe explain's trace
    text = client.get(f"{loc}/explain", params={"school": "9999010001", "county": "999901"}).text
    assert "104 / 1800 * 100 = 5.778" in text
    county = client.get(f"{loc}/explain", params={"county": "999901"}).text
    assert "示例区（虚构）（999901）" in county


def test_progress_is_shown_while_a_run_waits_or_runs(client):
    from qbe.web import runs

    with runs._ONE_AT_A_TIME:  # another evaluation is running: this one waits
        loc = start(client, example="1")
        assert client.get(f"{loc}/status").json()["state"] == "queued"
        page = client.get(loc).text
        assert f'data-status-url="{loc}/status"' in page and "<progress" in page and "data-verdict" not in page
    assert wait(client, loc) == "done"
    assert "<progress" not in client.get(loc).text
    assert client.get("/runs/ffffffffffff/status").status_code == 404


def test_report_in_english(client):
    loc = start(client, example="1")
    assert wait(client, loc) == "done"
    page = client.get(f"{loc}?lang=en").text
    assert "Download the report" in page and "✗ not met" in page
    assert '<ol lang="en" class="findings-en">' in page
    text = client.get(f"{loc}/explain", params={"school": "9999010001"}).text
    assert "requirement" in text or "required" in text


def test_uploaded_csv_matches_the_example_and_hides_server_paths(client):
    loc = start(client, files=example_files())
    assert wait(client, loc) == "done"
    page = client.get(loc).text
    assert 'data-verdict="not_met"' in page and "学校.csv" in page
    assert "/tmp/" not in page and "qbe-web-" not in page


def test_several_counties_list_every_verdict_and_detail_one_at_a_time(client):
    """The example county twice (the copy as 999902, its schools recoded): two counties, same verdicts."""
    def twice(path: Path, code_cols: tuple[str, ...]) -> bytes:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        out = list(lines)
        for line in lines[1:]:
            cells = line.split(",")
            for col in code_cols:
                i = header.index(col)
                cells[i] = cells[i].replace("999901", "999902", 1)
            out.append(",".join(cells))
        return ("\n".join(out) + "\n").encode("utf-8")

    files = {"schools": ("schools.csv", twice(EXAMPLE / "schools.csv", ("county_code", "school_code")), "text/csv"),
             "counties": ("counties.csv", twice(EXAMPLE / "counties.csv", ("county_code",)), "text/csv")}
    loc = start(client, files=files)
    assert wait(client, loc) == "done"
    page = client.get(loc).text
    table = page.split('id="county-table"', 1)[1].split("</table>", 1)[0]
    # per county: the verdict and one part (政府保障程度) not met, the other five parts met
    assert table.count("?county=") == 2 and table.count('data-sort="not_met"') == 4 and table.count('data-sort="met"') == 10
    assert 'id="verdict-999901"' in page and 'id="verdict-999902"' not in page  # both not met: the lower code first
    assert page.split('id="school-table"', 1)[1].count('class="explain-school"') == 35
    other = client.get(f"{loc}?county=999902").text
    assert 'id="verdict-999902" data-verdict="not_met"' in other and 'id="verdict-999901"' not in other
    rows = other.split('id="school-table"', 1)[1].split("</table>", 1)[0]
    assert rows.count('data-county="999902"') == 35 and 'data-county="999901"' not in rows


def test_filled_input_template_is_accepted_as_both_tables(client, tmp_path):
    from test_template import fill

    from qbe.pipeline import load_model
    from qbe.template import build_template

    model = load_model("national-2017")
    wb = openpyxl.load_workbook(io.BytesIO(build_template(model)))
    assert fill(wb["学校"], EXAMPLE / "schools.csv", model) == 35
    assert fill(wb["区县"], EXAMPLE / "counties.csv", model) == 1
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = buf.getvalue()
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    loc = start(client, files={"schools": ("填报模板.xlsx", xlsx, kind), "counties": ("填报模板.xlsx", xlsx, kind)})
    assert wait(client, loc) == "done"
    assert 'id="verdict-999901" data-verdict="not_met"' in client.get(loc).text


def test_bad_upload_is_refused_with_a_located_error_table(client):
    lines = (EXAMPLE / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("students")
    cells = lines[2].split(",")  # the second school: CSV row 3
    cells[col] = "一千"
    lines[2] = ",".join(cells)
    loc = start(client, files=example_files(("\n".join(lines) + "\n").encode("utf-8")))
    assert wait(client, loc) == "data_error"
    res = client.get(loc)
    assert res.status_code == 422
    table = res.text.split('id="issues"', 1)[1].split("</table>", 1)[0]
    row = table.split('<tr class="issue', 1)[1].split("</tr>", 1)[0]
    cells_html = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]]
    assert cells_html[0] == "学校.csv" and cells_html[2] == "3" and cells_html[3] == "students"
    assert "一千" in row
    assert 'data-verdict' not in res.text  # no verdict is shown
    assert client.get(f"{loc}/download/json").status_code == 404


def test_unreadable_upload_is_a_data_error_not_a_traceback(client):
    loc = start(client, files={"schools": ("schools.xlsx", b"not a workbook", "application/octet-stream")})
    assert wait(client, loc) == "data_error"
    page = client.get(loc).text
    assert "schools.xlsx" in page and "Traceback" not in page


def test_missing_school_table_and_unknown_extension_are_explained(client):
    res = client.post("/runs", data={"standard": "national-2017"})
    assert res.status_code == 400 and "请上传学校表" in res.text
    res = client.post("/runs", data={"standard": "national-2017"}, files={"schools": ("a.exe", b"MZ", "application/x-msdownload")})
    assert res.status_code == 400 and "a.exe" in res.text


def test_yearly_standard_and_a_year_it_does_not_cover(client):
    loc = start(client, standard="qiantang-2022", example="1", year="2030")
    assert wait(client, loc) == "failed"
    assert "2022–2024" in client.get(loc).text
    loc = start(client, standard="qiantang-2022", example="1", year="2022")
    assert wait(client, loc) == "done"
    assert 'data-verdict="met"' in client.get(loc).text


# ---------------------------------------------------------------------------- downloads


def test_download_each_format(client):
    loc = start(client, example="1")
    assert wait(client, loc) == "done"
    got = {}
    for fmt in ("xlsx", "docx", "html", "json"):
        res = client.get(f"{loc}/download/{fmt}")
        assert res.status_code == 200, (fmt, res.text[:200])
        assert f'filename="national-2017.{fmt}"' in res.headers["content-disposition"]
        got[fmt] = res.content
    assert got["xlsx"][:2] == b"PK" and got["docx"][:2] == b"PK"
    wb = openpyxl.load_workbook(io.BytesIO(got["xlsx"]))
    assert len(wb.sheetnames) >= 2
    assert b"<html" in got["html"][:400].lower()
    rep = json.loads(got["json"])
    assert rep["counties"][0]["verdict"] == "not_met" and rep["summary"]["rows"] == 35
    assert client.get(f"{loc}/download/markdown").status_code == 404
    assert client.get(f"{loc}/download/..%2F..%2Fetc%2Fpasswd").status_code == 404


# ---------------------------------------------------------------------------- compare


def test_compare_two_years_on_the_same_upload(client):
    loc = start(client, standard="qiantang-2022", example="1", year="2022")
    assert wait(client, loc) == "done"
    res = client.post(f"{loc}/compare", data={"other": "qiantang-2022@2024"})
    assert res.status_code == 200
    counties = res.text.split('id="compare-counties"', 1)[1].split("</table>", 1)[0]
    assert "qiantang-2022@2022" in counties and "qiantang-2022@2024" in counties
    assert 'class="changed"' in counties and "✓ 达标" in counties and "✗ 未达标" in counties
    assert "t01_good_youth" in res.text


# ---------------------------------------------------------------------------- rulesets


def test_ruleset_view_is_highlighted_and_resolved(client):
    page = client.get("/standards/national-2019").text
    assert '<span class="k">standard</span> national-2019 <span class="k">extends</span> national-2017' in page
    assert '<span class="c"># ====' in page
    assert "files: national-2019.qbe → national-2017.qbe" in page
    diff = page.split('id="diff"', 1)[1].split("</pre>", 1)[0]
    assert diff.startswith(">national-2017 → national-2019") and "~ school_size " in diff and "~ guarantee_03 " in diff


def test_check_an_edited_copy_shows_errors_at_their_lines(client):
    text = (ROOT / "rulesets" / "national-2017.qbe").read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "/ students" in line)
    lines[at] = lines[at].replace("/ students", "/ studnets", 1)
    res = client.post("/standards/national-2017/check", data={"text": "\n".join(lines) + "\n"})
    table = res.text.split('id="problems"', 1)[1].split("</table>", 1)[0]
    assert f'href="#e{at + 1}"' in table and "studnets" in table
    assert f'<span class="ln bad" id="e{at + 1}">' in res.text
    # the installed file is untouched, and the unedited text passes
    assert (ROOT / "rulesets" / "national-2017.qbe").read_text(encoding="utf-8") == text
    ok = client.post("/standards/national-2017/check", data={"text": text})
    assert 'id="check-ok"' in ok.text


# ---------------------------------------------------------------------------- safety


def test_no_path_from_the_user_is_opened(client):
    for std in ("../../etc/passwd", str(ROOT / "rulesets" / "national-2017.qbe"), "rulesets/national-2017.qbe"):
        res = client.post("/runs", data={"standard": std, "example": "1"})
        assert res.status_code == 400 and "未知标准" in res.text, std
    assert client.get("/standards/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404
    # an upload's own name is never a path on the server
    loc = start(client, files={"schools": ("../../../../tmp/evil.csv", (EXAMPLE / "schools.csv").read_bytes(), "text/csv")})
    assert wait(client, loc) == "done"
    assert not Path("/tmp/evil.csv").exists()
    state = client.app.state
    run = next(r for s in state.store._sessions.values() for r in s.runs.values() if r.id == loc.rsplit("/", 1)[1])
    assert run.schools.path.parent.parent.parent == state.store.root and run.schools.name == "evil.csv"


def test_runs_belong_to_their_session(app, client):
    loc = start(client, example="1")
    assert wait(client, loc) == "done"
    with TestClient(app, base_url=LOCAL) as other:
        assert other.get(loc).status_code == 404
        assert other.get(f"{loc}/download/json").status_code == 404


def test_upload_size_limit(tmp_path):
    app = create_app(Settings(max_upload_mb=0.01))  # 10 KiB a file
    big = b"county_code,school_code\n" + b"1,2\n" * 4000  # 16 KB
    with TestClient(app, base_url=LOCAL) as c:
        res = c.post("/runs", data={"standard": "national-2017"}, files={"schools": ("big.csv", big, "text/csv")})
        assert res.status_code == 413 and "big.csv" in res.text and "0.01 MB" in res.text
        # a body far over the limit is refused from its Content-Length, before it is read
        res = c.post("/runs", content=b"x" * 1_200_000, headers={"content-type": "multipart/form-data; boundary=x"})
        assert res.status_code == 413
        assert not any(p.is_file() for p in app.state.store.root.rglob("*"))


def test_token_required_off_loopback():
    app = create_app(Settings(host="0.0.0.0", token=TOKEN))
    with TestClient(app, base_url="http://192.0.2.10:8765") as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong-token-xxxx"}).status_code == 401
        assert c.get("/static/app.js").status_code == 401
        assert c.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        res = c.get(f"/?token={TOKEN}", follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"] == "/" and "qbe_token" in res.headers["set-cookie"]
        assert c.get("/").status_code == 200  # the cookie now carries it
        assert c.post("/runs", data={"standard": "national-2017", "example": "1"}, follow_redirects=False).status_code == 303
    with TestClient(app, base_url="http://192.0.2.10:8765") as fresh:
        assert fresh.post("/runs", data={"standard": "national-2017", "example": "1"}).status_code == 401


def test_settings_refuse_exposure_without_a_token():
    from qbe.errors import UsageError

    with pytest.raises(UsageError, match="--token"):
        check_settings(Settings(host="0.0.0.0"))
    with pytest.raises(UsageError):
        check_settings(Settings(host="0.0.0.0", token="short"))
    with pytest.raises(UsageError, match="letters"):
        check_settings(Settings(host="0.0.0.0", token="long enough; but=has cookie chars"))
    check_settings(Settings(host="127.0.0.1"))
    check_settings(Settings(host="0.0.0.0", token=TOKEN))
    res = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--no-browser"], env={"QBE_WEB_TOKEN": ""})
    assert res.exit_code == 2 and "--token" in res.output


def test_loopback_app_refuses_other_host_names_and_foreign_forms(client):
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    res = client.post("/runs", data={"standard": "national-2017", "example": "1"}, headers={"origin": "http://evil.example"})
    assert res.status_code == 403


def test_serve_says_which_extra_is_missing(monkeypatch):
    import qbe.web

    monkeypatch.setattr(qbe.web, "missing_packages", lambda: ["starlette", "uvicorn"])
    res = CliRunner().invoke(main, ["serve", "--no-browser"])
    assert res.exit_code == 2 and "pip install 'qbe[web]'" in res.output and "starlette" in res.output


def test_port_in_use_is_a_usage_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(main, ["serve", "--no-browser", "--port", str(port)])
    assert res.exit_code == 2 and str(port) in res.output


# ---------------------------------------------------------------------------- cleanup


def test_sessions_are_removed_when_idle_ended_or_at_shutdown():
    app = create_app(Settings(session_minutes=1))
    store = app.state.store
    with TestClient(app, base_url=LOCAL) as c:
        loc = start(c, files=example_files())
        assert wait(c, loc) == "done"
        (s,) = store._sessions.values()
        assert (s.folder / loc.rsplit("/", 1)[1] / "schools.csv").is_file()
        assert store.sweep(now=s.last_seen + 30) == 0  # not idle long enough
        assert store.sweep(now=s.last_seen + 61) == 1 and not s.folder.exists()
        assert c.get(loc).status_code == 404
        loc = start(c, example="1")
        (s,) = store._sessions.values()
        assert c.post("/end").status_code == 200 and not s.folder.exists() and len(store) == 0
        start(c, example="1")
        assert store.root.exists()
    assert not store.root.exists()  # the lifespan's shutdown removed everything


def test_serve_takes_defaults_from_the_config_web_table(tmp_path, monkeypatch):
    """[web] in qbe.toml sets host/port/token/limits; options given on the command line win."""
    import qbe.web.server

    seen = []
    monkeypatch.setattr(qbe.web.server, "serve", lambda s, open_browser, echo, lang: seen.append((s, open_browser)))
    monkeypatch.delenv("QBE_WEB_TOKEN", raising=False)
    (tmp_path / "qbe.toml").write_text(
        '[web]\nhost = "0.0.0.0"\nport = 9100\ntoken = "office-token-123456"\nmax_upload_mb = 5\nsession_minutes = 30\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["serve", "--no-browser"])
    assert res.exit_code == 0, res.output
    s, opened = seen[-1]
    assert (s.host, s.port, s.token, s.max_upload_mb, s.session_minutes, opened) == (
        "0.0.0.0", 9100, "office-token-123456", 5.0, 30.0, False)
    res = CliRunner().invoke(main, ["serve", "--no-browser", "--port", "9200", "--host", "127.0.0.1"])
    assert res.exit_code == 0, res.output
    assert (seen[-1][0].host, seen[-1][0].port, seen[-1][0].token) == ("127.0.0.1", 9200, "office-token-123456")
    (tmp_path / "qbe.toml").write_text('[web]\nhots = "0.0.0.0"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["serve", "--no-browser"])
    assert res.exit_code == 2 and "hots" in res.output
