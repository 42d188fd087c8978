"""Markdown: the self-evaluation's “对标自查情况” section, in Chinese.

One section per county: the overall finding in the report's own style, then
each part as a table (resources by school, CVs per stage, the county items
with their evidence notes), the 整改清单 (what would meet each unmet
indicator and bring each CV within its limit), then the data problems. English labels are not
mixed in: this is the text a supervision office pastes into its report.
"""

from __future__ import annotations

from ...results.findings import STAGE_ZH, num, pct_floor
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


class MarkdownWriter:
    format = "markdown"
    extension = ".md"
    description = "Markdown 对标自查情况（中文）/ Markdown self-evaluation section (Chinese)"

    def render(self, evaluation, report: dict, lang: str = "zh") -> str:
        self._ev = evaluation
        m = evaluation.model
        std = report["standard"]
        out = ["# 义务教育优质均衡发展对标自查情况", ""]
        out.append(f"- 依据：《{std['title']}》（{std['source']}），标准编号 `{std['id']}`，版本 {std['version']}")
        out.append(f"- 规则文件：{', '.join(std['files'])}（{std['ruleset_hash'][:19]}…）")
        out.append(f"- 生成工具：qbe {report['produced']['qbe_version']}，结果模式 {report['schema_version']}")
        out.append("")
        for c in report["counties"]:
            out += self.county(m, report, c)
        if report.get("exemptions"):
            out += ["## 已批准的豁免", "", "| 项目 | 学校/区县 | 学段 | 理由 | 批准文件 | 有效期 |", "|---|---|---|---|---|---|"]
            for e in report["exemptions"]:
                period = f"{e['valid_from'] or '…'}–{e['valid_to'] or '…'}"
                out.append(f"| {e['label']} | {e['school_code'] or e['county_code']} | {e['stage'] or '全部'} | "
                           f"{_cell(e['reason'])} | {_cell(e['document'])} | {period} |")
            out.append("")
        if report["errors"]:
            out += ["## 数据问题", "", "| 文件 | 工作表 | 行 | 列 | 值 | 问题 |", "|---|---|---|---|---|---|"]
            for e in report["errors"][:500]:
                out.append(f"| {e['source'] or ''} | {e['sheet'] or ''} | {e['row'] or ''} | {e['column'] or ''} | "
                           f"{_cell(e['value'])} | {_cell(e['message_zh'])} |")
            if len(report["errors"]) > 500:
                out.append(f"| … | | | | | 另有 {len(report['errors']) - 500} 处，见 JSON 结果 |")
            out.append("")
        return "\n".join(out) + "\n"

    def county(self, m, report: dict, c: dict) -> list[str]:
        name = c["county_name"] or c["county_code"]
        out = [f"## {name}（{c['county_code']}）", ""]
        sentences = summary_zh(m, c)
        title = m.standard.title or m.standard.id
        if sentences:
            listed = "；".join(f"{ordinal(i)}是{s}" for i, s in enumerate(sentences))
            out.append(f"对照《{title}》，尚有{count_zh(len(sentences))}项指标未全面达标：{listed}。其余指标全面达标。")
        else:
            out.append(f"对照《{title}》，各项指标全面达标。")
        out.append("")
        out.append(f"**评估结论：{verdict_line_zh(c, m)}**（{STATUS_ZH.get(c['verdict'], c['verdict'])}）")
        out.append("")
        if c["parts"]:
            out += ["| 部分 | 结论 |", "|---|---|"]
            for p, s in c["parts"].items():
                out.append(f"| {m.parts.get(p, p)} | {STATUS_ZH.get(s, s)} |")
            out.append("")
        out += self.resources(m, evaluation_rows(self._ev, c), c)
        out += self.balance(m, c)
        out += self.items(m, c)
        out += self.remediation(m, c)
        return out

    def remediation(self, m, c: dict) -> list[str]:
        """整改清单: for each unmet indicator the amount that would meet it; for each CV over its limit, what would."""
        todo = remediation(m, c, evaluation_rows(self._ev, c))
        if not todo["schools"] and not todo["cvs"]:
            return []
        out = ["### 整改清单", ""]
        if todo["schools"]:
            out += ["| 学校 | 学段 | 指标 | 数值 | 要求 | 达到要求所需 |", "|---|---|---|---|---|---|"]
            for e in todo["schools"]:
                out.append(f"| {_cell(e['school'])} | {e['stage']} | {e['label']} | {e['value']} | {e['required']} | "
                           f"{e['action_zh']} |")
            out += ["", "人数、间数等计数按整数向上取整；面积、金额为恰好达到要求的数量。"
                        "“无法直接推算”表示该指标公式不是单一输入的线性式，或须减少某项输入才能达到要求。", ""]
        for e in todo["cvs"]:
            out.append(f"- {e['text_zh']}")
        if todo["cvs"]:
            out.append("")
        return out

    def resources(self, m, rows: list[dict], c: dict) -> list[str]:
        inds = m.indicators()
        if not inds:
            return []
        res = c["resources"]
        total = sum(res.values())
        out = ["### 资源配置", ""]
        counts = "，".join(f"{STATUS_ZH[k]} {n}" for k, n in res.items())
        out.append(f"共 {total} 个学校（学段）按“{self._rule_label(m)}”判定：{counts}。")
        out.append("")
        bad = [r for r in rows if any(v["status"] in ("not_met", "tolerated", "not_assessed", "exempt")
                                      for v in r["indicators"].values())]
        if bad:
            out += ["| 学校 | 学段 | 指标 | 数值 | 要求 | 达到要求 | 判定 | 说明 |", "|---|---|---|---|---|---|---|---|"]
            for r in bad:
                for ind, v in r["indicators"].items():
                    if v["status"] in ("met", "not_applicable"):
                        continue
                    d = m.decls[ind]
                    pct = f"{pct_floor(v['ratio'])}%" if v["ratio"] is not None else "—"
                    out.append(f"| {r['school_name'] or r['school_code']} | {STAGE_ZH.get(r['stage'] or '', '')} | {d.label} | "
                               f"{num(v['value'])} {d.unit or ''} | {num(v['required'])} | {pct} | {STATUS_ZH[v['status']]} | "
                               f"{_cell(v.get('reason') or '')} |")
            out.append("")
        return out

    @staticmethod
    def _rule_label(m) -> str:
        rules = [d for d in m.decls.values() if d.kind == "rule"]
        return rules[0].label if rules else ""

    def balance(self, m, c: dict) -> list[str]:
        if not c["balance"]:
            return []
        stages = [s.name for s in m.stages if s.name in c["balance"]]
        head = "| 指标 | " + " | ".join(f"{STAGE_ZH.get(s, s)}差异系数 | 限值 | 判定" for s in stages) + " |"
        out = ["### 校际差异系数（按学生数加权）", "", head, "|---|" + "---|---|---|" * len(stages)]
        inds = list(dict.fromkeys(i for s in stages for i in c["balance"][s]))
        for ind in inds:
            cells = []
            for s in stages:
                b = c["balance"][s].get(ind)
                if b is None:
                    cells += ["—", "—", "—"]
                else:
                    cells += [f"{b['cv']:.3f}" if b["cv"] is not None else "—", num(b["limit"]), STATUS_ZH[b["status"]]]
            out.append(f"| {m.decls[ind].label} | " + " | ".join(cells) + " |")
        if c["composite_cv"]:
            comp = "，".join(f"{STAGE_ZH.get(s, s)} {v:.3f}" for s, v in c["composite_cv"].items() if v is not None)
            out += ["", f"综合差异系数（七项平均，仅供参考，不作判定）：{comp}。"]
        out.append("")
        return out

    def items(self, m, c: dict) -> list[str]:
        out = []
        by_part: dict[str, list[tuple[str, dict]]] = {}
        for iid, it in c["items"].items():
            by_part.setdefault(it.get("part") or "", []).append((iid, it))
        for part, items in by_part.items():
            out += [f"### {m.parts.get(part, part) or '其他项目'}", "", "| 序号 | 项目 | 数值 | 要求 | 结论 | 佐证 |",
                    "|---|---|---|---|---|---|"]
            for i, (iid, it) in enumerate(items, 1):
                d = m.decls[iid]
                ev = "；".join(it.get("evidence", {}).values()) if it.get("evidence") else ""
                value = fmt_item_value(it["value"], d, m)
                if it.get("inputs"):
                    value = "；".join(f"{_field_label(m, f)} {_fmt_input(m, f, v)}" for f, v in it["inputs"].items())
                out.append(f"| {i} | {d.label} | {value} | {fmt_item_value(it['required'], d, m)} | "
                           f"{it.get('grade') or STATUS_ZH[it['status']]} | {_cell(ev)} |")
            out.append("")
        return out


_field_label = field_label
_fmt_input = fmt_input


def evaluation_rows(ev, c: dict) -> list[dict]:
    return ev.notable_by_county(c["county_code"])


def _cell(s) -> str:
    return "" if s is None else str(s).replace("|", "｜").replace("\n", " ")
