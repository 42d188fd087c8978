"""What each page shows, worked out in Python from the library's own results.

The report page reuses the HTML report's county pieces (its
:class:`~qbe.default_plugins.writers.html.Context`: summary sentence, parts,
CV charts and the strip chart drawn by :mod:`~qbe.default_plugins.writers.svg`),
so the browser shows the same numbers and charts as the downloaded report.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..results.findings import STAGE_ZH, num, pct_floor
from ..status import Status
from .i18n import status_word

#: rows listed in the page's school table; larger datasets are complete in the downloads
MAX_TABLE_ROWS = 3000
STATUS_OF_INT = {int(s): s.key for s in Status}
RANK = {"not_met": 0, "not_assessed": 1, "tolerated": 2, "exempt": 3, "met": 4, "not_applicable": 5}


# ---------------------------------------------------------------------------- standards


@dataclass
class StandardCard:
    """One installed standard as the first step shows it."""

    id: str
    title: str
    version: str
    source: str
    parent: str | None
    years: list[int]
    example: bool
    changes: dict[str, int] = field(default_factory=dict)
    error: str = ""


def catalogue(reg) -> list[StandardCard]:
    """Every installed standard with its title, source, selectable years and its changes from its parent."""
    from ..errors import QbeError
    from ..pipeline import load_model
    from ..standards import installed
    from ..versions import diff

    cards = []
    models = {}
    for info in installed(reg.rulesets):
        example = (info.example_dir / "schools.csv").is_file()
        try:
            m = load_model(str(info.path), reg)
        except QbeError as e:
            cards.append(StandardCard(info.id, "", "", "", None, [], example, error=e.render("zh")))
            continue
        models[info.id] = m
        s = m.standard
        if m.params:
            years = [int(y) for y in m.years() if str(y).isdigit()]
        elif s.years:
            years = list(range(s.years[0], s.years[1] + 1))
        else:
            years = []
        cards.append(StandardCard(info.id, s.title or "", str(s.version or ""), s.source or "", s.extends, years, example))
    for c in cards:
        if c.parent and c.parent in models and c.id in models:
            d = diff(models[c.parent], models[c.id])
            c.changes = {"added": len(d["added"]), "removed": len(d["removed"]), "changed": len(d["changed"]),
                         "yearly": len(d["params"])}
    return cards


# ---------------------------------------------------------------------------- report


def report_view(run, lang: str, county: str | None = None) -> dict[str, Any]:
    """The report page for one county (``county``, else the first: not met first, then by code):
    its verdict and details as the HTML report builds them, its schools, and every county's verdict."""
    from markupsafe import Markup

    from ..default_plugins.writers.html import Context, HtmlWriter, short_verdict, sort_key

    res = run.result
    ev, report = res.evaluation, res.report
    counties = sorted(report["counties"], key=sort_key)
    chosen = next((c for c in counties if c["county_code"] == county), counties[0] if counties else None)
    one = {**report, "counties": [chosen] if chosen else []}
    ctx = Context(ev, one, lang, HtmlWriter(), Markup).build()
    m = ev.model
    inds = [(d.name, d.label) for d in m.indicators()]
    overview = [{"code": c["county_code"], "name": c["county_name"] or c["county_code"], "verdict": c["verdict"],
                 "label": short_verdict(c), "parts": [c["parts"].get(p) for p in m.parts],
                 "chosen": chosen is not None and c["county_code"] == chosen["county_code"]} for c in counties]
    return {
        "std": report["standard"],
        "summary": report["summary"],
        "details": ctx["details"],
        "verdict_label": ctx["overview"]["verdict_label"],
        "indicators": inds,
        "counties": overview if len(counties) > 1 else [],
        "part_labels": list(m.parts.values()),
        "table": school_table(ev, lang, chosen["county_code"] if chosen and len(counties) > 1 else None),
        "exemptions": report.get("exemptions", []),
    }


@dataclass
class SchoolRow:
    county: str
    code: str
    name: str
    stage: str
    overall: str
    cells: list[tuple[str, str, float]]  #: per indicator: shown %, status key, sort value


def school_table(ev, lang: str, county: str | None = None) -> dict[str, Any]:
    """Rows of one county (or all), each indicator as % of its requirement, at most MAX_TABLE_ROWS."""
    rc = ev.row_columns()
    codes = rc["county_code"]
    idx = [i for i in range(rc["n"]) if county is None or str(codes[i]) == county]
    n = len(idx)
    shown = min(n, MAX_TABLE_ROWS)
    ratios = [ind["ratio"] for ind in rc["indicators"]]
    finals = [ind["final"] for ind in rc["indicators"]]
    rule = rc["rule_status"]
    rows = []
    for i in idx[:shown]:
        cells = []
        for r, f in zip(ratios, finals):
            st = STATUS_OF_INT.get(int(f[i]), "not_assessed")
            x = r[i]
            if x is None or x != x:
                cells.append(("—", st, -1.0))
            else:
                cells.append((f"{pct_floor(x)}%", st, float(x)))
        stage = rc["stage"][i] or ""
        rows.append(SchoolRow(str(rc["county_code"][i]), str(rc["school_code"][i]), rc["school_name"][i] or "",
                              STAGE_ZH.get(stage, stage) if lang == "zh" else stage,
                              STATUS_OF_INT.get(int(rule[i]), "not_assessed"), cells))
    return {"rows": rows, "n": n, "shown": shown}


