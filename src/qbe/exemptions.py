"""Approved exemptions, kept as data in a TOML file.

An office that has approved an exemption (a school whose new building is
still under construction, say) records it once::

    [[exemption]]
    school = "9999010003"          # or: county = "999901"
    stage = "primary"              # optional: only this stage row
    item = "teaching_area_per_student"
    reason = "新校舍在建，2025年9月投用"
    document = "示例区教育局〔2024〕12号"
    valid_from = 2024              # optional
    valid_to = 2025                # optional

Every entry is checked against the standard and the data before anything
runs: an unknown item, school or county, or an entry not valid in the year
evaluated, is an error naming the file and the line of the entry. An exempt
item gets the status *exempt* — never *met* — and every report lists the
exemptions applied with their documents.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data.table import DataIssue
from .errors import DataError
from .semantics.model import Model, decl_level

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {"school", "county", "stage", "item", "reason", "document", "valid_from", "valid_to"}


@dataclass(frozen=True)
class Approved:
    item: str
    reason: str
    document: str
    line: int
    school: str | None = None
    county: str | None = None
    stage: str | None = None
    valid_from: int | None = None
    valid_to: int | None = None


def _lines_of_entries(text: str) -> list[int]:
    return [i for i, ln in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*exemption\s*\]\]", ln)]


def load(path: str | Path) -> tuple[list[Approved], list[DataIssue]]:
    p = Path(path)
    issues: list[DataIssue] = []
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as e:
        raise DataError([], f"无法读取豁免文件 {p}：{e.strerror}", f"cannot read exemptions file {p}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise DataError([], f"豁免文件 {p} 格式有误：{e}", f"exemptions file {p} is not valid TOML: {e}") from None
    entries = data.get("exemption", [])
    lines = _lines_of_entries(text)
    out = []
    for k, e in enumerate(entries):
        line = lines[k] if k < len(lines) else None

        def bad(code, zh, en, column=None, value=None, line=line):
            issues.append(DataIssue(code, zh, en, str(p), None, line, column, value))

        unknown = set(e) - KEYS
        for key in sorted(unknown):
            close = difflib.get_close_matches(key, sorted(KEYS), n=1)
            bad("exemption_unknown_key", f"未知的键 '{key}'" + (f"，是否想写 '{close[0]}'？" if close else ""),
                f"unknown key '{key}'" + (f" — did you mean '{close[0]}'?" if close else ""), key)
        for key in ("item", "reason", "document"):
            if not str(e.get(key, "")).strip():
                bad("exemption_missing", f"缺少 {key}（豁免须写明项目、理由和批准文件）",
                    f"missing {key} (an exemption states its item, reason and approving document)", key)
        if ("school" in e) == ("county" in e):
            bad("exemption_target", "须写 school 或 county 其中之一", "give exactly one of school or county", "school")
        for key in ("valid_from", "valid_to"):
            if key in e and not isinstance(e[key], int):
                bad("exemption_year", f"{key} 须为年份（整数）", f"{key} must be a year (a whole number)", key, e[key])
        if unknown or any(not str(e.get(k, "")).strip() for k in ("item", "reason", "document")):
            continue
        out.append(Approved(
            item=str(e["item"]), reason=str(e["reason"]), document=str(e["document"]), line=line or 0,
            school=str(e["school"]) if "school" in e else None, county=str(e["county"]) if "county" in e else None,
            stage=str(e["stage"]) if "stage" in e else None,
            valid_from=e.get("valid_from") if isinstance(e.get("valid_from"), int) else None,
            valid_to=e.get("valid_to") if isinstance(e.get("valid_to"), int) else None,
        ))
    return out, issues


def resolve(path: str | Path, model: Model, frame, year: int | None) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Masks of exempt rows/schools/counties per item, and the list of exemptions applied.

    Raises :class:`DataError` with every problem located at its entry's line.
    """
    from datetime import date

    entries, issues = load(path)
    when = year if year is not None else date.today().year
    cols = frame.rows.columns
    school_codes = cols["school_code"].astype(str) if frame.n else np.array([], dtype=str)
    known_schools = set(school_codes.tolist())
    known_counties = set(frame.county_codes.tolist())
    masks: dict[str, np.ndarray] = {}
    applied = []
    for e in entries:
        def bad(code, zh, en, column=None, value=None, e=e):
            issues.append(DataIssue(code, zh, en, str(path), None, e.line, column, value))

        d = model.decls.get(e.item)
        if d is None or d.kind in ("rule", "verdict"):
            close = difflib.get_close_matches(e.item, [x.name for x in model.decls.values() if x.kind not in ("rule", "verdict")], n=1)
            bad("exemption_unknown_item", f"标准 {model.id} 中没有可豁免的项目 '{e.item}'" + (f"，是否想写 '{close[0]}'？" if close else ""),
                f"standard {model.id} has no item '{e.item}' that can be exempted" + (f" — did you mean '{close[0]}'?" if close else ""),
                "item", e.item)
            continue
        if e.school is not None and e.school not in known_schools:
            close = difflib.get_close_matches(e.school, sorted(known_schools), n=1)
            bad("exemption_unknown_school", f"数据中没有学校 '{e.school}'" + (f"，是否想写 '{close[0]}'？" if close else ""),
                f"no school '{e.school}' in the data" + (f" — did you mean '{close[0]}'?" if close else ""), "school", e.school)
            continue
        if e.county is not None and e.county not in known_counties:
            bad("exemption_unknown_county", f"数据中没有区县 '{e.county}'", f"no county '{e.county}' in the data", "county", e.county)
            continue
        if (e.valid_from is not None and when < e.valid_from) or (e.valid_to is not None and when > e.valid_to):
            rng = f"{e.valid_from or '…'}–{e.valid_to or '…'}"
            bad("exemption_expired", f"该豁免的有效期为 {rng} 年，不适用于 {when} 年（已过期或尚未生效）",
                f"this exemption is valid {rng}, not in {when} (expired or not yet in force)", "valid_to", rng)
            continue
        level = decl_level(d)
        if e.stage is not None and e.stage not in {s.name for s in model.stages}:
            bad("exemption_unknown_stage", f"未知学段 '{e.stage}'", f"unknown stage '{e.stage}'", "stage", e.stage)
            continue
        mask = _mask(level, e, frame, school_codes)
        if mask is None:
            bad("exemption_level", f"'{e.item}' 是县级项目，只能按 county 豁免", f"'{e.item}' is a county item: exempt it by county",
                "school", e.school)
            continue
        masks[e.item] = masks.get(e.item, np.zeros_like(mask)) | mask
        applied.append({"item": e.item, "label": d.label, "school_code": e.school, "county_code": e.county, "stage": e.stage,
                        "reason": e.reason, "document": e.document, "valid_from": e.valid_from, "valid_to": e.valid_to,
                        "applies_to": int(mask.sum()), "file": str(path), "line": e.line})
    if issues:
        raise DataError(issues, f"豁免文件 {path} 有 {len(issues)} 处错误", f"exemptions file {path} has {len(issues)} error(s)")
    return masks, applied


def _mask(level: str, e: Approved, frame, school_codes: np.ndarray) -> np.ndarray | None:
    from .compiler.frame import STAGE_CODES

    if level == "row":
        m = (school_codes == e.school) if e.school is not None else (frame.row_county == _county_index(frame, e.county))
        if e.stage is not None:
            m = m & (frame.stage == STAGE_CODES[e.stage])
        return m
    if level == "school":
        sc = school_codes[frame.school_first]
        return (sc == e.school) if e.school is not None else (frame.school_county == _county_index(frame, e.county))
    if level == "cs":
        if e.school is not None:
            return None
        m = frame.cs_county == _county_index(frame, e.county)
        if e.stage is not None:
            m = m & (frame.cs_stage == STAGE_CODES[e.stage])
        return m
    if e.school is not None:
        return None
    return frame.county_codes == e.county


def _county_index(frame, code: str | None) -> int:
    idx = np.nonzero(frame.county_codes == code)[0]
    return int(idx[0]) if len(idx) else -1
