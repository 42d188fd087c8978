"""The trace of one county: each part's items, the CVs against their limits, and the verdicts with what decided them."""

from __future__ import annotations

import numpy as np

from ..interpreter import Entity
from ..language import ast
from ..status import Status
from ..versions import text_of
from .base import OPS, STATUS_BY_KEY, TraceBase, _flat, _stage_index


class CountyTraces(TraceBase):
    # ------------------------------------------------------------------ a county
    def county_dicts(self) -> list[dict]:
        if self._counties is None:
            self._counties = self.ev._counties()
        return self._counties

    def county(self, c: int) -> list[str]:
        m = self.m
        cd = self.county_dicts()[c]
        code = cd["county_code"]
        ent = self.oracle.county_entity(code)
        name = cd["county_name"] or code
        head = f"═ {name}（{code}）" if self.lang == "zh" else f"═ {name} ({code})"
        out = ["", head]
        if not cd["in_county_table"]:
            out.append("  ⚠ " + self.t("县级数据表中没有此区县，县级项目未评估", "not in the county table: county items are not assessed"))
        parts = list(m.parts) + [None]
        for p in parts:
            decls = [d for d in m.decls.values() if (d.part.name if d.part else None) == p
                     and d.kind not in ("verdict",) and self.wanted(d.name)]
            if p is None:
                decls = [d for d in decls if d.kind in ("item", "aggregate")]
            if not decls:
                continue
            if p is not None:
                out += ["", f"── {m.parts[p]}（{p}）：{self.status_word(STATUS_BY_KEY[cd['parts'][p]])}" if self.lang == "zh"
                        else f"── {m.parts[p]} ({p}): {self.status_word(STATUS_BY_KEY[cd['parts'][p]])}"]
            else:
                out += ["", self.t("── 其他项目", "── other items")]
            for d in decls:
                if d.kind == "item":
                    out += self.judged(d, ent, cd["items"][d.name], None)
                    for f, note in cd["items"][d.name].get("evidence", {}).items():
                        out.append(f"    {self.t('佐证', 'evidence')}（{f}）：{note}")
                elif d.kind == "balance":
                    out += self.balance_lines(d, cd)
                elif d.kind == "aggregate":
                    for stage, res in cd["aggregates"][d.name].items():
                        sent = ent if stage == "all" else self.oracle.cs_entity(code, _stage_index(stage))
                        out += self.judged(d, sent, res, None if stage == "all" else stage)
                else:
                    out += self.members_summary(d, c, "  ", "■ ")
        for d in m.of_kind("verdict"):
            if self.wanted(d.name) or self.only is None:
                out += self.verdict_lines(d, cd, ent)
        return out

    def balance_lines(self, d: ast.Decl, cd: dict) -> list[str]:
        out = [f"  ■ {self.label(d)}"]
        if self.source(d):
            out.append(f"    {self.t('依据', 'source')}{self.c}{self.source(d)}")
        if d.weight is not None:
            out.append(f"    {self.t('按', 'weighted by')} {d.weight.name}{self.t(' 加权', '')}")
        for stage, per in cd["balance"].items():
            label = self.stage_label.get(stage, stage) if self.lang == "zh" else stage
            out.append(f"    {label}{self.c}")
            for ind, b in per.items():
                dd = self.m.decls.get(ind)
                name = dd.label if dd is not None and self.lang == "zh" else ind
                lim = f" {OPS['<=']} {self.fmt(b['limit'])}" if b["limit"] is not None else ""
                out.append(self.t(
                    f"      {name}{self.c}差异系数 {self.fmt(b['cv'])}{lim}（均值 {self.fmt(b['mean'])}，{b['schools']} 所学校）"
                    f"→ {self.status_word(STATUS_BY_KEY[b['status']])}",
                    f"      {name}: CV {self.fmt(b['cv'])}{lim} (mean {self.fmt(b['mean'])}, {b['schools']} schools) "
                    f"→ {self.status_word(STATUS_BY_KEY[b['status']])}",
                ))
                if b.get("remedy"):
                    from ..default_plugins.writers.wording import cv_remedy_en, cv_remedy_zh

                    words = cv_remedy_zh(self.m, stage, ind, b) if self.lang == "zh" else cv_remedy_en(self.m, stage, ind, b)
                    out.append(f"        {self.t('整改', 'to meet it')}{self.c}{words}")
            comp = cd["composite_cv"].get(stage)
            if comp is not None and d.composite:
                out.append(f"      {d.composite}{self.c}{self.fmt(comp)}")
        return out

    def verdict_lines(self, d: ast.Decl, cd: dict, ent: Entity) -> list[str]:
        status = STATUS_BY_KEY[cd["verdicts"][d.name]]
        out = ["", f"── {self.t('结论', 'verdict')} {self.label(d)}{self.c}{self.status_word(status)}"]
        if self.source(d):
            out.append(f"    {self.t('依据', 'source')}{self.c}{self.source(d)}")
        if d.when is None:
            return out
        out.append(f"    {self.t('条件', 'condition')}{self.c}{text_of(self.m, d.when)}")
        terms = _flat(d.when) if isinstance(d.when, ast.Logic) and d.when.op == "and" else [d.when]
        deciding = []
        for term in terms:
            s = self.term_status(term, cd, ent)
            out.append(f"    - {text_of(self.m, term)}{self.c}{self.status_word(s) if s is not None else '—'}")
            if s is not None and not s.ok:
                deciding.append(term)
                out += [f"        {x}" for x in self.term_culprits(term, cd)]
        want = self.safe(self.oracle.decl, d.name, ent)
        if want and int(want["final"]) != int(status):
            out.append("    ⚠ " + self.t(f"逐行核算结论为 {self.status_word(want['final'])}，与快速计算不一致（程序缺陷）",
                                          f"the exact evaluator says {self.status_word(want['final'])} (a bug)"))
        if deciding:
            out.append(self.t(f"    决定结论的是：{'；'.join(text_of(self.m, t) for t in deciding)}",
                              f"    decided by: {'; '.join(text_of(self.m, t) for t in deciding)}"))
        else:
            out.append(self.t("    各条件均满足", "    every condition holds"))
        return out

    def term_status(self, term: ast.Expr, cd: dict, ent: Entity) -> Status | None:
        if isinstance(term, ast.QuantifiedPart) and term.part.name in cd["parts"]:
            return STATUS_BY_KEY[cd["parts"][term.part.name]]
        if isinstance(term, ast.Name) and term.name in cd["items"]:
            return STATUS_BY_KEY[cd["items"][term.name]["status"]]
        if isinstance(term, ast.QuantifiedRows) and isinstance(term.operand, ast.Name) and term.quantifier == "all":
            name = term.operand.name
            if name in self.m.decls and self.ev.decl(name).level in ("row", "school"):
                o = self.ev.decl(name)
                st = self.ev.arr(o.final, o.level)[self.fr.codes(o.level, "county") == self.find_county(cd["county_code"])]
                from ..compiler import kernels as k

                return Status(int(k.and_(np.full(1, int(Status.NOT_APPLICABLE), dtype=np.int8),
                                         k.group_status(st, np.zeros(len(st), dtype=np.int64), 1, "all"))[0]))
        s = self.safe(self.oracle.st, term, ent)
        return Status(int(s)) if s is not None else None

    def term_culprits(self, term: ast.Expr, cd: dict) -> list[str]:
        out = []
        if isinstance(term, ast.QuantifiedPart):
            for d in self.m.decls.values():
                if d.part is None or d.part.name != term.part.name:
                    continue
                if d.kind == "item":
                    s = STATUS_BY_KEY[cd["items"][d.name]["status"]]
                    if not s.ok:
                        out.append(f"{self.label(d)}{self.c}{self.status_word(s)}")
                elif d.kind == "balance":
                    for stage, per in cd["balance"].items():
                        for ind, b in per.items():
                            s = STATUS_BY_KEY[b["status"]]
                            if not s.ok:
                                out.append(f"{d.name} {stage} {ind}{self.c}{self.status_word(s)}")
        elif isinstance(term, ast.QuantifiedRows) and isinstance(term.operand, ast.Name):
            d = self.m.decls.get(term.operand.name)
            if d is not None:
                c = self.find_county(cd["county_code"])
                out += [x.strip() for x in self.members_summary(d, c, "")[1:]]
        return out
