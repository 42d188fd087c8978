"""Text → :class:`~qbe.language.ast.Ruleset`.

The Lark parser is built once, lazily (LALR, positions on). Lark's own
exceptions never leave this module: a syntax error becomes a
:class:`~qbe.errors.RulesetError` holding a bilingual diagnostic with the
location, what was expected in words a policy officer knows, and a hint.
A file over one of the limits (size, nesting, declarations; see ``MAX_*``)
gets a located ``limit`` diagnostic instead of a ``RecursionError`` or a hang.
"""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ..diagnostics import Diagnostic, Span
from ..errors import RulesetError
from . import ast, parser_cache
from .reading import (  # noqa: F401 - the limits and the entry points, re-exported where they were
    MAX_DECLARATIONS,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    MAX_NESTING,
    _limit,
    check_size,
    check_text_size,
    parse_file,
    parse_text,
)

KEYWORDS = (
    "standard title version source effective stages parts inputs let indicator check rule balance "
    "aggregate item verdict value require unit applies when part info note indicators weight composite "
    "per aliases range optional evidence whole_school apportion by weights plus values extends override remove param exempt tolerate years grades graded weighted and or not in if then else at least of rest all any none yes no"
).split()


@functools.cache
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return parser_cache.build(grammar, "ruleset", propagate_positions=True, maybe_placeholders=True)


OPS = {"≥": ">=", "≤": "<=", "≠": "!=", "=": "==", "==": "==", ">=": ">=", "<=": "<=", "!=": "!=", ">": ">", "<": "<"}


