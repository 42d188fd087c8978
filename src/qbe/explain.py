"""``qbe explain``: every verdict for one school or county, as a plain-language trace.

For each item the trace shows its label and id, the formula as written with
the actual numbers substituted, the requirement for the stage and its source
clause, the percentage of the requirement, the status in words, the
exemptions or tolerances that applied, the rule that decided and, for an
unmet indicator or a CV over its limit, what would meet it (the 整改清单
entry, :mod:`qbe.results.remedy`). :func:`shortfall_traces` gives the same
text for the HTML and Word reports, reading only the schools it explains.

The verdicts are the fast evaluation's (:class:`~qbe.results.assemble.Evaluation`);
the numbers inside a formula come from the exact row-by-row evaluator
(:mod:`qbe.interpreter`). Where the two disagree both are printed: that is a
bug in one of them.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data.schema import STAGES, FieldType
from .errors import UsageError
from .interpreter import Entity, Oracle, from_tables
from .language import ast
from .results.assemble import _check_at
from .results.findings import num, pct_floor
from .status import Status
from .versions import text_of

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


def explain(
    standard: str,
    data: str,
    county_data: str | None = None,
    school: str | None = None,
    county: str | None = None,
    indicator: str | None = None,
    year: int | None = None,
    lang: str = "zh",
    reg=None,
) -> str:
    """The trace for ``school`` (name or code) or ``county`` (code or name) as text."""
    from .compiler import compile_model
    from .pipeline import choose_year, evaluate, load_model, load_table, stage_issues
    from .plugins import registry

    if not school and not county:
        raise UsageError("请用 --school（学校名称或代码）或 --county（区县代码）指定要解释的对象",
                         "name what to explain: --school (a school's name or code) or --county (a county code)")
    reg = reg or registry()
    model = load_model(standard, reg)
    rows, issues = load_table(data, model.row_schema(), ("school_code", "stage"), reg)
    counties = None
    if county_data:
        counties, c_issues = load_table(county_data, model.county_schema(), ("county_code",), reg)
        issues = issues + c_issues
    issues = issues + stage_issues(model, rows)
    year = choose_year(model, year, rows)
    plan = compile_model(model, year)
    ev = evaluate(model, rows, counties, issues, plan)
    if indicator is not None and indicator not in model.decls:
        raise UsageError(
            f"标准 {model.id} 中没有指标“{indicator}”{_close(indicator, list(model.decls), 'zh')}",
            f"standard {model.id} has no item '{indicator}'{_close(indicator, list(model.decls), 'en')}",
        )
    return trace_text(ev, lang, school=school, county=county, only=indicator)


def trace_text(ev, lang: str = "zh", school: str | None = None, county: str | None = None,
               only: str | None = None) -> str:
    """The trace of ``school`` (name or code, within ``county`` if given) or of ``county``, for an evaluation.

    The school or county is looked up first; the exact evaluator then reads
    only its rows (every stage of the school, or every row of the county), so
    one explanation costs the same on a national dataset as on one county.
    """
    finder = Explainer(ev, lang, subset=[])
    out: list[str] = [finder.heading()]
    county_idx = finder.find_county(county) if county else None
    if school:
        groups = finder.find_school(school, county_idx)
        ex = Explainer(ev, lang, only=only, subset=[i for g in groups for i in g])
        for g in groups:
            out += ex.school(g)
    else:
        assert county_idx is not None
        rows = np.nonzero(ev.frame.row_county == county_idx)[0].tolist()
        out += Explainer(ev, lang, only=only, subset=rows).county(county_idx)
    return "\n".join(out).rstrip() + "\n"


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
class Explainer:
    ev: Any
    lang: str = "zh"
    only: str | None = None
    subset: list[int] | None = None  #: trace only these rows (each school complete); None: every row
    _local: dict[int, int] | None = None
    _oracle: Oracle | None = None

    def row_ent(self, i: int) -> Entity:
        """The exact evaluator's entity for input row ``i``."""
        return self.oracle.row_entity(i if self._local is None else self._local[i])

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
        from .default_plugins.writers.wording import remedy_en, remedy_zh

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
                    from .default_plugins.writers.wording import cv_remedy_en, cv_remedy_zh

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
                from .compiler import kernels as k

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


def _take(t, idx: np.ndarray):
    """The rows ``idx`` of a validated table, as a table of their own."""
    from dataclasses import replace

    bad = t.bad_rows[idx] if len(t.bad_rows) == t.n else t.bad_rows
    return replace(t, n=len(idx), columns={k: v[idx] for k, v in t.columns.items()}, row_numbers=t.row_numbers[idx],
                   bad_rows=bad, evidence={k: v[idx] for k, v in t.evidence.items()})


def shortfall_traces(ev, wanted: list[tuple[int, str]], lang: str = "zh") -> dict[tuple[int, str], str]:
    """Traces of the given (row, indicator) shortfalls, as the reports show them next to each.

    The exact evaluator reads only the schools involved (every stage row of
    each), so the cost follows the number of traces, not the size of the data.
    """
    if not wanted:
        return {}
    fr = ev.frame
    schools = np.unique(fr.row_school[np.asarray([i for i, _ in wanted], dtype=np.int64)])
    rows = np.nonzero(np.isin(fr.row_school, schools))[0].tolist()
    ex = Explainer(ev, lang, subset=rows)
    return {(i, name): "\n".join(ex.shortfall(i, name)) for i, name in wanted}


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


__all__ = ["explain", "Explainer"]
