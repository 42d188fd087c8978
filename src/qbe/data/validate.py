"""Turn a :class:`RawSheet` into a typed :class:`Table` and a list of issues.

Why a separate step: readers only find cells; this module decides what the
cells mean for a ruleset's declared fields (:class:`FieldSpec`). It never
drops a row and never stops at the first problem. Every cell it cannot accept
becomes a :class:`DataIssue` located by source, sheet, row and column, with a
Chinese and an English message that says what to change, and the row is
marked in ``Table.bad_rows`` so results can show it as an error row.

Header matching is lenient in the ways county spreadsheets differ in practice
(full-width brackets, spaces and line breaks inside headers, ASCII case, a
unit suffix such as "（m²）"), and strict everywhere else: an unrecognised
value is reported, never guessed. A unit of another scale on a money or area
column ("（万元）", "（公顷）") converts its values, with a warning, because
ignoring it would be off by a factor of ten thousand.

Speed matters because a national dataset has ~220,000 rows: numeric columns
are first converted as a whole (a vectorised decimal parser, then numpy), and
the per-cell parser only runs on a column the fast path refuses (thousands
separators, "95%", stray text …). Category and yes/no columns look each
distinct value up once; whole-table checks work on integer codes.

Header matching lives in :mod:`qbe.data.headers`, cell parsing in
:mod:`qbe.data.cells`; this module decides, column by column, what is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qbe.data.cells import (
    BAD,
    MISSING,
    MISSING_MARKERS,
    cell_text,
    fast_floats,
    format_cell,
    gc_paused,
    memo_map,
    parse_number,
    yes_no,
)
from qbe.data.headers import HeaderIndex, Target, known_headers, normalize_header, normalize_text, split_unit, unit_factor
from qbe.data.schema import FieldSpec, FieldType, Level, TableSchema
from qbe.data.table import DataIssue, RawSheet, Table

__all__ = [
    "gc_paused",
    "known_headers",
    "normalize_header",
    "normalize_text",
    "split_unit",
    "validate_sheet",
]


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


@dataclass
class _Column:
    """A source column assigned to a field."""

    index: int
    header: str
    unit: str | None


def _shown(spec: FieldSpec, value: float) -> str:
    """A parsed value as a person would write it: percents as "95%"."""
    if spec.type is FieldType.PERCENT:
        return f"{format_cell(round(value * 100, 10))}%"
    return format_cell(value)


def _range_text(spec: FieldSpec, lang: str) -> str:
    """The declared range in words (percents as percentages)."""
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        joiner = " 至 " if lang == "zh" else " to "
        return f"{_shown(spec, lo)}{joiner}{_shown(spec, hi)}"
    if lo is not None:
        return f"不小于 {_shown(spec, lo)}" if lang == "zh" else f"at least {_shown(spec, lo)}"
    if hi is not None:
        return f"不大于 {_shown(spec, hi)}" if lang == "zh" else f"at most {_shown(spec, hi)}"
    return ""


def _english_name(spec: FieldSpec) -> str:
    return spec.name.replace("_", " ")


class _Validator:
    """State of one :func:`validate_sheet` call."""

    def __init__(
        self, raw: RawSheet, schema: TableSchema, mapping: dict[str, str] | None
    ) -> None:
        self.raw = raw
        self.schema = schema
        self.mapping = mapping or {}
        self.n = len(raw.rows)
        self.bad = np.zeros(self.n, dtype=bool)
        self._columns: list[Sequence[Any]] | None = None
        self._codes: dict[str, tuple[np.ndarray, int]] = {}
        self._arrow_texts: dict[str, Any] = {}  #: text columns whose values Arrow made as they are (see text)
        self._issues: list[tuple[tuple[int, int, int], DataIssue]] = []
        #: whole-school fields' blanks, judged once school codes are known
        self._whole_school_blanks: list[tuple[FieldSpec, _Column, np.ndarray, Sequence[Any]]] = []

    # -- issues ----------------------------------------------------------

    def issue(
        self,
        code: str,
        zh: str,
        en: str,
        *,
        row: int | None = None,
        column: str | None = None,
        col_index: int = -1,
        value: Any = None,
        severity: str = "error",
    ) -> None:
        """Record an issue; ``row`` is a 0-based data row index (or ``None``)."""
        number = None if row is None else int(self.raw.row_numbers[row])
        found = DataIssue(
            code=code,
            message_zh=zh,
            message_en=en,
            source=self.raw.source,
            sheet=self.raw.sheet,
            row=number,
            column=column,
            value=value,
            severity=severity,
        )
        order = (0, 0, col_index) if number is None else (1, number, col_index)
        self._issues.append((order, found))
        if row is not None and severity == "error":
            self.bad[row] = True

    def issues(self) -> list[DataIssue]:
        self._issues.sort(key=lambda item: item[0])
        return [found for _, found in self._issues]

    # -- columns ---------------------------------------------------------

    def cells(self, index: int) -> Sequence[Any]:
        """The cells of source column ``index``, one per data row."""
        if self.raw.columns is not None:
            return self.raw.columns[index]
        if self._columns is None:
            self._columns = _transpose(self.raw.rows, len(self.raw.headers))
        return self._columns[index]

    def resolve(self) -> tuple[dict[str, _Column], dict[str, _Column]]:
        """Assign source columns to fields and evidence notes; report the rest.

        Mapped columns are assigned first, so an explicit mapping wins over a
        header that merely looks right; two columns that both match a field
        on their own are an error, since guessing could pick the wrong one.
        """
        index = HeaderIndex(self.schema.fields)
        by_name = self.schema.by_name()
        mapped = {normalize_header(k): v for k, v in self.mapping.items()}
        fields: dict[str, _Column] = {}
        notes: dict[str, _Column] = {}
        by_mapping: set[Target] = set()
        settled: set[int] = set()  # columns used, ignored on purpose, or already reported

        def take(target: Target, column: _Column, explicit: bool) -> None:
            settled.add(column.index)
            into = notes if target.evidence else fields
            other = into.get(target.name)
            if other is None:
                into[target.name] = column
                if explicit:
                    by_mapping.add(target)
                return
            label = by_name[target.name].label
            what = f"{label}（佐证）" if target.evidence else label
            if not explicit and target in by_mapping:
                self.issue(
                    "unused_column",
                    f"列“{column.header}”未使用：列映射已指定列“{other.header}”作为“{what}”。",
                    f"Column '{column.header}' is not used: the column mapping names "
                    f"'{other.header}' as '{what}' ({target.name}).",
                    column=column.header,
                    col_index=column.index,
                    severity="warning",
                )
                return
            self.issue(
                "duplicate_column",
                f"列“{other.header}”和列“{column.header}”都对应“{what}”（{target.name}）。"
                "请删除或改名其中一列，或用列映射指定使用哪一列。",
                f"Columns '{other.header}' and '{column.header}' both name '{what}' "
                f"({target.name}). Delete or rename one, or say in the column mapping "
                "which one to use.",
                column=column.header,
                col_index=column.index,
            )

        headers = ["" if h is None else str(h) for h in self.raw.headers]
        norms = [normalize_header(h) for h in headers]
        automatic: list[int] = []
        for j, (header, norm) in enumerate(zip(headers, norms)):
            if header in self.mapping:
                goal = self.mapping[header]
            elif norm and norm in mapped:
                goal = mapped[norm]
            else:
                automatic.append(j)
                continue
            if not goal:
                settled.add(j)  # mapped to "": ignore quietly
                continue
            target = index.match(normalize_header(goal))
            if target is None:
                settled.add(j)
                self.issue(
                    "bad_mapping",
                    f"列映射把列“{header}”指向“{goal}”，但当前指标体系中没有这个字段。"
                    "请改为正确的字段名或中文列名。",
                    f"The column mapping sends '{header}' to '{goal}', which is not a field "
                    "of this ruleset. Use a field name or its Chinese header.",
                    column=header,
                    col_index=j,
                )
                continue
            take(target, _Column(j, header, split_unit(norm)[1]), explicit=True)

        for j in automatic:
            target = index.match(norms[j]) if norms[j] else None
            if target is not None:
                take(target, _Column(j, headers[j], split_unit(norms[j])[1]), explicit=False)

        for j, header in enumerate(headers):
            if j in settled:
                continue
            if header.strip():
                self.issue(
                    "unused_column",
                    f"未识别的列“{header}”，已忽略。如果它对应某个指标，请改用标准列名，"
                    "或在列映射中指定对应的字段。",
                    f"Unrecognised column '{header}' was ignored. If it holds one of the "
                    "inputs, rename it to the standard header or map it in the column mapping.",
                    column=header,
                    col_index=j,
                    severity="warning",
                )
            elif any(cell is not None and str(cell).strip() for cell in self.cells(j)):
                self.issue(
                    "unused_column",
                    f"第 {j + 1} 列有数据但没有列名，已忽略。请补上列名或删除该列。",
                    f"Column {j + 1} has data but no header and was ignored. Give it a "
                    "header or delete it.",
                    column="",
                    col_index=j,
                    severity="warning",
                )

        for spec in self.schema.fields:
            if spec.name in fields or spec.optional:
                continue
            accepted = (spec.label, *spec.aliases, spec.name)
            self.issue(
                "missing_column",
                f"缺少必填列“{spec.label}”（{spec.name}）。请添加这一列，列名可写作"
                f"{'、'.join(f'“{h}”' for h in accepted)}，或在列映射中指定对应的列。",
                f"Required column '{spec.label}' ({spec.name}) is missing. Add it, headed "
                f"{' or '.join(repr(h) for h in accepted)}, or map an existing column to it.",
                column=f"{spec.label} ({spec.name})",
            )
        return fields, notes

    # -- per type --------------------------------------------------------

    def missing(self, spec: FieldSpec, column: _Column, mask: np.ndarray, cells: Sequence[Any]) -> None:
        if spec.optional:
            return
        if spec.whole_school:
            self._whole_school_blanks.append((spec, column, mask, cells))
            return
        for i in np.flatnonzero(mask).tolist():
            self.issue(
                "missing_value",
                f"“{spec.label}”不能为空。请填写该值。",
                f"'{spec.label}' ({spec.name}) is empty. Fill it in.",
                row=i,
                column=column.header,
                col_index=column.index,
                value=cells[i],
            )

    def numbers(self, spec: FieldSpec, column: _Column, cells: Sequence[Any]) -> np.ndarray:
        percent = spec.type is FieldType.PERCENT
        values = fast_floats(cells)
        if values is not None:
            missing = np.isnan(values)
            signed = None
        else:
            parsed = [parse_number(cell, percent) for cell in cells]
            status = np.fromiter((p[0] for p in parsed), dtype=np.int8, count=self.n)
            values = np.fromiter((p[1] for p in parsed), dtype=np.float64, count=self.n)
            signed = np.fromiter((p[2] for p in parsed), dtype=bool, count=self.n)
            missing = status == MISSING
            for i in np.flatnonzero(status == BAD).tolist():
                if percent:
                    hint_zh = "请填写数字，比例可写作 95% 或 0.95"
                    hint_en = "write a number; a share as 95% or 0.95"
                else:
                    hint_zh = "请只填写数字，不要带单位或文字（千分位逗号可以）"
                    hint_en = "write only a number, without units or words (1,234 is fine)"
                self.issue(
                    "not_a_number",
                    f"“{spec.label}”的值“{cells[i]}”不是数字；{hint_zh}。",
                    f"'{spec.label}' ({spec.name}): {cells[i]!r} is not a number; {hint_en}.",
                    row=i,
                    column=column.header,
                    col_index=column.index,
                    value=cells[i],
                )
        self.missing(spec, column, missing, cells)

        if percent:
            # a share written as a plain number above the field's ceiling (1, i.e. 100%, unless the
            # standard allows more, as for enrolment rates) is taken as percent points written bare
            ceiling = max(1.0, spec.maximum) if spec.maximum is not None else 1.0
            plain = values > ceiling
            if signed is not None:
                plain &= ~signed
            for i in np.flatnonzero(plain).tolist():
                shown = format_cell(values[i])
                self.issue(
                    "percent_scale",
                    f"“{spec.label}”是比例，值 {shown} 大于 1。如果指 {shown}%，请写作“{shown}%”"
                    f"或 {format_cell(values[i] / 100)}。",
                    f"'{spec.label}' ({spec.name}) is a share, but {shown} is more than 1. If you "
                    f"mean {shown}%, write '{shown}%' or {format_cell(values[i] / 100)}.",
                    row=i,
                    column=column.header,
                    col_index=column.index,
                    value=cells[i],
                )
            values[plain] = np.nan
        else:
            factor = unit_factor(spec, column.unit)
            if factor != 1.0:
                values = values * factor
                if factor == round(factor) and str(int(factor)).rstrip("0") == "1":
                    # 0.07 万元 times 10000 is 700.0000000000001; a power of ten
                    # only shifts the decimal point, so round the noise away.
                    values = np.round(values, 6)
                self.issue(
                    "unit_converted",
                    f"列“{column.header}”的单位为“{column.unit}”，数值已乘以 {format_cell(factor)} "
                    f"换算为{spec.unit or ('元' if spec.type is FieldType.MONEY else '平方米')}。",
                    f"Column '{column.header}' is in '{column.unit}'; its values were multiplied "
                    f"by {format_cell(factor)} to convert them to "
                    f"{spec.unit or ('yuan' if spec.type is FieldType.MONEY else 'm²')}.",
                    column=column.header,
                    col_index=column.index,
                    severity="warning",
                )
        self.check_range(spec, column, values, cells)
        return values

    def check_range(
        self, spec: FieldSpec, column: _Column, values: np.ndarray, cells: Sequence[Any]
    ) -> None:
        lo, hi = spec.minimum, spec.maximum
        if lo is None and hi is None:
            return
        with np.errstate(invalid="ignore"):
            out = np.zeros(self.n, dtype=bool)
            if lo is not None:
                out |= values < lo
            if hi is not None:
                out |= values > hi
        allowed_zh, allowed_en = _range_text(spec, "zh"), _range_text(spec, "en")
        for i in np.flatnonzero(out).tolist():
            value = float(values[i])
            shown = _shown(spec, value)
            if lo == 0 and value < 0:
                zh = f"“{spec.label}”为负数（{shown}），应不小于 0。请更正。"
                en = (
                    f"negative amount for '{spec.label}' ({spec.name}): {shown}; "
                    "it must be 0 or more. Correct it."
                )
            elif lo is not None and lo > 0 and value == 0:
                zh = f"“{spec.label}”为 0，应{allowed_zh}。请填写实际数值，没有该学段就删除此行。"
                en = (
                    f"zero {_english_name(spec)} ('{spec.label}'); it must be {allowed_en}. "
                    "Enter the real number, or delete the row if the stage does not exist."
                )
            else:
                zh = f"“{spec.label}”的值 {shown} 超出允许范围（{allowed_zh}）。请更正。"
                en = (
                    f"'{spec.label}' ({spec.name}) = {shown} is outside the allowed range "
                    f"({allowed_en}). Correct it."
                )
            self.issue(
                "out_of_range",
                zh,
                en,
                row=i,
                column=column.header,
                col_index=column.index,
                value=cells[i],
            )

    def yes_no(self, spec: FieldSpec, column: _Column, cells: Sequence[Any]) -> np.ndarray:
        values = np.array(memo_map(yes_no, cells), dtype=np.float64)
        wrong = values == -1.0
        for i in np.flatnonzero(wrong).tolist():
            self.issue(
                "not_yes_no",
                f"“{spec.label}”的值“{cells[i]}”无法识别为是/否。请填写“是”或“否”"
                "（也可用 有/无、√/×、1/0）。",
                f"'{spec.label}' ({spec.name}): {cells[i]!r} is not a yes/no value. Write "
                "是/否 or yes/no (also accepted: 有/无, √/×, 1/0, true/false).",
                row=i,
                column=column.header,
                col_index=column.index,
                value=cells[i],
            )
        values[wrong] = np.nan
        self.missing(spec, column, np.isnan(values) & ~wrong, cells)
        return values

    def category(self, spec: FieldSpec, column: _Column, cells: Sequence[Any]) -> np.ndarray:
        lookup: dict[str, int] = {}
        for k, choice in enumerate(spec.values):
            for name in (choice.code, choice.label, *choice.aliases):
                lookup.setdefault(normalize_text(name), k)

        def code(cell: Any) -> int:
            if cell is None:
                return -1
            text = normalize_text(cell_text(cell))
            if not text or text in MISSING_MARKERS:
                return -1
            return lookup.get(text, -2)

        found = np.array(memo_map(code, cells), dtype=np.int16)
        wrong = found == -2
        if wrong.any():
            allowed_zh = "、".join(f"{c.label}（{c.code}）" for c in spec.values)
            allowed_en = ", ".join(f"{c.label} ({c.code})" for c in spec.values)
            for i in np.flatnonzero(wrong).tolist():
                self.issue(
                    "unknown_category",
                    f"“{spec.label}”的值“{cell_text(cells[i])}”不在允许的取值中。请改为以下之一：{allowed_zh}。",
                    f"'{spec.label}' ({spec.name}): {cell_text(cells[i])!r} is not an allowed value. "
                    f"Use one of: {allowed_en}.",
                    row=i,
                    column=column.header,
                    col_index=column.index,
                    value=cells[i],
                )
            found[wrong] = -1
        self.missing(spec, column, (found == -1) & ~wrong, cells)
        return found

    def text(self, spec: FieldSpec | None, column: _Column, cells: Sequence[Any]) -> np.ndarray:
        made = cells.texts() if hasattr(cells, "texts") else None  # a CSV column read by Arrow (arrow_csv)
        if made is not None:
            values, empty = made
            if spec is not None:
                self._arrow_texts[spec.name] = cells  # its cells are its values: Arrow can group them
        else:
            try:
                out = list(map(str.strip, cells))  # the common case: every cell is text
            except TypeError:
                out = [cell_text(cell) for cell in cells]
            values = np.array(out, dtype=object) if out else np.empty(0, dtype=object)
            empty = values == ""
        if spec is not None and not spec.optional and empty.any():
            self.missing(spec, column, empty, cells)
        return values

    # -- whole-table checks ----------------------------------------------

    def whole_school_blanks(self, columns: dict[str, np.ndarray]) -> None:
        """A whole-school amount may be blank on a row when another row of the same school has it."""
        pending, self._whole_school_blanks = self._whole_school_blanks, []
        if not pending:
            return
        if "school_code" in columns:
            group, schools = self.factorize("school_code", columns)
        else:
            group, schools = np.arange(self.n), self.n
        for spec, column, mask, cells in pending:
            filled = np.zeros(max(schools, 1), dtype=np.int64)
            ok = group >= 0
            np.add.at(filled, group[ok & ~mask], 1)
            covered = ok & (filled[np.where(ok, group, 0)] > 0)
            for i in np.flatnonzero(mask & ~covered).tolist():
                self.issue(
                    "missing_value",
                    f"“{spec.label}”不能为空（可按全校只填一行，但同一学校至少要有一行填写）。请填写该值。",
                    f"'{spec.label}' ({spec.name}) is empty on every row of this school (it may be given once "
                    "per school, on one of its rows). Fill it in.",
                    row=i,
                    column=column.header,
                    col_index=column.index,
                    value=cells[i],
                )

    def factorize(self, name: str, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
        """:func:`_factorize` of a column, computed once per call of validation."""
        if name not in self._codes:
            cells = self._arrow_texts.get(name)
            codes = cells.first_rows() if cells is not None else None
            self._codes[name] = (codes, self.n) if codes is not None else _factorize(columns[name])
        return self._codes[name]

    def school_consistency(
        self,
        columns: dict[str, np.ndarray],
        cells_of: dict[str, Sequence[Any]],
        found: dict[str, _Column],
    ) -> None:
        """A school-level field must have one value across a school's rows."""
        school_fields = [
            s for s in self.schema.fields if s.level is Level.SCHOOL and s.name in found
        ]
        if not school_fields or "school_code" not in found or self.n < 2:
            return
        group, schools = self.factorize("school_code", columns)
        # A text code is the index of the value's first row, so a school with
        # a second row shows up as a row whose code is not its own index.
        if not (group >= 0).any() or not (group[group >= 0] != np.flatnonzero(group >= 0)).any():
            return  # every school has a single row
        codes = columns["school_code"]
        for spec in school_fields:
            values, _ = _factorize(columns[spec.name])
            valid = (group >= 0) & (values >= 0)
            if not valid.any():
                continue
            lo = np.full(schools, np.iinfo(np.int64).max)
            hi = np.full(schools, -1)
            np.minimum.at(lo, group[valid], values[valid])
            np.maximum.at(hi, group[valid], values[valid])
            split = lo < hi
            if not split.any():
                continue
            column = found[spec.name]
            cells = cells_of[spec.name]
            members: dict[int, list[int]] = {}
            for i in np.flatnonzero(valid & split[np.maximum(group, 0)]).tolist():
                members.setdefault(int(group[i]), []).append(i)
            for rows in members.values():
                shown = [(int(self.raw.row_numbers[r]), format_cell(cells[r])) for r in rows[:6]]
                listing_zh = "；".join(f"第 {number} 行：{text}" for number, text in shown)
                listing_en = "; ".join(f"row {number}: {text}" for number, text in shown)
                school = codes[rows[0]]
                for r in rows:
                    self.issue(
                        "inconsistent_school_value",
                        f"学校 {school} 的“{spec.label}”在各行不一致（{listing_zh}）。"
                        "同一学校各学段行应填写相同的值，请统一。",
                        f"School {school} has different values of '{spec.label}' "
                        f"({spec.name}) on its rows ({listing_en}). It is a school-level "
                        "value: make it the same on every row of the school.",
                        row=r,
                        column=column.header,
                        col_index=column.index,
                        value=cells[r],
                    )

    def duplicates(
        self,
        key: tuple[str, ...],
        columns: dict[str, np.ndarray],
        cells_of: dict[str, Sequence[Any]],
        found: dict[str, _Column],
    ) -> None:
        """Report every row whose key repeats an earlier row's key."""
        if not key or any(name not in found for name in key) or self.n < 2:
            return
        combined = np.zeros(self.n, dtype=np.int64)
        valid = np.ones(self.n, dtype=bool)
        for name in key:
            codes, count = self.factorize(name, columns)
            valid &= codes >= 0
            combined = combined * (count + 1) + codes + 1
            # keep the numbers small, so three or more key fields cannot overflow
            combined = np.unique(combined, return_inverse=True)[1].reshape(-1)
        rows = np.flatnonzero(valid)
        order = np.argsort(combined[rows], kind="stable")
        rows = rows[order]  # grouped by key, each group in source order
        ordered = combined[rows]
        repeat = np.zeros(rows.size, dtype=bool)
        repeat[1:] = ordered[1:] == ordered[:-1]
        if not repeat.any():
            return
        position = np.arange(rows.size)
        first = np.maximum.accumulate(np.where(repeat, 0, position))
        header = ", ".join(found[name].header for name in key)
        first_col = found[key[0]].index
        for p in np.flatnonzero(repeat).tolist():
            i, earlier = int(rows[p]), int(rows[first[p]])
            shown = tuple(cells_of[name][i] for name in key)
            value: Any = shown[0] if len(shown) == 1 else shown
            text = " / ".join(cell_text(v) for v in shown)
            before = self.raw.row_numbers[earlier]
            here = self.raw.row_numbers[i]
            self.issue(
                "duplicate_key",
                f"第 {here} 行与第 {before} 行重复（{header}：{text}）。每个组合只能有一行，"
                "请删除或合并重复的行。",
                f"Row {here} duplicates row {before} ({header}: {text}). Each combination may "
                "appear only once: delete or merge the duplicate rows.",
                row=i,
                column=header,
                col_index=first_col,
                value=value,
            )


