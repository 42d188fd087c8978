"""The HTML report, read back with an HTML parser: content, charts, accessibility, no external references.

The page must open offline, so besides what it shows these tests check what it
must never contain: an address of anything outside the file (``http://`` or
``https://`` anywhere, a ``src`` attribute, a ``<link>``, a ``<script>``, a CSS
``@import`` or ``url(``, a link that is not to an anchor of the page itself).
"""

from __future__ import annotations

import csv
import html
import io
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main

pytest.importorskip("jinja2", reason="the HTML writer needs the html extra: pip install 'qbe[html]'")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.content: list[Node | str] = []  #: children and text, in document order

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self, tag: str | None = None, cls: str | None = None):
        for c in self.children:
            if (tag is None or c.tag == tag) and (cls is None or cls in c.classes()):
                yield c
            yield from c.iter(tag, cls)

    def all_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.all_text() for c in self.content)


class TreeBuilder(HTMLParser):
    """A small DOM: every non-void element must be closed, and closed in order (the page is well formed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.problems: list[str] = []
        self.decl: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        self.cur.content.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        self.cur.content.append(node)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.problems.append(f"</{tag}> closes <{self.cur.tag}> at {self.getpos()}")
            n = self.cur
            while n is not None and n.tag != tag:
                n = n.parent
            if n is None:
                return
            self.cur = n
        self.cur = self.cur.parent or self.root

    def handle_data(self, data):
        self.cur.content.append(data)


def parse(text: str) -> Node:
    p = TreeBuilder()
    p.feed(text)
    p.close()
    assert not p.problems, p.problems[:5]
    assert p.cur is p.root, f"<{p.cur.tag}> never closed"
    assert p.decl and p.decl.lower() == "doctype html"
    return p.root


def render(tmp_path: Path, *args: str) -> str:
    res = CliRunner().invoke(main, [*args, "-f", "html", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    (f,) = tmp_path.glob("*.html")
    return f.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[str, Node]:
    text = render(tmp_path_factory.mktemp("demo"), "demo")
    return text, parse(text)


def assert_self_contained(text: str, root: Node) -> None:
    low = text.lower()
    assert "http://" not in low and "https://" not in low
    assert "@import" not in low and "url(" not in low
    assert "<script" not in low and "<link" not in low and "<iframe" not in low and "<object" not in low
    for node in root.iter():
        assert "src" not in node.attrs, node.tag
        for name in ("href", "xlink:href", "action", "poster", "srcset"):
            v = node.attrs.get(name)
            assert v is None or v.startswith("#"), (node.tag, name, v)
        assert not any(k.startswith("on") for k in node.attrs), node.attrs
    # the only <style> is inline in the page
    assert len(list(root.iter("style"))) == 1


# ---------------------------------------------------------------------------- the demo county


def test_demo_summary_sentence_and_verdict(demo):
    text, root = demo
    (sentence,) = [p for p in root.iter("p", "sentence")]
    s = sentence.all_text()
    assert "尚有二项指标未全面达标" in s
    assert "博雅小学、长桥小学分别达到指标的86%、89%，未100%达标" in s
    assert "其余指标全面达标" in s
    (verdict,) = list(root.iter("p", "verdict"))
    assert verdict.attrs["data-verdict"] == "not_met"
    assert "县域义务教育优质均衡发展督导评估结论" in verdict.all_text() and "未达标" in verdict.all_text()


def test_demo_cv_chart_has_14_bars_each_with_its_limit(demo):
    _, root = demo
    charts = list(root.iter("svg", "cv-chart"))
    assert len(charts) == 2  # primary and junior
    bars = [b for c in charts for b in c.iter("rect", "cv-bar")]
    limits = [x for c in charts for x in c.iter("line", "cv-limit")]
    assert len(bars) == 14 and len(limits) == 14
    assert all(b.attrs["data-status"] == "met" for b in bars)
    # each limit line stands right of its bar (all CVs are well under their limits) and names its value
    for chart in charts:
        for row in chart.iter("g", "cv-row"):
            (bar,) = list(row.iter("rect", "cv-bar"))
            (lim,) = list(row.iter("line", "cv-limit"))
            assert float(bar.attrs["x"]) + float(bar.attrs["width"]) < float(lim.attrs["x1"])
            assert "限值" in lim.all_text()
            assert "差异系数" in bar.all_text()
    junior = [c for c in charts if "初中" in next(c.iter("title")).all_text()][0]
    assert all("限值 0.45" in x.all_text() for x in junior.iter("line", "cv-limit"))


def test_demo_strip_chart_with_85_and_100_lines(demo):
    _, root = demo
    (strip,) = list(root.iter("svg", "strip-chart"))
    assert len(list(strip.iter("g", "strip"))) == 7  # one per indicator
    assert len(list(strip.iter("line", "ref-85"))) == 1 and len(list(strip.iter("line", "ref-100"))) == 1
    marks = [m for m in strip.iter() if "dot" in m.classes()]
    tolerated = sorted(m.all_text() for m in marks if "s-tolerated" in m.classes())
    assert tolerated == ["博雅小学（小学）：86%，容许", "长桥小学（小学）：89%，容许"]
    met_dots = [c for g in strip.iter("g", "dots-met") for c in g.iter("circle")]
    assert len(met_dots) == 35 * 7 - 2


def test_demo_verdict_summary_chart(demo):
    _, root = demo
    (counts,) = list(root.iter("svg", "verdict-chart"))
    (bar,) = list(counts.iter("rect", "count-bar"))
    assert "s-not_met" in bar.classes() and "未达标：1" in bar.all_text()
    (parts,) = list(root.iter("svg", "parts-chart"))
    segs = list(parts.iter("rect", "part-seg"))
    assert len(segs) == 6
    assert [s for s in segs if "s-not_met" in s.classes()][0].all_text() == "政府保障程度：未达标 1"


def test_demo_sections_tables_and_footer(demo):
    text, root = demo
    heads = [h.all_text() for h in root.iter("h2")] + [h.all_text() for h in root.iter("h3")]
    for want in ("总体结论", "各部分结论", "资源配置", "校际差异系数", "政府保障程度", "已批准的豁免", "数据问题"):
        assert any(want in h for h in heads), want
    # shortfalls table: the two tolerated schools with their percentages
    (short,) = list(root.iter("table", "shortfalls"))
    rows = [[c.all_text().strip() for c in tr.children] for tr in next(short.iter("tbody")).iter("tr")]
    assert [(r[0], r[5]) for r in rows] == [("博雅小学", "86%"), ("长桥小学", "89%")]
    assert all("容许" in r[6] for r in rows)
    # the CV table: 7 indicators × 2 stages
    (cv,) = list(root.iter("table", "cv"))
    body = list(next(cv.iter("tbody")).iter("tr"))
    assert len(body) == 7 and "0.115" in body[0].all_text() and "0.45" in body[0].all_text()
    # county items with their evidence notes
    items = [tr for t in root.iter("table", "items") for tr in next(t.iter("tbody")).iter("tr")]
    assert len(items) == 15 + 9 + 1 + 6
    assert any("《示例区中小学布局规划（2021—2025）》（虚构）" in tr.all_text() for tr in items)
    (size,) = [tr for tr in items if tr.all_text().startswith("4学校规模")]
    assert "s-not_met" in size.classes()
    # the school-size shortfalls
    checks = list(root.iter("table", "checks"))
    assert "滨湖实验小学办学规模 2661人，超过指标661人" in checks[0].all_text()
    # every table has column headers
    for t in root.iter("table"):
        assert list(t.iter("th")), t.attrs
        assert all(th.attrs.get("scope") for th in next(t.iter("thead")).iter("th"))
    # provenance in the footer
    from qbe import __version__

    footer = next(root.iter("footer")).all_text()
    assert f"qbe {__version__}" in footer and "national-2017" in footer and "版本 2017" in footer
    assert re.search(r"sha256:[0-9a-f]{64}", footer)


def test_demo_is_self_contained(demo):
    text, root = demo
    assert_self_contained(text, root)
    (html_el,) = list(root.iter("html"))
    assert html_el.attrs["lang"] == "zh-CN"
    assert "<meta charset=\"utf-8\">" in text


def test_status_is_never_told_by_colour_alone(demo):
    _, root = demo
    from qbe.default_plugins.writers.svg import SYMBOL, WORD

    badges = list(root.iter("span", "st"))
    assert len(badges) > 40
    for b in badges:
        (key,) = [c[2:] for c in b.classes() if c.startswith("s-")]
        t = b.all_text().strip()
        assert t.startswith(SYMBOL[key]) and len(t) > 2, t
    # chart marks carry their status in words
    for svg in root.iter("svg"):
        assert svg.attrs.get("role") == "img"
        assert next(svg.iter("title")).all_text() and next(svg.iter("desc")).all_text()
        ids = svg.attrs["aria-labelledby"].split()
        assert [n.attrs.get("id") for n in svg.children[:2]] == ids
    for bar in root.iter("rect", "cv-bar"):
        assert WORD[bar.attrs["data-status"]] in bar.all_text()


def test_print_css_and_font_stack(demo):
    text, _ = demo
    style = text[text.index("<style>"): text.index("</style>")]
    assert "@media print" in style and "@page" in style
    assert '"Noto Sans CJK SC"' in style and '"Microsoft YaHei"' in style and '"PingFang SC"' in style
    assert "@font-face" not in style


def test_element_ids_are_unique(demo):
    _, root = demo
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    anchors = {n.attrs["href"][1:] for n in root.iter("a") if n.attrs.get("href", "").startswith("#")}
    assert anchors <= set(ids)


# ---------------------------------------------------------------------------- other standards


def test_graded_standard_shows_its_grade_labels(tmp_path):
    text = render(tmp_path, "run", "-s", "preschool-2020", "--example")
    root = parse(text)
    assert_self_contained(text, root)
    verdicts = {p.parent.attrs["id"]: p for p in root.iter("p", "verdict")}
    assert set(verdicts) == {"c-999901", "c-999902"}
    assert "合格" in verdicts["c-999901"].all_text() and "不合格" not in verdicts["c-999901"].all_text()
    assert "不合格" in verdicts["c-999902"].all_text()
    assert verdicts["c-999902"].attrs["data-verdict"] == "not_met"
    # the verdict chart counts by grade, and the county table shows each grade
    chart = next(root.iter("svg", "verdict-chart"))
    assert sorted(r.all_text() for r in chart.iter("rect", "count-bar")) == ["不合格：1", "合格：1"]
    table = next(root.iter("table", "counties"))
    assert [tr.children[2].all_text().strip() for tr in next(table.iter("tbody")).iter("tr")] == ["✗ 不合格", "✓ 合格"]
    # graded county items show their grade in place of the status word
    assert "✓ 合格" in next(root.iter("table", "items")).all_text()
    # a standard with no resource indicators or CVs draws no CV or strip chart
    assert not list(root.iter("svg", "cv-chart")) and not list(root.iter("svg", "strip-chart"))


def test_yearly_standard_percent_requirements_and_english(tmp_path):
    text = render(tmp_path, "run", "-s", "qiantang-2022", "--example", "--year", "2024", "--lang", "en")
    root = parse(text)
    assert_self_contained(text, root)
    assert "2024 年度取值" in next(root.iter("header")).all_text()
    items = [tr for t in root.iter("table", "items") for tr in next(t.iter("tbody")).iter("tr")]
    (row,) = [tr for tr in items if "高中毕业生学业水平优良率" in tr.all_text()]
    cells = [c.all_text().strip() for c in row.children]
    assert cells[2:4] == ["79.6%", "80%"]  # value and requirement both as percentages
    en = next(root.iter("ol", "findings-en"))
    assert en.attrs["lang"] == "en" and len(list(en.iter("li"))) == 6


def test_urls_in_data_are_written_without_a_url(tmp_path):
    """An evidence note holding a web address is shown as that text, yet the file holds no ``https://``."""
    note = "见 https://example.invalid/layout?a=1&b=2"
    rows = list(csv.reader(io.StringIO((EXAMPLE / "counties.csv").read_text(encoding="utf-8"))))
    col = rows[0].index("layout_reasonable_note")
    rows[1][col] = note
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (tmp_path / "counties.csv").write_text(out.getvalue(), encoding="utf-8")
    text = render(tmp_path / "o", "run", "-s", "national-2017", "-d", str(EXAMPLE / "schools.csv"),
                  "-c", str(tmp_path / "counties.csv"))
    root = parse(text)
    assert_self_contained(text, root)
    assert any(note in td.all_text() for td in root.iter("td", "evidence"))
    assert html.escape(note).replace("://", "&#58;//") in text


