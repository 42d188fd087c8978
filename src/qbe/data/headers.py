"""Matching a table's header cells to a ruleset's declared fields.

County spreadsheets name the same column in many ways: full-width brackets,
spaces and line breaks inside a header cell, ASCII case, a unit suffix such as
"（m²）" or "（万元）". Everything here brings a header to one compare-form and
finds the field it names; a unit of another scale on a money or area column
gives the factor that converts its values. Readers use the same functions to
find the header row below a title row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qbe.data.schema import FieldSpec, FieldType, TableSchema

__all__ = ["HeaderIndex", "Target", "known_headers", "normalize_header", "normalize_text", "split_unit", "unit_factor"]


# ---------------------------------------------------------------------------
# text normalisation
# ---------------------------------------------------------------------------

_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "[", "〕": "]", "〈": "(", "〉": ")"})
#: A trailing bracketed part; group 1 is what precedes it, group 2 its content.
_UNIT_RE = re.compile(r"^(.+?)[(\[]([^()\[\]]*)[)\]]$")
_UNIT_PREFIXES = ("单位:", "单位", "unit:", "units:")


def normalize_text(value: Any) -> str:
    """Compare-form of a cell or header: NFKC, no whitespace at all, lower case.

    NFKC folds full-width letters, digits, brackets and "％" to their ASCII
    forms and "m²"/"㎡" to "m2"; removing every whitespace character also
    removes the line breaks people type inside Excel header cells.
    """
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).lower()


def normalize_header(value: Any) -> str:
    """Compare-form of a header: :func:`normalize_text` plus 【】 → []."""
    return normalize_text(value).translate(_BRACKETS)


def split_unit(norm: str) -> tuple[str, str | None]:
    """Split a normalised header into its base and a trailing bracketed unit.

    ``"教学及辅助用房面积(m2)"`` → ``("教学及辅助用房面积", "m2")``;
    ``"经费(单位:万元)"`` → ``("经费", "万元")``; no brackets → ``(norm, None)``.
    """
    match = _UNIT_RE.match(norm)
    if match is None:
        return norm, None
    unit = match.group(2)
    for prefix in _UNIT_PREFIXES:
        if unit.startswith(prefix):
            unit = unit[len(prefix) :]
            break
    return match.group(1), unit


def known_headers(schema: TableSchema) -> frozenset[str]:
    """Every header text that names a field of ``schema`` (including evidence notes).

    Pass this to the readers' ``known_headers`` so they can find a header row
    below a title row.
    """
    out: set[str] = set()
    for spec in schema.fields:
        out.update(spec.headers())
        out.update(spec.evidence_headers())
    return frozenset(out)


# ---------------------------------------------------------------------------
# units written in headers
# ---------------------------------------------------------------------------

#: Multipliers to yuan, keyed by normalised unit text.
_MONEY_UNITS: dict[str, float] = {
    "元": 1.0,
    "yuan": 1.0,
    "rmb": 1.0,
    "人民币元": 1.0,
    "千元": 1e3,
    "万元": 1e4,
    "百万元": 1e6,
    "亿元": 1e8,
}
#: Multipliers to square metres, keyed by normalised unit text ("m²" → "m2").
_AREA_UNITS: dict[str, float] = {
    "m2": 1.0,
    "平方米": 1.0,
    "平米": 1.0,
    "sqm": 1.0,
    "万平方米": 1e4,
    "万m2": 1e4,
    "公顷": 1e4,
    "ha": 1e4,
    "亩": 10_000.0 / 15.0,
}


def unit_factor(spec: FieldSpec, unit: str | None) -> float:
    """Factor that brings values written in ``unit`` to the field's unit.

    Only money and area know units with a different scale (万元, 公顷 …).
    An unknown or absent unit is ignored (factor 1), as the header matching
    promises; "元" on a yuan field is of course also 1.
    """
    if unit is None:
        return 1.0
    if spec.type is FieldType.MONEY:
        table = _MONEY_UNITS
    elif spec.type is FieldType.AREA:
        table = _AREA_UNITS
    else:
        return 1.0
    written = table.get(unit)
    if written is None:
        return 1.0
    wanted = table.get(normalize_header(spec.unit), 1.0) if spec.unit else 1.0
    return written / wanted



# ---------------------------------------------------------------------------
# header resolution
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a source column feeds: a field's values or its evidence notes."""

    name: str
    evidence: bool = False


class HeaderIndex:
    """Normalised header texts of a schema, for matching source headers."""

    def __init__(self, fields: Sequence[FieldSpec]) -> None:
        self.exact: dict[str, Target] = {}
        self.base: dict[str, Target] = {}  # known headers with their own unit removed
        for spec in fields:
            for header in spec.headers():
                self._add(header, Target(spec.name))
        for spec in fields:  # after all fields, so a field header always wins
            for header in spec.evidence_headers():
                self._add(header, Target(spec.name, evidence=True))

    def _add(self, header: str, target: Target) -> None:
        norm = normalize_header(header)
        if not norm:
            return
        self.exact.setdefault(norm, target)
        base, unit = split_unit(norm)
        if unit is not None:
            self.base.setdefault(base, target)

    def match(self, norm: str) -> Target | None:
        """The field a normalised source header names, ignoring a unit suffix."""
        found = self.exact.get(norm) or self.base.get(norm)
        if found is not None:
            return found
        base, unit = split_unit(norm)
        if unit is None:
            return None
        found = self.exact.get(base) or self.base.get(base)
        if found is not None and not found.evidence and "佐证" in unit:
            # "在校生数（佐证说明）": a note on the field, not the field itself.
            return Target(found.name, evidence=True)
        return found
