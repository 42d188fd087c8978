"""A slow, obviously-correct evaluator, used only by the tests as an oracle.

It walks the syntax tree one school, group and county at a time, in plain
Python, with exact rational arithmetic (every data value is taken as the
decimal it prints as, so 21/500×100 is exactly 4.2 here). The fast numpy
plan must agree with it on every status; property tests generate data to
check that. Nothing here is optimised or shared with the compiler on
purpose: it is a second, independent reading of the same semantics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .data.schema import SCHOOL_TYPES, STAGES, FieldType, Level
from .language import ast
from .semantics.model import COUNTY, CS, ROW, SCHOOL, Model, decl_level
from .status import Status

MET, NOT_MET, TOL, EXEMPT, NA, UNKNOWN = (Status.MET, Status.NOT_MET, Status.TOLERATED, Status.EXEMPT,
                                          Status.NOT_APPLICABLE, Status.NOT_ASSESSED)
Num = Fraction | float | None


def and3(xs) -> Status:
    xs = list(xs)
    if any(x == NOT_MET for x in xs):
        return NOT_MET
    if any(x == UNKNOWN for x in xs):
        return UNKNOWN
    if any(x in (MET, TOL) for x in xs):
        return MET
    return NA


def or3(xs) -> Status:
    xs = list(xs)
    if any(x in (MET, TOL) for x in xs):
        return MET
    if any(x == UNKNOWN for x in xs):
        return UNKNOWN
    if any(x == NOT_MET for x in xs):
        return NOT_MET
    return NA


def not3(x: Status) -> Status:
    if x in (MET, TOL):
        return NOT_MET
    if x == NOT_MET:
        return MET
    return x


def cmp3(op: str, a: Num, b: Num) -> Status:
    if a is None or b is None:
        return UNKNOWN
    ok = {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "==": a == b, "!=": a != b}[op]
    return MET if ok else NOT_MET


def exact(v: Any) -> Num:
    """A data value as the exact decimal it prints as; NaN → None."""
    if v is None:
        return None
    f = float(v)
    if math.isnan(f):
        return None
    return Fraction(repr(f))


@dataclass
class Entity:
    level: str
    rows: list[int]  #: member rows (one for a row entity)
    county: str
    stage: int | None = None
    school: tuple[str, str] | None = None


@dataclass
class Oracle:
    model: Model
    rows: list[dict[str, Any]]  #: per row: field → exact value / category code index / text
    counties: dict[str, dict[str, Any]]
    memo: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  #: param name → ParamValue in force

    # ---------------------------------------------------------------- entities
    def row_entity(self, i: int) -> Entity:
        r = self.rows[i]
        return Entity(ROW, [i], r["county_code"], r["stage"], (r["county_code"], r["school_code"]))

    def school_entity(self, key: tuple[str, str]) -> Entity:
        rows = [i for i, r in enumerate(self.rows) if (r["county_code"], r["school_code"]) == key]
        return Entity(SCHOOL, rows, key[0], None, key)

    def cs_entity(self, county: str, stage: int) -> Entity:
        rows = [i for i, r in enumerate(self.rows) if r["county_code"] == county and r["stage"] == stage]
        return Entity(CS, rows, county, stage)

    def county_entity(self, county: str) -> Entity:
        rows = [i for i, r in enumerate(self.rows) if r["county_code"] == county]
        return Entity(COUNTY, rows, county)

    def schools_of(self, ent: Entity) -> list[tuple[str, str]]:
        seen = []
        for i in ent.rows:
            k = (self.rows[i]["county_code"], self.rows[i]["school_code"])
            if k not in seen:
                seen.append(k)
        return seen

    def lift(self, ent: Entity, level: str) -> Entity:
        """The entity at a coarser level that contains ``ent`` (a row's school, a row's county …)."""
        if level == ent.level:
            return ent
        if level == SCHOOL:
            return self.school_entity(ent.school)  # type: ignore[arg-type]
        if level == CS:
            return self.cs_entity(ent.county, ent.stage)  # type: ignore[arg-type]
        if level == COUNTY:
            return self.county_entity(ent.county)
        raise AssertionError((ent.level, level))

    def members(self, ent: Entity, level: str) -> list[Entity]:
        if level == ROW:
            return [self.row_entity(i) for i in ent.rows]
        if level == SCHOOL:
            return [self.school_entity(k) for k in self.schools_of(ent)]
        return [ent]

    # ---------------------------------------------------------------- names
    def field_value(self, name: str, ent: Entity) -> Any:
        spec = self.model.fields[name]
        if spec.level == Level.COUNTY:
            return self.counties.get(ent.county, {}).get(name)
        return self.rows[ent.rows[0]].get(name)

    def level_of(self, e: ast.Expr) -> str:
        best = "const"
        rank = {"const": 0, COUNTY: 1, CS: 2, SCHOOL: 2, ROW: 3}
        stack = [e]
        while stack:
            x = stack.pop()
            names = []
            if isinstance(x, ast.Apportion):
                names = [x.amount.name]
            elif isinstance(x, ast.Name):
                names = [x.name]
            elif isinstance(x, (ast.Quantified, ast.AtLeast)):
                names = [n.name for n in x.names]
            for n in names:
                if n in self.model.fields:
                    lv = {Level.ROW: ROW, Level.SCHOOL: SCHOOL, Level.COUNTY: COUNTY}[self.model.fields[n].level]
                elif n in self.model.lets:
                    lv = self.level_of(self.model.lets[n].expr)
                elif n in self.model.decls:
                    lv = decl_level(self.model.decls[n])
                else:
                    continue
                if rank[lv] > rank[best]:
                    best = lv
            for v in x.__dict__.values():
                if isinstance(v, ast.Expr):
                    stack.append(v)
                elif isinstance(v, tuple):
                    stack.extend(y for y in v if isinstance(y, ast.Expr))
        return best

    # ---------------------------------------------------------------- numbers
    def num(self, e: ast.Expr, ent: Entity) -> Num:
        if isinstance(e, ast.Num):
            return Fraction(e.text)
        if isinstance(e, ast.Pct):
            return Fraction(e.text[:-1]) / 100
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.model.fields:
                spec = self.model.fields[n]
                if spec.type == FieldType.YESNO:
                    return _bool_num(self.st(e, ent))
                return self.field_value(n, ent)
            if n in self.model.lets:
                return self.num(self.model.lets[n].expr, ent if ent.level == ROW else ent)
            if n in self.model.params:
                return Fraction(self.params[n].text.rstrip("%")) / (100 if self.params[n].text.endswith("%") else 1)
            d = self.model.decls[n]
            res = self.decl(n, self.lift(ent, decl_level(d)))
            if res["value"] is None and d.value is None:
                return _bool_num(res["final"])
            return res["value"]
        if isinstance(e, ast.BinOp):
            a, b = self.num(e.left, ent), self.num(e.right, ent)
            if a is None or b is None:
                return None
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            return None if b == 0 else a / b
        if isinstance(e, ast.Neg):
            a = self.num(e.operand, ent)
            return None if a is None else -a
        if isinstance(e, ast.Cond):
            t = self.st(e.test, ent)
            if t in (MET, TOL):
                return self.num(e.then, ent)
            if t == NOT_MET:
                return self.num(e.otherwise, ent)
            return None
        if isinstance(e, ast.Call):
            return self.call(e, ent)
        if isinstance(e, ast.Apportion):
            return self.apportion(e, ent)
        return _bool_num(self.st(e, ent))

    def apportion(self, e: ast.Apportion, ent: Entity) -> Num:
        me = ent.rows[0]
        school = self.school_entity(self.row_entity(me).school)  # type: ignore[arg-type]
        mine = self.rows[me].get(e.amount.name)
        filled = [i for i in school.rows if self.rows[i].get(e.amount.name) is not None]
        if not (len(filled) == 1 and len(school.rows) > 1):
            return mine
        weights = {STAGES.index(next(s for s in STAGES if s.code == st)): Fraction(txt) for st, _, txt in e.weights}
        total = self.rows[filled[0]][e.amount.name]

        def share(i: int) -> Num:
            p = self.num(e.by, self.row_entity(i))
            st = self.rows[i]["stage"]
            return None if p is None or st not in weights else weights[st] * p

        parts = [share(i) for i in school.rows]
        if any(x is None for x in parts):
            return None
        denom = sum(parts, Fraction(0))  # type: ignore[arg-type]
        if e.extra is not None and e.extra_weight is not None:
            extra = self.rows[school.rows[0]].get(e.extra.name)
            if extra is not None:
                denom += Fraction(repr(e.extra_weight)) * extra
        mine_share = share(me)
        return None if denom == 0 or mine_share is None else total * mine_share / denom

    def call(self, e: ast.Call, ent: Entity) -> Num:
        f, args = e.func, e.args
        aggregate = f in ("sum", "mean", "count", "share", "cv", "wmean") or (f in ("min", "max") and len(args) == 1)
        if not aggregate:
            xs = [self.num(a, ent) for a in args]
            if f == "coalesce":
                return next((x for x in xs if x is not None), None)
            if any(x is None for x in xs):
                return None
            if f == "min":
                return min(xs)  # type: ignore[type-var]
            if f == "max":
                return max(xs)  # type: ignore[type-var]
            if f == "abs":
                return abs(xs[0])  # type: ignore[arg-type]
            if f == "ceil":
                return Fraction(math.ceil(xs[0]))  # type: ignore[arg-type]
            if f == "floor":
                return Fraction(math.floor(xs[0]))  # type: ignore[arg-type]
            if f == "round":
                return Fraction(round(xs[0], int(xs[1]) if len(xs) > 1 else 0))  # type: ignore[arg-type]
            if f == "per100":
                return None if xs[1] == 0 else xs[0] / xs[1] * 100  # type: ignore[operator]
            raise AssertionError(f)
        src = self.level_of(args[0]) if args else ROW
        if len(args) > 1:
            src2 = self.level_of(args[1])
            src = ROW if ROW in (src, src2) else (SCHOOL if SCHOOL in (src, src2) else src)
        if src not in (ROW, SCHOOL):
            src = ROW
        mem = self.members(ent, src)
        if f == "count":
            sts = [self.st(args[0], m) for m in mem] if args else [MET] * len(mem)
            return Fraction(sum(1 for s in sts if s in (MET, TOL)))
        if f == "share":
            sts = [self.st(args[0], m) for m in mem]
            if any(s == UNKNOWN for s in sts):
                return None
            judged = [s for s in sts if s in (MET, TOL, NOT_MET)]
            return None if not judged else Fraction(sum(1 for s in judged if s != NOT_MET), len(judged))
        xs = [self.num(args[0], m) for m in mem]
        if f in ("cv", "wmean"):
            ws = [self.num(args[1], m) for m in mem]
            return self.weighted_cv(xs, ws)[0 if f == "cv" else 1]
        if not xs or any(x is None for x in xs):
            return None
        if f == "sum":
            return sum(xs, Fraction(0))  # type: ignore[arg-type]
        if f == "mean":
            return sum(xs, Fraction(0)) / len(xs)  # type: ignore[arg-type]
        return min(xs) if f == "min" else max(xs)  # type: ignore[type-var]

    @staticmethod
    def weighted_cv(xs: list[Num], ws: list[Num]) -> tuple[float | None, Num]:
        if not xs or any(x is None for x in xs) or any(w is None for w in ws):
            return None, None
        p = sum(ws, Fraction(0))  # type: ignore[arg-type]
        if p == 0:
            return None, None
        mean = sum((w * x for w, x in zip(ws, xs)), Fraction(0)) / p  # type: ignore[operator]
        if mean == 0:
            return None, mean
        if len(xs) == 1:
            return 0.0, mean
        var = sum((w * (x - mean) ** 2 for w, x in zip(ws, xs)), Fraction(0)) / p  # type: ignore[operator]
        return math.sqrt(float(var)) / float(mean), mean

    # ---------------------------------------------------------------- statuses
    def st(self, e: ast.Expr, ent: Entity) -> Status:
        if isinstance(e, ast.Bool):
            return MET if e.value else NOT_MET
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.model.fields:
                v = self.field_value(n, ent)
                return UNKNOWN if v is None else (MET if v != 0 else NOT_MET)
            if n in self.model.lets:
                v = self.num(self.model.lets[n].expr, ent)
                return UNKNOWN if v is None else (MET if v != 0 else NOT_MET)
            d = self.model.decls[n]
            return self.decl(n, self.lift(ent, decl_level(d)))["final"]
        if isinstance(e, ast.Compare):
            if isinstance(e.right, ast.Name) and isinstance(e.left, ast.Name) and e.left.name in self.model.fields \
                    and self.model.fields[e.left.name].type == FieldType.CATEGORY:
                return self.in_set(e.left, (e.right,), e.op == "!=", ent)
            if self._is_status(e.left):
                same = self.st(e.left, ent) == self.st(e.right, ent)
                return MET if same == (e.op == "==") else NOT_MET
            return cmp3(e.op, self.num(e.left, ent), self.num(e.right, ent))
        if isinstance(e, ast.InSet):
            return self.in_set(e.operand, e.values, e.negate, ent)
        if isinstance(e, ast.Logic):
            xs = [self.st(a, ent) for a in e.args]
            return {"and": and3, "or": or3}[e.op](xs) if e.op != "not" else not3(xs[0])
        if isinstance(e, ast.Cond):
            t = self.st(e.test, ent)
            if t in (MET, TOL):
                return self.st(e.then, ent)
            if t == NOT_MET:
                return self.st(e.otherwise, ent)
            return UNKNOWN
        if isinstance(e, ast.Quantified):
            xs = [self.st(n, ent) for n in e.names]
            return {"all": and3, "any": or3}[e.quantifier](xs) if e.quantifier != "none" else not3(or3(xs))
        if isinstance(e, ast.AtLeast):
            return self.at_least(e, ent)
        if isinstance(e, ast.QuantifiedPart):
            xs = []
            for d in self.model.decls.values():
                if d.part is not None and d.part.name == e.part.name:
                    lv = decl_level(d)
                    if lv == ent.level:
                        xs.append(self.decl(d.name, ent)["final"])
                    else:
                        xs.append(and3(self.decl(d.name, m)["final"] for m in self._members_at(ent, lv)))
            if not xs:
                return NA
            return {"all": and3, "any": or3}[e.quantifier](xs) if e.quantifier != "none" else not3(or3(xs))
        if isinstance(e, ast.QuantifiedRows):
            src = self.level_of(e.operand)
            if src not in (ROW, SCHOOL) or src == ent.level:
                src = ROW
            xs = [self.st(e.operand, m) for m in self.members(ent, src)]
            if e.quantifier == "none":
                return not3(or3(xs))
            return and3(xs) if e.quantifier == "all" else or3(xs)
        v = self.num(e, ent)
        return UNKNOWN if v is None else (MET if v != 0 else NOT_MET)

    def _members_at(self, ent: Entity, level: str) -> list[Entity]:
        if level in (ROW, SCHOOL):
            return self.members(ent, level)
        if level == CS:
            stages = sorted({self.rows[i]["stage"] for i in ent.rows})
            return [self.cs_entity(ent.county, s) for s in stages]
        return [ent]

    def _is_status(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Name):
            n = e.name
            if n in self.model.fields:
                return self.model.fields[n].type == FieldType.YESNO
            if n in self.model.decls:
                t = self.model.types.get(n)
                return t is None or t.kind == "status"
            return False
        return isinstance(e, (ast.Compare, ast.Logic, ast.InSet, ast.Bool, ast.Quantified, ast.AtLeast))

    def in_set(self, operand: ast.Expr, values, negate: bool, ent: Entity) -> Status:
        assert isinstance(operand, ast.Name)
        spec = self.model.fields[operand.name]
        v = self.field_value(operand.name, ent)
        if v is None or v < 0:
            return UNKNOWN
        codes = [c.code for c in spec.values]
        hit = codes[v] in {n.name for n in values}
        return MET if hit != negate else NOT_MET

    def at_least(self, e: ast.AtLeast, ent: Entity) -> Status:
        res = [self.decl(n.name, ent) for n in e.names]
        ok = sum(1 for r in res if r["status"] in (MET, TOL, EXEMPT, NA))
        unknown = sum(1 for r in res if r["status"] == UNKNOWN)
        if ok + unknown < e.k:
            return NOT_MET
        if e.tolerance is not None:
            tol = Fraction(repr(e.tolerance))
            for r in res:
                if r["status"] == NOT_MET and r["ratio"] is not None and r["ratio"] < tol:
                    return NOT_MET
            return UNKNOWN if unknown else MET
        return UNKNOWN if unknown and ok < e.k else MET

    # ---------------------------------------------------------------- declarations
    def decl(self, name: str, ent: Entity) -> dict:
        key = (name, ent.level, tuple(ent.rows), ent.county, ent.stage)
        if key in self.memo:
            return self.memo[key]
        d = self.model.decls[name]
        out: dict[str, Any] = {"value": None, "required": None, "ratio": None}
        if d.kind == "balance":
            out.update(self.balance(d, ent))
        elif d.kind in ("rule", "verdict"):
            s = self.st(d.when, ent)  # type: ignore[arg-type]
            if d.applies is not None:
                s = _apply(self.st(d.applies, ent), s)
            out["status"] = s
        else:
            parts = []
            value = self.num(d.value, ent) if d.value is not None else None
            t = self.model.types.get(name)
            if d.value is not None and t is not None and t.kind == "status":
                parts.append(self.st(d.value, ent))
            required = None
            if d.requires and d.value is not None:
                req = self._requirement(d, ent)
                if req is None:
                    parts.append(NA)
                else:
                    op, thr = req
                    required = self.num(thr, ent)
                    parts.append(cmp3(op, value, required))
            if d.check is not None:
                parts.append(self.st(d.check, ent))
            s = NA if not parts else (parts[0] if len(parts) == 1 else and3(parts))
            ratio = None if value is None or required in (None, 0) else value / required  # type: ignore[operator]
            if d.applies is not None:
                app = self.st(d.applies, ent)
                s = _apply(app, s)
                if app != MET:
                    value = required = ratio = None
            for cond, _ in d.exempt:
                if self.st(cond, ent) == MET and s != NA:
                    s = EXEMPT
            for cond, _ in d.tolerate:
                if self.st(cond, ent) == MET and s == NOT_MET:
                    s = TOL
            out.update(value=value, required=required, ratio=ratio, status=s)
        out["final"] = out["status"]
        self.memo[key] = out
        if d.kind == "indicator":
            for r in self.model.decls.values():
                if r.kind == "rule" and r.when is not None and _tolerates(r.when, name):
                    if out["status"] == NOT_MET and self.decl(r.name, ent)["status"] == MET:
                        out["final"] = TOL
        return out

    def _requirement(self, d: ast.Decl, ent: Entity):
        stage_name = STAGES[ent.stage].code if ent.stage is not None and ent.stage >= 0 else None
        specific = [r for r in d.requires if r.stage is not None and r.stage == stage_name]
        general = [r for r in d.requires if r.stage is None]
        chosen = specific or general
        if not chosen:
            return None
        if len(chosen) > 1:  # several stage-free requirements: all must hold; fold into one check
            raise NotImplementedError("oracle: several requirements for one stage")
        return chosen[0].op, chosen[0].threshold

    def balance(self, d: ast.Decl, ent: Entity) -> dict:
        per = {}
        sts = []
        for n in d.indicators:
            rows = [m for m in self.members(ent, ROW) if self.decl(n.name, m)["status"] not in (NA, EXEMPT)]
            xs = [self.decl(n.name, m)["value"] for m in rows]
            ws = [self.num(d.weight, m) for m in rows]  # type: ignore[arg-type]
            cv, mean = self.weighted_cv(xs, ws) if rows else (None, None)
            req = self._requirement(d, ent)
            if req is None:
                s, limit = NA, None
            else:
                limit = self.num(req[1], ent)
                s = UNKNOWN if cv is None else cmp3(req[0], Fraction(cv), limit)
            per[n.name] = {"cv": cv, "limit": limit, "status": s}
            sts.append(s)
        return {"balance": per, "status": and3(sts) if sts else NA}


def _apply(app: Status, s: Status) -> Status:
    if app == NOT_MET:
        return NA
    if app == UNKNOWN:
        return UNKNOWN
    return s


def _bool_num(s: Status) -> Num:
    if s in (MET, TOL):
        return Fraction(1)
    if s == NOT_MET:
        return Fraction(0)
    return None


def _tolerates(e: ast.Expr, name: str) -> bool:
    if isinstance(e, ast.AtLeast):
        return e.tolerance is not None and any(n.name == name for n in e.names)
    for v in e.__dict__.values():
        if isinstance(v, ast.Expr) and _tolerates(v, name):
            return True
        if isinstance(v, tuple) and any(isinstance(x, ast.Expr) and _tolerates(x, name) for x in v):
            return True
    return False


def from_tables(model: Model, rows, counties) -> Oracle:
    """Build the oracle's plain-Python view of validated tables (bad rows blanked, as the engine does)."""
    out_rows = []
    cols = rows.columns
    bad = rows.bad_rows if len(rows.bad_rows) == rows.n else [False] * rows.n
    for i in range(rows.n):
        r: dict[str, Any] = {}
        for name, spec in model.fields.items():
            if spec.level == Level.COUNTY:
                continue
            col = cols.get(name)
            if spec.type == FieldType.CATEGORY:
                r[name] = int(col[i]) if col is not None else -1
            elif spec.type == FieldType.TEXT:
                r[name] = str(col[i]) if col is not None else ""
            else:
                r[name] = None if col is None or bad[i] else exact(col[i])
        r["county_code"] = str(cols["county_code"][i])
        r["school_code"] = str(cols["school_code"][i])
        out_rows.append(r)
    cty: dict[str, dict[str, Any]] = {}
    if counties is not None:
        for j in range(counties.n):
            code = str(counties.columns["county_code"][j])
            if code in cty:
                continue
            c: dict[str, Any] = {}
            for name, spec in model.fields.items():
                if spec.level != Level.COUNTY or name in ("county_code", "county_name"):
                    continue
                col = counties.columns.get(name)
                if spec.type in (FieldType.CATEGORY,):
                    c[name] = int(col[j]) if col is not None else -1
                elif spec.type == FieldType.TEXT:
                    c[name] = str(col[j]) if col is not None else ""
                else:
                    c[name] = None if col is None else exact(col[j])
            cty[code] = c
    return Oracle(model, out_rows, cty)


__all__ = ["Oracle", "from_tables", "SCHOOL_TYPES"]
