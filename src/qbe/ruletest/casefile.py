"""Read a ruleset test file (TOML) into cases and expectations, each with the line it is written on.

The format is TOML because staff already edit TOML files for qbe (exemptions,
configuration) and because a school row is naturally a small table whose keys
are the usual column headers, Chinese ones included (quoted, as TOML requires).
``tomllib`` gives values but no positions, so a small line scanner
(:class:`_Locator`) finds the line of every case, row and expectation; the
two are matched by order and key, which is all a failure message and
``--update`` need.

Everything wrong with a file is collected and raised at once as a
:class:`TestFileError` of located diagnostics (exit code 4), never a traceback.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

from ..data.schema import STAGES
from ..diagnostics import Diagnostic, Span
from ..errors import QbeError
from ..status import Status

#: Expectation groups of a school target (``school = …``), with what their values are.
ROW_GROUPS = {"indicators": "status", "values": "number", "rules": "status", "checks": "status"}
#: Expectation groups of a county target (``county = …``).
COUNTY_GROUPS = {
    "items": "status",
    "values": "number",
    "parts": "status",
    "verdicts": "status",
    "grades": "text",
    "balance": "status",  # balance.<stage>.<indicator>
    "cv": "number",  # cv.<stage>.<indicator>
}
TOP_KEYS = {"standard", "year", "school_defaults", "county_defaults", "case"}
CASE_KEYS = {"name", "year", "data_errors", "school", "county", "expect"}

_STATUS_WORDS: dict[str, str] = {}
for _s in Status:
    _STATUS_WORDS[_s.key] = _s.key
    _STATUS_WORDS[_s.zh] = _s.key
    _STATUS_WORDS[_s.en] = _s.key
_STATUS_WORDS.update({"通过": "met", "合格": "met", "不合格": "not_met", "pass": "met", "fail": "not_met"})

_STAGE_WORDS = {w: s.code for s in STAGES for w in (s.code, s.label, *s.aliases)}


def status_key(word: Any) -> str | None:
    """The status key a written status word means (met, 达标, "not met" …), or None."""
    if not isinstance(word, str):
        return None
    return _STATUS_WORDS.get(word.strip()) or _STATUS_WORDS.get(word.strip().lower())


def stage_code(word: Any) -> str | None:
    """The stage code a written stage means (primary, 小学 …), or None."""
    return _STAGE_WORDS.get(str(word).strip()) if isinstance(word, str) else None


class TestFileError(QbeError):
    """A test file that cannot be used: every problem, located (file, line, column)."""

    exit_code = 4
    __test__ = False  # not a pytest class

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        n = len(diagnostics)
        super().__init__(f"测试文件有 {n} 处错误", f"the test file has {n} error(s)")

    def render(self, lang: str = "zh") -> str:
        return "\n".join(d.render(lang) for d in self.diagnostics)


@dataclass
class Row:
    """One school or county row of a case: header → cell, as written (defaults merged in later)."""

    cells: dict[str, Any]
    line: int


@dataclass
class Expectation:
    """One expected result: where in the report (``path``), what value, and the line it is written on."""

    path: tuple[str, ...]
    expected: Any  #: status key, bool, float or text, normalised
    written: Any  #: the value as the file holds it
    line: int
    column: int


@dataclass
class Target:
    """One ``[[case.expect]]`` block: a school (optionally a stage) or a county, and its expectations."""

    kind: str  #: "school" or "county"
    name: str  #: school code or name; county code
    stage: str | None
    line: int
    end_line: int  #: last line of the block holding a key (new expectations go after it)
    expectations: list[Expectation] = field(default_factory=list)


@dataclass
class Case:
    __test__ = False

    index: int
    name: str
    line: int
    year: int | None
    schools: list[Row]
    counties: list[Row]
    targets: list[Target]
    data_errors: int | None = None
    end_line: int = 0  #: last line of the case holding a key (new expectation blocks go after it)


@dataclass
class TestFile:
    __test__ = False

    path: Path
    text: str
    standard: str | None
    year: int | None
    school_defaults: Row | None
    county_defaults: Row | None
    cases: list[Case]

    def span(self, line: int, column: int = 1) -> Span:
        return Span(str(self.path), line, column)


# ---------------------------------------------------------------------------- line scanner

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*(.+?)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]].*?)\s*\]\s*(#.*)?$")


def parse_key(text: str) -> tuple[tuple[str, ...], int] | None:
    """The dotted key at the start of ``text`` and the index just after its ``=``; None if not a key line."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            q = text[i]
            j = text.find(q, i + 1)
            if j < 0:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-"):
                j += 1
            if j == i:
                return None
            parts.append(text[i:j])
            i = j
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        if i < n and text[i] == "=":
            return tuple(parts), i + 1
        return None


