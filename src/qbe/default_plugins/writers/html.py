"""HTML: one self-contained report page with charts, that opens offline.

The page is a single file: CSS inline, charts as inline SVG drawn in Python
(:mod:`.svg`), no script, no font, no image and no address of anything
outside the file — it opens the same from a USB stick as on a web server,
and it prints (A4, a page per county). Chinese comes first; English labels
stand beside the headings.

What it shows: the county verdicts counted and each part's status across the
counties; a table of every county; then, for at most :attr:`HtmlWriter.max_counties`
counties (not met first), the overall finding in the self-evaluation's words,
the parts, the resource shortfalls with a chart of every school's percentage
of the requirement, the coefficients of variation against their limits, the
other shortfalls, the county items with their evidence, the 整改清单 with each
entry's ``qbe explain`` trace in an expandable details element (at most
:attr:`HtmlWriter.max_explanations` in the page); then the approved
exemptions, the data problems, what was left out, and where it all came from.

Needs Jinja2 (``pip install 'qbe[html]'``), imported only when a report is
rendered so the base install keeps working without it.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import UsageError
from ...results.findings import STAGE_ZH, num, pct_floor
from ...status import Status
from . import svg
from .wording import (
    STATUS_ZH,
    count_zh,
    field_label,
    fmt_input,
    fmt_item_value,
    ordinal,
    remediation,
    summary_zh,
    verdict_line_zh,
)

TEMPLATES = Path(__file__).with_name("templates")
#: ints of qbe.status.Status → report keys (the raw arrays hold the ints)
_STATUS_OF_INT = {int(s): s.key for s in Status}


class HtmlWriter:
    format = "html"
    extension = ".html"
    description = "HTML 报告（单文件、离线可看、含图表）/ self-contained HTML report with charts (needs qbe[html])"

    #: counties shown in detail; the rest appear in the summary table only
    max_counties = 50
    #: shortfall rows listed per county, data problems and warnings listed in all
    max_rows_per_county = 200
    #: shortfall explanations (the ``qbe explain`` trace) attached in the whole page
    max_explanations = 200
    max_errors = 300
    max_warnings = 100

    def render(self, evaluation, report: dict, lang: str = "zh"):
        try:
            import jinja2
            from markupsafe import Markup
        except ImportError:
            raise UsageError(
                "HTML 报告需要 Jinja2，请安装：pip install 'qbe[html]'",
                "the HTML report needs Jinja2; install it with: pip install 'qbe[html]' "
                "(HTML 报告需要 Jinja2，请安装 qbe[html])",
            ) from None

        def finalize(v):
            if isinstance(v, Markup):
                return v
            return Markup(svg.text(v))

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,
            finalize=finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["st"] = status_badge
        env.filters["cell"] = status_cell
        ctx = Context(evaluation, report, lang, self, Markup).build()
        return env.get_template("report.html.j2").generate(**ctx)


def status_badge(key: str | None, label: str | None = None):
    """A status as a coloured badge with a symbol and a word (never colour alone)."""
    from markupsafe import Markup

    key = key or "not_assessed"
    word = label or STATUS_ZH.get(key, key)
    return Markup(f'<span class="st s-{svg.text(key)}">{svg.SYMBOL.get(key, "")} {svg.text(word)}</span>')


def status_cell(key: str | None):
    """A compact table cell for the all-counties table (thousands of them): symbol and word, coloured by class."""
    from markupsafe import Markup

    if not key:
        return Markup("<td>—</td>")
    return Markup(f'<td class="c-{svg.text(key)}">{svg.SYMBOL.get(key, "")}{svg.text(STATUS_ZH.get(key, key))}</td>')


def sort_key(c: dict) -> tuple:
    """Counties in the order they are shown: not met first, then by code."""
    return (svg.RANK.get(c["verdict"], 9), c["county_code"])


def short_verdict(c: dict) -> str:
    """The county's grade if graded (合格 / 不合格 …), else the verdict's word."""
    grade = next((g for g in c.get("grades", {}).values() if g), None)
    return grade or STATUS_ZH.get(c["verdict"], c["verdict"])


def summary_sentence(model, c: dict) -> str:
    """The overall finding in the self-evaluation's words (as the Markdown report words it)."""
    title = model.standard.title or model.standard.id
    sentences = summary_zh(model, c)
    if not sentences:
        return f"对照《{title}》，各项指标全面达标。"
    listed = "；".join(f"{ordinal(i)}是{s}" for i, s in enumerate(sentences))
    return f"对照《{title}》，尚有{count_zh(len(sentences))}项指标未全面达标：{listed}。其余指标全面达标。"