def badge(key: str | None, lang: str, label: str | None = None):
    """A status badge with its symbol and word (the HTML report's classes, never colour alone)."""
    from markupsafe import Markup

    from ..default_plugins.writers.svg import SYMBOL

    key = key or "not_assessed"
    word = label or status_word(key, lang)
    return Markup(f'<span class="st s-{html.escape(key)}" data-status="{html.escape(key)}">'
                  f"{SYMBOL.get(key, '')} {html.escape(word)}</span>")


def explanation(run, lang: str, school: str | None, county: str | None) -> str:
    """The ``qbe explain`` trace of one school (by code) or county, for the run's evaluation."""
    from ..explain import trace_text

    if not school and not county:
        return ""
    with run.lock:  # the evaluation's memoised arrays are filled by one request at a time
        return trace_text(run.result.evaluation, lang, school=school, county=county)


# ---------------------------------------------------------------------------- compare


def compare_view(result: dict, lang: str) -> dict[str, Any]:
    labels = result["standards"]
    return {"labels": labels, "counties": result["counties"], "schools": result["schools"][:500],
            "n_schools": len(result["schools"])}


# ---------------------------------------------------------------------------- rulesets


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The language's keywords, read from its grammar so the highlighting never falls behind it."""
    grammar = Path(__file__).resolve().parents[1] / "language" / "grammar.lark"
    return frozenset(re.findall(r'"([a-z_]+)"', grammar.read_text(encoding="utf-8")))


_TOKEN = re.compile(
    r'(?P<comment>(?:#|//)[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<tag>\[[VSR]\])'
    r"|(?P<number>\d+(?:\.\d+)?%?)|(?P<word>[A-Za-z_][A-Za-z0-9_-]*)|(?P<other>.)",
    re.S,
)


def highlight_line(line: str) -> str:
    """One line of ruleset text as HTML with spans for comments, strings, keywords, numbers and source tags."""
    out = []
    kw = keywords()
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup
        text = html.escape(m.group())
        if kind == "word":
            out.append(f'<span class="k">{text}</span>' if m.group() in kw else text)
        elif kind == "other":
            out.append(text)
        else:
            out.append(f'<span class="{kind[0]}">{text}</span>')
    return "".join(out)


def listing(text: str, marks: dict[int, list[str]] | None = None) -> list[dict[str, Any]]:
    """Numbered, highlighted lines; ``marks`` gives the messages to show under a line."""
    from markupsafe import Markup

    marks = marks or {}
    return [{"no": i, "html": Markup(highlight_line(line)), "marks": marks.get(i, [])}
            for i, line in enumerate(text.splitlines() or [""], start=1)]


@dataclass
class Problem:
    file: str
    line: int | None
    column: int | None
    severity: str
    code: str
    message: str
    hint: str


def check_text(std_id: str, text: str, folder: Path, reg, lang: str) -> tuple[list[Problem], str]:
    """Run ``qbe check`` on an edited copy of an installed standard, written to the session's folder.

    The copy is checked under the installed file's name, so its messages name
    the file the user knows; it extends parents by id, as installed.
    """
    from ..pipeline import check_file

    info = resolve_installed(std_id, reg)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / info.path.name
    path.write_text(text, encoding="utf-8")
    _, diags, sources = check_file(path, reg)
    problems = []
    for d in diags:
        span = d.span
        own = span is not None and Path(span.file) == path
        problems.append(Problem(
            file=(info.path.name + (" (edited)" if lang == "en" else "（修改稿）")) if own else (Path(span.file).name if span else ""),
            line=span.line if span else None,
            column=span.column if span else None,
            severity=d.severity, code=d.code,
            message=d.message_zh if lang == "zh" else d.message_en,
            hint=d.hint_zh if lang == "zh" else d.hint_en,
        ))
    rendered = "\n\n".join(d.render(lang, sources) for d in diags).replace(str(path), info.path.name)
    return problems, rendered


def resolve_installed(std_id: str, reg):
    """An installed standard by its id only: a user never names a file on the server."""
    from ..errors import UsageError
    from ..standards import installed

    for s in installed(reg.rulesets):
        if s.id == std_id:
            return s
    raise UsageError(f"未知标准 '{std_id}'", f"unknown standard '{std_id}'")


def pct(x: float | None) -> str:
    return "—" if x is None else f"{pct_floor(x)}%"


def number(x: float | None) -> str:
    return "—" if x is None else num(x)
