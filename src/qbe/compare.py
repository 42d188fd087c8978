"""The same data under several standards (or years): which verdicts change, and why.

For every county whose verdict differs, the items, CVs and parts whose
status differs are the rules that made the difference; for every school-stage
row and school, the indicators and checks whose status differs. This is what
a province needs before adopting a variant of the national standard.
"""

from __future__ import annotations

from .compiler import build_frame, compile_model
from .pipeline import choose_year, evaluate, load_model, load_table
from .plugins import Registry, registry

STATUS_ZH = {"met": "达标", "not_met": "未达标", "tolerated": "容许", "exempt": "豁免",
             "not_applicable": "不适用", "not_assessed": "未评估"}


def run_many(specs: list[tuple[str, int | None]], data: str, county_data: str | None, reg: Registry | None = None,
             columns: dict | None = None, county_columns: dict | None = None) -> list[tuple[str, dict]]:
    """Evaluate the data under each (standard, year); returns (label, report) pairs."""
    reg = reg or registry()
    out = []
    for std, year in specs:
        model = load_model(std, reg)
        rows, issues = load_table(data, model.row_schema(), ("school_code", "stage"), reg, None, columns)
        counties = None
        if county_data:
            counties, ci = load_table(county_data, model.county_schema(), ("county_code",), reg, None, county_columns)
            issues = issues + ci
        y = choose_year(model, year, rows)
        plan = compile_model(model, y)
        ev = evaluate(model, rows, counties, issues, plan, build_frame(rows, counties))
        label = model.id + (f"@{y}" if y is not None and (year is not None or model.params) else "")
        out.append((label, ev.to_dict()))
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            from .errors import DataError

            raise DataError(errors, f"数据有 {len(errors)} 处错误，无法比较", f"the data has {len(errors)} error(s); nothing compared")
    return out


def compare_reports(labelled: list[tuple[str, dict]]) -> dict:
    labels = [lab for lab, _ in labelled]
    reports = [r for _, r in labelled]
    counties = []
    base = {c["county_code"]: c for c in reports[0]["counties"]}
    for code, c0 in base.items():
        cs = [next((c for c in r["counties"] if c["county_code"] == code), None) for r in reports]
        verdicts = {lab: (c["verdict"] if c else "—") for lab, c in zip(labels, cs)}
        diffs = []
        keys: list[tuple[str, str]] = []
        for c in cs:
            if c is None:
                continue
            keys += [("item", k) for k in c["items"]]
            keys += [("part", k) for k in c["parts"]]
            keys += [("balance", f"{st}.{ind}") for st, inds in c["balance"].items() for ind in inds]
        for kind, key in dict.fromkeys(keys):
            sts = {}
            for lab, c in zip(labels, cs):
                if c is None:
                    sts[lab] = "—"
                elif kind == "item":
                    sts[lab] = c["items"].get(key, {}).get("status", "—")
                elif kind == "part":
                    sts[lab] = c["parts"].get(key, "—")
                else:
                    st, ind = key.split(".", 1)
                    sts[lab] = c["balance"].get(st, {}).get(ind, {}).get("status", "—")
            if len(set(sts.values())) > 1:
                lookup = key.split(".", 1)[1] if kind == "balance" else key
                if kind == "part":
                    label = next((r["standard"]["parts"][key] for r in reports if key in r["standard"]["parts"]), key)
                else:
                    label = next((r["standard"]["items"][lookup]["label"] for r in reports
                                  if lookup in r["standard"]["items"]), key)
                diffs.append({"kind": kind, "item": key, "label": label, "statuses": sts})
        counties.append({"county_code": code, "county_name": c0["county_name"], "verdicts": verdicts,
                         "changed": len(set(verdicts.values())) > 1, "differences": diffs})
    schools = []
    rows = [{(s["school_code"], s["stage"]): s for s in r["schools"]} for r in reports]
    for key, s0 in rows[0].items():
        ss = [r.get(key) for r in rows]
        diffs = []
        names = list(dict.fromkeys(n for s in ss if s for n in (*s["indicators"], *s["checks"], *s["rules"])))
        for n in names:
            sts = {}
            for lab, s in zip(labels, ss):
                if s is None:
                    sts[lab] = "—"
                elif n in s["rules"]:
                    sts[lab] = s["rules"][n]
                else:
                    sts[lab] = (s["indicators"].get(n) or s["checks"].get(n) or {}).get("status", "—")
            if len(set(sts.values())) > 1:
                diffs.append({"item": n, "statuses": sts})
        passes = {lab: (s["status"] if s else "—") for lab, s in zip(labels, ss)}
        if diffs or len(set(passes.values())) > 1:
            schools.append({"school_code": key[0], "stage": key[1], "school_name": s0["school_name"],
                            "pass": passes, "differences": diffs})
    sc = [{(s["county_code"], s["school_code"]): s for s in r["school_checks"]} for r in reports]
    for key, s0 in sc[0].items():
        ss = [r.get(key) for r in sc]
        names = list(dict.fromkeys(n for s in ss if s for n in s["checks"]))
        diffs = []
        for n in names:
            sts = {lab: ((s or {}).get("checks", {}).get(n) or {}).get("status", "—") for lab, s in zip(labels, ss)}
            if len(set(sts.values())) > 1:
                diffs.append({"item": n, "statuses": sts})
        if diffs:
            schools.append({"school_code": key[1], "stage": None, "school_name": s0["school_name"], "pass": {},
                            "differences": diffs})
    return {"standards": labels, "counties": counties, "schools": schools}