def _transpose(rows: list[list[Any]], width: int) -> list[Sequence[Any]]:
    """Columns of ``rows`` (padded with ``None`` to ``width``), in one pass.

    ``zip(*rows)`` visits each row once; extracting one column at a time
    would walk all rows once per column, which on a national dataset costs
    more than all the checks together.
    """
    if not rows:
        return [() for _ in range(width)]
    if set(map(len, rows)) != {width}:
        rows = [list(row[:width]) + [None] * (width - len(row)) for row in rows]
    return list(zip(*rows)) if width else []


def _factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Group codes of a typed column: equal values get equal codes, missing -1.

    Returns the codes and a bound (every code is below it). For text the code
    is the index of the value's first row: one C-level pass of
    ``dict.setdefault``, cheaper than sorting strings.
    """
    n = values.size
    if values.dtype == object:
        first: dict[Any, int] = {}
        codes = np.fromiter(map(first.setdefault, values.tolist(), range(n)), np.int64, n)
        if "" in first:
            codes[codes == first[""]] = -1
        return codes, n
    if values.dtype.kind in "iu":
        codes = values.astype(np.int64)
        codes[codes < 0] = -1
        return codes, int(codes.max(initial=-1)) + 1
    missing = np.isnan(values)
    distinct, codes = np.unique(np.where(missing, 0.0, values), return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    codes[missing] = -1
    return codes, int(distinct.size)


def _empty_column(spec: FieldSpec, n: int) -> np.ndarray:
    if spec.type is FieldType.CATEGORY:
        return np.full(n, -1, dtype=np.int16)
    if spec.type is FieldType.TEXT:
        out = np.empty(n, dtype=object)
        out[:] = ""
        return out
    return np.full(n, np.nan)


def validate_sheet(
    raw: RawSheet,
    schema: TableSchema,
    mapping: dict[str, str] | None = None,
    key: tuple[str, ...] = (),
) -> tuple[Table, list[DataIssue]]:
    """Check and type ``raw`` against ``schema``; return the table and all issues.

    ``mapping`` maps source header texts to field names (or to their Chinese
    headers, or ``"<field>_note"`` for an evidence column); mapping a header to
    ``""`` ignores that column without a warning. ``key`` names fields whose
    combination must be unique (e.g. ``("school_code", "stage")``).

    Issue codes: ``missing_column``, ``duplicate_column``, ``bad_mapping``,
    ``unused_column`` (warning), ``unit_converted`` (warning), and per cell
    ``missing_value``, ``not_a_number``, ``out_of_range``, ``percent_scale``,
    ``not_yes_no``, ``unknown_category``, ``inconsistent_school_value``,
    ``duplicate_key``. Issues are ordered: table-level first, then by row.

    A cell that cannot be read is NaN / -1 / "" in the table; an out-of-range
    number keeps its value. Either way the row is marked in ``bad_rows``.
    Column-level problems (a missing column) do not mark rows.
    """
    if len(raw.row_numbers) != len(raw.rows):
        raise ValueError(
            f"RawSheet {raw.source!r} has {len(raw.rows)} rows "
            f"but {len(raw.row_numbers)} row numbers"
        )
    by_name = schema.by_name()
    unknown = [name for name in key if name not in by_name]
    if unknown:
        raise ValueError(f"key fields {unknown} are not in the schema")

    with gc_paused():
        check = _Validator(raw, schema, mapping)
        found, notes = check.resolve()
        columns: dict[str, np.ndarray] = {}
        cells_of: dict[str, Sequence[Any]] = {}
        for spec in schema.fields:
            column = found.get(spec.name)
            if column is None:
                columns[spec.name] = _empty_column(spec, check.n)
                continue
            cells = check.cells(column.index)
            cells_of[spec.name] = cells
            if spec.type.numeric:
                columns[spec.name] = check.numbers(spec, column, cells)
            elif spec.type is FieldType.YESNO:
                columns[spec.name] = check.yes_no(spec, column, cells)
            elif spec.type is FieldType.CATEGORY:
                columns[spec.name] = check.category(spec, column, cells)
            else:
                columns[spec.name] = check.text(spec, column, cells)

        check.whole_school_blanks(columns)
        check.school_consistency(columns, cells_of, found)
        check.duplicates(key, columns, cells_of, found)
        evidence = {
            name: check.text(None, column, check.cells(column.index)) for name, column in notes.items()
        }
        table = Table(
            source=raw.source,
            n=check.n,
            columns=columns,
            row_numbers=np.asarray(raw.row_numbers, dtype=np.int64),
            sheet=raw.sheet,
            bad_rows=check.bad,
            evidence=evidence,
            present=frozenset(found),
        )
        issues = check.issues()
    return table, issues