def _header_path(name: str) -> tuple[str, ...]:
    got = parse_key(name + " =")
    return got[0] if got else (name,)


@dataclass
class _Block:
    """The lines under one table header: where each key is written."""

    header: tuple[str, ...]
    line: int
    keys: list[tuple[tuple[str, ...], int, int]] = field(default_factory=list)  #: (key path, line, column)
    end_line: int = 0


class _Locator:
    """Where headers and keys are written, for tying tomllib's values back to lines."""

    def __init__(self, text: str) -> None:
        self.blocks: list[_Block] = [_Block((), 0)]
        for no, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            m = _ARRAY_HEADER.match(raw)
            if m:
                self.blocks.append(_Block(_header_path(m.group(1)), no, end_line=no))
                continue
            m = _TABLE_HEADER.match(raw)
            if m and "=" not in raw.split("]")[0]:
                path = _header_path(m.group(1))
                parent = self.blocks[-1]
                if path[: len(parent.header)] == parent.header and len(path) > len(parent.header):
                    # [case.expect.indicators] continues the current expect block under a prefix
                    parent.keys.append((path[len(parent.header):] + ("",), no, 1))
                    parent.end_line = no
                else:
                    self.blocks.append(_Block(path, no, end_line=no))
                continue
            got = parse_key(raw)
            if got is not None:
                blk = self.blocks[-1]
                prefix = ()
                for k, _, _ in reversed(blk.keys):
                    if k and k[-1] == "":
                        prefix = k[:-1]
                        break
                col = len(raw) - len(raw.lstrip()) + 1
                blk.keys.append((prefix + got[0], no, col))
            self.blocks[-1].end_line = no

    def of(self, header: tuple[str, ...]) -> list[_Block]:
        return [b for b in self.blocks if b.header == header]

    @staticmethod
    def key_line(block: _Block, path: tuple[str, ...]) -> tuple[int, int]:
        """The line of a key in a block: the exact dotted key, else the line of its nearest parent
        (an inline table or a sub-table header); the block's header line if nothing matches."""
        best = (block.line, 1)
        best_len = 0
        for k, line, col in block.keys:
            kk = k[:-1] if k and k[-1] == "" else k
            if kk == path:
                return line, col
            if path[: len(kk)] == kk and len(kk) > best_len:
                best, best_len = (line, col), len(kk)
        return best


# ---------------------------------------------------------------------------- reading


def _toml_error(path: Path, text: str, e: tomllib.TOMLDecodeError) -> Diagnostic:
    msg = str(e)
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
    hint_zh = hint_en = ""
    lines = text.splitlines()
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    first = src.lstrip()[:1]
    if first and not first.isascii():
        hint_zh = '中文键名须加英文双引号，例如 "在校生数" = 500'
        hint_en = 'quote keys that are not plain ASCII, e.g. "在校生数" = 500'
    else:
        hint_zh = "文本值须加引号（\"S1\"、\"达标\"），数值、true/false 不加"
        hint_en = 'text values need quotes ("S1", "met"); numbers and true/false do not'
    base = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
    return Diagnostic("test_syntax", "error", Span(str(path), line, col),
                      f"TOML 语法错误：{base}", f"TOML syntax error: {base}", hint_zh, hint_en)