def compare_text(result: dict, markdown: bool = False) -> str:
    labels = result["standards"]
    out = []
    if markdown:
        out += [f"# 同一数据、不同标准的结论比较 / Comparison: {' vs '.join(labels)}", ""]
        out += ["| 区县 county | " + " | ".join(labels) + " | 变化 changed |", "|---|" + "---|" * (len(labels) + 1)]
        for c in result["counties"]:
            out.append(f"| {c['county_name'] or c['county_code']} | " + " | ".join(STATUS_ZH.get(c["verdicts"][lab], c["verdicts"][lab])
                       for lab in labels) + f" | {'是' if c['changed'] else '否'} |")
        for c in result["counties"]:
            if not c["differences"]:
                continue
            out += ["", f"## {c['county_name'] or c['county_code']}：结论差异的原因 / what made the difference", "",
                    "| 项目 item | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
            for d in c["differences"]:
                out.append(f"| {d['label']} (`{d['item']}`) | " + " | ".join(STATUS_ZH.get(d["statuses"][lab], d["statuses"][lab])
                           for lab in labels) + " |")
        if result["schools"]:
            out += ["", "## 学校层面的差异 / schools", "", "| 学校 school | 学段 stage | 项目 item | " + " | ".join(labels) + " |",
                    "|---|---|---|" + "---|" * len(labels)]
            for s in result["schools"]:
                for d in s["differences"]:
                    out.append(f"| {s['school_name'] or s['school_code']} | {s['stage'] or '全校'} | `{d['item']}` | "
                               + " | ".join(STATUS_ZH.get(d["statuses"][lab], d["statuses"][lab]) for lab in labels) + " |")
        return "\n".join(out) + "\n"
    out.append("compare: " + " vs ".join(labels))
    for c in result["counties"]:
        mark = "≠" if c["changed"] else "="
        v = ", ".join(f"{lab}: {STATUS_ZH.get(c['verdicts'][lab], c['verdicts'][lab])}" for lab in labels)
        out.append(f"{mark} {c['county_name'] or c['county_code']} ({c['county_code']}): {v}")
        for d in c["differences"]:
            sts = ", ".join(f"{lab}: {STATUS_ZH.get(d['statuses'][lab], d['statuses'][lab])}" for lab in labels)
            out.append(f"    {d['kind']} {d['item']} {d['label']}: {sts}")
    changed_rows = [s for s in result["schools"]]
    out.append(f"学校层面差异 / schools with differences: {len(changed_rows)}")
    for s in changed_rows[:50]:
        for d in s["differences"]:
            sts = ", ".join(f"{lab}: {STATUS_ZH.get(d['statuses'][lab], d['statuses'][lab])}" for lab in labels)
            out.append(f"    {s['school_name'] or s['school_code']} {s['stage'] or '(school)'} {d['item']}: {sts}")
    if len(changed_rows) > 50:
        out.append(f"    … {len(changed_rows) - 50} more")
    return "\n".join(out) + "\n"
