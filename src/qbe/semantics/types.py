"""Types and units of expressions.

A value is a number with a dimension (m², 元, 人 …, multiplied and divided
as units are), a logical status, a category or a text. Literals have no
dimension of their own, so ``teaching_area_m2 / students >= 4.5`` needs no
unit on 4.5; what is caught is adding or comparing two different dimensions
(an area with a count) and a percentage written as 85 where 85% is meant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..data.schema import FieldSpec, FieldType

#: Units a policy officer may write, mapped to one base symbol each. Things
#: counted one by one (rooms, classes, schools) share a dimension, people have
#: their own: comparing rooms with classes is fine, rooms with pupils is not.
UNIT_ALIASES = {
    "m²": "m²", "m2": "m²", "平方米": "m²", "㎡": "m²",
    "元": "元", "yuan": "元",
    "人": "人", "名": "人", "生": "人", "学生": "人", "persons": "人",
    "间": "个", "个": "个", "班": "个", "所": "个", "套": "个", "台": "个",
}


def parse_unit(unit: str | None, ftype: FieldType) -> Dim:
    """Dimension of a declared unit such as ``m²``, ``元/人`` or ``间``."""
    default = {FieldType.AREA: "m²", FieldType.MONEY: "元", FieldType.COUNT: "个"}.get(ftype)
    text = (unit or "").strip()
    if not text:
        return Dim.of(default)
    num, _, den = text.partition("/")

    def one(part: str) -> Dim:
        out = Dim()
        for tok in part.replace("·", " ").split():
            out = out * Dim.of(UNIT_ALIASES.get(tok, tok))
        return out

    d = one(num) / one(den) if den else one(num)
    if ftype == FieldType.AREA and "m²" not in dict(d.powers):
        return Dim.of("m²")
    if ftype == FieldType.MONEY and "元" not in dict(d.powers):
        return Dim.of("元")
    return d


@dataclass(frozen=True)
class Dim:
    """A product of base units with integer powers; empty is dimensionless."""

    powers: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def of(unit: str | None) -> Dim:
        return Dim(((unit, 1),)) if unit else Dim()

    def _c(self) -> Counter:
        return Counter(dict(self.powers))

    def __mul__(self, other: Dim) -> Dim:
        c = self._c()
        c.update(other._c())
        return Dim(tuple(sorted((k, v) for k, v in c.items() if v)))

    def __truediv__(self, other: Dim) -> Dim:
        c = self._c()
        c.subtract(other._c())
        return Dim(tuple(sorted((k, v) for k, v in c.items() if v)))

    def __str__(self) -> str:
        if not self.powers:
            return "无量纲/dimensionless"
        num = [k if v == 1 else f"{k}^{v}" for k, v in self.powers if v > 0]
        den = [k if v == -1 else f"{k}^{-v}" for k, v in self.powers if v < 0]
        s = "·".join(num) or "1"
        return s + ("/" + "·".join(den) if den else "")


@dataclass(frozen=True)
class Type:
    """What an expression yields. ``dim is None`` means 'takes the unit of its partner' (a literal)."""

    kind: str  #: num, status, cat, text
    dim: Dim | None = None
    percent: bool = False
    category: FieldSpec | None = field(default=None, compare=False)
    level: str = "const"  #: const, county, school, row — the finest table it depends on

    def describe(self) -> tuple[str, str]:
        if self.kind == "num":
            if self.percent:
                return "百分比", "a percentage"
            if self.dim is None:
                return "数字", "a number"
            return f"数值（单位 {self.dim}）", f"a number in {self.dim}"
        return {
            "status": ("是/否判断", "a yes/no condition"),
            "cat": ("类别", "a category"),
            "text": ("文字", "a text"),
        }[self.kind]


LEVEL_RANK = {"const": 0, "county": 1, "school": 2, "row": 3}


def finer(a: str, b: str) -> str:
    return a if LEVEL_RANK[a] >= LEVEL_RANK[b] else b


def field_type(spec: FieldSpec) -> Type:
    level = spec.level.value
    if spec.type == FieldType.YESNO:
        return Type("status", level=level)
    if spec.type == FieldType.CATEGORY:
        return Type("cat", category=spec, level=level)
    if spec.type == FieldType.TEXT:
        return Type("text", level=level)
    if spec.type == FieldType.PERCENT:
        return Type("num", Dim(), percent=True, level=level)
    if spec.type == FieldType.NUMBER:
        return Type("num", parse_unit(spec.unit, spec.type) if spec.unit else Dim(), level=level)
    return Type("num", parse_unit(spec.unit, spec.type), level=level)
