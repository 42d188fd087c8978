"""Every check a ruleset must pass before anything runs.

Passes, in order: header, symbol table (duplicates), declarations (clauses a
kind needs or may not have), expressions (names, levels, types, units,
percent scale), requirements (declared stages), dependency cycles, unused
inputs. Every problem is collected so ``qbe check`` reports them all at once;
the model is returned only when there is no error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from ..data.schema import (
    STAGES,
    STRUCTURAL_COUNTY_FIELDS,
    STRUCTURAL_ROW_FIELDS,
    CategoryValue,
    FieldSpec,
    FieldType,
    Level,
)
from ..diagnostics import DiagnosticBag, Span
from ..language import ast
from .model import COUNTY, CS, ROW, SCHOOL, Model, decl_level
from .types import Dim, Type, field_type, finer

ELEMENTWISE = {"min", "max", "abs", "ceil", "floor", "round", "per100", "coalesce"}
AGGREGATES = {"sum", "mean", "min", "max", "count", "share", "cv", "wmean"}
FUNCTIONS = sorted(ELEMENTWISE | AGGREGATES | {"all", "any", "none"})

#: Clauses each kind of declaration may use.
_JUDGED = {"value", "requires", "unit", "source", "applies", "part", "info", "note", "exempt", "tolerate", "score_weight", "grades"}
ALLOWED = {
    "indicator": _JUDGED,
    "check": _JUDGED | {"check"},
    "rule": {"when", "source", "applies", "part", "note"},
    "aggregate": (_JUDGED | {"check"}) - {"applies", "exempt", "tolerate"},
    "balance": {"indicators", "weight", "requires", "composite", "source", "part", "note", "info", "exempt"},
    "item": _JUDGED | {"check"},
    "verdict": {"when", "source", "note", "grades"},
}

#: clause keys as a user writes them
CLAUSE_WORDS = {"requires": "require", "score_weight": "weight", "applies": "applies when", "exempt": "exempt when",
                "tolerate": "tolerate when"}

KIND_ZH = {
    "indicator": "指标",
    "check": "核查项",
    "rule": "规则",
    "aggregate": "汇总量",
    "balance": "差异系数",
    "item": "县级项目",
    "verdict": "结论",
    "let": "计算量",
    "field": "输入字段",
}

LEVEL_WORDS = {
    ROW: ("每校每学段一行", "per school-stage row"),
    SCHOOL: ("每所学校", "per school"),
    CS: ("每县每学段", "per county and stage"),
    COUNTY: ("每个县", "per county"),
}


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


class _Checker:
    def __init__(self, rs: ast.Ruleset, functions: dict | None = None) -> None:
        self.rs = rs
        self.functions = functions or {}  #: plugin functions: name → Function
        self.bag = DiagnosticBag()
        self.fields: dict[str, FieldSpec] = {}
        self.field_spans: dict[str, Span] = {}
        self.lets: dict[str, ast.Let] = {}
        self.params: dict[str, ast.Param] = {}
        self.decls: dict[str, ast.Decl] = {}
        self.deps: dict[str, set[str]] = {}
        self.used_fields: set[str] = set()
        self.types: dict[str, Type] = {}
        self.stages: tuple[ast.Labelled, ...] = ()
        self.parts: dict[str, str] = {}
        self._current: str | None = None
        self._typing: set[str] = set()

    # ------------------------------------------------------------------ header
    def header(self) -> None:
        std = self.rs.standard
        if std is None:
            self.bag.error(
                "no_standard",
                Span(self.rs.file, 1, 1),
                "规则文件缺少 standard 声明",
                "the ruleset has no 'standard' declaration",
                '在文件开头写：standard 编号 { title "…" version 年份 stages { primary "小学" junior "初中" } }',
                'start the file with: standard <id> { title "…" version <year> stages { primary "小学" junior "初中" } }',
            )
            return
        if std.version is None:
            self.bag.error("no_version", std.span, "standard 缺少 version（年份）", "the standard has no version (year)",
                           "加上 version 2017 这样的一行。", "add a line like: version 2017")
        if not std.stages:
            self.bag.error("no_stages", std.span, "standard 缺少 stages（学段）声明", "the standard declares no stages",
                           '加上 stages { primary "小学" junior "初中" }。', 'add: stages { primary "小学" junior "初中" }')
        seen: dict[str, Span] = {}
        for s in std.stages:
            if s.name in seen:
                self.bag.error("duplicate_stage", s.span, f"学段 '{s.name}' 重复声明", f"stage '{s.name}' is declared twice")
            seen[s.name] = s.span
            known = [v.code for v in STAGES]
            if s.name not in known:
                self.bag.error(
                    "unknown_stage",
                    s.span,
                    f"学段 '{s.name}' 不在数据的学段取值中（{', '.join(known)}）",
                    f"stage '{s.name}' is not a stage value the data can hold ({', '.join(known)})",
                    *_hint_close(s.name, known),
                )
        self.stages = std.stages
        for p in std.parts:
            if p.name in self.parts:
                self.bag.error("duplicate_part", p.span, f"部分 '{p.name}' 重复声明", f"part '{p.name}' is declared twice")
            self.parts[p.name] = p.label

    # ------------------------------------------------------------------ symbols
    def symbols(self) -> None:
        for spec in (*STRUCTURAL_ROW_FIELDS, *STRUCTURAL_COUNTY_FIELDS):
            self.fields.setdefault(spec.name, spec)
        builtin = set(self.fields)
        for block in self.rs.inputs:
            for f in block.fields:
                if f.name in builtin:
                    self.bag.error(
                        "duplicate_id",
                        f.span,
                        f"'{f.name}' 是固定列，无须声明",
                        f"'{f.name}' is a built-in column and must not be declared",
                        "删除这一行。",
                        "remove this line.",
                    )
                    continue
                if f.name in self.fields:
                    self._dup(f.name, f.span)
                    continue
                self.fields[f.name] = self._field_spec(f)
                self.field_spans[f.name] = f.span
        for let in self.rs.lets:
            if self._taken(let.name, let.span):
                continue
            self.lets[let.name] = let
        for p in self.rs.params:
            if self._taken(p.name, p.span):
                continue
            self.params[p.name] = p
            self.param(p)
        for d in self.rs.decls:
            if self._taken(d.name, d.name_span):
                continue
            self.decls[d.name] = d

    def param(self, p: ast.Param) -> None:
        seen: dict[tuple, ast.ParamValue] = {}
        for v in p.values:
            try:
                start = v.start
                if "-" in v.key:
                    import datetime

                    datetime.date(*start)
            except ValueError:
                self.bag.error("bad_date", v.span, f"'{v.key}' 不是有效的年份或日期", f"'{v.key}' is not a valid year or date")
                continue
            if start in seen:
                self.bag.error("duplicate_year", v.span, f"'{p.name}' 的 {v.key} 取值写了两次",
                               f"'{p.name}' has two values for {v.key}")
            seen[start] = v
        kinds = {v.text.endswith("%") for v in p.values}
        if len(kinds) > 1:
            self.bag.error("mixed_percent", p.span, f"'{p.name}' 的取值有的写成百分数、有的不是，请统一",
                           f"'{p.name}' mixes percentages and plain numbers; write them all one way")

    def _taken(self, name: str, span: Span) -> bool:
        if name in self.fields or name in self.lets or name in self.decls or name in self.params:
            self._dup(name, span)
            return True
        return False

    def _dup(self, name: str, span: Span) -> None:
        first = self.field_spans.get(name)
        if first is None and name in self.lets:
            first = self.lets[name].span
        if first is None and name in self.decls:
            first = self.decls[name].name_span
        if first is None and name in self.params:
            first = self.params[name].span
        where = f"（首次声明于 {first}）" if first else ""
        where_en = f" (first declared at {first})" if first else ""
        self.bag.error(
            "duplicate_id",
            span,
            f"名称 '{name}' 重复声明{where}",
            f"'{name}' is declared twice{where_en}",
            "每个字段、计算量和项目须有不同的名称；改名或删除其中一个。",
            "every field, value and item needs its own name: rename or remove one of them.",
        )

    def _field_spec(self, f: ast.FieldDecl) -> FieldSpec:
        ftype = FieldType(f.type)
        if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
            self.bag.error("bad_range", f.span, f"字段 '{f.name}' 的取值范围下限大于上限",
                           f"field '{f.name}' has a range whose minimum exceeds its maximum")
        if ftype == FieldType.PERCENT and f.maximum is not None and f.maximum >= 10:
            self.bag.error(
                "percent_scale",
                f.span,
                f"百分比字段 '{f.name}' 的上限写成了 {f.maximum:g}；百分比按小数存储（100% 即 1）",
                f"percent field '{f.name}' has a maximum of {f.maximum:g}; percentages are stored as fractions (100% is 1)",
                "写成 range 0..1。",
                "write range 0..1.",
            )
        if ftype == FieldType.CATEGORY and not f.values:
            self.bag.error("no_values", f.span, f"类别字段 '{f.name}' 须列出取值：values {{ 代码 \"名称\" … }}",
                           f"category field '{f.name}' needs its values: values {{ code \"label\" … }}")
        if ftype != FieldType.CATEGORY and f.values:
            self.bag.error("values_not_category", f.span, "只有 category 字段可以列出 values", "only category fields take values")
        if f.evidence and ftype != FieldType.YESNO:
            self.bag.error("evidence_not_yesno", f.span, "evidence（佐证）只用于 yesno 材料核查字段",
                           "evidence notes are for yesno material checks only")
        if f.level == "school" or f.level == "row":
            level = Level(f.level)
        else:
            level = Level.COUNTY
        return FieldSpec(
            f.name,
            ftype,
            f.label,
            level,
            unit=f.unit,
            aliases=f.aliases,
            minimum=f.minimum,
            maximum=f.maximum,
            optional=f.optional,
            evidence=f.evidence,
            whole_school=f.whole_school,
            values=tuple(CategoryValue(v.name, v.label, v.aliases) for v in f.values),
        )

    # ------------------------------------------------------------------ declarations
    def declarations(self) -> None:
        for let in self.lets.values():
            self._current = let.name
            self.deps[let.name] = set()
            self.types[let.name] = self.expr(let.expr, ROW)
        for d in self.decls.values():
            self._current = d.name
            self.deps.setdefault(d.name, set())
            self.declaration(d)
        self._current = None

    def declaration(self, d: ast.Decl) -> None:
        allowed = ALLOWED[d.kind]
        for key, span in d.clause_spans:
            if key not in allowed:
                shown = sorted(CLAUSE_WORDS.get(c, c) for c in allowed)
                word = CLAUSE_WORDS.get(key, key)
                self.bag.error(
                    "clause_not_allowed",
                    span,
                    f"{KIND_ZH[d.kind]}（{d.kind}）不能使用 '{word}' 子句",
                    f"a {d.kind} cannot have a '{word}' clause",
                    f"{d.kind} 可用的子句：{', '.join(shown)}",
                    f"a {d.kind} may use: {', '.join(shown)}",
                )
        level = decl_level(d)
        if d.part is not None and d.part.name not in self.parts:
            self._unknown(d.part.name, d.part.span, self.parts, "部分", "part")
        if d.applies is not None:
            self.expect_status(d.applies, level)
        if d.kind == "balance":
            self.balance(d)
            return
        for cond, _reason in (*d.exempt, *d.tolerate):
            self.expect_status(cond, level)
        if d.grades:
            self.grades(d, level)
        if d.kind == "verdict" and d.when is None and d.grades:
            self.types[d.name] = Type("status", level=level)
            return
        if d.kind in ("rule", "verdict"):
            if d.when is None:
                self.bag.error(
                    "missing_when",
                    d.name_span,
                    f"{KIND_ZH[d.kind]} '{d.name}' 缺少 when 条件",
                    f"{d.kind} '{d.name}' has no 'when' condition",
                    "写 when 条件，例如 when at least 6 of [a, b, …], rest >= 85%。",
                    "write its condition, e.g. when at least 6 of [a, b, …], rest >= 85%.",
                )
                self.types[d.name] = Type("status", level=level)
                return
            self.expect_status(d.when, level)
            self.types[d.name] = Type("status", level=level)
            return
        value_t: Type | None = None
        if d.value is not None:
            value_t = self.expr(d.value, level)
            if value_t.kind not in ("num", "status"):
                self._type_error(d.value.span, value_t, "数值", "a number")
        if d.check is not None:
            self.expect_status(d.check, level)
        if d.requires:
            if d.value is None:
                self.bag.error("require_without_value", d.requires[0].span, "有 require 就必须有 value = …",
                               "a 'require' needs a 'value = …'", "加上 value = 公式。", "add value = <formula>.")
            for r in d.requires:
                self.requirement(d, r, value_t, level)
        has_judgement = (bool(d.requires) or d.check is not None or bool(d.grades)
                         or (value_t is not None and value_t.kind == "status"))
        if not has_judgement and not d.info:
            if d.value is None:
                self.bag.error(
                    "nothing_to_judge",
                    d.name_span,
                    f"{KIND_ZH[d.kind]} '{d.name}' 没有 value、require 或 check",
                    f"{d.kind} '{d.name}' has no value, require or check",
                    "写 value = 公式 和 require >= 标准值，或写 check 条件；仅供参考的写 info。",
                    "write value = <formula> and require >= <threshold>, or check <condition>; mark figures shown for information with info.",
                )
            elif d.kind == "indicator":
                self.bag.error("indicator_without_require", d.name_span, f"指标 '{d.name}' 缺少 require（标准值）",
                               f"indicator '{d.name}' has no requirement", "加上 require primary >= …, junior >= …；仅供参考的写 info。",
                               "add require primary >= …, junior >= …; or mark it info.")
        self.types[d.name] = value_t if value_t is not None else Type("status", level=level)

    def grades(self, d: ast.Decl, level: str) -> None:
        seen: set[str] = set()
        value_t = None
        for i, band in enumerate(d.grades):
            if band.label in seen:
                self.bag.error("duplicate_grade", band.span, f"等级 '{band.label}' 写了两次", f"grade '{band.label}' appears twice")
            seen.add(band.label)
            last = i == len(d.grades) - 1
            if band.threshold is None and band.condition is None and not last:
                self.bag.error("grade_fallback_not_last", band.span, f"没有条件的等级 '{band.label}' 只能放在最后",
                               f"grade '{band.label}' has no condition, so it must come last")
            if band.threshold is not None:
                if d.value is None:
                    self.bag.error("grade_without_value", band.span, "按数值分等须有 value = …",
                                   "grade bands on a value need 'value = …'")
                    continue
                value_t = value_t or self.expr(d.value, level)
                t = self.expr(band.threshold, level)
                if t.kind != "num":
                    self._type_error(band.threshold.span, t, "数值", "a number")
                elif value_t.kind == "num":
                    self.compatible(value_t, t, band.threshold, band.span, "比较", "compared")
            if band.condition is not None:
                self.expect_status(band.condition, level)

    def _grade_labels(self, part: str | None) -> set[str]:
        return {b.label for d in self.decls.values()
                if d.grades and d.kind != "verdict" and (part is None or (d.part and d.part.name == part))
                for b in d.grades}

    def _e_Graded(self, e: ast.Graded, ctx, status, in_agg) -> Type:
        part = e.part.name if e.part is not None else None
        if part is not None and part not in self.parts:
            self._unknown(part, e.part.span, self.parts, "部分", "part")
        labels = self._grade_labels(part)
        if e.grade.name not in labels:
            self._unknown(e.grade.name, e.grade.span, labels, "等级", "grade")
        for d in self.decls.values():
            if d.grades and d.kind != "verdict" and (part is None or (d.part and d.part.name == part)) \
                    and decl_level(d) == ctx:
                self._dep(d.name)
        return Type("num", Dim(), level=ctx)

    def _e_Weighted(self, e: ast.Weighted, ctx, status, in_agg) -> Type:
        if e.part is not None:
            if e.part.name not in self.parts:
                self._unknown(e.part.name, e.part.span, self.parts, "部分", "part")
                return Type("num", Dim(), level=ctx)
            members = [d for d in self.decls.values() if d.part and d.part.name == e.part.name]
        else:
            members = []
            for n in e.names:
                if n.name not in self.decls:
                    self._unknown(n.name, n.span, self.decls, "项目", "item")
                else:
                    members.append(self.decls[n.name])
        for d in members:
            self._dep(d.name)
            if d.score_weight is None:
                sp = e.part.span if e.part is not None else next(n.span for n in e.names if n.name == d.name)
                self.bag.error("no_weight", sp, f"'{d.name}' 没有权重：在其声明中写 weight 数值",
                               f"'{d.name}' has no weight: add 'weight <number>' to its declaration")
            if decl_level(d) != ctx:
                sp = e.part.span if e.part is not None else next(n.span for n in e.names if n.name == d.name)
                self.bag.error("level_mismatch", sp, f"'{d.name}' 与此处不在同一层级，不能加权合计",
                               f"'{d.name}' is not computed at the level of this item, so it cannot be weighted here")
        return Type("num", Dim(), level=ctx)

    def balance(self, d: ast.Decl) -> None:
        if not d.indicators:
            self.bag.error("balance_without_indicators", d.name_span, "差异系数须列出 indicators [ … ]",
                           "a balance needs 'indicators [ … ]'")
        for n in d.indicators:
            target = self.decls.get(n.name)
            if target is None or target.kind != "indicator":
                cands = [x.name for x in self.decls.values() if x.kind == "indicator"]
                self._unknown(n.name, n.span, cands, "指标", "indicator")
            else:
                self.deps[d.name].add(n.name)
        if d.weight is None:
            self.bag.error("balance_without_weight", d.name_span, "差异系数须写明加权字段：weight students",
                           "a balance needs its weight: weight students")
        else:
            t = self.name_type(d.weight, ROW, status=False)
            if t is not None and t.kind != "num":
                self._type_error(d.weight.span, t, "数值", "a number")
        if not d.requires and not d.info:
            self.bag.error("balance_without_require", d.name_span, "差异系数须写 require primary <= …, junior <= …",
                           "a balance needs require primary <= …, junior <= …")
        for r in d.requires:
            self.requirement(d, r, Type("num", Dim(), level=CS), CS)
        self.types[d.name] = Type("status", level=CS)

    def requirement(self, d: ast.Decl, r: ast.Requirement, value_t: Type | None, level: str) -> None:
        if r.stage is not None:
            if level in (SCHOOL, COUNTY):
                self.bag.error(
                    "stage_requirement_not_allowed",
                    r.stage_span,
                    f"{LEVEL_WORDS[level][0]}的项目没有学段，不能按学段写要求",
                    f"a {LEVEL_WORDS[level][1]} item has no stage, so its requirement cannot name one",
                    f"去掉 '{r.stage}'。",
                    f"remove '{r.stage}'.",
                )
            elif r.stage not in {s.name for s in self.stages}:
                names = [s.name for s in self.stages]
                self.bag.error(
                    "undeclared_stage",
                    r.stage_span,
                    f"学段 '{r.stage}' 未在 standard 的 stages 中声明",
                    f"stage '{r.stage}' is not declared in the standard's stages",
                    *_hint_close(r.stage, names, f"已声明的学段：{', '.join(names)}", f"declared stages: {', '.join(names)}"),
                )
        dup = [x for x in d.requires if x.stage == r.stage]
        if len(dup) > 1 and dup[0] is not r and dup[1] is r:
            self.bag.error("duplicate_requirement", r.span, "同一学段写了两次要求", "the same stage has two requirements")
        thr_t = self.expr(r.threshold, level)
        if thr_t.kind != "num":
            self._type_error(r.threshold.span, thr_t, "数值", "a number")
            return
        if value_t is not None and value_t.kind == "num":
            self.compatible(value_t, thr_t, r.threshold, r.span, "比较", "compared")

    # ------------------------------------------------------------------ expressions
    def expect_status(self, e: ast.Expr, ctx: str) -> Type:
        t = self.expr(e, ctx, status=True)
        if t.kind != "status":
            self._type_error(e.span, t, "是/否判断（如 a >= b、是/否字段）", "a condition (like a >= b, or a yes/no field)")
        return t

    def expr(self, e: ast.Expr, ctx: str, status: bool = False, in_agg: bool = False) -> Type:
        """Type of ``e`` evaluated at level ``ctx``; records diagnostics."""
        m = getattr(self, "_e_" + type(e).__name__)
        return m(e, ctx, status, in_agg)

    def _e_Num(self, e: ast.Num, ctx, status, in_agg) -> Type:
        return Type("num", None)

    def _e_Pct(self, e: ast.Pct, ctx, status, in_agg) -> Type:
        return Type("num", Dim(), percent=True)

    def _e_Bool(self, e: ast.Bool, ctx, status, in_agg) -> Type:
        return Type("status")

    def _e_Name(self, e: ast.Name, ctx, status, in_agg) -> Type:
        t = self.name_type(e, ctx, status, in_agg)
        return t if t is not None else Type("num", None)

    def name_type(self, e: ast.Name, ctx: str, status: bool, in_agg: bool = False) -> Type | None:
        n = e.name
        if n in self.fields:
            self.used_fields.add(n)
            t = field_type(self.fields[n])
        elif n in self.lets:
            self._dep(n)
            t = self._let_type(n)
        elif n in self.params:
            p = self.params[n]
            t = Type("num", Dim() if p.percent else None, percent=p.percent)
        elif n in self.decls:
            self._dep(n)
            d = self.decls[n]
            lvl = decl_level(d)
            if status or d.kind in ("rule", "verdict", "balance") or (d.value is None):
                t = Type("status", level=lvl)
            else:
                vt = self._decl_value_type(n)
                t = Type(vt.kind, vt.dim, vt.percent, vt.category, level=lvl)
        else:
            cands = [*self.fields, *self.lets, *self.params, *self.decls]
            self._unknown(n, e.span, cands, "名称", "name")
            return None
        self._level_ok(n, t.level, e.span, ctx, in_agg)
        return t

    def _let_type(self, n: str) -> Type:
        if n in self.types:
            return self.types[n]
        if n in self._typing:  # a cycle: reported by the cycle pass
            return Type("num", None, level=ROW)
        self._typing.add(n)
        saved = self._current
        self._current = n
        self.deps.setdefault(n, set())
        t = self.expr(self.lets[n].expr, ROW)
        self._current = saved
        self.types[n] = t
        return t

    def _decl_value_type(self, n: str) -> Type:
        if n in self.types:
            return self.types[n]
        d = self.decls[n]
        if n in self._typing or d.value is None:
            return Type("num", None, level=decl_level(d))
        self._typing.add(n)
        saved = self._current
        self._current = n
        self.deps.setdefault(n, set())
        t = self.expr(d.value, decl_level(d))
        self._current = saved
        return t

    def _dep(self, n: str) -> None:
        if self._current is not None:
            self.deps.setdefault(self._current, set()).add(n)

    def _level_ok(self, name: str, level: str, span: Span, ctx: str, in_agg: bool) -> None:
        if in_agg or level == "const":
            return
        allowed = {
            ROW: {ROW, SCHOOL, COUNTY},
            SCHOOL: {SCHOOL, COUNTY},
            CS: {CS, COUNTY},
            COUNTY: {COUNTY},
        }[ctx]
        if level in allowed:
            return
        zh_l, en_l = LEVEL_WORDS[level]
        zh_c, en_c = LEVEL_WORDS[ctx]
        if level in (ROW, SCHOOL) and ctx in (SCHOOL, CS, COUNTY):
            hint_zh = f"在这里要先汇总，例如 sum({name})、min({name})、all({name})。"
            hint_en = f"summarise it first here, e.g. sum({name}), min({name}), all({name})."
        else:
            hint_zh = hint_en = ""
        self.bag.error(
            "level_mismatch",
            span,
            f"'{name}' 是{zh_l}的值，不能直接用在{zh_c}计算的项目中",
            f"'{name}' has one value {en_l}; it cannot be used directly in an item computed {en_c}",
            hint_zh,
            hint_en,
        )

    def _e_Call(self, e: ast.Call, ctx, status, in_agg) -> Type:
        f, args = e.func, e.args
        if f in self.functions and f not in ELEMENTWISE and f not in AGGREGATES:
            return self._plugin_call(e, ctx, in_agg)
        if f not in ELEMENTWISE and f not in AGGREGATES:
            close = _suggest(f, [*FUNCTIONS, *self.functions])
            self.bag.error(
                "unknown_name",
                e.span,
                f"未知函数 '{f}'" + (f"，是否想写 '{close}'？" if close else ""),
                f"unknown function '{f}'" + (f" — did you mean '{close}'?" if close else ""),
                "" if close else f"可用函数：{', '.join(FUNCTIONS)}",
                "" if close else f"available functions: {', '.join(FUNCTIONS)}",
            )
            for a in args:
                self.expr(a, ctx, in_agg=in_agg)
            return Type("num", None)
        aggregate = f in AGGREGATES and not (f in ("min", "max") and len(args) >= 2)
        if not aggregate:
            return self._elementwise(e, ctx, in_agg)
        if ctx == ROW and not in_agg:
            self.bag.error(
                "aggregate_in_row",
                e.span,
                f"{f}() 是汇总函数，不能用在每行计算的项目中",
                f"{f}() summarises many rows; it cannot be used in a per-row item",
                "汇总请写在 check … per school、aggregate 或 item 中。",
                "use it in a check … per school, an aggregate or an item.",
            )
        arity = {"count": (0, 1), "cv": (2, 2), "wmean": (2, 2)}.get(f, (1, 1))
        if not arity[0] <= len(args) <= arity[1]:
            self._arity(e, f, arity)
            return Type("num", None)
        types = []
        for a in args:
            want_status = f in ("count", "share")
            t = self.expr(a, ROW, status=want_status, in_agg=True)
            types.append(t)
            if want_status and t.kind != "status":
                self._type_error(a.span, t, "是/否判断", "a condition")
            if not want_status and t.kind != "num":
                self._type_error(a.span, t, "数值", "a number")
            if ctx == CS and t.level == SCHOOL:
                self.bag.error("school_in_stage_group", a.span, "按学校的值没有学段，不能按县×学段汇总",
                               "a per-school value has no stage, so it cannot be summarised per county and stage")
        if f in ("count",):
            return Type("num", Dim(), level=ctx)
        if f == "share":
            return Type("num", Dim(), percent=True, level=ctx)
        if f == "cv":
            return Type("num", Dim(), level=ctx)
        t0 = types[0]
        return Type("num", t0.dim, t0.percent, level=ctx)

    def _plugin_call(self, e: ast.Call, ctx, in_agg) -> Type:
        fn = self.functions[e.func]
        lo, hi = fn.arity_range
        if not lo <= len(e.args) <= hi:
            self._arity(e, e.func, (lo, hi))
        if fn.aggregate and ctx == ROW and not in_agg:
            self.bag.error("aggregate_in_row", e.span, f"{e.func}() 是汇总函数，不能用在每行计算的项目中",
                           f"{e.func}() summarises many rows; it cannot be used in a per-row item",
                           "汇总请写在 check … per school、aggregate 或 item 中。",
                           "use it in a check … per school, an aggregate or an item.")
        types = [self.expr(a, ROW if fn.aggregate else ctx, in_agg=in_agg or fn.aggregate) for a in e.args]
        for a, t in zip(e.args, types):
            if t.kind != "num":
                self._type_error(a.span, t, "数值", "a number")
        level = ctx if fn.aggregate else "const"
        if not fn.aggregate:
            for t in types:
                level = finer(level, _lvl(t))
        if fn.returns == "percent":
            return Type("num", Dim(), percent=True, level=level)
        if fn.returns == "same" and types:
            return Type("num", types[0].dim, types[0].percent, level=level)
        return Type("num", Dim(), level=level)

    def _elementwise(self, e: ast.Call, ctx, in_agg) -> Type:
        f, args = e.func, e.args
        arity = {"min": (2, 99), "max": (2, 99), "abs": (1, 1), "ceil": (1, 1), "floor": (1, 1),
                 "round": (1, 2), "per100": (2, 2), "coalesce": (2, 99)}[f]
        types = [self.expr(a, ctx, in_agg=in_agg) for a in args]
        for a, t in zip(args, types):
            if t.kind != "num":
                self._type_error(a.span, t, "数值", "a number")
        if not arity[0] <= len(args) <= arity[1]:
            self._arity(e, f, arity)
            return Type("num", None)
        level = "const"
        for t in types:
            level = finer(level, t.level) if t.level in ("const", "county", "school", "row") else t.level
        if f in ("min", "max", "coalesce"):
            out = types[0]
            for a, t in zip(args[1:], types[1:]):
                out = self.compatible(out, t, a, e.span, "比较", "compared")
            return Type("num", out.dim, out.percent, level=level)
        if f == "per100":
            d = _div(types[0].dim, types[1].dim)
            return Type("num", d, level=level)
        return Type("num", types[0].dim, types[0].percent, level=level)

    def _arity(self, e: ast.Call, f: str, arity: tuple[int, int]) -> None:
        lo, hi = arity
        want = f"{lo}" if lo == hi else (f"至少 {lo}" if hi > 9 else f"{lo}–{hi}")
        want_en = f"{lo}" if lo == hi else (f"at least {lo}" if hi > 9 else f"{lo} to {hi}")
        extra_zh = "（单个参数的 min/max 是汇总函数）" if f in ("min", "max") else ""
        self.bag.error("arity", e.span, f"{f}() 需要 {want} 个参数，这里给了 {len(e.args)} 个{extra_zh}",
                       f"{f}() takes {want_en} argument(s), {len(e.args)} given")

    def _e_BinOp(self, e: ast.BinOp, ctx, status, in_agg) -> Type:
        lt = self.expr(e.left, ctx, in_agg=in_agg)
        rt = self.expr(e.right, ctx, in_agg=in_agg)
        for side, t in ((e.left, lt), (e.right, rt)):
            if t.kind != "num":
                self._type_error(side.span, t, "数值", "a number")
                return Type("num", None)
        level = finer(_lvl(lt), _lvl(rt))
        if e.op in "+-":
            out = self.compatible(lt, rt, e.right, e.span, "相加减", "added or subtracted")
            return Type("num", out.dim, out.percent, level=level)
        if e.op == "*":
            d = None if lt.dim is None and rt.dim is None else (lt.dim or Dim()) * (rt.dim or Dim())
            return Type("num", d, lt.percent or rt.percent, level=level)
        d = _div(lt.dim, rt.dim)
        return Type("num", d, level=level)

    def _e_Neg(self, e: ast.Neg, ctx, status, in_agg) -> Type:
        t = self.expr(e.operand, ctx, in_agg=in_agg)
        if t.kind != "num":
            self._type_error(e.span, t, "数值", "a number")
        return t

    def _e_Compare(self, e: ast.Compare, ctx, status, in_agg) -> Type:
        lt = self.expr(e.left, ctx, in_agg=in_agg)
        if lt.kind == "cat" and isinstance(e.right, ast.Name) and e.op in ("==", "!="):
            self._category_value(lt, e.right)
            return Type("status", level=lt.level)
        rt = self.expr(e.right, ctx, in_agg=in_agg)
        if lt.kind == "status" and rt.kind == "status" and e.op in ("==", "!="):
            return Type("status", level=finer(_lvl(lt), _lvl(rt)))
        for side, t in ((e.left, lt), (e.right, rt)):
            if t.kind != "num":
                self._type_error(side.span, t, "数值", "a number")
                return Type("status")
        self.compatible(lt, rt, e.right, e.span, "比较", "compared")
        return Type("status", level=finer(_lvl(lt), _lvl(rt)))

    def _category_value(self, t: Type, n: ast.Name) -> None:
        spec = t.category
        if spec is None:
            return
        codes = [v.code for v in spec.values]
        if n.name not in codes:
            self.bag.error(
                "unknown_category_value",
                n.span,
                f"'{n.name}' 不是 {spec.name}（{spec.label}）的取值",
                f"'{n.name}' is not a value of {spec.name} ({spec.label})",
                *_hint_close(n.name, codes, f"可用取值：{', '.join(codes)}", f"values: {', '.join(codes)}"),
            )

    def _e_InSet(self, e: ast.InSet, ctx, status, in_agg) -> Type:
        t = self.expr(e.operand, ctx, in_agg=in_agg)
        if t.kind != "cat":
            self._type_error(e.operand.span, t, "类别字段（如 school_type、stage）", "a category field (like school_type, stage)")
            return Type("status")
        for v in e.values:
            self._category_value(t, v)
        return Type("status", level=t.level)

    def _e_Logic(self, e: ast.Logic, ctx, status, in_agg) -> Type:
        level = "const"
        for a in e.args:
            t = self.expr(a, ctx, status=True, in_agg=in_agg)
            if t.kind != "status":
                self._type_error(a.span, t, "是/否判断", "a condition")
            level = finer(level, _lvl(t))
        return Type("status", level=level)

    def _e_Cond(self, e: ast.Cond, ctx, status, in_agg) -> Type:
        tt = self.expr(e.test, ctx, status=True, in_agg=in_agg)
        if tt.kind != "status":
            self._type_error(e.test.span, tt, "是/否判断", "a condition")
        a = self.expr(e.then, ctx, status=status, in_agg=in_agg)
        b = self.expr(e.otherwise, ctx, status=status, in_agg=in_agg)
        if a.kind != b.kind:
            self.bag.error("branch_types", e.span, "if 的两个分支类型不同", "the two branches of 'if' have different types")
            return a
        level = finer(finer(_lvl(tt), _lvl(a)), _lvl(b))
        if a.kind == "num":
            out = self.compatible(a, b, e.otherwise, e.span, "作为 if 的两个分支", "used as the two branches of 'if'")
            return Type("num", out.dim, out.percent, level=level)
        return Type(a.kind, level=level)

    def _status_names(self, names: tuple[ast.Name, ...], ctx: str) -> list[ast.Decl]:
        out = []
        for n in names:
            t = self.name_type(n, ctx, status=True)
            if t is not None and t.kind != "status":
                self._type_error(n.span, t, "是/否判断", "a condition")
            if n.name in self.decls:
                out.append(self.decls[n.name])
        return out

    def _e_AtLeast(self, e: ast.AtLeast, ctx, status, in_agg) -> Type:
        decls = self._status_names(e.names, ctx)
        if e.k > len(e.names):
            self.bag.error("at_least_too_many", e.span, f"至少 {e.k} 项，但只列了 {len(e.names)} 项",
                           f"at least {e.k} of only {len(e.names)} items")
        if e.tolerance is not None:
            if e.tolerance_op != ">=":
                self.bag.error("tolerance_op", e.span, "余项要求只能写 rest >= 百分比", "the rest clause must be 'rest >= p%'")
            for n in e.names:
                d = self.decls.get(n.name)
                if d is None:
                    continue
                if d.kind != "indicator" or not d.requires or any(r.op not in (">=", ">") for r in d.requires):
                    self.bag.error(
                        "tolerance_needs_minimum",
                        n.span,
                        f"'{n.name}' 不是带“不低于”要求的指标，不能按达到要求的百分比判定",
                        f"'{n.name}' is not an indicator with a minimum requirement, so 'rest >= p%' cannot apply to it",
                    )
        return Type("status", level=max((decl_level(d) for d in decls), default=ctx, key=_rank))

    def _e_Quantified(self, e: ast.Quantified, ctx, status, in_agg) -> Type:
        decls = self._status_names(e.names, ctx)
        return Type("status", level=max((decl_level(d) for d in decls), default=ctx, key=_rank))

    def _e_QuantifiedPart(self, e: ast.QuantifiedPart, ctx, status, in_agg) -> Type:
        if e.part.name not in self.parts:
            self._unknown(e.part.name, e.part.span, self.parts, "部分", "part")
            return Type("status", level=ctx)
        members = [d for d in self.decls.values() if d.part is not None and d.part.name == e.part.name]
        if not members:
            self.bag.warning("empty_part", e.part.span, f"部分 '{e.part.name}' 中没有任何项目", f"part '{e.part.name}' has no items")
        if ctx != COUNTY:
            self.bag.error("part_outside_county", e.span, "all of part … 只能用在县级项目和结论中",
                           "'all of part …' can only be used in county items and verdicts")
        for d in members:
            self._dep(d.name)
        return Type("status", level=COUNTY)

    def _e_QuantifiedRows(self, e: ast.QuantifiedRows, ctx, status, in_agg) -> Type:
        if ctx == ROW and not in_agg:
            self.bag.error(
                "aggregate_in_row",
                e.span,
                f"{e.quantifier}() 汇总多行，不能用在每行计算的项目中；同一行的多个条件请写 {e.quantifier} of [ … ]",
                f"{e.quantifier}() summarises many rows; in a per-row item write {e.quantifier} of [ … ]",
            )
        t = self.expr(e.operand, ROW, status=True, in_agg=True)
        if t.kind != "status":
            self._type_error(e.operand.span, t, "是/否判断", "a condition")
        if ctx == CS and t.level == SCHOOL:
            self.bag.error("school_in_stage_group", e.operand.span, "按学校的值没有学段，不能按县×学段汇总",
                           "a per-school value has no stage, so it cannot be summarised per county and stage")
        return Type("status", level=ctx)

    def _e_Apportion(self, e: ast.Apportion, ctx, status, in_agg) -> Type:
        amount = self.expr(e.amount, ROW, in_agg=True)
        by = self.expr(e.by, ROW, in_agg=True)
        for n, t in ((e.amount, amount), (e.by, by)):
            if t.kind != "num":
                self._type_error(n.span, t, "数值", "a number")
        if e.amount.name in self.fields and self.fields[e.amount.name].level != Level.ROW:
            self.bag.error("apportion_level", e.amount.span, "apportion 分摊的须是每行（学段）填报的字段",
                           "apportion shares a per-row field among a school's stage rows")
        stages = {s.name for s in self.stages}
        seen = set()
        for stage, w, _ in e.weights:
            if stage not in stages:
                self.bag.error("undeclared_stage", e.span, f"学段 '{stage}' 未在 standard 的 stages 中声明",
                               f"stage '{stage}' is not declared in the standard's stages")
            if stage in seen:
                self.bag.error("duplicate_stage", e.span, f"学段 '{stage}' 的权重写了两次", f"stage '{stage}' has two weights")
            seen.add(stage)
            if w <= 0:
                self.bag.error("bad_weight", e.span, "权重须大于 0", "weights must be greater than 0")
        missing = stages - seen
        if missing:
            self.bag.error("missing_weight", e.span, f"缺少学段 {', '.join(sorted(missing))} 的权重",
                           f"no weight for stage(s) {', '.join(sorted(missing))}")
        if e.extra is not None:
            t = self.expr(e.extra, SCHOOL, in_agg=True)
            if t.kind != "num":
                self._type_error(e.extra.span, t, "数值", "a number")
            if e.extra.name in self.fields and self.fields[e.extra.name].level != Level.SCHOOL:
                self.bag.error("apportion_extra_level", e.extra.span, "plus 后须是按学校填报的字段（如高中学生数）",
                               "the field after 'plus' must be a per-school field (such as senior students)")
        if ctx != ROW and not in_agg:
            self.bag.error("apportion_level", e.span, "apportion 的结果是每行（学段）的值", "apportion yields a per-row value")
        return Type("num", amount.dim, level=ROW)

    # ------------------------------------------------------------------ units
    def compatible(self, a: Type, b: Type, b_expr: ast.Expr, span: Span, verb_zh: str, verb_en: str) -> Type:
        """Two numbers meet in + - compare min max: same unit, and percentages written as such."""
        for t, other_expr in ((a, b_expr), (b, b_expr)):
            if t.percent and isinstance(other_expr, ast.Num) and other_expr.value > 1:
                pct = other_expr.value
                self.bag.error(
                    "percent_scale",
                    other_expr.span,
                    f"百分比与 {other_expr.text} 比较：百分比按小数计算，{other_expr.text} 相当于 {pct * 100:g}%",
                    f"a percentage compared with {other_expr.text}: percentages are fractions, so {other_expr.text} means {pct * 100:g}%",
                    f"写成 {other_expr.text}% 或 {pct / 100:g}。",
                    f"write {other_expr.text}% or {pct / 100:g}.",
                )
                return a
        if a.dim is None:
            return b
        if b.dim is None:
            return a
        if a.dim != b.dim:
            self.bag.error(
                "unit_mismatch",
                span,
                f"单位不一致：{a.dim} 与 {b.dim} 不能{verb_zh}",
                f"unit mismatch: {a.dim} and {b.dim} cannot be {verb_en}",
                "检查公式是否用错了字段，例如把面积与人数比较。",
                "check that the formula uses the right fields (an area compared with a count, say).",
            )
        return a

    def _type_error(self, span: Span, got: Type, want_zh: str, want_en: str) -> None:
        g_zh, g_en = got.describe()
        self.bag.error("type_mismatch", span, f"这里需要{want_zh}，但得到的是{g_zh}", f"expected {want_en} here, got {g_en}")

    def _unknown(self, name: str, span: Span, candidates: Iterable[str], what_zh: str, what_en: str) -> None:
        close = _suggest(name, candidates)
        self.bag.error(
            "unknown_name",
            span,
            f"未知{what_zh} '{name}'" + (f"，是否想写 '{close}'？" if close else ""),
            f"unknown {what_en} '{name}'" + (f" — did you mean '{close}'?" if close else ""),
            "" if close else f"先在 inputs、let 或相应声明中定义 '{name}'。",
            "" if close else f"declare '{name}' first (in inputs, a let or a declaration).",
        )

    # ------------------------------------------------------------------ cycles, unused
    def cycles(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def visit(n: str, path: list[str]) -> None:
            s = state.get(n, 0)
            if s == 2:
                return
            if s == 1:
                cyc = path[path.index(n):] + [n]
                key = frozenset(cyc)
                if key not in reported:
                    reported.add(key)
                    span = self.lets[n].span if n in self.lets else self.decls[n].name_span
                    chain = " → ".join(cyc)
                    self.bag.error("cycle", span, f"循环引用：{chain}", f"circular definition: {chain}",
                                   "一个值不能直接或间接地用到它自己。", "a value cannot depend on itself, directly or through others.")
                return
            state[n] = 1
            for m in sorted(self.deps.get(n, ())):
                if m in self.lets or m in self.decls:
                    visit(m, [*path, n])
            state[n] = 2
            order.append(n)

        for n in [*self.lets, *self.decls]:
            visit(n, [])
        return order

    def unused(self) -> None:
        for name, span in self.field_spans.items():
            if name not in self.used_fields:
                self.bag.warning("unused_input", span, f"输入字段 '{name}' 未被任何指标或项目使用",
                                 f"input '{name}' is not used by any item", "如不需要可删除这一行。",
                                 "remove it if it is not needed.")

    def run(self) -> Model | None:
        self.header()
        self.symbols()
        if self.rs.standard is not None:
            self.declarations()
        order = self.cycles()
        self.unused()
        if self.bag.has_errors or self.rs.standard is None:
            return None
        return Model(
            standard=self.rs.standard,
            stages=self.stages,
            parts=self.parts,
            fields=self.fields,
            lets=self.lets,
            decls=self.decls,
            order=order,
            types=self.types,
            sources=dict(self.rs.sources) or {self.rs.file: self.rs.text},
            params=self.params,
            provenance=dict(self.rs.provenance),
            functions=dict(self.functions),
        )


def _rank(level: str) -> int:
    return {"const": 0, COUNTY: 1, CS: 2, SCHOOL: 2, ROW: 3}[level]


def _lvl(t: Type) -> str:
    return t.level if t.level in ("const", COUNTY, SCHOOL, ROW) else COUNTY


def _div(a: Dim | None, b: Dim | None) -> Dim | None:
    if a is None and b is None:
        return None
    return (a or Dim()) / (b or Dim())


def _hint_close(name: str, options: list[str], zh: str = "", en: str = "") -> tuple[str, str]:
    close = _suggest(name, options)
    if close:
        return f"是否想写 '{close}'？", f"did you mean '{close}'?"
    return zh, en


def check_ruleset(rs: ast.Ruleset, functions: dict | None = None) -> tuple[Model | None, list]:
    """Check one parsed ruleset; returns the model (None on error) and every diagnostic, sorted.

    ``functions`` are plugin functions (name → :class:`qbe.plugins.Function`) the language may call.
    """
    c = _Checker(rs, functions)
    model = c.run()
    return model, c.bag.sorted()


def iter_names(e: ast.Expr) -> Iterator[ast.Name]:
    """Every Name in an expression (used by tools that explain formulas)."""
    return (n for n in ast.walk(e) if isinstance(n, ast.Name))
