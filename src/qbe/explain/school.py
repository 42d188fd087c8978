"""The trace of one school: each stage row's indicators, tolerances, rules and checks, then whole-school checks."""

from __future__ import annotations

from ..interpreter import Entity
from ..language import ast
from ..results.assemble import _check_at
from ..results.findings import pct_floor
from ..status import Status
from ..versions import text_of
from .base import STATUS_BY_KEY, TraceBase, _walk


class SchoolTraces(TraceBase):
    def shortfall(self, i: int, name: str) -> list[str]:
        """The trace of indicator ``name`` on row ``i``: formula with numbers, requirement and clause,
        tolerance or exemption, the rule that decided, and the amount that would meet it."""
        r = self.ev.row(i)
        d = self.m.decls[name]
        res = r["indicators"][name]
        out = self.judged(d, self.row_ent(i), res, r["stage"], indent="")
        out += self.tolerance_lines(d, i, r, res)
        for rule in self.ev.decl(name).tolerated_by:
            out += self.rule_lines(self.m.decls[rule], i, r)
        return out

    # ------------------------------------------------------------------ a school
    def school(self, rows_idx: list[int]) -> list[str]:
        fr, ev, m = self.fr, self.ev, self.m
        i0 = rows_idx[0]
        c = int(fr.row_county[i0])
        cname = self.county_names()[c] or ""
        code = fr.county_codes[c]
        out = ["", f"═ {self.names[i0] or self.codes[i0]}（{self.codes[i0]}） · {cname}（{code}）" if self.lang == "zh"
               else f"═ {self.names[i0] or self.codes[i0]} ({self.codes[i0]}) · {cname} ({code})"]
        for i in rows_idx:
            r = ev.row(i)
            line_no = int(fr.rows.row_numbers[i])
            head = self.t(f"── {self.where(i)} · 数据第 {line_no} 行", f"── {self.where(i)} · data row {line_no}")
            if r["students"] is not None:
                head += self.t(f" · 在校生 {self.fmt(r['students'])} 人", f" · {self.fmt(r['students'])} students")
            out += ["", head]
            for iss in ev.issues:
                if iss.row == line_no and iss.source == fr.rows.source:
                    out.append(f"  ⚠ {iss.render(self.lang)}")
            stage_code = r["stage"]
            ent = self.row_ent(i)
            for d in m.indicators():
                if not self.wanted(d.name):
                    continue
                res = r["indicators"][d.name]
                out += self.judged(d, ent, res, stage_code)
                out += self.tolerance_lines(d, i, r, res)
                self.check_oracle(d, ent, res, out)
            for d in m.decls.values():
                if d.kind == "rule" and self.wanted(d.name):
                    out += self.rule_lines(d, i, r)
            for d in m.decls.values():
                if d.kind == "check" and d.entity == "row" and self.wanted(d.name):
                    out += self.judged(d, ent, r["checks"][d.name], stage_code)
        j = int(fr.row_school[i0])
        school_checks = [d for d in m.decls.values() if d.kind == "check" and d.entity == "school" and self.wanted(d.name)]
        if school_checks:
            out += ["", self.t("── 全校（各学段合计）", "── the whole school (all stages)")]
            ent = self.oracle.school_entity((str(fr.rows.columns["county_code"][i0]), self.codes[i0]))
            for d in school_checks:
                res = _check_at(d, ev._check_arrays(d, "school"), j)
                out += self.judged(d, ent, res, None)
        return out

    def check_oracle(self, d: ast.Decl, ent: Entity, res: dict, out: list[str]) -> None:
        want = self.safe(self.oracle.decl, d.name, ent)
        if want and int(want["final"]) != int(STATUS_BY_KEY[res["status"]]):
            out.append("    ⚠ " + self.t(f"逐行核算结论为 {self.status_word(want['final'])}，与快速计算不一致（程序缺陷）",
                                          f"the exact evaluator says {self.status_word(want['final'])} (a bug)"))

    def tolerance_lines(self, d: ast.Decl, i: int, r: dict, res: dict) -> list[str]:
        if res["status"] != "tolerated" or res.get("reason"):
            return []
        out = []
        for rname in self.ev.decl(d.name).tolerated_by:
            rule = self.m.decls[rname]
            at = next((x for x in _walk(rule.when) if isinstance(x, ast.AtLeast)), None) if rule.when else None
            if at is None:
                continue
            others = [n.name for n in at.names if n.name != d.name]
            ok = [n for n in others if r["indicators"].get(n, {}).get("status") in ("met", "exempt", "not_applicable")]
            names = "、".join(self.m.decls[n].label for n in ok) if self.lang == "zh" else ", ".join(ok)
            tol = self.fmt(at.tolerance, True) if at.tolerance is not None else ""
            p = pct_floor(res["ratio"]) if res.get("ratio") is not None else None
            out.append(self.t(
                f"    由规则 {self.label(rule)} 容许：{len(at.names)} 项中至少 {at.k} 项须达到要求，"
                f"其余 {len(ok)} 项均已达到（{names}）；本项为要求的 {p}%，不低于 {tol}",
                f"    tolerated by the rule {self.label(rule)}: at least {at.k} of {len(at.names)} must be met; "
                f"the other {len(ok)} are met ({names}); this one is at {p}%, not below {tol}",
            ))
        return out

    def rule_lines(self, d: ast.Decl, i: int, r: dict) -> list[str]:
        status = STATUS_BY_KEY[r["rules"][d.name]]
        out = [f"  ▶ {self.t('规则', 'rule')} {self.label(d)}"]
        if self.source(d):
            out.append(f"    {self.t('依据', 'source')}{self.c}{self.source(d)}")
        at = d.when if isinstance(d.when, ast.AtLeast) else None
        if at is not None:
            raw = {}
            for ind in self.ev.row_columns()["indicators"]:
                raw[ind["name"]] = Status(int(ind["raw"][i]))
            counted = [n.name for n in at.names if raw.get(n.name) in (Status.MET, Status.TOLERATED, Status.EXEMPT,
                                                                          Status.NOT_APPLICABLE)]
            short = [n.name for n in at.names if raw.get(n.name) == Status.NOT_MET]
            out.append(self.t(f"    {len(at.names)} 项中 {len(counted)} 项达到要求（至少须 {at.k} 项）",
                              f"    {len(counted)} of {len(at.names)} met (at least {at.k} required)"))
            if at.tolerance is not None:
                tol = self.fmt(at.tolerance, True)
                for n in short:
                    res = r["indicators"][n]
                    p = pct_floor(res["ratio"]) if res.get("ratio") is not None else None
                    ok = res.get("ratio") is not None and res["ratio"] + 1e-12 >= at.tolerance
                    out.append(self.t(f"    未达到要求：{self.m.decls[n].label}（{n}）为要求的 {p}%，{'不低于' if ok else '低于'} {tol}",
                                      f"    below the requirement: {n} at {p}%, {'not below' if ok else 'below'} {tol}"))
        elif d.when is not None:
            ent = self.row_ent(i)
            out.append(f"    {self.t('条件', 'condition')}{self.c}{text_of(self.m, d.when)}")
            out.append(f"    {self.t('代入', 'with the data')}{self.c}{self.sub(d.when, ent, True)}")
        out.append(f"    {self.t('结论', 'status')}{self.c}{self.status_word(status)}")
        return out