class _Collector:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Diagnostic] = []

    def error(self, code: str, line: int, col: int, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> None:
        self.items.append(Diagnostic(code, "error", Span(str(self.path), line, col), zh, en, hint_zh, hint_en))


def read_test_file(path: str | Path) -> TestFile:
    """Read and check one test file; raise :class:`TestFileError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise TestFileError([Diagnostic("test_unreadable", "error", Span(str(path), 1, 1),
                                        f"无法读取测试文件：{e.strerror or e}", f"cannot read the test file: {e.strerror or e}")]) from None
    except UnicodeDecodeError:
        raise TestFileError([Diagnostic("test_unreadable", "error", Span(str(path), 1, 1),
                                        "测试文件不是 UTF-8 编码", "the test file is not UTF-8 text",
                                        "请用 UTF-8 保存", "save it as UTF-8")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TestFileError([_toml_error(path, text, e)]) from None
    return _build(path, text, data)


def _build(path: Path, text: str, data: dict) -> TestFile:
    loc = _Locator(text)
    out = _Collector(path)
    top = loc.blocks[0]
    for key in data:
        if key not in TOP_KEYS:
            line, col = loc.key_line(top, (key,))
            for b in loc.blocks:
                if b.header and b.header[0] == key:
                    line, col = b.line, 1
                    break
            out.error("test_unknown_key", line, col, f"未知的键 “{key}”", f"unknown key '{key}'",
                      f"可用：{', '.join(sorted(TOP_KEYS))}", f"known keys: {', '.join(sorted(TOP_KEYS))}")
    standard = data.get("standard")
    if standard is not None and not isinstance(standard, str):
        out.error("test_bad_value", *loc.key_line(top, ("standard",)), "standard 须为标准编号或规则文件路径（文本）",
                  "standard must be a standard id or a ruleset path (text)")
        standard = None
    year = _year(data.get("year"), loc.key_line(top, ("year",)), out)

    defaults: dict[str, Row | None] = {}
    for key in ("school_defaults", "county_defaults"):
        blocks = loc.of((key,))
        line = blocks[0].line if blocks else 1
        value = data.get(key)
        if value is None:
            defaults[key] = None
        elif not isinstance(value, dict):
            out.error("test_bad_value", line, 1, f"{key} 须为表（[{key}]）", f"{key} must be a table ([{key}])")
            defaults[key] = None
        else:
            defaults[key] = Row(_cells(value, blocks[0] if blocks else None, out), line)

    raw_cases = data.get("case", [])
    if not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
        out.error("test_bad_value", 1, 1, "case 须写成 [[case]] 表", "cases must be written as [[case]] tables")
        raw_cases = []
    case_blocks = loc.of(("case",))
    school_blocks = loc.of(("case", "school"))
    county_blocks = loc.of(("case", "county"))
    expect_blocks = loc.of(("case", "expect"))
    cases: list[Case] = []
    for i, raw in enumerate(raw_cases):
        cblock = case_blocks[i] if i < len(case_blocks) else _Block(("case",), 1)
        nxt = case_blocks[i + 1].line if i + 1 < len(case_blocks) else 10**9
        inside = [b for b in loc.blocks if cblock.line < b.line < nxt and b.header[:1] == ("case",)]
        cases.append(_case(i, raw, cblock, inside, out))
    # guard against a scanner/parser mismatch (e.g. headers inside multi-line strings)
    def written(key: str) -> int:
        return sum(len(c.get(key)) for c in raw_cases if isinstance(c.get(key), list))

    if len(case_blocks) != len(raw_cases) or written("school") != len(school_blocks) \
            or written("county") != len(county_blocks) or written("expect") != len(expect_blocks):
        out.error("test_layout", 1, 1, "无法确定各测试用例所在行：请把 [[case]]、[[case.school]]、[[case.county]]、"
                  "[[case.expect]] 各写在单独一行", "cannot tell which line each case is on: write every [[case]], "
                  "[[case.school]], [[case.county]] and [[case.expect]] header on a line of its own")
    if not cases and not out.items:
        out.error("test_no_cases", 1, 1, "测试文件中没有测试用例（[[case]]）", "the test file has no test cases ([[case]])")
    if out.items:
        raise TestFileError(out.items)
    return TestFile(path, text, standard, year, defaults["school_defaults"], defaults["county_defaults"], cases)


def _year(value: Any, where: tuple[int, int], out: _Collector) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
        out.error("test_bad_value", *where, f"年份须为整数（如 2023），而不是 {value!r}",
                  f"a year must be a whole number such as 2023, not {value!r}")
        return None
    return value


def _cells(value: dict, block: _Block | None, out: _Collector) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for k, v in value.items():
        if isinstance(v, (dict, list)):
            line, col = _Locator.key_line(block, (k,)) if block else (1, 1)
            out.error("test_bad_cell", line, col, f"列 “{k}” 的值须为数字、文本或 true/false",
                      f"the value of column '{k}' must be a number, text or true/false")
            continue
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        cells[k] = None if isinstance(v, str) and not v.strip() else v
    return cells


def _case(i: int, raw: dict, cblock: _Block, inside: list[_Block], out: _Collector) -> Case:
    for key in raw:
        if key not in CASE_KEYS:
            out.error("test_unknown_key", *_Locator.key_line(cblock, (key,)), f"测试用例中未知的键 “{key}”",
                      f"unknown key '{key}' in a test case", f"可用：{', '.join(sorted(CASE_KEYS))}",
                      f"known keys: {', '.join(sorted(CASE_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        name = f"case {i + 1}"
    year = _year(raw.get("year"), _Locator.key_line(cblock, ("year",)), out)
    data_errors = raw.get("data_errors")
    if data_errors is not None and (isinstance(data_errors, bool) or not isinstance(data_errors, int) or data_errors < 0):
        out.error("test_bad_value", *_Locator.key_line(cblock, ("data_errors",)), "data_errors 须为非负整数",
                  "data_errors must be a whole number, 0 or more")
        data_errors = None
    rows: dict[str, list[Row]] = {}
    for kind in ("school", "county"):
        blocks = [b for b in inside if b.header == ("case", kind)]
        value = raw.get(kind, [])
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            out.error("test_bad_value", cblock.line, 1, f"学校、区县数据行须写成 [[case.{kind}]] 表",
                      f"rows must be written as [[case.{kind}]] tables")
            value = []
        rows[kind] = [Row(_cells(r, blocks[j] if j < len(blocks) else None, out), blocks[j].line if j < len(blocks) else cblock.line)
                      for j, r in enumerate(value)]
    targets = []
    blocks = [b for b in inside if b.header == ("case", "expect")]
    value = raw.get("expect", [])
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        out.error("test_bad_value", cblock.line, 1, "预期结果须写成 [[case.expect]] 表", "expectations must be written as [[case.expect]] tables")
        value = []
    for j, r in enumerate(value):
        blk = blocks[j] if j < len(blocks) else _Block(("case", "expect"), cblock.line, end_line=cblock.line)
        t = _target(r, blk, out)
        if t is not None:
            targets.append(t)
    end = max([cblock.end_line, *(b.end_line for b in inside)])
    return Case(i, name.strip(), cblock.line, year, rows["school"], rows["county"], targets, data_errors, end)


def _target(raw: dict, blk: _Block, out: _Collector) -> Target | None:
    school, county, stage = raw.get("school"), raw.get("county"), raw.get("stage")
    if (school is None) == (county is None):
        out.error("test_no_target", blk.line, 1, "每个 [[case.expect]] 须写明 school = \"学校代码或名称\" 或 county = \"区县代码\"（二者取一）",
                  "every [[case.expect]] names either school = \"code or name\" or county = \"county code\" (one of them)")
        return None
    kind = "school" if school is not None else "county"
    name = school if school is not None else county
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)
    if not isinstance(name, str):
        out.error("test_bad_value", *_Locator.key_line(blk, (kind,)), f"{kind} 须为文本", f"{kind} must be text")
        return None
    code = None
    if stage is not None:
        code = stage_code(stage)
        if kind == "county" or code is None:
            out.error("test_bad_value", *_Locator.key_line(blk, ("stage",)),
                      f"学段 “{stage}” 无效" + ("（区县预期不写学段）" if kind == "county" else "（可用：小学、初中、幼儿园）"),
                      f"invalid stage '{stage}'" + (" (a county expectation has no stage)" if kind == "county"
                                                   else " (primary, junior or kindergarten)"))
    t = Target(kind, name, code, blk.line, blk.end_line)
    groups = ROW_GROUPS if kind == "school" else COUNTY_GROUPS
    singles = {"pass"} if kind == "school" else {"verdict"}
    for key, value in raw.items():
        if key in ("school", "county", "stage"):
            continue
        if key in singles:
            _expect(t, (key,), value, "pass" if key == "pass" else "status", blk, out)
        elif key in groups and isinstance(value, dict):
            depth = 2 if key in ("balance", "cv") else 1
            for sub, leaf in _leaves(value, depth):
                if sub is None:
                    line, col = _Locator.key_line(blk, (key,))
                    out.error("test_bad_value", line, col, f"{key} 下应写成 {key}.<阶段>.<指标> = …" if depth == 2 else
                              f"{key} 下应写成 {key}.<名称> = …", f"write {key}.<stage>.<indicator> = …" if depth == 2
                              else f"write {key}.<name> = …")
                    continue
                if depth == 2 and stage_code(sub[0]) is None:
                    out.error("test_bad_value", *_Locator.key_line(blk, (key, *sub)), f"学段 “{sub[0]}” 无效",
                              f"invalid stage '{sub[0]}'")
                    continue
                path = (key, stage_code(sub[0]), sub[1]) if depth == 2 else (key, *sub)
                _expect(t, path, leaf, groups[key], blk, out, written_path=(key, *sub))
        else:
            known = sorted(singles | set(groups))
            out.error("test_unknown_key", *_Locator.key_line(blk, (key,)),
                      f"{'学校' if kind == 'school' else '区县'}预期中未知的键 “{key}”",
                      f"unknown key '{key}' in a {kind} expectation", f"可用：{', '.join(known)}", f"known keys: {', '.join(known)}")
    return t


def _leaves(value: dict, depth: int):
    for k, v in value.items():
        if depth == 1:
            yield ((k,), v) if not isinstance(v, dict) else (None, None)
        elif isinstance(v, dict):
            for k2, v2 in v.items():
                yield ((k, k2), v2) if not isinstance(v2, dict) else (None, None)
        else:
            yield None, None


def _expect(t: Target, path: tuple[str, ...], value: Any, kind: str, blk: _Block, out: _Collector,
            written_path: tuple[str, ...] | None = None) -> None:
    line, col = _Locator.key_line(blk, written_path or path)
    expected: Any = None
    if kind == "pass":
        expected = value if isinstance(value, bool) else status_key(value)
    elif kind == "status":
        expected = status_key(value)
    elif kind == "number":
        expected = parse_number(value)
    elif kind == "text":
        expected = value if isinstance(value, str) else None
    if expected is None:
        shown = ".".join(written_path or path)
        if kind in ("status", "pass"):
            words = "达标/met、未达标/not_met、容许/tolerated、豁免/exempt、不适用/not_applicable、未评估/not_assessed"
            out.error("test_bad_value", line, col, f"{shown} 的预期 {value!r} 不是状态" + ("或 true/false" if kind == "pass" else ""),
                      f"the expectation {shown} = {value!r} is not a status" + (" or true/false" if kind == "pass" else ""),
                      f"可用：{words}", f"statuses: {words}")
        elif kind == "number":
            out.error("test_bad_value", line, col, f"{shown} 的预期 {value!r} 不是数值", f"the expectation {shown} = {value!r} is not a number",
                      "写成 4.2 或 \"85%\"", 'write 4.2 or "85%"')
        else:
            out.error("test_bad_value", line, col, f"{shown} 的预期须为文本", f"the expectation {shown} must be text")
        return
    t.expectations.append(Expectation(path, expected, value, line, col))


def parse_number(value: Any) -> float | None:
    """A written expected number: 4.2, 21, or "85%" (0.85); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        s = value.strip().replace("％", "%")
        try:
            return float(s[:-1]) / 100 if s.endswith("%") else float(s)
        except ValueError:
            return None
    return None


def decimals(value: Any) -> int:
    """How many decimals an expected number is written with (of the fraction, for "85.5%")."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 0
    if isinstance(value, float):  # 4.2 → 1, 1e-05 → 5: the shortest text that reads back as this float
        exponent = Decimal(repr(value)).as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0
    s = str(value).strip().replace("％", "%")
    extra = 2 if s.endswith("%") else 0
    s = s.rstrip("%")
    return (len(s.split(".")[1]) if "." in s else 0) + extra
