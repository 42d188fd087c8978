"""Canonical layout of a ruleset file (``qbe fmt``).

The style is the one the bundled standards are written in, so formatting them
changes little. The formatter works on tokens and the parse tree, never on the
AST, so it cannot lose a comment or change a name or a text:

* line breaks are the author's: a clause or expression that was split over
  several lines stays split at the same tokens (like ``gofmt``); runs of blank
  lines become one, and blank lines just inside ``{ … }`` and at the ends of
  the file are dropped;
* every clause, field, entry and declaration starts at four spaces per open
  block ``{`` / ``[`` / ``(`` that ends its line;
* a line inside a bracket that has text after it on its opening line lines up
  with that text (``(pe_art_teachers`` / ``+ coalesce(…``); any other
  continuation line keeps its offset from the start of its clause;
* within a line, one space between tokens, none inside ``( )`` and ``[ ]`` or
  before ``,`` ``:`` ``)`` ``]``, none between ``..`` and its numbers or after a
  unary minus, a call's name touching its ``(``; ``in {a, b}`` without inner
  spaces, other braces with them; two spaces between clauses on one line and
  before a comment at the end of a line;
* padding that lines text up in columns is kept where the bundled standards
  use it -- after a clause's keyword (``value   =``, ``title     "…"``), between
  the parts of an input field or a category value, before a ``source`` of a
  year's value, before a comment at the end of a line -- as a column counted
  from the line's indentation, when the text before it still fits; anywhere
  else spacing is canonical;
* comments are kept word for word; only their indentation and trailing
  spaces change.

The result is checked: it must parse to the same syntax tree (spans aside) as
the original, or formatting stops with an internal error rather than write a
changed standard.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree

from ..diagnostics import Span
from . import ast, parser_cache
from .parser import parse_text, parse_tree

#: parse-tree nodes whose first token starts a statement at the indentation of its block
STATEMENTS = frozenset(
    "standard inputs let_decl indicator check_decl rule_decl balance aggregate item verdict param override override_let "
    "remove std_title std_version std_source std_effective std_stages std_parts std_years labelled field category_value "
    "c_value c_require c_check c_unit c_source c_applies c_part c_info c_note c_when c_exempt c_tolerate c_weight c_grades "
    "b_indicators b_weight b_composite param_value grade_band stage_weight".split()
)
#: clauses whose keyword may be padded so that what follows lines up
CELL_AFTER_KEYWORD = frozenset(
    "std_title std_version std_source std_effective std_stages std_parts std_years labelled c_value c_require c_check c_unit "
    "c_source c_applies c_part c_info c_note c_when c_exempt c_tolerate c_weight c_grades b_indicators b_weight b_composite".split()
)
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = frozenset(OPENERS.values())
INDENT = 4
_OPERAND_END = frozenset({"NAME", "NUMBER", "INT", "PERCENT", "DATE", "STRING"})
_COMMENT = re.compile(r"(#|//)[^\n]*")


@functools.cache
def _layout_parser() -> Lark:
    """The ruleset grammar, keeping every token (keywords and brackets too) for layout."""
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return parser_cache.build(grammar, "layout", propagate_positions=True, keep_all_tokens=True)


def width(s: str) -> int:
    """Display columns, as an editor with a monospace CJK font shows them (tabs to multiples of 4)."""
    col = 0
    for ch in s:
        if ch == "\t":
            col += INDENT - col % INDENT
        else:
            col += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return col


@dataclass
class _Piece:
    """A token or comment on one source line."""

    text: str
    kind: str  #: token type, or "COMMENT"
    col: int  #: display column in the original line
    end: int  #: display column just after it in the original line
    stmt: bool = False  #: first token of a statement
    unary: bool = False  #: a minus sign with no left operand
    in_set: bool = False  #: a brace of ``in { … }``
    cell: bool = False  #: may be lined up in a column with padding (see :func:`_tokens`)
    clause: bool = False  #: first token of a clause: two spaces set it apart from a clause before it on the line


@dataclass
class _Line:
    pieces: list[_Piece]
    indent: int  #: display column of the first piece in the original

    @property
    def code(self) -> list[_Piece]:
        return [p for p in self.pieces if p.kind != "COMMENT"]


@dataclass
class _Open:
    """An open bracket while laying out the lines inside it."""

    char: str
    hanging: bool  #: nothing follows it on its line: inner lines indent one step
    base: int  #: indentation of inner statements (hanging) or the column to line up with
    close_at: int  #: column of a line that starts with its closer
    in_set: bool = False
    stmt: tuple[int, int] | None = field(default=None)  #: (original, new) indentation of the current statement's line


def _start(node: Tree | Token) -> int:
    return node.start_pos if isinstance(node, Token) else node.meta.start_pos


def _tokens(tree: Tree) -> tuple[list[Token], set[int], set[int], set[int]]:
    """Every token in order, and the start offsets of statements, table cells and clauses (no recursion).

    A cell is a place where the bundled standards pad with spaces to line text up
    in columns: after a clause's keyword, and between the parts of an input field.
    """
    tokens: list[Token] = []
    starts: set[int] = set()
    cells: set[int] = set()
    clauses: set[int] = set()
    stack: list[Tree | Token] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            tokens.append(node)
            continue
        kids = [c for c in node.children if c is not None]
        if node.data in STATEMENTS and not getattr(node.meta, "empty", True):
            starts.add(node.meta.start_pos)
            if node.data.startswith(("c_", "b_", "std_")):
                clauses.add(node.meta.start_pos)
        if node.data == "field":
            cells.update(_start(k) for k in kids[2:])
        elif node.data == "category_value":
            cells.update(_start(k) for k in kids[1:] if not isinstance(k, Token) or str(k) == "aliases" or k.type == "STRING")
        elif node.data == "param_value":
            cells.update(_start(k) for k in kids if isinstance(k, Token) and str(k) == "source")
        elif node.data in CELL_AFTER_KEYWORD and len(kids) > 1:
            cells.add(_start(kids[1]))
        stack.extend(reversed(kids))
    tokens.sort(key=lambda t: t.start_pos)
    return tokens, starts, cells, clauses


def _lines(text: str, tokens: list[Token], starts: set[int], cells: set[int], clauses: set[int]) -> list[_Line | None]:
    """The source as lines of pieces; ``None`` for a blank line. Comments are found between tokens."""
    src_lines = text.split("\n")
    offsets = [0]
    for ln in src_lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    by_line: dict[int, list[tuple[int, _Piece]]] = {}

    def add(pos: int, piece_text: str, kind: str, **kw) -> None:
        line = bisect.bisect_right(offsets, pos) - 1
        before = src_lines[line][: pos - offsets[line]]
        col, end = width(before), width(before + piece_text)
        by_line.setdefault(line, []).append((pos, _Piece(piece_text, kind, col, end, **kw)))

    prev: Token | None = None
    gap_start = 0
    for tok in [*tokens, None]:
        gap_end = tok.start_pos if tok is not None else len(text)
        for m in _COMMENT.finditer(text, gap_start, gap_end):
            add(m.start(), m.group().rstrip(), "COMMENT")
        if tok is None:
            break
        value = str(tok)
        unary = value == "-" and not (prev is not None and (prev.type in _OPERAND_END or str(prev) in (")", "]", "}", "yes", "no")))
        in_set = value == "{" and prev is not None and str(prev) == "in"
        add(tok.start_pos, value, tok.type, stmt=tok.start_pos in starts, unary=unary, in_set=in_set,
            cell=tok.start_pos in cells, clause=tok.start_pos in clauses)
        prev = tok
        gap_start = tok.end_pos
    out: list[_Line | None] = []
    for i in range(len(src_lines)):
        pieces = [p for _, p in sorted(by_line.get(i, []), key=lambda x: x[0])]
        out.append(_Line(pieces, pieces[0].col) if pieces else None)
    return out


def _space(prev: _Piece, cur: _Piece, braces: list[bool]) -> int:
    """Canonical spaces between two pieces on one line (``braces``: in-set flags of open braces)."""
    a, b = prev.text, cur.text
    if cur.kind == "COMMENT" or (cur.clause and a != "{"):
        return 2
    if b in (",", ")", "]", ":") or a in ("(", "["):
        return 0
    if (b == ".." and prev.kind in ("NUMBER", "INT")) or (a == ".." and (cur.kind in ("NUMBER", "INT") or b == "-")):
        return 0
    if prev.unary:
        return 0
    if b == "(" and (prev.kind == "NAME" or a in ("all", "any", "none")):
        return 0
    if b == "}" and braces and braces[-1]:
        return 0
    if a == "{" and prev.in_set:
        return 0
    return 1


def _layout(lines: list[_Line | None]) -> list[str]:
    """Lay out each line in one pass, tracking the open brackets; comment-only lines are indented last."""
    stack: list[_Open] = [_Open("", True, 0, 0)]
    out: list[str] = []
    pending_comments: list[tuple[int, _Line, _Open]] = []  # (index in out, line, context) to indent later
    kinds: dict[int, str] = {}  # out index → "closer" / "other" for code lines
    opens: set[int] = set()  # out indices of code lines that end with an opening bracket

    for line in lines:
        if line is None:
            out.append("")
            continue
        code = line.code
        if not code:
            pending_comments.append((len(out), line, stack[-1]))
            out.append("")
            continue
        first = code[0]
        ctx = stack[-1]
        if first.text in CLOSERS:
            indent = ctx.close_at
            kinds[len(out)] = "closer"
        elif not ctx.hanging:
            indent = ctx.base
        elif first.stmt:
            indent = ctx.base
            ctx.stmt = (line.indent, indent)
        elif ctx.stmt is not None:
            offset = line.indent - ctx.stmt[0]
            indent = ctx.stmt[1] + (offset if offset > 0 else INDENT)
        else:
            indent = ctx.base
        text = " " * indent
        pos = indent
        last_code = code[-1]
        braces = [o.in_set for o in stack if o.char == "{"]
        prev: _Piece | None = None
        opened: _Open | None = None  # a bracket whose inner column is the start of the next piece
        for piece in line.pieces:
            if prev is not None:
                gap = _space(prev, piece, braces)
                if (piece.cell or piece.kind == "COMMENT") and piece.col - prev.end >= 2:
                    target = indent + piece.col - line.indent
                    if target >= pos + 2:
                        gap = target - pos
                text += " " * gap
                pos += gap
            start = pos
            if opened is not None:
                opened.base, opened = start, None
            text += piece.text
            pos = width(text)  # of the whole line: a tab inside a text or comment depends on where it starts
            if piece.kind != "COMMENT":
                if piece.text in OPENERS:
                    hanging = piece is last_code
                    stack.append(_Open(piece.text, hanging, indent + INDENT if hanging else start + 1,
                                       indent if hanging else start, piece.in_set))
                    if not hanging:
                        opened = stack[-1]
                    if piece.text == "{":
                        braces.append(piece.in_set)
                elif piece.text in CLOSERS:
                    if len(stack) > 1:
                        stack.pop()
                    if piece.text == "}" and braces:
                        braces.pop()
            prev = piece
        if last_code.text in OPENERS:
            opens.add(len(out))
        kinds.setdefault(len(out), "other")
        out.append(text.rstrip())

    # comment-only lines: as the code line after them, or one step inside the block they close
    following: int | None = None
    next_code: dict[int, int | None] = {}
    for j in range(len(out) - 1, -1, -1):
        next_code[j] = following
        if j in kinds:
            following = j
    for idx, line, ctx in pending_comments:
        nxt = next_code[idx]
        if nxt is None:
            indent = 0
        elif kinds[nxt] == "closer":
            indent = ctx.base
        else:
            indent = len(out[nxt]) - len(out[nxt].lstrip(" "))
        out[idx] = " " * indent + line.pieces[0].text
    return _blank_lines(out, set(kinds) | {i for i, _, _ in pending_comments}, opens,
                        {i for i, k in kinds.items() if k == "closer"})


def _blank_lines(out: list[str], filled: set[int], opens: set[int], closers: set[int]) -> list[str]:
    """At most one blank line in a row; none at the ends or just inside a bracket."""
    result: list[str] = []
    after_open = False
    for i, text in enumerate(out):
        if i not in filled:
            if result and result[-1] != "" and not after_open:
                result.append("")
            continue
        if result and result[-1] == "" and i in closers:
            result.pop()
        result.append(text)
        after_open = i in opens
    while result and result[-1] == "":
        result.pop()
    return result


def format_text(text: str, file: str = "<ruleset>") -> str:
    """The canonical text of a ruleset; raises :class:`~qbe.errors.RulesetError` if it does not parse.

    The result always ends with one newline. An internal check re-parses it and
    compares the syntax trees; a difference is a bug and raises ``AssertionError``.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    original = parse_text(text, file)
    tree = parse_tree(text, file, _layout_parser())  # parses: parse_text above accepted the same text
    tokens, starts, cells, clauses = _tokens(tree)
    lines = _lines(text, tokens, starts, cells, clauses)
    result = "\n".join(_layout(lines)) + "\n"
    if result.strip() == "":
        result = ""
    if not same_meaning(original, parse_text(result, file)):  # pragma: no cover - a formatter bug
        raise AssertionError(f"formatting changed the meaning of {file}")
    return result


