"""The common part of every trace: words, lookups, formulas with their numbers, one judged item.

The verdicts are the fast evaluation's; the numbers substituted into a formula come from the exact
row-by-row evaluator (:mod:`qbe.interpreter`), built only for the rows being traced.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.schema import STAGES, FieldType
from ..errors import UsageError
from ..interpreter import Entity, Oracle, from_tables
from ..language import ast
from ..results.findings import num, pct_floor
from ..status import Status
from ..versions import text_of

OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}
STATUS_EN = {
    Status.MET: "met",
    Status.NOT_MET: "not met",
    Status.TOLERATED: "tolerated",
    Status.EXEMPT: "exempt",
    Status.NOT_APPLICABLE: "not applicable",
    Status.NOT_ASSESSED: "not assessed",
}
STATUS_BY_KEY = {s.key: s for s in Status}
MARK = {Status.MET: "✓", Status.TOLERATED: "✓", Status.NOT_MET: "✗", Status.NOT_APPLICABLE: "–", Status.EXEMPT: "–"}
AGGREGATES = {"sum", "mean", "count", "share", "cv", "wmean"}
PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def _close(query: str, choices: list[str], lang: str) -> str:
    near = difflib.get_close_matches(query, choices, n=5, cutoff=0.4)
    near += [c for c in choices if (query in c or c in query) and c not in near][: 5 - len(near)]
    if not near:
        return ""
    return f"；相近的有：{'、'.join(near)}" if lang == "zh" else f"; close matches: {', '.join(near)}"


def _fl(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else f


def _same(a: Any, b: Any) -> bool:
    a, b = _fl(a), _fl(b)
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@dataclass
class TraceBase:
    """What every trace needs: the evaluation, words, lookups, numbers and one judged item."""

    ev: Any
    lang: str = "zh"
    only: str | None = None
    subset: list[int] | None = None  #: trace only these rows (each school complete); None: every row
    _local: dict[int, int] | None = None
    _oracle: Oracle | None = None

    def row_ent(self, i: int) -> Entity:
        """The exact evaluator's entity for input row ``i``."""
        return self.oracle.row_entity(i if self._local is None else self._local[i])

    def __post_init__(self) -> None:
        self.c = "：" if self.lang == "zh" else ": "
        self.m = self.ev.model
        self.fr = self.ev.frame
        if self.subset is not None:
            idx = sorted(set(self.subset))
            self._local = {int(g): j for j, g in enumerate(idx)}
        self.stage_label = {s.name: s.label for s in self.m.stages}
        cols = self.fr.rows.columns
        self.codes = [str(x) for x in cols["school_code"].tolist()]
        names = cols.get("school_name")
        self.names = [str(x or "") for x in names.tolist()] if names is not None else [""] * self.fr.n
        self._counties: list[dict] | None = None

    @property
    def oracle(self) -> Oracle:
        """The exact evaluator over the traced rows, built on first use.

        It turns every number into a Fraction, row by row, so it is built only
        for the rows a trace needs (``subset``): finding a school or county by
        name needs none of it, and at national scale building it for every row
        would take minutes.
        """
        if self._oracle is None:
            rows = self.fr.rows
            if self._local is not None:
                rows = _take(rows, np.asarray(list(self._local), dtype=np.int64))
            self._oracle = from_tables(self.m, rows, self.fr.counties)
            self._oracle.params = dict(self.ev.plan.params)
        return self._oracle

    # ------------------------------------------------------------------ words
    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def status_word(self, s: int | Status) -> str:
        s = Status(int(s))
        return s.zh if self.lang == "zh" else STATUS_EN[s]

    def label(self, d: ast.Decl) -> str:
        return f"{d.label}（{d.name}）" if self.lang == "zh" else f"{d.label} ({d.name})"

    def source(self, d: ast.Decl) -> str:
        if not d.source:
            return ""
        return d.source + (f" [{d.source_tag}]" if d.source_tag else "")

    def stage_of(self, i: int) -> str:
        st = int(self.fr.stage[i])
        code = STAGES[st].code if 0 <= st < len(STAGES) else ""
        if self.lang == "zh":
            return self.stage_label.get(code, STAGES[st].label if 0 <= st < len(STAGES) else "?")
        return code or "?"

    def where(self, i: int) -> str:
        name = self.names[i] or self.codes[i]
        return f"{name}（{self.stage_of(i)}）" if self.lang == "zh" else f"{name} ({self.stage_of(i)})"

    def heading(self) -> str:
        std = self.m.standard
        year = f" · {self.ev.plan.year}" if self.ev.plan.year is not None else ""
        return f"{std.id} ({std.version}) {std.title or ''}{year}".rstrip()

    def wanted(self, name: str) -> bool:
        return self.only is None or self.only == name

    # ------------------------------------------------------------------ finding entities
    def find_county(self, query: str) -> int:
        codes = [str(c) for c in self.fr.county_codes.tolist()]
        if query in codes:
            return codes.index(query)
        names = self.county_names()
        for c, n in enumerate(names):
            if n and n == query:
                return c
        choices = codes + [n for n in names if n]
        raise UsageError(f"数据中没有区县“{query}”{_close(query, choices, 'zh')}",
                         f"no county '{query}' in the data{_close(query, choices, 'en')}")

    def county_names(self) -> list[str | None]:
        return self.ev._county_names()

    def find_school(self, query: str, county_idx: int | None) -> list[list[int]]:
        """Row indices per matching school (a name may be shared by schools of several counties)."""
        fr = self.fr
        match = (np.asarray(self.codes, dtype=object) == query) | (np.asarray(self.names, dtype=object) == query)
        if county_idx is not None:
            match &= fr.row_county == county_idx
        hits: dict[int, list[int]] = {}
        for i in np.nonzero(match)[0].tolist():
            hits.setdefault(int(fr.row_school[i]), []).append(i)
        if not hits:
            choices = list(dict.fromkeys([n for n in self.names if n] + self.codes))
            raise UsageError(f"数据中没有学校“{query}”{_close(query, choices, 'zh')}",
                             f"no school '{query}' in the data{_close(query, choices, 'en')}")
        return [hits[k] for k in sorted(hits)]

    # ------------------------------------------------------------------ numbers
    def field_type(self, name: str) -> FieldType | None:
        spec = self.m.fields.get(name)
        return spec.type if spec is not None else None

    def is_percent(self, e: ast.Expr | None) -> bool:
        if isinstance(e, ast.Pct):
            return True
        return isinstance(e, ast.Name) and self.field_type(e.name) == FieldType.PERCENT

    def fmt(self, x: Any, percent: bool = False) -> str:
        f = _fl(x)
        if f is None:
            return "—"
        return f"{num(f * 100)}%" if percent else num(f)

    def safe(self, fn, *args):
        try:
            return fn(*args)
        except Exception:  # the oracle does not know every construct; the trace then shows no number
            return None

    def sub(self, e: ast.Expr, ent: Entity, cond: bool = False) -> str:
        """The expression with the entity's numbers in place of names; ``cond`` marks conditions ✓/✗."""
        o = self.oracle
        if isinstance(e, (ast.Num, ast.Pct)):
            return e.text
        if isinstance(e, ast.Bool):
            return text_of(self.m, e) or str(e.value).lower()
        if isinstance(e, ast.Name):
            return self.sub_name(e, ent, cond)
        if isinstance(e, ast.BinOp):
            left, right = self.sub(e.left, ent), self.sub(e.right, ent)
            p = PREC[e.op]
            if isinstance(e.left, ast.BinOp) and PREC[e.left.op] < p:
                left = f"({left})"
            if isinstance(e.right, ast.BinOp) and PREC[e.right.op] <= p:
                right = f"({right})"
            return f"{left} {e.op} {right}"
        if isinstance(e, ast.Neg):
            return f"-{self.sub(e.operand, ent)}"
        if isinstance(e, ast.Call):
            if e.func in AGGREGATES or (e.func in ("min", "max") and len(e.args) == 1) or e.func in self.m.functions:
                return self.fmt(self.safe(o.num, e, ent))
            return f"{e.func}({', '.join(self.sub(a, ent) for a in e.args)})"
        if isinstance(e, ast.Apportion):
            return self.fmt(self.safe(o.num, e, ent))
        if isinstance(e, ast.Compare):
            pct = self.is_percent(e.left) or self.is_percent(e.right)
            left = self.fmt(self.safe(o.num, e.left, ent), pct) if self.is_percent(e.left) else self.sub(e.left, ent)
            right = self.sub(e.right, ent)
            if pct and not isinstance(e.right, ast.Pct):
                right = self.fmt(self.safe(o.num, e.right, ent), True)
            return f"{left} {OPS.get(e.op, e.op)} {right}{self.mark(e, ent)}"
        if isinstance(e, ast.InSet):
            vals = ", ".join(v.name for v in e.values)
            op = " not in " if e.negate else " in "
            return f"{self.sub(e.operand, ent)}{op}{{{vals}}}{self.mark(e, ent)}"
        if isinstance(e, ast.Logic):
            if e.op == "not":
                inner = e.args[0]
                return f"{self.t('非', 'not')} ({self.sub(inner, ent, not isinstance(inner, ast.Name))}){self.mark(e, ent)}"
            joiner = {"and": self.t(" 且 ", " and "), "or": self.t(" 或 ", " or ")}[e.op]
            parts = []
            for a in _flat(e):
                s = self.sub(a, ent, True)
                parts.append(f"({s})" if isinstance(a, ast.Logic) and a.op != "not" else s)
            return joiner.join(parts)
        if isinstance(e, ast.Cond):
            test = self.safe(o.st, e.test, ent)
            if test in (Status.MET, Status.TOLERATED):
                chosen, holds = e.then, self.t("成立", "holds")
            elif test == Status.NOT_MET:
                chosen, holds = e.otherwise, self.t("不成立", "does not hold")
            else:
                return text_of(self.m, e)
            return f"{self.sub(chosen, ent)}（{text_of(self.m, e.test)} {holds}）" if self.lang == "zh" else \
                f"{self.sub(chosen, ent)} ({text_of(self.m, e.test)} {holds})"
        if isinstance(e, ast.QuantifiedRows):
            return f"{text_of(self.m, e)}{self.mark(e, ent)}"
        if isinstance(e, (ast.Quantified, ast.QuantifiedPart, ast.AtLeast)):
            return f"{text_of(self.m, e)}{self.mark(e, ent)}"
        return text_of(self.m, e)

    def sub_name(self, e: ast.Name, ent: Entity, cond: bool) -> str:
        o, n = self.oracle, e.name
        ftype = self.field_type(n)
        if ftype is None and n not in self.m.lets and n not in self.m.decls and n not in self.m.params:
            return n  # a category value (A, primary …) or a stage name
        if ftype == FieldType.YESNO:
            s = self.safe(o.st, e, ent)
            word = {Status.MET: self.t("是", "yes"), Status.NOT_MET: self.t("否", "no")}.get(s, "—")
            return f"{n}={word}{self.mark(e, ent) if cond else ''}"
        if ftype == FieldType.CATEGORY:
            v = self.safe(o.field_value, n, ent)
            spec = self.m.fields[n]
            return spec.values[v].code if isinstance(v, int) and 0 <= v < len(spec.values) else "—"
        if ftype == FieldType.TEXT:
            return str(self.safe(o.field_value, n, ent) or "—")
        if n in self.m.decls:
            t = self.m.types.get(n)
            d = self.m.decls[n]
            if (t is None or t.kind == "status") and d.value is None:
                return f"{n}={self.status_word(self.safe(o.st, e, ent) or Status.NOT_ASSESSED)}"
        return self.fmt(self.safe(o.num, e, ent), ftype == FieldType.PERCENT)

    def mark(self, e: ast.Expr, ent: Entity) -> str:
        s = self.safe(self.oracle.st, e, ent)
        return f" {MARK.get(s, '?')}"

    # ------------------------------------------------------------------ one judged thing
    def requirement(self, d: ast.Decl, stage_code: str | None) -> ast.Requirement | None:
        specific = [r for r in d.requires if r.stage is not None and r.stage == stage_code]
        general = [r for r in d.requires if r.stage is None]
        chosen = specific or general
        return chosen[0] if chosen else None

    def judged(self, d: ast.Decl, ent: Entity, res: dict, stage_code: str | None, indent: str = "  ") -> list[str]:
        """Lines for an indicator, check or item: formula, requirement, share of it, status, reasons."""
        out = [f"{indent}■ {self.label(d)}"]
        pad = indent + "  "
        unit = f" {d.unit}" if d.unit else ""
        pct = self.is_percent(d.value)
        oracle = self.safe(self.oracle.decl, d.name, ent) or {}
        if d.applies is not None:
            s = self.safe(self.oracle.st, d.applies, ent)
            holds = self.t("成立", "holds") if s in (Status.MET, Status.TOLERATED) else \
                self.t("不成立", "does not hold") if s == Status.NOT_MET else self.t("无法判断", "unknown")
            out.append(f"{pad}{self.t('适用条件', 'applies when')}{self.c}{text_of(self.m, d.applies)} = "
                       f"{self.sub(d.applies, ent, True)} → {holds}")
        skip = d.applies is not None and res.get("status") == "not_applicable"
        if d.value is not None and not skip:
            text = text_of(self.m, d.value)
            subst = self.sub(d.value, ent)
            shown = self.fmt(res.get("value"), pct)
            chain = [d.label, text]
            if subst != text:
                chain.append(subst)
            if shown not in chain[-1:]:
                chain.append(shown)
            out.append(f"{pad}{' = '.join(chain)}{unit}")
            if not _same(oracle.get("value"), res.get("value")) and oracle:
                out.append(f"{pad}⚠ " + self.t(f"逐行核算得 {self.fmt(oracle.get('value'), pct)}，与快速计算 {shown} 不一致（程序缺陷）",
                                                f"the exact evaluator gives {self.fmt(oracle.get('value'), pct)}, "
                                                f"the fast one {shown} (a bug)"))
            out += self.let_lines(d.value, ent, pad)
        req = self.requirement(d, stage_code) if d.value is not None and not skip else None
        if req is not None:
            thr_text = text_of(self.m, req.threshold)
            reqpct = pct or self.is_percent(req.threshold)
            thr = thr_text
            if not isinstance(req.threshold, (ast.Num, ast.Pct)):
                subst = self.sub(req.threshold, ent)
                chain = [thr_text] + ([subst] if subst not in (thr_text, self.fmt(res.get("required"), reqpct)) else [])
                thr = " = ".join(chain + [self.fmt(res.get("required"), reqpct)])
                if isinstance(req.threshold, ast.Name) and req.threshold.name in self.ev.plan.params:
                    pv = self.ev.plan.params[req.threshold.name]
                    thr = f"{thr_text} = {pv.text}（{pv.key}）"
            src = self.source(d)
            where = f"（{src}）" if src and self.lang == "zh" else f" ({src})" if src else ""
            out.append(f"{pad}{self.t('要求', 'required')} {OPS.get(req.op, req.op)} {thr}{where}")
            if res.get("ratio") is not None:
                out.append(f"{pad}{self.t('为要求的', 'at')} {pct_floor(res['ratio'])}%"
                           f"{self.t('', ' of the requirement')}" + self.excess(res, req.op, unit, pct))
        elif d.check is not None and not skip:
            out.append(f"{pad}{self.t('条件', 'condition')}{self.c}{text_of(self.m, d.check)}")
            out.append(f"{pad}{self.t('代入', 'with the data')}{self.c}{self.sub(d.check, ent, True)}")
            src = self.source(d)
            if src:
                out.append(f"{pad}{self.t('依据', 'source')}{self.c}{src}")
            out += self.rows_lines(d.check, ent, pad)
        elif self.source(d):
            out.append(f"{pad}{self.t('依据', 'source')}{self.c}{self.source(d)}")
        status = STATUS_BY_KEY[res["status"]]
        out.append(f"{pad}{self.t('结论', 'status')}{self.c}{self.verdict_words(status, res)}")
        if res.get("reason"):
            out.append(f"{pad}{self.t('原因', 'reason')}{self.c}{res['reason']}")
        if "remedy" in res:
            out.append(f"{pad}{self.t('整改', 'to meet it')}{self.c}{self.remedy_words(res['remedy'])}")
        if oracle and "final" in oracle and int(oracle["final"]) != int(status) and d.kind != "indicator":
            out.append(f"{pad}⚠ " + self.t(f"逐行核算结论为 {self.status_word(oracle['final'])}，与快速计算不一致（程序缺陷）",
                                            f"the exact evaluator says {self.status_word(oracle['final'])} (a bug)"))
        return out

    def remedy_words(self, remedy: dict) -> str:
        """The amount that would meet the requirement, or why none can be stated."""
        from ..default_plugins.writers.wording import remedy_en, remedy_zh

        if remedy.get("input") is None or remedy.get("amount") is None:
            return self.t("无法直接推算（公式不是单一输入的线性式，或须减少某项输入）",
                          "not derivable (the formula is not linear in a single input, or an input would have to fall)")
        return remedy_zh(self.m, remedy) if self.lang == "zh" else remedy_en(self.m, remedy)

    def excess(self, res: dict, op: str, unit: str, pct: bool) -> str:
        if res.get("status") != "not_met":
            return ""
        v, r = _fl(res.get("value")), _fl(res.get("required"))
        if v is None or r is None:
            return ""
        if op in ("<=", "<"):
            return self.t(f"，超过 {self.fmt(v - r, pct)}{unit}", f", {self.fmt(v - r, pct)}{unit} over")
        return self.t(f"，差 {self.fmt(r - v, pct)}{unit}", f", {self.fmt(r - v, pct)}{unit} short")

    def verdict_words(self, s: Status, res: dict) -> str:
        if s == Status.TOLERATED:
            return self.t("未达到要求，但按规则容许", "below the requirement, but tolerated by a rule")
        if s == Status.EXEMPT:
            return self.t("豁免", "exempt")
        if s == Status.NOT_ASSESSED:
            return self.t("未评估（缺少数据或数据有误）", "not assessed (data missing or invalid)")
        if s == Status.NOT_APPLICABLE:
            return self.t("不适用", "not applicable")
        return self.status_word(s)

    def let_lines(self, e: ast.Expr, ent: Entity, pad: str) -> list[str]:
        """A line for each named intermediate value the formula reads, where it was computed from others."""
        out = []
        seen: set[str] = set()
        for n in _names(e):
            if n in seen or n not in self.m.lets:
                continue
            seen.add(n)
            let = self.m.lets[n]
            val = self.safe(self.oracle.num, ast.Name(let.span, n), ent)
            if isinstance(let.expr, ast.Apportion):
                raw = self.safe(self.oracle.field_value, let.expr.amount.name, ent)
                if raw is not None and val is not None and raw == val:
                    continue
                out.append(f"{pad}{self.t('其中', 'where')} {n} = {self.t('按学段分摊', 'apportioned by stage')} "
                           f"{let.expr.amount.name}（{self.t('本行填报', 'as filled')} {self.fmt(raw)}）→ {self.fmt(val)}")
                continue
            out.append(f"{pad}{self.t('其中', 'where')} {n} = {text_of(self.m, let.expr)} = "
                       f"{self.sub(let.expr, ent)} = {self.fmt(val)}")
        return out

    def rows_lines(self, e: ast.Expr, ent: Entity, pad: str) -> list[str]:
        """For ``all(check)`` over a county's schools: how many met, and the ones that did not."""
        out = []
        for q in _walk(e):
            if not isinstance(q, ast.QuantifiedRows) or not isinstance(q.operand, ast.Name):
                continue
            name = q.operand.name
            if name not in self.m.decls or ent.level != "county":
                continue
            out += self.members_summary(self.m.decls[name], self.find_county(ent.county), pad)
        return out

    def members_summary(self, d: ast.Decl, c: int, pad: str, head: str = "") -> list[str]:
        o = self.ev.decl(d.name)
        lvl = o.level
        if lvl not in ("row", "school"):
            return []
        fr = self.fr
        st = self.ev.arr(o.final, lvl)
        mine = np.nonzero(fr.codes(lvl, "county") == c)[0]
        counts: dict[int, int] = {}
        for s in st[mine].tolist():
            counts[int(s)] = counts.get(int(s), 0) + 1
        sep = "，" if self.lang == "zh" else ", "
        summary = sep.join(f"{self.status_word(s)} {k}" for s, k in sorted(counts.items()))
        out = [f"{pad}{head}{self.label(d)}{self.c}{summary}"]
        val = self.ev.arr(o.value, lvl)
        ratio = self.ev.arr(o.ratio, lvl)
        for j in mine.tolist():
            s = int(st[j])
            if s in (Status.MET, Status.NOT_APPLICABLE):
                continue
            i = j if lvl == "row" else int(fr.school_first[j])
            who = self.where(i) if lvl == "row" else (self.names[i] or self.codes[i])
            extra = ""
            if val is not None and val.dtype != np.int8 and not math.isnan(float(val[j])):
                extra = f" {self.fmt(val[j])}{(' ' + d.unit) if d.unit else ''}"
                if ratio is not None and not math.isnan(float(ratio[j])):
                    extra += self.t(f"，为要求的 {pct_floor(float(ratio[j]))}%", f", {pct_floor(float(ratio[j]))}% of the requirement")
                req = self.ev.arr(o.required, lvl)
                op = _op_of(d)
                if s == Status.NOT_MET and req is not None and op and not math.isnan(float(req[j])):
                    res = {"status": "not_met", "value": float(val[j]), "required": float(req[j])}
                    extra += self.excess(res, op, f" {d.unit}" if d.unit else "", False)
            out.append(f"{pad}  - {who}{extra}{self.c}{self.status_word(s)}")
        return out


