"""The JSON report, defined once as pydantic models.

This is a published contract: other tools read these keys. It is versioned
(:data:`SCHEMA_VERSION`, kept in :mod:`.schema_version`); a change that adds keys bumps the minor version, a
change that renames or removes keys bumps the major version. ``qbe schema``
prints the JSON Schema generated from these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .schema_version import SCHEMA_VERSION

StatusKey = Literal["met", "not_met", "tolerated", "exempt", "not_applicable", "not_assessed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ItemInfo(_Model):
    """What one indicator, check, rule or item of the standard is: shown once, not per row."""

    kind: str
    label: str
    level: str = Field(description="row (school × stage), school, cs (county × stage) or county")
    unit: str | None = None
    part: str | None = None
    source: str | None = None


class StandardRef(_Model):
    """Which standard produced the report, and from exactly which files."""

    id: str
    version: int | None
    title: str | None = None
    source: str | None = None
    effective: str | None = None
    ruleset_hash: str = Field(description="sha256 over the ruleset files' contents")
    files: list[str] = Field(default_factory=list)
    stages: dict[str, str] = Field(default_factory=dict)
    parts: dict[str, str] = Field(default_factory=dict)
    year: int | None = Field(None, description="the year whose values applied (standards with yearly values)")
    items: dict[str, ItemInfo] = Field(default_factory=dict)


class Produced(_Model):
    qbe_version: str
    schema_version: str = SCHEMA_VERSION


class Remedy(_Model):
    """What would meet an unmet indicator: add ``amount`` to the input column ``input``."""

    input: str | None = Field(description="the input column to increase (the resource, e.g. teaching_area_m2); "
                                          "null when the formula is not linear in a single input the requirement "
                                          "can be met by increasing (not derivable)")
    amount: float | None = Field(description="the smallest increase that meets the requirement by qbe's own "
                                             "comparison; whole units for inputs typed count (rounded up), exact "
                                             "for area, money and other types; null when not derivable")


class IndicatorResult(_Model):
    """One resource indicator of one school-stage row."""

    value: float | None = Field(description="the school's value, e.g. m² per student; null when not assessable")
    required: float | None = Field(description="the requirement for this stage")
    ratio: float | None = Field(description="value / required (1.0 = exactly at the requirement)")
    met: bool | None = Field(description="value meets the requirement on its own, before any rule, tolerance or "
                                         "exemption (null: not assessed or not applicable)")
    status: StatusKey
    tolerated_by: str | None = Field(None, description="the rule that tolerates a shortfall, when status is tolerated")
    reason: str | None = Field(None, description="why the item is exempt or tolerated (declared or approved exemption)")
    remedy: Remedy | None = Field(None, description="present exactly when status is not_met (always the last key)")


class CheckResult(_Model):
    """A judged check or county item: value against requirement, or a yes/no condition."""

    label: str | None = None
    value: float | None = None
    required: float | None = None
    ratio: float | None = None
    status: StatusKey
    excess: float | None = Field(None, description="how far past a maximum (e.g. pupils over the size limit)")
    shortfall: float | None = Field(None, description="how far below a minimum")
    evidence: dict[str, str] | None = Field(None, description="evidence notes of material checks")
    inputs: dict[str, float | None] | None = Field(None, description="county figures a condition-style item reads")
    reason: str | None = Field(None, description="why the item is exempt or tolerated")
    grade: str | None = Field(None, description="the grade band reached (合格 / 基本合格 / 不合格, A / B …), for graded items")
    part: str | None = None
    source: str | None = None


class DataIssueOut(_Model):
    code: str
    severity: Literal["error", "warning"]
    message_zh: str
    message_en: str
    source: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None


class SchoolRowResult(_Model):
    """One input row (one school, one stage)."""

    row: int | None = Field(description="row number in the source file")
    county_code: str
    school_code: str
    school_name: str | None = None
    school_type: str | None = None
    stage: str | None
    students: float | None = None
    indicators: dict[str, IndicatorResult]
    pass_: bool | None = Field(alias="pass", description="the school-stage meets the resource rule (6 of 7, rest ≥ 85%)")
    status: StatusKey = Field(description="status of the resource rule for this row")
    rules: dict[str, StatusKey] = Field(default_factory=dict)
    checks: dict[str, CheckResult] = Field(default_factory=dict)
    errors: list[DataIssueOut] = Field(default_factory=list, description="data problems in this row")


class SchoolResult(_Model):
    """Checks judged on the whole school (all its stage rows), such as the size limit."""

    county_code: str
    school_code: str
    school_name: str | None = None
    school_type: str | None = None
    checks: dict[str, CheckResult]


class Contributor(_Model):
    """A school among those contributing most to a CV."""

    school_code: str
    school_name: str | None = None
    value: float | None = Field(description="the school's value of the indicator")
    share: float | None = Field(description="its share of Σ P_i (X_i − X̄)², the weighted squared deviation (0–1)")


class BalanceRemedy(_Model):
    """For a CV over its limit: who contributes most, and what raising the lowest schools to the mean would do."""

    contributors: list[Contributor] = Field(description="the (up to 3) schools with the largest shares, largest first")
    below_mean: int = Field(description="schools of the group below the weighted mean")
    cv_if_raised: float | None = Field(description="the CV if every school below the mean were raised to the present mean")
    raise_lowest: int | None = Field(description="the fewest of the lowest schools that, raised to the present mean, "
                                                 "bring the CV within the limit; null when raising all below the mean "
                                                 "is not enough")
    cv_after: float | None = Field(description="the CV after raising those schools (null with raise_lowest)")


class BalanceResult(_Model):
    cv: float | None = Field(description="student-weighted coefficient of variation; null when undefined (mean 0)")
    limit: float | None
    met: bool | None
    status: StatusKey
    mean: float | None = Field(None, description="the county's student-weighted mean of the indicator")
    schools: int = Field(0, description="school-stage rows in the group")
    remedy: BalanceRemedy | None = Field(None, description="present when the CV is over its limit (status not_met)")
    reason: str | None = Field(None, description="why the balance is exempt (status exempt): the declared reason, "
                                                 "or the approved exemption's reason and document")


class Finding(_Model):
    """One shortfall (or tolerated shortfall) in words, as a self-evaluation report states it."""

    kind: str
    item: str
    label: str
    status: StatusKey
    school_code: str | None = None
    school_name: str | None = None
    stage: str | None = None
    value: float | None = None
    required: float | None = None
    ratio: float | None = None
    excess: float | None = None
    rule: str | None = None
    text_zh: str
    text_en: str


class CountyResult(_Model):
    county_code: str
    county_name: str | None = None
    in_county_table: bool
    schools: int = Field(description="school-stage rows of this county")
    resources: dict[str, int] = Field(description="rows by status of the resource rule")
    balance: dict[str, dict[str, BalanceResult]] = Field(description="stage → indicator id → CV result")
    composite_cv: dict[str, float | None] = Field(default_factory=dict, description="information only, not judged")
    items: dict[str, CheckResult]
    aggregates: dict[str, dict[str, CheckResult]] = Field(default_factory=dict)
    parts: dict[str, StatusKey]
    verdicts: dict[str, StatusKey]
    verdict: StatusKey
    grades: dict[str, str | None] = Field(default_factory=dict, description="graded verdicts: verdict id → grade label")
    findings: list[Finding] = Field(default_factory=list)


class Summary(_Model):
    rows: int
    rows_with_errors: int
    counties: int
    verdicts: dict[str, int]


class ExemptionApplied(_Model):
    """An approved exemption from the exemptions file, as applied."""

    item: str
    label: str
    school_code: str | None = None
    county_code: str | None = None
    stage: str | None = None
    reason: str
    document: str
    valid_from: int | None = None
    valid_to: int | None = None
    applies_to: int = Field(description="rows, schools or counties it applied to")
    file: str
    line: int


class Report(_Model):
    """The whole result of one evaluation run."""

    schema_version: str = SCHEMA_VERSION
    produced: Produced
    standard: StandardRef
    summary: Summary
    schools: list[SchoolRowResult]
    school_checks: list[SchoolResult]
    counties: list[CountyResult]
    errors: list[DataIssueOut]
    warnings: list[DataIssueOut] = Field(default_factory=list)
    exemptions: list[ExemptionApplied] = Field(default_factory=list)
