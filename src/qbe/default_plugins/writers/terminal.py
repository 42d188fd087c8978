"""Terminal summary: a verdict per county and every shortfall, readable at a glance.

Chinese first with the English key beside it. At national scale it lists
the counties that are not met or not assessed (up to 30) and counts the rest.
"""

from __future__ import annotations

from .wording import STATUS_EN, STATUS_ZH, summary_zh, verdict_line_zh

MAX_COUNTIES = 30


class TerminalWriter:
    format = "terminal"
    extension = None
    description = "终端摘要（达标 / 未达标）/ terminal summary"

    def render(self, evaluation, report: dict, lang: str = "zh") -> str:
        m = evaluation.model
        std = report["standard"]
        zh = lang == "zh"
        lines = [
            f"qbe {report['produced']['qbe_version']} · {std['id']} ({std['version']}) {std['title'] or ''}"
            + (f" · {std['year']} 年度取值 / values of {std['year']}" if std.get("year") else ""),
            f"  {std['source'] or ''} · {std['ruleset_hash'][:19]}…",
            "",
        ]
        counties = report["counties"]
        shown = counties if len(counties) <= MAX_COUNTIES else [c for c in counties if c["verdict"] != "met"][:MAX_COUNTIES]
        for c in shown:
            name = c["county_name"] or c["county_code"]
            v = c["verdict"]
            word = STATUS_ZH.get(v, v) if zh else STATUS_EN.get(v, v)
            lines.append(f"■ {name} ({c['county_code']}): {word}" + (f" — {verdict_line_zh(c, m)}" if zh else ""))
            for p, s in c["parts"].items():
                label = m.parts.get(p, p) if zh else p
                lines.append(f"    {label:<12} {STATUS_ZH.get(s, s) if zh else STATUS_EN.get(s, s)}")
            res = c["resources"]
            if res:
                lines.append(("    学校（学段）资源配置: " if zh else "    school-stage rows, resource rule: ")
                             + ", ".join(f"{STATUS_ZH.get(k, k) if zh else k} {n}" for k, n in res.items()))
            if zh:
                for i, s in enumerate(summary_zh(m, c), 1):
                    lines.append(f"    {i}. {s}")
            else:
                for i, f in enumerate(c["findings"], 1):
                    lines.append(f"    {i}. {f['text_en']}")
            fixes = _fixes(evaluation, c)
            if fixes:
                lines.append(f"    整改清单 {fixes} 项，见 Markdown、HTML、Word 或 Excel 报告" if zh else
                             f"    remediation list: {fixes} entries, in the Markdown, HTML, Word or Excel report")
            lines.append("")
        if len(shown) < len(counties):
            rest = len(counties) - len(shown)
            lines.append(f"… 另有 {rest} 个区县未列出 / {rest} more counties not listed")
        s = report["summary"]
        counts = ", ".join(f"{STATUS_ZH.get(k, k) if zh else k} {n}" for k, n in s["verdicts"].items())
        lines.append(f"区县 {s['counties']} 个（{counts}）；数据行 {s['rows']}，有误 {s['rows_with_errors']}" if zh else
                     f"{s['counties']} counties ({counts}); {s['rows']} rows, {s['rows_with_errors']} with errors")
        if report["errors"]:
            lines.append(f"数据问题 {len(report['errors'])} 处，见报告 / {len(report['errors'])} data problems, see the report")
            for e in report["errors"][:10]:
                loc = f"{e['source']}" + (f"[{e['sheet']}]" if e["sheet"] else "") + (f":{e['row']}" if e["row"] else "")
                col = f" '{e['column']}'" if e["column"] else ""
                lines.append(f"  {loc}{col}: {e['message_zh'] if zh else e['message_en']}")
        return "\n".join(lines) + "\n"


def _fixes(evaluation, c: dict) -> int:
    """Entries of the county's remediation list: unmet indicators of its schools and CVs over their limits."""
    rows = evaluation.notable_by_county(c["county_code"]) if hasattr(evaluation, "notable_by_county") else []
    n = sum(1 for r in rows for v in r["indicators"].values() if v["status"] == "not_met")
    return n + sum(1 for per in c["balance"].values() for b in per.values() if b.get("remedy"))