def _take(t, idx: np.ndarray):
    """The rows ``idx`` of a validated table, as a table of their own."""
    from dataclasses import replace

    bad = t.bad_rows[idx] if len(t.bad_rows) == t.n else t.bad_rows
    return replace(t, n=len(idx), columns={k: v[idx] for k, v in t.columns.items()}, row_numbers=t.row_numbers[idx],
                   bad_rows=bad, evidence={k: v[idx] for k, v in t.evidence.items()})


def _op_of(d: ast.Decl) -> str | None:
    ops = {r.op for r in d.requires}
    return ops.pop() if len(ops) == 1 else None


def _flat(e: ast.Logic) -> list[ast.Expr]:
    """The operands of a chain of one operator: ``a and b and c`` is parsed as ``(a and b) and c``."""
    out: list[ast.Expr] = []
    for a in e.args:
        if isinstance(a, ast.Logic) and a.op == e.op and a.op != "not":
            out += _flat(a)
        else:
            out.append(a)
    return out


def _stage_index(code: str) -> int:
    return next(i for i, s in enumerate(STAGES) if s.code == code)


def _walk(e: Any):
    stack = [e]
    while stack:
        x = stack.pop(0)
        if isinstance(x, ast.Expr):
            yield x
            for v in x.__dict__.values():
                if isinstance(v, ast.Expr):
                    stack.append(v)
                elif isinstance(v, tuple):
                    stack.extend(y for y in v if isinstance(y, ast.Expr))


def _names(e: ast.Expr) -> list[str]:
    return [x.name for x in _walk(e) if isinstance(x, ast.Name)]