# ---------------------------------------------------------------------------- many counties


def many_counties(tmp_path: Path, n: int = 60) -> tuple[Path, Path, int]:
    """The demo county copied ``n`` times; odd copies leave out its two oversized schools, so they are met."""
    schools = list(csv.DictReader(io.StringIO((EXAMPLE / "schools.csv").read_text(encoding="utf-8"))))
    counties = list(csv.DictReader(io.StringIO((EXAMPLE / "counties.csv").read_text(encoding="utf-8"))))
    s_out, c_out = [], []
    for k in range(n):
        code = f"{990000 + k:06d}"
        for r in schools:
            if k % 2 and r["school_name"] in ("滨湖实验小学", "江畔实验学校"):
                continue
            s_out.append({**r, "county_code": code, "county_name": f"第{k}县", "school_code": f"{code}{r['school_code'][-4:]}"})
        c_out.append({**counties[0], "county_code": code, "county_name": f"第{k}县"})
    paths = []
    for name, data in (("schools.csv", s_out), ("counties.csv", c_out)):
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(data[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(data)
        p = tmp_path / name
        p.write_text(buf.getvalue(), encoding="utf-8")
        paths.append(p)
    return paths[0], paths[1], len(s_out)


def test_many_counties_detail_for_50_not_met_first_and_a_table_of_all(tmp_path):
    schools, counties, n_rows = many_counties(tmp_path)
    text = render(tmp_path / "o", "run", "-s", "national-2017", "-d", str(schools), "-c", str(counties))
    root = parse(text)
    assert_self_contained(text, root)
    sections = list(root.iter("section", "county"))
    assert len(sections) == 50
    verdicts = [next(s.iter("p", "verdict")).attrs["data-verdict"] for s in sections]
    assert verdicts == ["not_met"] * 30 + ["met"] * 20
    codes = [s.attrs["id"][2:] for s in sections]
    assert codes[:30] == sorted(codes[:30]) and all(int(c) % 2 == 0 for c in codes[:30])
    # the summary table lists all 60, and links only the ones shown in detail
    table = next(root.iter("table", "counties"))
    trs = list(next(table.iter("tbody")).iter("tr"))
    assert len(trs) == 60
    linked = [tr for tr in trs if list(tr.iter("a"))]
    assert len(linked) == 50
    # the page says what it left out
    omitted = next(n for n in root.iter("section") if n.attrs.get("id") == "omitted").all_text()
    assert "只列出 50 个" in omitted and "其余 10 个区县" in omitted
    # above 2,000 rows the report dict has no rows: the strip charts come from the evaluation's arrays
    from qbe.pipeline import ROWS_IN_REPORT_DICT

    assert f"学校（学段）数据 {n_rows} 行" in next(root.iter("header")).all_text() and n_rows > ROWS_IN_REPORT_DICT
    strips = list(root.iter("svg", "strip-chart"))
    assert len(strips) == 50
    dots = [c for g in strips[0].iter("g", "dots-met") for c in g.iter("circle")]
    assert len(dots) == 35 * 7 - 2
    assert len(text.encode("utf-8")) < 2_500_000


def test_writer_can_limit_the_counties_in_detail(tmp_path):
    from qbe.default_plugins.writers.html import HtmlWriter
    from qbe.pipeline import run

    schools, counties, _ = many_counties(tmp_path, 6)
    res = run("national-2017", str(schools), str(counties), formats=[], echo=lambda *a: None)
    w = HtmlWriter()
    w.max_counties = 2
    text = "".join(w.render(res.evaluation, res.report))
    root = parse(text)
    assert len(list(root.iter("section", "county"))) == 2
    assert "其余 4 个区县" in text


# ---------------------------------------------------------------------------- without Jinja2


def test_missing_jinja2_says_which_extra_to_install(monkeypatch, tmp_path):
    from qbe.default_plugins.writers.html import HtmlWriter
    from qbe.errors import UsageError
    from qbe.pipeline import run

    res = run("national-2017", str(EXAMPLE / "schools.csv"), str(EXAMPLE / "counties.csv"), formats=[], echo=lambda *a: None)
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 now raises ImportError
    with pytest.raises(UsageError) as e:
        HtmlWriter().render(res.evaluation, res.report)
    assert "pip install 'qbe[html]'" in e.value.message_zh and "HTML 报告需要 Jinja2" in e.value.message_zh
    assert "pip install 'qbe[html]'" in e.value.message_en and "needs Jinja2" in e.value.message_en
    # through the CLI: the other formats are still written, and the failure names the extra
    out = CliRunner().invoke(main, ["demo", "-f", "json,html", "-o", str(tmp_path)])
    assert out.exit_code != 0
    assert (tmp_path / "national-2017.json").exists() and not (tmp_path / "national-2017.html").exists()
    assert "qbe[html]" in out.output


def test_svg_text_escapes_and_writes_no_url():
    from qbe.default_plugins.writers.svg import text

    assert text('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    s = text("http://a.b/c https://d.e")
    assert "://" not in s and html.unescape(s) == "http://a.b/c https://d.e"
    assert text(None) == ""