def _unquote(tok: Token | str) -> str:
    s = str(tok)[1:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


class _Builder(Transformer):
    """Shapes Lark's tree into the frozen AST, attaching spans."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    # -- helpers
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return Span(self.file, tok.line or 1, tok.column or 1, tok.end_line, tok.end_column)

    def _name(self, tok: Token) -> ast.Name:
        return ast.Name(self._tspan(tok), str(tok))

    # -- expressions
    @v_args(meta=True)
    def number(self, meta, c):
        return ast.Num(self._span(meta), float(c[0]), str(c[0]))

    @v_args(meta=True)
    def percent(self, meta, c):
        text = str(c[0])
        return ast.Pct(self._span(meta), float(text[:-1]) / 100.0, text)

    @v_args(meta=True)
    def true(self, meta, c):
        return ast.Bool(self._span(meta), True)

    @v_args(meta=True)
    def false(self, meta, c):
        return ast.Bool(self._span(meta), False)

    def name(self, c):
        return self._name(c[0])

    @v_args(meta=True)
    def call(self, meta, c):
        args = tuple(a for a in c[1:] if a is not None)
        return ast.Call(self._span(meta), str(c[0]), args)

    def _bin(op):  # noqa: N805 - factory used at class creation
        @v_args(meta=True)
        def f(self, meta, c):
            return ast.BinOp(self._span(meta), op, c[0], c[1])

        return f

    add, sub, mul, div = _bin("+"), _bin("-"), _bin("*"), _bin("/")

    @v_args(meta=True)
    def neg(self, meta, c):
        return ast.Neg(self._span(meta), c[0])

    @v_args(meta=True)
    def compare(self, meta, c):
        return ast.Compare(self._span(meta), OPS[str(c[1])], c[0], c[2])

    @v_args(meta=True)
    def in_set(self, meta, c):
        return ast.InSet(self._span(meta), c[0], c[1], False)

    @v_args(meta=True)
    def not_in_set(self, meta, c):
        return ast.InSet(self._span(meta), c[0], c[1], True)

    @v_args(meta=True)
    def and_(self, meta, c):
        return ast.Logic(self._span(meta), "and", (c[0], c[1]))

    @v_args(meta=True)
    def or_(self, meta, c):
        return ast.Logic(self._span(meta), "or", (c[0], c[1]))

    @v_args(meta=True)
    def not_(self, meta, c):
        return ast.Logic(self._span(meta), "not", (c[0],))

    @v_args(meta=True)
    def cond(self, meta, c):
        return ast.Cond(self._span(meta), c[0], c[1], c[2])

    def name_list(self, c):
        return tuple(self._name(t) for t in c)

    def quantifier(self, c):
        return str(c[0])

    @v_args(meta=True)
    def at_least(self, meta, c):
        k, names = int(c[0]), c[1]
        op = tol = None
        if len(c) > 2 and c[2] is not None:
            op, tol = c[2]
        return ast.AtLeast(self._span(meta), k, names, op, tol)

    def tolerance(self, c):
        return (OPS[str(c[0])], float(str(c[1])[:-1]) / 100.0)

    @v_args(meta=True)
    def quantified(self, meta, c):
        return ast.Quantified(self._span(meta), c[0], c[1])

    @v_args(meta=True)
    def quantified_part(self, meta, c):
        return ast.QuantifiedPart(self._span(meta), c[0], self._name(c[1]))

    @v_args(meta=True)
    def quantified_rows(self, meta, c):
        return ast.QuantifiedRows(self._span(meta), c[0], c[1])

    def stage_weight(self, c):
        return (str(c[0]), float(c[1]), str(c[1]))

    @v_args(meta=True)
    def apportion(self, meta, c):
        amount, by, *rest = c
        weights = tuple(w for w in rest if isinstance(w, tuple))
        extra_name, extra_w = rest[-2], rest[-1]
        return ast.Apportion(
            self._span(meta),
            self._name(amount),
            self._name(by),
            weights,
            self._name(extra_name) if extra_name is not None else None,
            float(extra_w) if extra_w is not None else None,
        )

    # -- standard header
    def labelled(self, c):
        return ast.Labelled(str(c[0]), _unquote(c[1]), self._tspan(c[0]))

    def std_title(self, c):
        return ("title", _unquote(c[0]))

    def std_version(self, c):
        return ("version", int(c[0]))

    def std_source(self, c):
        return ("source", _unquote(c[0]))

    def std_effective(self, c):
        return ("effective", str(c[0]))

    def std_years(self, c):
        return ("years", (int(c[0]), int(c[1])))

    def std_stages(self, c):
        return ("stages", tuple(c))

    def std_parts(self, c):
        return ("parts", tuple(c))

    def standard(self, c):
        ext = c[1]
        return ast.Standard(
            id=str(c[0]),
            span=self._tspan(c[0]),
            extends=str(ext) if ext is not None else None,
            extends_span=self._tspan(ext) if ext is not None else None,
            **dict(c[2:]),
        )

    # -- inputs
    def string_list(self, c):
        return tuple(_unquote(s) for s in c)

    def signed_number(self, c):
        return float(c[0])

    def negative_number(self, c):
        # the "-" is an anonymous token the tree drops, hence a rule of its own
        return -float(c[0])

    def range(self, c):
        # children: [lo?, hi?] with maybe_placeholders giving None for absent ones
        return tuple(c) if len(c) == 2 else (c[0], None)

    def opt_unit(self, c):
        return ("unit", _unquote(c[0]))

    def opt_aliases(self, c):
        return ("aliases", c[0])

    def opt_range(self, c):
        return ("range", c[0])

    def opt_optional(self, c):
        return ("optional", True)

    def opt_evidence(self, c):
        return ("evidence", True)

    def opt_whole_school(self, c):
        return ("whole_school", True)

    def opt_values(self, c):
        return ("values", tuple(c))

    def opt_source(self, c):
        return ("source", (_unquote(c[0]), c[1] if len(c) > 1 else None))

    def source_tag(self, c):
        return str(c[0])

    def category_value(self, c):
        aliases = c[2] if len(c) > 2 and c[2] is not None else ()
        return ast.CategoryValueDecl(str(c[0]), _unquote(c[1]), aliases, self._tspan(c[0]))

    def field(self, c):
        name, ftype, label, *opts = c
        kw: dict = {}
        for key, val in opts:
            if key == "range":
                kw["minimum"], kw["maximum"] = val
            elif key == "source":
                kw["source"], kw["source_tag"] = val
            else:
                kw[key] = val
        # level is filled in by `inputs`
        return ast.FieldDecl(str(name), str(ftype), _unquote(label), "", self._tspan(name), **kw)

    @v_args(meta=True)
    def inputs(self, meta, c):
        level = str(c[0])
        label = _unquote(c[1]) if c[1] is not None else None
        fields = tuple(
            ast.FieldDecl(**{**f.__dict__, "level": level}) for f in c[2:]  # type: ignore[arg-type]
        )
        return ast.Inputs(level, label, fields, self._span(meta))

    # -- declarations
    @v_args(meta=True)
    def let_decl(self, meta, c):
        label = _unquote(c[1]) if c[1] is not None else None
        return ast.Let(str(c[0]), label, c[2], self._tspan(c[0]))

    @v_args(meta=True)
    def requirement(self, meta, c):
        stage, op, expr = c
        return ast.Requirement(
            str(stage) if stage is not None else None,
            OPS[str(op)],
            expr,
            self._span(meta),
            self._tspan(stage) if stage is not None else None,
        )

    @v_args(meta=True)
    def c_value(self, meta, c):
        return ("value", c[0], self._span(meta))

    @v_args(meta=True)
    def c_require(self, meta, c):
        return ("requires", tuple(c), self._span(meta))

    @v_args(meta=True)
    def c_check(self, meta, c):
        return ("check", c[0], self._span(meta))

    @v_args(meta=True)
    def c_unit(self, meta, c):
        return ("unit", _unquote(c[0]), self._span(meta))

    @v_args(meta=True)
    def c_source(self, meta, c):
        return ("source", (_unquote(c[0]), c[1]), self._span(meta))

    @v_args(meta=True)
    def c_applies(self, meta, c):
        return ("applies", c[0], self._span(meta))

    @v_args(meta=True)
    def c_part(self, meta, c):
        return ("part", self._name(c[0]), self._span(meta))

    @v_args(meta=True)
    def c_info(self, meta, c):
        return ("info", True, self._span(meta))

    @v_args(meta=True)
    def c_note(self, meta, c):
        return ("note", _unquote(c[0]), self._span(meta))

    @v_args(meta=True)
    def c_when(self, meta, c):
        return ("when", c[0], self._span(meta))

    @v_args(meta=True)
    def c_exempt(self, meta, c):
        return ("exempt", ((c[0], _unquote(c[1])),), self._span(meta))

    @v_args(meta=True)
    def c_tolerate(self, meta, c):
        return ("tolerate", ((c[0], _unquote(c[1])),), self._span(meta))

    @v_args(meta=True)
    def c_weight(self, meta, c):
        return ("score_weight", float(c[0]), self._span(meta))

    @v_args(meta=True)
    def c_grades(self, meta, c):
        return ("grades", tuple(c), self._span(meta))

    def grade_band(self, c):
        name = c[0]
        rest = [x for x in c[1:] if x is not None]
        sp = self._tspan(name)
        if not rest:
            return ast.GradeBand(str(name), sp)
        if isinstance(rest[0], Token) and rest[0].type == "COMPARATOR":
            return ast.GradeBand(str(name), sp, OPS[str(rest[0])], rest[1])
        return ast.GradeBand(str(name), sp, condition=rest[0])

    @v_args(meta=True)
    def graded(self, meta, c):
        return ast.Graded(self._span(meta), self._name(c[0]), self._name(c[1]) if c[1] is not None else None)

    @v_args(meta=True)
    def weighted(self, meta, c):
        return ast.Weighted(self._span(meta), str(c[0]), c[1])

    @v_args(meta=True)
    def weighted_part(self, meta, c):
        return ast.Weighted(self._span(meta), str(c[0]), (), self._name(c[1]))

    @v_args(meta=True)
    def b_indicators(self, meta, c):
        return ("indicators", c[0], self._span(meta))

    @v_args(meta=True)
    def b_weight(self, meta, c):
        return ("weight", self._name(c[0]), self._span(meta))

    @v_args(meta=True)
    def b_composite(self, meta, c):
        return ("composite", _unquote(c[0]), self._span(meta))

    def group_keys(self, c):
        return tuple(str(t) for t in c)

    def _decl(self, kind, meta, name_tok, label, clauses, **extra):
        kw: dict = dict(extra)
        spans = []
        for key, val, span in clauses:
            spans.append((key, span))
            if key == "source":
                kw["source"], kw["source_tag"] = val
            elif key in ("requires", "exempt", "tolerate"):
                kw[key] = kw.get(key, ()) + val
            else:
                kw[key] = val
        return ast.Decl(
            kind=kind,
            name=str(name_tok),
            label=_unquote(label),
            span=self._span(meta),
            name_span=self._tspan(name_tok),
            clause_spans=tuple(spans),
            **kw,
        )

    @v_args(meta=True)
    def indicator(self, meta, c):
        return self._decl("indicator", meta, c[0], c[1], c[2:], entity="row")

    @v_args(meta=True)
    def check_decl(self, meta, c):
        return self._decl("check", meta, c[0], c[1], c[3:], entity=str(c[2]))

    @v_args(meta=True)
    def rule_decl(self, meta, c):
        return self._decl("rule", meta, c[0], c[1], c[2:], entity="row")

    @v_args(meta=True)
    def aggregate(self, meta, c):
        return self._decl("aggregate", meta, c[0], c[1], c[3:], group_keys=c[2])

    @v_args(meta=True)
    def balance(self, meta, c):
        return self._decl("balance", meta, c[0], c[1], c[2:], group_keys=("county", "stage"))

    @v_args(meta=True)
    def item(self, meta, c):
        return self._decl("item", meta, c[0], c[1], c[2:], entity="county")

    @v_args(meta=True)
    def verdict(self, meta, c):
        return self._decl("verdict", meta, c[0], c[1], c[2:], entity="county")

    # -- versions
    def decl_kind(self, c):
        return str(c[0])

    @v_args(meta=True)
    def neg_number(self, meta, c):
        return ast.Num(self._span(meta), -float(c[0]), "-" + str(c[0]))

    @v_args(meta=True)
    def param_value(self, meta, c):
        key, num, src, tag = c
        return ast.ParamValue(str(key), num.value, num.text, self._span(meta),
                              _unquote(src) if src is not None else None, tag)

    @v_args(meta=True)
    def param(self, meta, c):
        values = tuple(c[2:])
        return ast.Param(str(c[0]), _unquote(c[1]), values, self._tspan(c[0]),
                         percent=any(v.text.endswith("%") for v in values))

    @v_args(meta=True)
    def override(self, meta, c):
        kind, name, label, *clauses = c
        partial = self._decl(kind, meta, name, label if label is not None else '""', clauses)
        return ast.Override(kind, str(name), self._span(meta), self._tspan(name),
                            _unquote(label) if label is not None else None, partial)

    @v_args(meta=True)
    def override_let(self, meta, c):
        name, label, expr, src, tag = c
        return ast.Override("let", str(name), self._span(meta), self._tspan(name),
                            _unquote(label) if label is not None else None, None, expr,
                            _unquote(src) if src is not None else None, tag)

    @v_args(meta=True)
    def remove(self, meta, c):
        kind, name, *clauses = c
        src = tag = None
        for key, val, _ in clauses:
            if key == "source":
                src, tag = val
        return ast.Remove(kind, str(name), self._span(meta), self._tspan(name), src, tag)

    def start(self, c):
        return c


# --------------------------------------------------------------------------- limits
# The bounds themselves (MAX_*) are in .reading; the checks that need the text or the tree are here.

_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"|(?:#|//)[^\n]*|[(\[{]|[)\]}]')


def _nesting_error(file: str, line: int, column: int, text: str) -> RulesetError:
    return _limit(
        file, line, column,
        f"嵌套过深：括号或表达式的层数超过 {MAX_NESTING} 层",
        f"nested too deeply: more than {MAX_NESTING} levels of brackets or operators",
        "用 let 把表达式的一部分定义为中间值，再在这里引用它的名称。",
        "give part of the expression a name with let and use that name here.",
        text,
    )


def _check_brackets(text: str, file: str) -> None:
    depth = 0
    for m in _BRACKETS.finditer(text):
        ch = m.group()
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, m.start()) + 1
                column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
                raise _nesting_error(file, line, column, text)
        elif ch in ")]}":
            depth -= 1


def _check_tree(tree: Tree, file: str, text: str) -> None:
    """Declarations and syntax-tree depth, counted without recursion."""
    decls = [c for c in tree.children if isinstance(c, Tree)]
    if len(decls) > MAX_DECLARATIONS:
        meta = decls[MAX_DECLARATIONS].meta
        raise _limit(
            file, getattr(meta, "line", 1), getattr(meta, "column", 1),
            f"声明过多：一个规则文件最多 {MAX_DECLARATIONS} 项声明，这里有 {len(decls)} 项",
            f"too many declarations: a ruleset file holds at most {MAX_DECLARATIONS}, this one has {len(decls)}",
            "把标准拆成几个用 extends 相连的文件，或把重复的内容合并。",
            "split the standard into files joined by extends, or merge repeated items.",
            text,
        )
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            meta = node.meta
            raise _nesting_error(file, getattr(meta, "line", 1), getattr(meta, "column", 1), text)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


# --------------------------------------------------------------------------- errors

_TOKEN_WORDS = {
    "NAME": ("名称", "a name"),
    "STRING": ('带引号的文字 "…"', 'a quoted text "…"'),
    "NUMBER": ("数字", "a number"),
    "INT": ("整数", "a whole number"),
    "PERCENT": ("百分数（如 85%）", "a percentage (like 85%)"),
    "DATE": ("日期（如 2017-04-26）", "a date (like 2017-04-26)"),
    "STD_ID": ("标准编号（如 national-2017）", "a standard id (like national-2017)"),
    "COMPARATOR": ("比较符号 >= <= = > <", "a comparison >= <= = > <"),
    "FIELD_TYPE": (
        "字段类型 count/area/money/percent/number/yesno/category/text",
        "a field type count/area/money/percent/number/yesno/category/text",
    ),
    "LEVEL": ("层级 row/school/county", "a level row/school/county"),
    "ENTITY": ("row 或 school", "row or school"),
    "GROUP_KEY": ("county 或 stage", "county or stage"),
    "LBRACE": ("{", "{"),
    "RBRACE": ("}", "}"),
    "LSQB": ("[", "["),
    "RSQB": ("]", "]"),
    "LPAR": ("(", "("),
    "RPAR": (")", ")"),
    "COMMA": (",", ","),
    "COLON": (":", ":"),
    "EQUAL": ("=", "="),
    "$END": ("文件结尾", "end of file"),
}


def _describe(expected: set[str], parser: Lark) -> tuple[str, str]:
    zh, en = [], []
    for name in sorted(expected):
        if name in _TOKEN_WORDS:
            z, e = _TOKEN_WORDS[name]
        else:
            try:
                pat = parser.get_terminal(name).pattern.value
            except KeyError:
                pat = name.lower()
            z = e = f"'{pat}'"
        zh.append(z)
        en.append(e)
    zh = list(dict.fromkeys(zh))
    en = list(dict.fromkeys(en))
    if len(zh) > 8:
        zh, en = zh[:8] + ["…"], en[:8] + ["…"]
    return "、".join(zh), ", ".join(en)


def _syntax_diagnostic(err: UnexpectedInput, file: str, text: str) -> Diagnostic:
    parser = _parser()
    line, col = err.line if err.line > 0 else 1, err.column if err.column > 0 else 1
    expected: set[str] = set()
    found = ""
    if isinstance(err, UnexpectedToken):
        expected = set(err.accepts or err.expected)
        found = str(err.token)
        if err.token.type == "$END":
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
    elif isinstance(err, UnexpectedCharacters):
        expected = set(err.allowed or ())
        found = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
    elif isinstance(err, UnexpectedEOF):
        expected = set(err.expected)
    exp_zh, exp_en = _describe(expected, parser)
    end = col + max(1, len(found))
    span = Span(file, line, col, line, end)
    hint_zh = hint_en = ""
    word = found.strip()
    if word and word.isidentifier():
        close = difflib.get_close_matches(word, KEYWORDS, n=1, cutoff=0.75)
        if close and close[0] != word:
            hint_zh = f"是否想写 '{close[0]}'？"
            hint_en = f"did you mean '{close[0]}'?"
    if not hint_zh and "RBRACE" in expected:
        hint_zh = "检查前面的花括号 { } 是否成对。"
        hint_en = "check that the braces { } before this point are balanced."
    if not hint_zh and '"' in found:
        hint_zh = "文字要用英文双引号括起来，并在同一行结束。"
        hint_en = "texts are written in straight double quotes and end on the same line."
    shown = f"'{found}'" if found else ("文件结尾" if True else "")
    shown_en = f"'{found}'" if found else "end of file"
    return Diagnostic(
        "syntax",
        "error",
        span,
        f"此处不能出现 {shown}；这里应为：{exp_zh}",
        f"unexpected {shown_en}; expected {exp_en}",
        hint_zh,
        hint_en,
    )


def parse_tree(text: str, file: str = "<ruleset>", parser: Lark | None = None) -> Tree:
    """Text → Lark tree within the limits; the formatter reuses this with its own parser.

    The order matters: size and bracket depth are checked on the raw text before
    the parser runs, so a huge or pathologically nested file fails in milliseconds.
    The tree's depth and declarations are checked for the AST's own parser only: the
    formatter's parser keeps every token, so its trees are deeper by design.
    """
    check_text_size(text, file)
    _check_brackets(text, file)
    try:
        tree = (parser or _parser()).parse(text)
    except UnexpectedInput as err:
        raise RulesetError([_syntax_diagnostic(err, file, text)], {file: text}) from None
    if parser is None:
        _check_tree(tree, file, text)
    return tree


def _parse_text(text: str, file: str) -> ast.Ruleset:
    tree = parse_tree(text, file)
    try:
        items = _Builder(file).transform(tree)
    except VisitError as err:  # a malformed literal (e.g. an invalid number) surfaces here
        raise RulesetError(
            [Diagnostic("syntax", "error", Span(file, 1, 1), f"无法读取：{err.orig_exc}", f"cannot read: {err.orig_exc}")],
            {file: text},
        ) from None
    standard = None
    inputs, lets, decls, params, overrides, removes = [], [], [], [], [], []
    extra_std: list[ast.Standard] = []
    for it in items:
        if isinstance(it, ast.Standard):
            if standard is None:
                standard = it
            else:
                extra_std.append(it)
        elif isinstance(it, ast.Inputs):
            inputs.append(it)
        elif isinstance(it, ast.Let):
            lets.append(it)
        elif isinstance(it, ast.Param):
            params.append(it)
        elif isinstance(it, ast.Override):
            overrides.append(it)
        elif isinstance(it, ast.Remove):
            removes.append(it)
        else:
            decls.append(it)
    rs = ast.Ruleset(file, text, standard, tuple(inputs), tuple(lets), tuple(decls), tuple(params),
                     tuple(overrides), tuple(removes), ((file, text),))
    if extra_std:
        s = extra_std[0]
        raise RulesetError(
            [
                Diagnostic(
                    "duplicate_standard",
                    "error",
                    s.span,
                    "一个规则文件只能声明一个 standard",
                    "a ruleset file declares exactly one standard",
                    "把第二个标准移到单独的文件中。",
                    "move the second standard to a file of its own.",
                )
            ],
            {file: text},
        )
    return rs
