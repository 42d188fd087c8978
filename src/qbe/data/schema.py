"""What a loader needs to know about the columns it reads.

The ruleset declares its inputs; the checker turns each declaration into a
:class:`FieldSpec`. Loaders and validation see only these specs, never the
ruleset's syntax tree, so a loader plugin does not depend on the language.
The structural columns every dataset has (county, school, stage, type) are
declared here once, because the engine itself relies on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class FieldType(str, Enum):
    """The kinds of value a column may hold."""

    COUNT = "count"  #: whole number of people, rooms, classes …
    AREA = "area"  #: square metres
    MONEY = "money"  #: yuan
    PERCENT = "percent"  #: a share, stored as a fraction 0–1 ("95%" or 0.95 in data)
    NUMBER = "number"  #: any other number
    YESNO = "yesno"  #: 是/否, yes/no, true/false, 1/0
    CATEGORY = "category"  #: one of a declared set of values
    TEXT = "text"  #: free text (codes, names, evidence notes)

    @property
    def numeric(self) -> bool:
        return self in NUMERIC_TYPES


NUMERIC_TYPES = frozenset(
    {FieldType.COUNT, FieldType.AREA, FieldType.MONEY, FieldType.PERCENT, FieldType.NUMBER}
)


class Level(str, Enum):
    """Which table a field lives in, and how often it repeats."""

    ROW = "row"  #: one value per school per stage
    SCHOOL = "school"  #: one value per school, repeated on each of its rows
    COUNTY = "county"  #: one value per county, in the county table


@dataclass(frozen=True)
class CategoryValue:
    code: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldSpec:
    """One declared column: its canonical name and how to recognise and check it."""

    name: str
    type: FieldType
    label: str
    level: Level
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    evidence: bool = False
    whole_school: bool = False  #: may be reported once per school (blank on its other stage rows)
    values: tuple[CategoryValue, ...] = ()

    def headers(self) -> tuple[str, ...]:
        """Every header text that names this column (canonical name first)."""
        return (self.name, self.label, *self.aliases)

    def evidence_headers(self) -> tuple[str, ...]:
        """Headers of the optional evidence-note column of a material check."""
        return (f"{self.name}_note", f"{self.label}（佐证）", f"{self.label}(佐证)", f"{self.label}佐证")


@dataclass(frozen=True)
class TableSchema:
    """The columns expected in one table (rows or counties)."""

    level: Level
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}


SCHOOL_TYPES = (
    CategoryValue("primary", "小学"),
    CategoryValue("junior", "初中", ("初级中学",)),
    CategoryValue("nine_year", "九年一贯制", ("九年一贯制学校", "九年制")),
    CategoryValue("twelve_year", "十二年一贯制", ("十二年一贯制学校",)),
    CategoryValue("complete_middle", "完全中学", ("完中",)),
    CategoryValue("teaching_point", "教学点", ("小学教学点",)),
    CategoryValue("public_kindergarten", "公办幼儿园", ("公办园",)),
    CategoryValue("inclusive_private_kindergarten", "普惠性民办幼儿园", ("普惠性民办园",)),
    CategoryValue("private_kindergarten", "非普惠性民办幼儿园", ("非普惠性民办园", "民办幼儿园")),
)

#: Every stage a standard may declare; a standard uses the ones in its own ``stages``.
STAGES = (
    CategoryValue("primary", "小学", ("小学段",)),
    CategoryValue("junior", "初中", ("初中段",)),
    CategoryValue("kindergarten", "幼儿园", ("学前", "学前教育")),
)

#: Columns the engine itself needs in every row table, whatever the ruleset.
STRUCTURAL_ROW_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("county_code", FieldType.TEXT, "区县代码", Level.ROW),
    FieldSpec("county_name", FieldType.TEXT, "区县名称", Level.ROW, optional=True),
    FieldSpec("school_code", FieldType.TEXT, "学校代码", Level.ROW, aliases=("学校标识码",)),
    FieldSpec("school_name", FieldType.TEXT, "学校名称", Level.ROW, optional=True),
    FieldSpec("school_type", FieldType.CATEGORY, "学校类型", Level.SCHOOL, values=SCHOOL_TYPES),
    FieldSpec("stage", FieldType.CATEGORY, "学段", Level.ROW, values=STAGES),
    FieldSpec("year", FieldType.NUMBER, "年度", Level.ROW, aliases=("统计年度", "学年"), minimum=1990, maximum=2100,
              optional=True),
)

#: Columns the engine needs in every county table.
STRUCTURAL_COUNTY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("county_code", FieldType.TEXT, "区县代码", Level.COUNTY),
    FieldSpec("county_name", FieldType.TEXT, "区县名称", Level.COUNTY, optional=True),
)
