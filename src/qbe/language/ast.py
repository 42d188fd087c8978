"""The syntax tree of a ruleset: frozen dataclasses that carry their positions.

The tree says what was written, nothing more: names are not yet resolved and
types are not yet known (that is :mod:`qbe.semantics`). Every node keeps its
:class:`~qbe.diagnostics.Span`, so any later stage can point at the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Span

# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Num(Expr):
    value: float
    text: str  #: as written, so exact arithmetic can use the decimal


@dataclass(frozen=True)
class Pct(Expr):
    value: float  #: the fraction: 85% is 0.85
    text: str


@dataclass(frozen=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class BinOp(Expr):
    op: str  #: + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  #: normalised: >= <= == != > <
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InSet(Expr):
    operand: Expr
    values: tuple[Name, ...]
    negate: bool = False


@dataclass(frozen=True)
class Logic(Expr):
    op: str  #: and, or, not
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Cond(Expr):
    test: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True)
class AtLeast(Expr):
    """``at least k of [a, b, …], rest >= p%``: the 6-of-7/85% kind of rule."""

    k: int
    names: tuple[Name, ...]
    tolerance_op: str | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class Quantified(Expr):
    """``all of [a, b]``, ``any of […]``, ``none of […]``."""

    quantifier: str
    names: tuple[Name, ...]


@dataclass(frozen=True)
class QuantifiedPart(Expr):
    """``all of part guarantee``: every county item of a part."""

    quantifier: str
    part: Name


@dataclass(frozen=True)
class QuantifiedRows(Expr):
    """``all(size_ok)``: over every row (or school) of the county."""

    quantifier: str
    operand: Expr


@dataclass(frozen=True)
class Graded(Expr):
    """``graded 基本合格 in part quality``: how many items have that grade."""

    grade: Name
    part: Name | None = None


@dataclass(frozen=True)
class Weighted(Expr):
    """``weighted score of [a, b]`` (Σ wᵢvᵢ / Σ wᵢ) or ``weighted sum of part p`` (Σ wᵢvᵢ)."""

    kind: str  #: score or sum
    names: tuple[Name, ...] = ()
    part: Name | None = None


@dataclass(frozen=True)
class GradeBand:
    label: str
    span: Span
    op: str | None = None  #: value band: "合格 >= 85%"
    threshold: Expr | None = None
    condition: Expr | None = None  #: condition band: "合格 when …"


@dataclass(frozen=True)
class Apportion(Expr):
    """``apportion x by students weights { primary 1 junior 1.1 } plus senior_students 1.32``.

    A whole-school amount reported on one row of a combined school is shared
    among its stage rows in proportion to weight × students.
    """

    amount: Name
    by: Name
    weights: tuple[tuple[str, float, str], ...]  #: (stage, weight, weight as written)
    extra: Name | None = None
    extra_weight: float | None = None


def walk(e: Expr):
    """Every expression node under ``e`` (``e`` first), for passes that look at all of them."""
    yield e
    for v in e.__dict__.values():
        if isinstance(v, Expr):
            yield from walk(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, Expr):
                    yield from walk(x)


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Labelled:
    name: str
    label: str
    span: Span


@dataclass(frozen=True)
class Standard:
    id: str
    span: Span
    extends: str | None = None
    extends_span: Span | None = None
    title: str | None = None
    version: int | None = None
    source: str | None = None
    effective: str | None = None
    stages: tuple[Labelled, ...] = ()
    parts: tuple[Labelled, ...] = ()
    years: tuple[int, int] | None = None  #: the years the standard covers, if it says


@dataclass(frozen=True)
class CategoryValueDecl:
    name: str
    label: str
    aliases: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: str
    label: str
    level: str
    span: Span
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    evidence: bool = False
    whole_school: bool = False
    values: tuple[CategoryValueDecl, ...] = ()
    source: str | None = None
    source_tag: str | None = None


@dataclass(frozen=True)
class Inputs:
    level: str
    label: str | None
    fields: tuple[FieldDecl, ...]
    span: Span


@dataclass(frozen=True)
class Requirement:
    stage: str | None  #: None: every stage
    op: str
    threshold: Expr
    span: Span
    stage_span: Span | None = None


@dataclass(frozen=True)
class Let:
    name: str
    label: str | None
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Decl:
    """Any judged or computed declaration: indicator, check, rule, aggregate, balance, item, verdict.

    One shape for all of them keeps the checker and compiler uniform; which
    clauses a kind may use is checked in :mod:`qbe.semantics`.
    """

    kind: str
    name: str
    label: str
    span: Span
    name_span: Span
    entity: str | None = None  #: check: row/school
    group_keys: tuple[str, ...] = ()  #: aggregate: ("county",) or ("county", "stage")
    value: Expr | None = None
    requires: tuple[Requirement, ...] = ()
    check: Expr | None = None
    when: Expr | None = None
    unit: str | None = None
    source: str | None = None
    source_tag: str | None = None
    applies: Expr | None = None
    part: Name | None = None
    info: bool = False
    note: str | None = None
    indicators: tuple[Name, ...] = ()
    weight: Name | None = None
    composite: str | None = None
    exempt: tuple[tuple[Expr, str], ...] = ()  #: (condition, reason): status 'exempt' where it holds
    tolerate: tuple[tuple[Expr, str], ...] = ()  #: (condition, reason): a shortfall is 'tolerated' where it holds
    score_weight: float | None = None  #: weight in a composite score
    grades: tuple[GradeBand, ...] = ()  #: best first; the last may have no condition (the fallback)
    clause_spans: tuple[tuple[str, Span], ...] = ()


@dataclass(frozen=True)
class ParamValue:
    key: str  #: a year ("2023") or an effective date ("2023-09-01")
    value: float
    text: str
    span: Span
    source: str | None = None
    source_tag: str | None = None

    @property
    def start(self) -> tuple[int, int, int]:
        """(year, month, day) from which this value applies."""
        if "-" in self.key:
            y, m, d = (int(x) for x in self.key.split("-"))
            return (y, m, d)
        return (int(self.key), 1, 1)


@dataclass(frozen=True)
class Param:
    """A value that changes with time: ``param cv_limit "…" { 2022: 0.45 2023: 0.35 }``."""

    name: str
    label: str
    values: tuple[ParamValue, ...]
    span: Span
    percent: bool = False


@dataclass(frozen=True)
class Override:
    """``override indicator x { require … source "…" }`` in a standard that extends another."""

    kind: str
    name: str
    span: Span
    name_span: Span
    label: str | None = None
    decl: Decl | None = None  #: the clauses given (a partial declaration)
    let_expr: Expr | None = None
    let_source: str | None = None
    let_source_tag: str | None = None


@dataclass(frozen=True)
class Remove:
    kind: str
    name: str
    span: Span
    name_span: Span
    source: str | None = None
    source_tag: str | None = None


@dataclass(frozen=True)
class Ruleset:
    """One parsed file, or a standard resolved with everything it inherits."""

    file: str
    text: str
    standard: Standard | None
    inputs: tuple[Inputs, ...]
    lets: tuple[Let, ...]
    decls: tuple[Decl, ...]
    params: tuple[Param, ...] = ()
    overrides: tuple[Override, ...] = ()
    removes: tuple[Remove, ...] = ()
    #: every file this ruleset was built from (path → text), the file itself included
    sources: tuple[tuple[str, str], ...] = ()
    #: name → what each file in the chain did to it: (action, span, source)
    provenance: tuple[tuple[str, tuple[tuple[str, Span, str | None], ...]], ...] = ()