class Context:
    """Everything the template shows, worked out once in Python (the template only lays it out)."""

    def __init__(self, evaluation, report: dict, lang: str, writer: HtmlWriter, markup) -> None:
        self.ev = evaluation
        self.m = evaluation.model
        self.report = report
        self.lang = lang
        self.w = writer
        self.Markup = markup
        self.ids = svg.Ids()

    def build(self) -> dict:
        r, m = self.report, self.m
        std = r["standard"]
        counties = sorted(r["counties"], key=sort_key)
        shown = counties[: self.w.max_counties]
        detail_codes = {c["county_code"] for c in shown}
        rows_of = self.county_rows(detail_codes)
        details = [self.county(c, rows_of.get(c["county_code"], [])) for c in shown]
        n_traces, n_short = self.explanations(details)
        errors, warnings = r.get("errors", []), r.get("warnings", [])
        omitted = []
        if len(counties) > len(shown):
            omitted.append(f"区县详情只列出 {len(shown)} 个（未达标的优先，再按区县代码）；其余 {len(counties) - len(shown)} "
                           f"个区县只见“各区县结论”汇总表，完整结果见 JSON 报告。")
        if any(d["resources"] and d["resources"]["cut"] for d in details):
            omitted.append(f"每个区县的资源配置未达标明细最多列 {self.w.max_rows_per_county} 行，其余见 JSON 报告。")
        if n_short > n_traces:
            omitted.append(f"整改清单中的逐项说明只附前 {n_traces} 项，其余 {n_short - n_traces} 项可用 qbe explain --school 查看。")
        if len(errors) > self.w.max_errors:
            omitted.append(f"数据问题只列出前 {self.w.max_errors} 处，共 {len(errors)} 处。")
        if len(warnings) > self.w.max_warnings:
            omitted.append(f"数据提示只列出前 {self.w.max_warnings} 处，共 {len(warnings)} 处。")
        if m.indicators() and details:
            omitted.append("达标的学校不逐校列表，只在“达到要求的百分比”图中以圆点表示；逐校数值见 JSON 报告。")
        return {
            "en": self.lang == "en",
            "title": std.get("title") or std["id"],
            "std": std,
            "produced": r["produced"],
            "schema_version": r.get("schema_version", ""),
            "summary": r["summary"],
            "graded": any(c.get("grades") for c in counties),
            "overview": self.overview(counties),
            "table": self.county_table(counties, detail_codes) if len(counties) > 1 else [],
            "part_labels": [m.parts.get(p, p) for p in m.parts],
            "details": details,
            "exemptions": r.get("exemptions", []),
            "errors": errors[: self.w.max_errors],
            "n_errors": len(errors),
            "warnings": warnings[: self.w.max_warnings],
            "n_warnings": len(warnings),
            "omitted": omitted,
            "hash": std.get("ruleset_hash", ""),
        }

    # ------------------------------------------------------------------ overview

    def overview(self, counties: list[dict]) -> dict:
        m = self.m
        graded = any(c.get("grades") for c in counties)
        by: dict[tuple[str, str], int] = {}
        for c in counties:
            key = (short_verdict(c) if graded else STATUS_ZH.get(c["verdict"], c["verdict"]), c["verdict"])
            by[key] = by.get(key, 0) + 1
        counts = [svg.Count(label, n, st) for (label, st), n in sorted(by.items(), key=lambda kv: (svg.RANK.get(kv[0][1], 9),
                                                                                                 kv[0][0]))]
        chart = svg.count_bars(self.ids, "区县评估结论统计", counts, width=560)
        stacks = []
        for p, label in m.parts.items():
            cnt: dict[str, int] = {}
            for c in counties:
                s = c["parts"].get(p)
                if s is not None:
                    cnt[s] = cnt.get(s, 0) + 1
            stacks.append(svg.Stack(label, cnt))
        parts_chart = svg.stacked_bars(self.ids, "各部分结论（按区县计）", stacks, width=600) if stacks else ""
        return {
            "counts": [(c.label, c.status, c.n) for c in counts],
            "chart": self.Markup(chart),
            "parts_chart": self.Markup(parts_chart),
            "verdict_label": _verdict_label(m),
        }

    def county_table(self, counties: list[dict], detail_codes: set[str]) -> list[dict]:
        parts = list(self.m.parts)
        out = []
        for c in counties:
            cv_bad = sum(1 for st in c["balance"].values() for b in st.values() if b["status"] == "not_met")
            res = c["resources"]
            out.append({
                "code": c["county_code"],
                "name": c["county_name"] or "",
                "verdict": c["verdict"],
                "label": short_verdict(c),
                "parts": [c["parts"].get(p) for p in parts],
                "rows": c["schools"],
                "rows_bad": res.get("not_met", 0) + res.get("not_assessed", 0),
                "cv_bad": cv_bad,
                "findings": len(c["findings"]),
                "linked": c["county_code"] in detail_codes,
            })
        return out

    # ------------------------------------------------------------------ one county

    def county_rows(self, codes: set[str]) -> dict[str, list[tuple[str, str, dict]]]:
        """Per county (only those shown), every row as (name, stage, {indicator: (ratio, status)})."""
        inds = [d.name for d in self.m.indicators()]
        if not inds or not codes:
            return {}
        out: dict[str, list] = {}
        frame = getattr(self.ev, "frame", None)
        if frame is None or not hasattr(self.ev, "row_columns"):
            for s in self.report.get("schools", []):
                if s["county_code"] in codes:
                    out.setdefault(s["county_code"], []).append(
                        (s["school_name"] or s["school_code"], s["stage"],
                         {k: (v["ratio"], v["status"]) for k, v in s["indicators"].items()}))
            return out
        import numpy as np

        rc = self.ev.row_columns()
        cidx = {str(code): i for i, code in enumerate(frame.county_codes.tolist())}
        wanted = np.array(sorted(cidx[c] for c in codes if c in cidx), dtype=np.int64)
        if not len(wanted) or not rc["n"]:
            return {}
        idx = np.nonzero(np.isin(frame.row_county, wanted))[0]
        county_of = frame.row_county[idx].tolist()
        codes_list = frame.county_codes.tolist()
        ratios = {ind["name"]: ind["ratio"][idx].tolist() for ind in rc["indicators"]}
        finals = {ind["name"]: ind["final"][idx].tolist() for ind in rc["indicators"]}
        for k, i in enumerate(idx.tolist()):
            name = rc["school_name"][i] or rc["school_code"][i]
            vals = {n: (None if ratios[n][k] != ratios[n][k] else ratios[n][k], _STATUS_OF_INT.get(int(finals[n][k]), "not_assessed"))
                    for n in ratios}
            out.setdefault(str(codes_list[county_of[k]]), []).append((name, rc["stage"][i], vals))
        return out

    def county(self, c: dict, rows: list[tuple]) -> dict:
        m = self.m
        name = c["county_name"] or c["county_code"]
        return {
            "code": c["county_code"],
            "name": name,
            "verdict": c["verdict"],
            "verdict_line": verdict_line_zh(c, m),
            "short": short_verdict(c),
            "sentence": summary_sentence(m, c),
            "parts": [(m.parts.get(p, p), s) for p, s in c["parts"].items()],
            "resources": self.resources(c, rows),
            "balance": self.balance(c),
            "checks": [f for f in c["findings"] if f["kind"] == "check"],
            "groups": self.items(c),
            "remediation": remediation(m, c, self.ev.notable_by_county(c["county_code"])),
            "findings_en": [f["text_en"] for f in c["findings"]] if self.lang == "en" else [],
        }

    def explanations(self, details: list[dict]) -> tuple[int, int]:
        """Attach to each remediation entry the trace ``qbe explain`` gives for it (at most
        :attr:`HtmlWriter.max_explanations` in the page). Returns (attached, entries)."""
        from ...explain import shortfall_traces

        entries = [e for d in details for e in d["remediation"]["schools"]]
        for e in entries:
            e["trace"] = ""
        if not entries or not hasattr(self.ev, "row_columns"):
            return 0, len(entries)
        rc = self.ev.row_columns()
        index = {(code, stage): i for i, (code, stage) in enumerate(zip(rc["school_code"], rc["stage"]))}
        chosen = [e for e in entries if (e["school_code"], e["stage_key"]) in index][: self.w.max_explanations]
        traces = shortfall_traces(self.ev, [(index[(e["school_code"], e["stage_key"])], e["item"]) for e in chosen],
                                  self.lang)
        for e in chosen:
            e["trace"] = traces[(index[(e["school_code"], e["stage_key"])], e["item"])]
        return len(chosen), len(entries)

    def resources(self, c: dict, rows: list[tuple]) -> dict | None:
        m = self.m
        inds = m.indicators()
        if not inds:
            return None
        res = c["resources"]
        rules = [d for d in m.decls.values() if d.kind == "rule"]
        rule = rules[0].label if rules else ""
        counts = "，".join(f"{STATUS_ZH.get(k, k)} {n}" for k, n in res.items())
        total = sum(res.values())
        lead = f"共 {total} 个学校（学段）" + (f"按“{rule}”判定：{counts}。" if rule else f"：{counts}。")
        table = []
        for r in self.ev.notable_by_county(c["county_code"]):
            for ind, v in r["indicators"].items():
                if v["status"] in ("met", "not_applicable"):
                    continue
                d = m.decls[ind]
                table.append({
                    "school": r["school_name"] or r["school_code"],
                    "stage": STAGE_ZH.get(r["stage"] or "", r["stage"] or ""),
                    "label": d.label,
                    "value": "—" if v["value"] is None else f"{num(v['value'])} {d.unit or ''}".strip(),
                    "required": num(v["required"]),
                    "pct": f"{pct_floor(v['ratio'])}%" if v["ratio"] is not None else "—",
                    "status": v["status"],
                    "note": v.get("reason") or "",
                })
        cut = len(table) > self.w.max_rows_per_county
        strips = []
        for d in inds:
            pts, unassessed = [], 0
            for school, stage, vals in rows:
                ratio, st = vals.get(d.name, (None, "not_applicable"))
                if st == "not_applicable":
                    continue
                if ratio is None:
                    unassessed += 1
                    continue
                pts.append(svg.Point(ratio, st, f"{school}（{STAGE_ZH.get(stage or '', stage or '')}）"))
            strips.append(svg.Strip(d.label, pts, unassessed))
        chart = ""
        if any(s.points or s.unassessed for s in strips):
            chart = svg.strip_chart(self.ids, f"{c['county_name'] or c['county_code']}：各校达到要求的百分比", strips)
        return {
            "lead": lead,
            "rows": table[: self.w.max_rows_per_county],
            "n_rows": len(table),
            "cut": cut,
            "chart": self.Markup(chart),
        }

    def balance(self, c: dict) -> dict | None:
        m = self.m
        if not c["balance"]:
            return None
        stages = [s.name for s in m.stages if s.name in c["balance"]]
        charts = []
        for s in stages:
            bars = [svg.CvBar(m.decls[ind].label if ind in m.decls else ind, b["cv"], b["limit"], b["status"])
                    for ind, b in c["balance"][s].items()]
            label = STAGE_ZH.get(s, s)
            charts.append((label, self.Markup(svg.cv_chart(self.ids, f"{label}：校际差异系数与限值", bars))))
        inds = list(dict.fromkeys(i for s in stages for i in c["balance"][s]))
        rows = []
        for ind in inds:
            cells = []
            for s in stages:
                b = c["balance"][s].get(ind)
                cells.append(None if b is None else {
                    "cv": "—" if b["cv"] is None else f"{b['cv']:.3f}",
                    "limit": num(b["limit"]),
                    "status": b["status"],
                    "schools": b.get("schools", 0),
                })
            rows.append({"label": m.decls[ind].label if ind in m.decls else ind, "cells": cells})
        composite = "，".join(f"{STAGE_ZH.get(s, s)} {v:.3f}" for s, v in c.get("composite_cv", {}).items() if v is not None)
        return {"stages": [STAGE_ZH.get(s, s) for s in stages], "charts": charts, "rows": rows, "composite": composite}

    def items(self, c: dict) -> list[tuple[str, list[dict]]]:
        m = self.m
        by_part: dict[str, list[dict]] = {}
        for iid, it in c["items"].items():
            d = m.decls.get(iid)
            value = fmt_item_value(it["value"], d, m)
            if it.get("inputs"):
                value = "；".join(f"{_field_label(m, f)} {_fmt_input(m, f, v)}" for f, v in it["inputs"].items())
            by_part.setdefault(it.get("part") or "", []).append({
                "label": it.get("label") or (d.label if d is not None else iid),
                "value": value,
                "required": fmt_item_value(it["required"], d, m),
                "status": it["status"],
                "grade": it.get("grade"),
                "evidence": "；".join(it["evidence"].values()) if it.get("evidence") else "",
                "reason": it.get("reason") or "",
                "source": it.get("source") or "",
            })
        return [(m.parts.get(p, p) or "其他项目", items) for p, items in by_part.items()]


def _verdict_label(m) -> str:
    verdicts = [d for d in m.decls.values() if d.kind == "verdict"]
    return verdicts[-1].label if verdicts else "评估结论"


_field_label = field_label
_fmt_input = fmt_input
