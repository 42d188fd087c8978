"""Compile a checked :class:`~qbe.semantics.Model` into a :class:`Plan`.

A plan is a list of nodes in execution order. Each node is one vectorised
operation (load a column, divide two columns, sum per group, compare with a
threshold …) on the outputs of earlier nodes. Nodes are hash-consed: the same
operation on the same inputs is one node, so a subexpression shared by two
items (``students`` scaled the same way, a CV reused by a verdict) is
computed once. Nothing here touches data; :mod:`.execute` does.

Levels: ``row`` (school × stage), ``school``, ``cs`` (county × stage),
``county``, and ``const`` for values that do not vary.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from ..data.schema import FieldType, Level
from ..language import ast
from ..semantics.model import COUNTY, CS, ROW, SCHOOL, Model, decl_level
from .frame import STAGE_CODES

CONST = "const"


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple[int, ...]
    param: Hashable
    level: str


@dataclass
class DeclOut:
    """Node ids of everything a judged declaration produces (``None`` where it has no such part)."""

    name: str
    kind: str
    level: str
    status: int
    final: int  #: status after tolerance by rules (indicators), else = status
    value: int | None = None
    required: int | None = None
    ratio: int | None = None
    applies: int | None = None
    check: int | None = None
    tolerated_by: tuple[str, ...] = ()
    #: balance: indicator id → (cv, mean, limit, status, count) node ids; composite node id
    balance: dict[str, tuple[int, int, int | None, int, int]] = field(default_factory=dict)
    composite: int | None = None
    #: declared exemptions and tolerances: (kind, condition status node, reason)
    reasons: list[tuple[str, int, str]] = field(default_factory=list)
    grade: int | None = None  #: grade index per entity (0 = best, -1 = not assessable)
    judged: int | None = None  #: the status before exemptions: does the value meet its requirement on its own?
    grade_labels: tuple[str, ...] = ()


@dataclass
class Plan:
    model: Model
    nodes: list[Node]
    decls: dict[str, DeclOut]
    lets: dict[str, int]
    year: int | None = None
    params: dict[str, ast.ParamValue] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.nodes)


class _Builder:
    def __init__(self, model: Model, params: dict[str, ast.ParamValue] | None = None) -> None:
        self.m = model
        self.params = params or {}
        self.nodes: list[Node] = []
        self.index: dict[Node, int] = {}
        self.decls: dict[str, DeclOut] = {}
        self.lets: dict[str, int] = {}
        self.let_levels: dict[str, str] = {}
        self.tolerators: dict[str, list[str]] = {}
        for d in model.decls.values():
            if d.kind == "rule" and d.when is not None:
                for e in ast.walk(d.when):
                    if isinstance(e, ast.AtLeast) and e.tolerance is not None:
                        for n in e.names:
                            self.tolerators.setdefault(n.name, []).append(d.name)

    # ---------------------------------------------------------------- node plumbing
    def node(self, op: str, args: tuple[int, ...], param: Hashable, level: str) -> int:
        n = Node(op, args, param, level)
        got = self.index.get(n)
        if got is None:
            got = self.index[n] = len(self.nodes)
            self.nodes.append(n)
        return got

    def level(self, i: int) -> str:
        return self.nodes[i].level

    def const(self, v: float) -> int:
        return self.node("const", (), float(v), CONST)

    def const_status(self, s: int) -> int:
        return self.node("const_status", (), int(s), CONST)

    def lift(self, i: int, to: str) -> int:
        """Broadcast a value to a finer level (county → row, school → row …)."""
        frm = self.level(i)
        if frm == to or frm == CONST:
            return i
        if (frm, to) in {(COUNTY, ROW), (COUNTY, SCHOOL), (COUNTY, CS), (SCHOOL, ROW), (CS, ROW), (ROW, SCHOOL)}:
            return self.node("lift", (i,), (frm, to), to)
        raise CompileError(f"cannot use a {frm}-level value at {to} level")

    def reduce(self, i: int, func: str, to: str, weight: int | None = None) -> int:
        frm = self.level(i)
        if frm == CONST:
            i = self.node("const_row", (i,), None, ROW)
            frm = ROW
        if frm == COUNTY and to in (COUNTY, CS):
            # one value per county: summarise over the county's rows
            i = self.lift(i, ROW)
            frm = ROW
        if frm == SCHOOL and to == CS:
            raise CompileError("per-school values have no stage")
        args = (i,) if weight is None else (i, weight)
        return self.node("reduce", args, (func, frm, to), to)

    # ---------------------------------------------------------------- natural levels
    def nat(self, e: ast.Expr) -> str:
        """The finest table an expression reads from (row, school, county or const)."""
        best = CONST
        rank = {CONST: 0, COUNTY: 1, CS: 2, SCHOOL: 2, ROW: 3}
        for n in ast.walk(e):
            if isinstance(n, ast.Name):
                lv = self._name_level(n.name)
            elif isinstance(n, ast.Apportion):
                lv = ROW
            elif isinstance(n, (ast.Quantified, ast.AtLeast)):
                lv = max((self._name_level(x.name) for x in n.names), key=lambda v: rank[v], default=CONST)
            else:
                continue
            if rank[lv] > rank[best]:
                best = lv
        return best

    def _name_level(self, name: str) -> str:
        if name in self.m.fields:
            lv = self.m.fields[name].level
            return {Level.ROW: ROW, Level.SCHOOL: SCHOOL, Level.COUNTY: COUNTY}[lv]
        if name in self.m.lets:
            # cached: a chain of lets (a2 = a1 + 1, a3 = a2 + 1, …) would otherwise be walked
            # once per path through it, which doubles with every link
            lv = self.let_levels.get(name)
            if lv is None:
                lv = self.let_levels[name] = self.nat(self.m.lets[name].expr)
            return lv
        if name in self.m.decls:
            return decl_level(self.m.decls[name])
        return CONST  # category constants

    # ---------------------------------------------------------------- expressions
    def field(self, name: str) -> int:
        spec = self.m.fields[name]
        lvl = COUNTY if spec.level == Level.COUNTY else ROW
        node = self.node("field", (), name, lvl)
        if spec.level == Level.SCHOOL:
            node = self.node("lift", (node,), (ROW, SCHOOL), SCHOOL)
        return node

    def at(self, i: int, ctx: str) -> int:
        return self.lift(i, ctx) if self.level(i) != ctx else i

    def num(self, e: ast.Expr, ctx: str) -> int:
        if isinstance(e, (ast.Num, ast.Pct)):
            return self.const(e.value)
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.m.fields:
                spec = self.m.fields[n]
                if spec.type == FieldType.YESNO:
                    return self.at(self.node("to_bool", (self.st(e, ctx),), None, ctx), ctx)
                return self.at(self.field(n), ctx)
            if n in self.m.lets:
                return self.at(self.let(n), ctx)
            if n in self.m.params:
                return self.const(self.params[n].value)
            if n in self.m.decls:
                out = self.decl(n)
                if out.value is None:
                    return self.node("to_bool", (self.at(out.final, ctx),), None, ctx)
                return self.at(out.value, ctx)
            raise CompileError(f"unknown name {n}")
        if isinstance(e, ast.BinOp):
            a, b = self.num(e.left, ctx), self.num(e.right, ctx)
            return self.node("arith", (a, b), e.op, _join(self.level(a), self.level(b)))
        if isinstance(e, ast.Neg):
            a = self.num(e.operand, ctx)
            return self.node("neg", (a,), None, self.level(a))
        if isinstance(e, ast.Cond):
            t = self.st(e.test, ctx)
            a, b = self.num(e.then, ctx), self.num(e.otherwise, ctx)
            return self.node("cond", (t, a, b), None, _join(self.level(t), self.level(a), self.level(b)))
        if isinstance(e, ast.Call):
            return self.call(e, ctx)
        if isinstance(e, ast.Graded):
            grades, idx = [], []
            for d in self.m.decls.values():
                if not d.grades or d.kind == "verdict" or (e.part is not None and (d.part is None or d.part.name != e.part.name)):
                    continue
                if decl_level(d) != ctx:
                    continue
                labels = [b.label for b in d.grades]
                if e.grade.name not in labels:
                    continue
                grades.append(self.decl(d.name).grade)
                idx.append(labels.index(e.grade.name))
            if not grades:
                return self.const(0)
            return self.node("count_grade", tuple(grades), tuple(idx), ctx)
        if isinstance(e, ast.Weighted):
            if e.part is not None:
                members = [d for d in self.m.decls.values() if d.part and d.part.name == e.part.name]
            else:
                members = [self.m.decls[n.name] for n in e.names]
            args, flags, weights = [], [], []
            for d in members:
                o = self.decl(d.name)
                numeric = o.value is not None and self.m.types.get(d.name) is not None and self.m.types[d.name].kind == "num"
                args.append(self.at(o.value if numeric else o.final, ctx))
                flags.append(numeric)
                weights.append(d.score_weight or 0.0)
            return self.node("weighted", tuple(args), (e.kind, tuple(weights), tuple(flags)), ctx)
        if isinstance(e, ast.Apportion):
            x = self.num(e.amount, ROW)
            by = self.num(e.by, ROW)
            args = (x, by, self.stage_codes(ROW))
            if e.extra is not None:
                args = (*args, self.at(self.field(e.extra.name), ROW))
            weights = tuple((STAGE_CODES[s], w) for s, w, _ in e.weights)
            return self.at(self.node("apportion", args, (weights, e.extra_weight), ROW), ctx)
        if isinstance(e, (ast.Compare, ast.Logic, ast.InSet, ast.Bool, ast.Quantified, ast.QuantifiedRows,
                          ast.QuantifiedPart, ast.AtLeast)):
            s = self.st(e, ctx)
            return self.node("to_bool", (s,), None, self.level(s))
        raise CompileError(f"cannot compile {type(e).__name__} as a number")

    def call(self, e: ast.Call, ctx: str) -> int:
        f, args = e.func, e.args
        fn = self.m.functions.get(f)
        if fn is not None and f not in ("sum", "mean", "count", "share", "cv", "wmean", "min", "max", "abs", "ceil",
                                        "floor", "round", "per100", "coalesce"):
            if not fn.aggregate:
                xs = tuple(self.num(a, ctx) for a in args)
                return self.node("plugin_fn", xs, f, _join(*(self.level(x) for x in xs)))
            src = ROW
            for a in args:
                src = _join(src, self.nat(a))
            if src in (CONST, COUNTY, CS):
                src = ROW
            xs = tuple(self.at(self.num(a, src), src) for a in args)
            return self.node("plugin_agg", xs, (f, self.level(xs[0]) if xs else src, ctx), ctx)
        aggregate = f in ("sum", "mean", "count", "share", "cv", "wmean") or (f in ("min", "max") and len(args) == 1)
        if not aggregate:
            xs = tuple(self.num(a, ctx) for a in args)
            if f == "per100":
                q = self.node("arith", xs, "/", _join(*(self.level(x) for x in xs)))
                return self.node("arith", (q, self.const(100)), "*", self.level(q))
            return self.node("fn", xs, f, _join(*(self.level(x) for x in xs)))
        src = ROW if not args else self.nat(args[0])
        if len(args) > 1:
            src = _join(src, self.nat(args[1]))
        if src in (CONST, COUNTY, CS):
            src = ROW
        if f == "count":
            s = self.st(args[0], src) if args else self.node("const_row", (self.const_status(1),), None, ROW)
            return self.reduce(s, "count", ctx)
        if f == "share":
            return self.reduce(self.st(args[0], src), "share", ctx)
        x = self.num(args[0], src)
        if f in ("cv", "wmean"):
            w = self.num(args[1], src)
            return self.reduce(x, f, ctx, weight=self.at(w, self.level(x)) if self.level(w) != CONST else w)
        return self.reduce(self.at(x, src), f, ctx)

    def st(self, e: ast.Expr, ctx: str) -> int:
        if isinstance(e, ast.Bool):
            return self.const_status(1 if e.value else 2)
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.m.fields:
                return self.at(self.node("from_bool", (self.field(n),), None, self.level(self.field(n))), ctx)
            if n in self.m.lets:
                return self.at(self.node("from_bool", (self.let(n),), None, self.level(self.let(n))), ctx)
            out = self.decl(n)
            return self.at(out.final, ctx)
        if isinstance(e, ast.Compare):
            if isinstance(e.right, ast.Name) and self._is_category(e.left, e.right):
                c = self.cat(e.left, ctx)
                return self.node("in_set", (c,), (self._codes(e.left, (e.right,)), e.op == "!="), self.level(c))
            if self._is_status(e.left):
                a, b = self.st(e.left, ctx), self.st(e.right, ctx)
                return self.node("status_eq", (a, b), e.op, _join(self.level(a), self.level(b)))
            a, b = self.num(e.left, ctx), self.num(e.right, ctx)
            return self.node("compare", (a, b), e.op, _join(self.level(a), self.level(b)))
        if isinstance(e, ast.InSet):
            c = self.cat(e.operand, ctx)
            return self.node("in_set", (c,), (self._codes(e.operand, e.values), e.negate), self.level(c))
        if isinstance(e, ast.Logic):
            xs = tuple(self.st(a, ctx) for a in e.args)
            return self.node(e.op, xs, None, _join(*(self.level(x) for x in xs)))
        if isinstance(e, ast.Cond):
            t, a, b = self.st(e.test, ctx), self.st(e.then, ctx), self.st(e.otherwise, ctx)
            return self.node("cond_status", (t, a, b), None, _join(self.level(t), self.level(a), self.level(b)))
        if isinstance(e, ast.Quantified):
            xs = tuple(self.at(self.decl(n.name).final, ctx) for n in e.names)
            op = {"all": "and", "any": "or"}.get(e.quantifier)
            if op:
                return self.node(op, xs, None, _join(*(self.level(x) for x in xs)))
            o = self.node("or", xs, None, _join(*(self.level(x) for x in xs)))
            return self.node("not", (o,), None, self.level(o))
        if isinstance(e, ast.AtLeast):
            outs = [self.decl(n.name) for n in e.names]
            sts = tuple(self.at(o.status, ctx) for o in outs)
            ratios = tuple(self.at(o.ratio, ctx) if o.ratio is not None else self.const(float("nan")) for o in outs)
            return self.node("at_least", sts + ratios, (e.k, len(outs), e.tolerance), ctx)
        if isinstance(e, ast.QuantifiedPart):
            members = [d for d in self.m.decls.values() if d.part is not None and d.part.name == e.part.name]
            xs = []
            for d in members:
                out = self.decl(d.name)
                s = out.final
                if self.level(s) not in (ctx, CONST):
                    s = self.node("reduce_status", (s,), ("all", self.level(s), ctx), ctx)
                xs.append(s)
            if not xs:
                return self.const_status(5)
            op = {"all": "and", "any": "or"}.get(e.quantifier)
            if op:
                return self.node(op, tuple(xs), None, ctx)
            return self.node("not", (self.node("or", tuple(xs), None, ctx),), None, ctx)
        if isinstance(e, ast.QuantifiedRows):
            src = self.nat(e.operand)
            if src in (CONST, COUNTY, CS) or src == ctx:
                src = ROW if ctx != ROW else ROW
            s = self.st(e.operand, src)
            if self.level(s) == CONST:
                s = self.node("const_row", (s,), None, ROW)
            return self.node("reduce_status", (s,), (e.quantifier, self.level(s), ctx), ctx)
        # a numeric expression used as a condition (e.g. a let holding 1/0)
        x = self.num(e, ctx)
        return self.node("from_bool", (x,), None, self.level(x))

    def _is_status(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.m.fields:
                return self.m.fields[n].type == FieldType.YESNO
            if n in self.m.decls:
                return self.m.types.get(n) is None or self.m.types[n].kind == "status"
            if n in self.m.lets:
                return self.m.types.get(n) is not None and self.m.types[n].kind == "status"
        return isinstance(e, (ast.Compare, ast.Logic, ast.InSet, ast.Bool, ast.Quantified, ast.AtLeast))

    def _is_category(self, left: ast.Expr, right: ast.Name) -> bool:
        return isinstance(left, ast.Name) and left.name in self.m.fields and self.m.fields[left.name].type == FieldType.CATEGORY

    def _codes(self, operand: ast.Expr, names: tuple[ast.Name, ...]) -> tuple[int, ...]:
        assert isinstance(operand, ast.Name)
        spec = self.m.fields[operand.name]
        codes = [v.code for v in spec.values]
        return tuple(codes.index(n.name) for n in names if n.name in codes)

    def cat(self, e: ast.Expr, ctx: str) -> int:
        if not isinstance(e, ast.Name) or e.name not in self.m.fields:
            raise CompileError("only a category field can be tested with 'in'")
        return self.at(self.field(e.name), ctx)

    # ---------------------------------------------------------------- declarations
    def let(self, name: str) -> int:
        if name not in self.lets:
            lv = self._name_level(name)
            ctx = lv if lv in (COUNTY, SCHOOL, ROW) else ROW
            self.lets[name] = self.num(self.m.lets[name].expr, ctx)
        return self.lets[name]

    def stage_codes(self, level: str) -> int:
        return self.node("stage", (), None, level)

    def requirement(self, d: ast.Decl, value: int, level: str) -> tuple[int, int]:
        """(status, required) for the requirement clauses, chosen per stage where stages are named."""
        per_stage = any(r.stage is not None for r in d.requires)
        thr_nodes, st_nodes, keys = [], [], []
        for r in d.requires:
            thr = self.num(r.threshold, level)
            thr_nodes.append(thr)
            st_nodes.append(self.node("compare", (value, thr), r.op, _join(self.level(value), self.level(thr))))
            keys.append(-1 if r.stage is None else STAGE_CODES[r.stage])
        if not per_stage and len(d.requires) == 1:
            return st_nodes[0], thr_nodes[0]
        if not per_stage:
            return self.node("and", tuple(st_nodes), None, level), thr_nodes[0]
        stage = self.stage_codes(level)
        req = self.node("stage_select", (stage, *thr_nodes), tuple(keys), level)
        st = self.node("stage_select_status", (stage, *st_nodes), tuple(keys), level)
        return st, req

    def decl(self, name: str) -> DeclOut:
        if name in self.decls:
            return self.decls[name]
        d = self.m.decls[name]
        level = decl_level(d)
        if d.kind == "balance":
            out = self.balance(d)
        elif d.kind in ("rule", "verdict"):
            grade = self.grade(d, None, level) if d.grades else None
            if d.when is None:
                assert grade is not None
                s = self.node("grade_status", (grade,), len(d.grades), level)
            else:
                s = self.at(self.st(d.when, level), level)
            s = self._materialise(s, level)
            if d.applies is not None:
                s = self.node("applies", (self.st(d.applies, level), s), None, level)
            out = DeclOut(name, d.kind, level, s, s)
            if grade is not None:
                out.grade, out.grade_labels = grade, tuple(b.label for b in d.grades)
        else:
            value = required = ratio = check = status = None
            parts = []
            if d.value is not None:
                value = self.num(d.value, level)
                if self.m.types.get(name) is not None and self.m.types[name].kind == "status":
                    parts.append(self.st(d.value, level))
            if d.requires and value is not None:
                st, required = self.requirement(d, value, level)
                parts.append(st)
                ratio = self.node("arith", (value, required), "/", _join(self.level(value), self.level(required)))
            if d.check is not None:
                check = self.st(d.check, level)
                parts.append(check)
            grade = self.grade(d, value, level) if d.grades else None
            if not parts and grade is not None:
                parts.append(self.node("grade_status", (grade,), len(d.grades), level))
            if not parts:
                status = self.const_status(5)  # info only: nothing judged
            elif len(parts) == 1:
                status = parts[0]
            else:
                status = self.node("and", tuple(parts), None, level)
            status = self._materialise(status, level)
            app = None
            if d.applies is not None:
                app = self.st(d.applies, level)
                status = self.node("applies", (app, status), None, level)
                if grade is not None:
                    grade = self.node("grade_applies", (app, grade), None, level)
                if value is not None:
                    value = self.node("mask_na", (app, self.at(value, level)), None, level)
                if required is not None:
                    required = self.node("mask_na", (app, self.at(required, level)), None, level)
                if ratio is not None:
                    ratio = self.node("mask_na", (app, self.at(ratio, level)), None, level)
            out = DeclOut(name, d.kind, level, status, status, value, required, ratio, app, check)
            if grade is not None:
                out.grade, out.grade_labels = grade, tuple(b.label for b in d.grades)
        self._exemptions(d, out, level)
        self.decls[name] = out
        if d.kind == "indicator" and name in self.tolerators:
            rules = tuple(self.decl(r).status for r in self.tolerators[name])
            out.final = self.node("tolerate", (out.status, *rules), None, level)
            out.tolerated_by = tuple(self.tolerators[name])
        return out

    def grade(self, d: ast.Decl, value: int | None, level: str) -> int:
        """Grade index per entity: the first band whose condition holds (0 = best)."""
        conds = []
        for b in d.grades:
            if b.threshold is not None:
                assert value is not None
                thr = self.num(b.threshold, level)
                conds.append(self.node("compare", (self.at(value, level), thr), b.op, level))
            elif b.condition is not None:
                conds.append(self.st(b.condition, level))
        has_fallback = d.grades[-1].threshold is None and d.grades[-1].condition is None
        return self.node("grade", tuple(self._materialise(c, level) for c in conds), has_fallback, level)

    def _exemptions(self, d: ast.Decl, out: DeclOut, level: str) -> None:
        """Declared exemptions and tolerances, then approved exemptions (data), on the status."""
        s = out.judged = out.status
        for cond, reason in d.exempt:
            c = self.st(cond, level)
            out.reasons.append(("exempt", c, reason))
            s = self.node("exempt_if", (c, s), None, level)
        for cond, reason in d.tolerate:
            c = self.st(cond, level)
            out.reasons.append(("tolerate", c, reason))
            s = self.node("tolerate_if", (c, s), None, level)
        if d.kind != "verdict":
            s = self.node("approved", (s,), d.name, level)
        out.status = out.final = s

    def _materialise(self, s: int, level: str) -> int:
        """A constant status still needs one entry per row/group of its level."""
        if self.level(s) == CONST:
            return self.node("const_at", (s,), None, level)
        return s

    def balance(self, d: ast.Decl) -> DeclOut:
        assert d.weight is not None
        w = self.num(d.weight, ROW)
        stage = self.stage_codes(CS)
        statuses = []
        per: dict[str, tuple[int, int, int | None, int, int]] = {}
        cvs = []
        for n in d.indicators:
            ind = self.decl(n.name)
            assert ind.value is not None
            x = self.at(ind.value, ROW)
            member = self.node("applicable", (ind.status,), None, ROW)
            cv = self.node("wcv", (x, w, member), None, CS)
            mean = self.node("wcv_mean", (x, w, member), None, CS)
            count = self.node("wcv_count", (x, w, member), None, CS)
            limit = None
            if d.requires:
                thr_nodes, st_nodes, keys = [], [], []
                for r in d.requires:
                    thr = self.num(r.threshold, CS)
                    thr_nodes.append(thr)
                    st_nodes.append(self.node("compare", (cv, thr), r.op, CS))
                    keys.append(-1 if r.stage is None else STAGE_CODES[r.stage])
                limit = self.node("stage_select", (stage, *thr_nodes), tuple(keys), CS)
                st = self.node("stage_select_status", (stage, *st_nodes), tuple(keys), CS)
            else:
                st = self._materialise(self.const_status(5), CS)
            statuses.append(st)
            cvs.append(cv)
            per[n.name] = (cv, mean, limit, st, count)
        status = self.node("and", tuple(statuses), None, CS) if statuses else self._materialise(self.const_status(5), CS)
        composite = self.node("mean_of", tuple(cvs), None, CS) if d.composite and cvs else None
        return DeclOut(d.name, "balance", CS, status, status, balance=per, composite=composite)


class CompileError(Exception):
    """An internal inconsistency between checker and compiler (a bug, not a user error)."""


def _join(*levels: str) -> str:
    non_const = [lv for lv in levels if lv != CONST]
    if not non_const:
        return CONST
    rank = {COUNTY: 1, CS: 2, SCHOOL: 2, ROW: 3}
    return max(non_const, key=lambda v: rank[v])




def compile_model(model: Model, year: int | None = None) -> Plan:
    """Compile for one year: values keyed by year are fixed to those in force then.

    Without a year, a standard with yearly values takes its latest ones (used
    where no data is judged, e.g. to inspect a plan); runs always pass a year.
    """
    if model.params:
        if year is None:
            year = max(v.start[0] for p in model.params.values() for v in p.values)
        params = model.param_values(year)
    else:
        params = {}
    b = _Builder(model, params)
    for name in model.order:
        if name in model.lets:
            b.let(name)
        else:
            b.decl(name)
    return Plan(model, b.nodes, b.decls, b.lets, year, params)
