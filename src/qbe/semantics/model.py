"""The checked ruleset, as the compiler consumes it.

A :class:`Model` is the outcome of a successful check: the standard's header,
every input field as a :class:`~qbe.data.schema.FieldSpec`, the computed
values and judged items in an order where each comes after what it uses, and
the level (row, school, county × stage, county) each one is evaluated at.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from ..data.schema import STRUCTURAL_COUNTY_FIELDS, FieldSpec, Level, TableSchema
from ..language import ast
from .types import Type

#: The level every kind of declaration is evaluated at.
ROW, SCHOOL, CS, COUNTY = "row", "school", "cs", "county"


def decl_level(d: ast.Decl | ast.Let) -> str:
    if isinstance(d, ast.Let):
        return ROW
    if d.kind in ("indicator", "rule"):
        return ROW
    if d.kind == "check":
        return SCHOOL if d.entity == "school" else ROW
    if d.kind == "balance":
        return CS
    if d.kind == "aggregate":
        return CS if "stage" in d.group_keys else COUNTY
    return COUNTY  # item, verdict


@dataclass
class Model:
    standard: ast.Standard
    stages: tuple[ast.Labelled, ...]
    parts: dict[str, str]
    fields: dict[str, FieldSpec]
    lets: dict[str, ast.Let]
    decls: dict[str, ast.Decl]
    order: list[str]  #: lets and decls, dependencies first
    types: dict[str, Type] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    params: dict[str, ast.Param] = field(default_factory=dict)
    #: name → (action, span, source) for every file in the chain that touched it
    provenance: dict[str, tuple] = field(default_factory=dict)
    #: plugin functions the ruleset may call: name → qbe.plugins.Function
    functions: dict = field(default_factory=dict)

    def years(self) -> list[str]:
        """Every year or date some value of this standard is keyed by."""
        return sorted({v.key for p in self.params.values() for v in p.values})

    def param_values(self, year: int) -> dict[str, ast.ParamValue]:
        """The value of every param in force in ``year`` (the latest starting on or before 31 Dec).

        Raises ``LookupError`` naming the params that have no value yet in that year.
        """
        out: dict[str, ast.ParamValue] = {}
        missing = []
        for p in self.params.values():
            valid = [v for v in p.values if v.start <= (year, 12, 31)]
            if not valid:
                missing.append(p.name)
                continue
            out[p.name] = max(valid, key=lambda v: v.start)
        if missing:
            raise LookupError(missing)
        return out

    @property
    def id(self) -> str:
        return self.standard.id

    @property
    def version(self) -> int | None:
        return self.standard.version

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def row_schema(self) -> TableSchema:
        """The row table's columns; with a single declared stage the stage column may be left out."""
        import dataclasses

        fields = [f for f in self.fields.values() if f.level in (Level.ROW, Level.SCHOOL)]
        if len(self.stages) == 1:
            fields = [dataclasses.replace(f, optional=True) if f.name == "stage" else f for f in fields]
        return TableSchema(Level.ROW, tuple(fields))

    def county_schema(self) -> TableSchema:
        return TableSchema(
            Level.COUNTY,
            (*STRUCTURAL_COUNTY_FIELDS, *(f for f in self.fields.values() if f.level == Level.COUNTY)),
        )

    def ruleset_hash(self) -> str:
        """sha256 over the ruleset files' texts, so a report names exactly what produced it."""
        h = hashlib.sha256()
        for name in sorted(self.sources):
            h.update(name.rsplit("/", 1)[-1].encode())
            h.update(b"\0")
            h.update(self.sources[name].encode("utf-8"))
        return "sha256:" + h.hexdigest()

    @cached_property
    def referenced(self) -> frozenset[str]:
        """Names some item, rule or check uses (a check nobody uses is context, not a verdict)."""
        used: set[str] = set()
        for d in self.decls.values():
            for e in (d.value, d.check, d.when):
                if e is not None:
                    used.update(n.name for n in ast.walk(e) if isinstance(n, ast.Name))
        return frozenset(used)

    @cached_property
    def fields_read(self) -> dict[str, frozenset[str]]:
        """Input fields each declaration reads directly."""
        out = {}
        for d in self.decls.values():
            names: set[str] = set()
            for e in (d.value, d.check, d.when):
                if e is not None:
                    names.update(n.name for n in ast.walk(e) if isinstance(n, ast.Name) and n.name in self.fields)
            out[d.name] = frozenset(names)
        return out

    @cached_property
    def check_owners(self) -> dict[str, str]:
        """Check id → the county item that judges it (the first item naming it)."""
        out: dict[str, str] = {}
        for d in self.decls.values():
            if d.kind != "item":
                continue
            for e in (d.value, d.check):
                for n in ast.walk(e) if e is not None else ():
                    t = self.decls.get(n.name) if isinstance(n, ast.Name) else None
                    if t is not None and t.kind == "check":
                        out.setdefault(n.name, d.name)
        return out

    def indicators(self) -> list[ast.Decl]:
        return [d for d in self.decls.values() if d.kind == "indicator"]

    def of_kind(self, kind: str) -> list[ast.Decl]:
        return [d for d in self.decls.values() if d.kind == kind]
