"""Reading a ruleset file: its limits, and the parse kept in the cache, without the parser.

A run of a standard parsed before reads its AST back from the cache
(:func:`.parser_cache.parsed`): this module lets it do so without importing
the Lark parser (:mod:`.parser`, about 0.05 s), which is loaded only when a
text has to be parsed.
"""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostic, Span
from ..errors import RulesetError
from . import ast, parser_cache

# --------------------------------------------------------------------------- limits
# A ruleset is data, not a program: these bounds keep a wrong or hostile file from
# exhausting memory or the interpreter's recursion. The bundled standards stay far
# below them (largest file 30 kB, deepest syntax tree 12 levels, at most 76 declarations).

#: bytes of one ruleset file (UTF-8); parsing takes some 20 s per MB on a slow machine
MAX_FILE_BYTES = 1024 * 1024
#: nested brackets ( [ { in the text, and levels of the syntax tree (an expression's
#: operators, e.g. a chain of 100 "+" or "not not …", count one level each)
MAX_NESTING = 100
#: declarations (standard, inputs, let, indicator, item, param, override …) in one file
MAX_DECLARATIONS = 5000
#: standards in one chain of ``extends`` (the file itself, its parent, the parent's parent …)
MAX_EXTENDS = 16


def _limit(file: str, line: int, column: int, zh: str, en: str, hint_zh: str, hint_en: str, text: str | None) -> RulesetError:
    diag = Diagnostic("limit", "error", Span(file, line, column), zh, en, hint_zh, hint_en)
    # an empty source stands in for a file too large to show, so that printing the error does not read it
    return RulesetError([diag], {file: text if text is not None else ""})


def check_size(size: int, file: str) -> None:
    """A file over :data:`MAX_FILE_BYTES` is refused before it is read or parsed."""
    if size > MAX_FILE_BYTES:
        mb = MAX_FILE_BYTES / (1024 * 1024)
        raise _limit(
            file, 1, 1,
            f"规则文件过大：{size / (1024 * 1024):.1f} MB，上限为 {mb:g} MB",
            f"ruleset file too large: {size / (1024 * 1024):.1f} MB, the limit is {mb:g} MB",
            "规则文件只写标准本身；数据放在数据表中。确需更多内容时拆成几个用 extends 相连的文件。",
            "a ruleset states the standard only; data belongs in the tables. Split a very long standard "
            "into files joined by extends.",
            None,
        )


def check_text_size(text: str, file: str) -> None:
    """:func:`check_size` of a text's UTF-8 bytes; a short text is measured without encoding it (a
    character is at most four bytes)."""
    check_size(len(text) if len(text) * 4 <= MAX_FILE_BYTES else len(text.encode("utf-8")), file)


def parse_text(text: str, file: str = "<ruleset>") -> ast.Ruleset:
    """Parse one ruleset text; raises :class:`RulesetError` on a syntax error or a broken limit.

    A text parsed before under the same name is read back from the cache (:func:`parser_cache.parsed`).
    """
    check_text_size(text, file)
    return parser_cache.parsed(text, file, _parse)


def _parse(text: str, file: str) -> ast.Ruleset:
    from . import parser

    return parser._parse_text(text, file)


def parse_file(path: str | Path) -> ast.Ruleset:
    p = Path(path)
    try:
        check_size(p.stat().st_size, str(p))
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RulesetError(
            [Diagnostic("encoding", "error", Span(str(p), 1, 1), "规则文件须为 UTF-8 编码", "a ruleset file must be UTF-8 encoded",
                        "用文本编辑器另存为 UTF-8。", "save it as UTF-8 in your editor.")]
        ) from None
    except OSError as e:
        raise RulesetError(
            [Diagnostic("not_found", "error", None, f"无法读取规则文件 {p}：{e.strerror}", f"cannot read ruleset {p}: {e.strerror}")]
        ) from None
    return parse_text(text, str(p))