# --------------------------------------------------------------------------- comparing meaning


def meaning(node: object) -> object:
    """A syntax tree as plain tuples without positions or source text: equal iff the rulesets say the same."""
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        skip = {"file", "text", "sources", "provenance", "clause_spans"}
        return (type(node).__name__, tuple(
            (f.name, meaning(getattr(node, f.name))) for f in dataclasses.fields(node) if f.name not in skip
        ))
    if isinstance(node, (tuple, list)):
        return tuple(meaning(x) for x in node)
    if isinstance(node, dict):
        return tuple(sorted((k, meaning(v)) for k, v in node.items()))
    return node


def same_meaning(a: ast.Ruleset, b: ast.Ruleset) -> bool:
    return meaning(a) == meaning(b)


# --------------------------------------------------------------------------- files


def ruleset_files(paths: list[str | Path]) -> list[Path]:
    """``.qbe`` files named, and those found under the folders named (sorted, each once)."""
    seen: dict[Path, None] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.qbe")):
                seen.setdefault(f, None)
        else:
            seen.setdefault(p, None)
    return list(seen)


def unified_diff(path: Path, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"{path}", f"{path} (qbe fmt)"
    ))


def format_paths(paths: list[str], check: bool, diff: bool, lang: str, echo) -> int:
    """``qbe fmt``: format (or with ``check`` / ``diff`` only report) each file; returns the exit code.

    A file that does not parse is reported with its located diagnostic and left
    as it is; the others are still formatted. Files are replaced atomically, so
    an interrupted run never leaves half a ruleset.
    """
    from ..diagnostics import Diagnostic
    from ..errors import RulesetError
    from ..plugins import atomic_write
    from .parser import check_size

    zh = lang == "zh"
    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        echo(f"找不到文件或文件夹：{p}" if zh else f"no such file or folder: {p}", err=True)
    if missing:
        return 2
    broken = changed = 0
    files = ruleset_files(list(paths))
    for path in files:
        try:
            check_size(path.stat().st_size, str(path))
            before = path.read_bytes().decode("utf-8")
            after = format_text(before, str(path))
        except UnicodeDecodeError:
            err = RulesetError([Diagnostic("encoding", "error", Span(str(path), 1, 1), "规则文件须为 UTF-8 编码",
                                           "a ruleset file must be UTF-8 encoded", "用文本编辑器另存为 UTF-8。",
                                           "save it as UTF-8 in your editor.")])
            echo(err.render(lang), err=True)
            broken += 1
            continue
        except RulesetError as err:
            echo(err.render(lang), err=True)
            broken += 1
            continue
        if after == before:
            continue
        changed += 1
        if diff:
            echo(unified_diff(path, before, after), nl=False)
        if check:
            if not diff:
                echo(f"需要格式化：{path}" if zh else f"would reformat: {path}")
        elif not diff:
            atomic_write(path, after)
            echo(f"已格式化：{path}" if zh else f"reformatted: {path}")
    n = len(files)
    if zh:
        verb = "需要格式化" if check or diff else "已格式化"
        echo(f"{n} 个文件，{changed} 个{verb}，{broken} 个有错误未处理", err=True)
    else:
        verb = "would be reformatted" if check or diff else "reformatted"
        echo(f"{n} file(s), {changed} {verb}, {broken} with errors left unchanged", err=True)
    if broken or (check and changed):
        return 3
    return 0
