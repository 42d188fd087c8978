"""``qbe fmt``: one canonical layout, idempotent, comments and meaning kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from qbe.cli import main
from qbe.errors import RulesetError
from qbe.language.formatter import format_text, meaning, width
from qbe.language.parser import parse_text

SHIPPED = sorted(
    p for folder in ("rulesets", "benchmarks", "plugins", "tests/data") for p in (ROOT / folder).rglob("*.qbe")
)
COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|((?:#|//)[^\n]*)')


def comments(text: str) -> list[str]:
    """Every comment, in order, without trailing spaces (strings are skipped, so a '#' in a text is not one)."""
    return [m.group(1).rstrip() for m in COMMENT.finditer(text) if m.group(1)]


def same(a: str, b: str) -> bool:
    return meaning(parse_text(a)) == meaning(parse_text(b))


# ---------------------------------------------------------------------------- shipped rulesets


def test_every_shipped_ruleset_is_found():
    names = {p.name for p in SHIPPED}
    assert {"national-2017.qbe", "national-2019.qbe", "qiantang-2022.qbe", "resources-only.qbe"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_rulesets_are_canonical(path: Path):
    text = path.read_text(encoding="utf-8")
    out = format_text(text, str(path))
    assert out == text, f"run: qbe fmt {path.relative_to(ROOT)}"
    assert same(out, text)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_squashed_shipped_ruleset_keeps_meaning_and_comments(path: Path):
    """Every run of spaces between tokens squashed to one, indentation dropped: same AST, same comments."""
    text = path.read_text(encoding="utf-8")
    parts = re.split(r'("(?:[^"\\\n]|\\.)*"|(?:#|//)[^\n]*|\s+)', text)
    squashed = "".join("\n" * min(p.count("\n"), 1) or " " if p.isspace() else p for p in parts if p)
    assert squashed != text
    out = format_text(squashed)
    assert same(out, text)
    assert comments(out) == comments(text)
    assert format_text(out) == out


def test_meaning_sees_a_change():
    """The comparison the tests rely on is not blind: order, operators and texts all count."""
    assert meaning(parse_text("let a = 1 + 2")) != meaning(parse_text("let a = 2 + 1"))
    assert meaning(parse_text("let a = 1 - 2")) != meaning(parse_text("let a = 1 + -2"))
    assert meaning(parse_text('let a "甲" = 1')) != meaning(parse_text('let a "乙" = 1'))
    assert meaning(parse_text("let a = 1 + 2")) == meaning(parse_text("\n\nlet   a=1+\n 2"))


# ---------------------------------------------------------------------------- the style, by example

MESSY = """\


standard   demo-1 extends national-2017{
  title "示例"   // 标题
\tversion 2020
 stages{primary "小学" junior "初中"}
}



inputs row{
students:count "在校生数" unit "人" range 1 ..
   teachers : count "教师数" range 0..100 optional
       aliases [ "专任教师" , "教师" ]
}
# 注释
let 比例 "师生比"=teachers/students*100
let  neg = - 3 + -(比例) - -2
indicator x "指标" {

  value=(比例
     +neg)   /2
  require primary>=4.2 , junior >= 5.3
  part resources   # 资源
  source "来源" [ V ]

}
check c "c" per school { check all ( x ) and not ( students in { a , b } ) and coalesce( students,0 )>0
 and weighted score of [x,  x] >= 1 }
rule r "r" { when at least 2 of [ x , x ] , rest >= 85% }
param p "p" {
2020 : 85%   source "s" [S]
   2021:-1
}
"""

TIDY = """\
standard demo-1 extends national-2017 {
    title "示例"   // 标题
    version 2020
    stages { primary "小学" junior "初中" }
}

inputs row {
    students: count "在校生数" unit "人" range 1..
    teachers: count "教师数" range 0..100 optional
        aliases ["专任教师", "教师"]
}
# 注释
let 比例 "师生比" = teachers / students * 100
let neg = -3 + -(比例) - -2
indicator x "指标" {
    value = (比例
             + neg) / 2
    require primary >= 4.2, junior >= 5.3
    part resources   # 资源
    source "来源" [V]
}
check c "c" per school { check all(x) and not (students in {a, b}) and coalesce(students, 0) > 0
                         and weighted score of [x, x] >= 1 }
rule r "r" { when at least 2 of [x, x], rest >= 85% }
param p "p" {
    2020: 85%    source "s" [S]
    2021: -1
}
"""


def test_messy_file_gets_the_canonical_layout():
    assert format_text(MESSY) == TIDY
    assert same(MESSY, TIDY)
    assert format_text(TIDY) == TIDY


def test_column_padding_is_kept_only_where_the_standards_use_it():
    src = ('indicator a "甲" {\n    value   = b  +  c\n    require >= 1\n}\n'
           'inputs row {\n    students:   count   "在校生数"   unit "人"   range 1..\n    b:          count   "乙"\n}\n')
    out = format_text(src)
    assert "    value   = b + c\n" in out  # after a clause keyword: kept; inside the expression: one space
    assert '    students:   count   "在校生数"   unit "人"   range 1..\n' in out
    assert '    b:          count   "乙"\n' in out


def test_padding_lines_up_by_display_width_of_chinese_text():
    """A column keeps its place on screen, where a Chinese character is two columns wide, even when re-indented."""
    out = format_text('inputs row {\n  a:  count "在校生数"  unit "人"\n  bb: count "班级"      unit "个"\n}\n')
    a, b = out.splitlines()[1:3]
    assert a == '    a:  count "在校生数"  unit "人"'
    assert b == '    bb: count "班级"      unit "个"'
    assert width(a[: a.index("unit")]) == width(b[: b.index("unit")]) == 26


def test_hanging_and_aligned_continuations():
    src = ('rule r "r" {\n  when at least 2 of [\n a, b,\n      c\n  ], rest >= 85%\n}\n'
           'check k "k" per school {\n  check sum(a) >= 1\n    and min(b) >=\n          (if x then 1\n   else 2)\n}\n')
    assert format_text(src) == (
        'rule r "r" {\n    when at least 2 of [\n        a, b,\n        c\n    ], rest >= 85%\n}\n'
        'check k "k" per school {\n    check sum(a) >= 1\n      and min(b) >=\n            (if x then 1\n'
        '             else 2)\n}\n'
    )


def test_comments_are_kept_word_for_word_in_their_place():
    src = ('#   header  ## with  spaces\n'
           'indicator a "A" {   // after the brace\n'
           '      # before value\n'
           '  value = b   # trailing\n'
           '      + c\n'
           '        # inside the block, before its end\n'
           '}\n'
           '// last\n')
    out = format_text(src)
    assert out == ('#   header  ## with  spaces\n'
                   'indicator a "A" {   // after the brace\n'
                   '    # before value\n'
                   '    value = b   # trailing\n'
                   '        + c\n'
                   '    # inside the block, before its end\n'
                   '}\n'
                   '// last\n')


def test_texts_with_comment_marks_and_chinese_names_are_untouched():
    src = 'let 达标率   "含 # 与 // 的“文字”，  两个空格" = 甲乙   +  丙\n'
    assert format_text(src) == 'let 达标率 "含 # 与 // 的“文字”，  两个空格" = 甲乙 + 丙\n'


def test_blank_lines_line_endings_and_bom():
    src = "\ufeff\r\n\r\nlet a = 1\r\n\r\n\r\n\r\nlet b = 2   \r\nindicator c \"C\" {\r\n\r\n value = a\r\n\r\n}\r\n\r\n"
    assert format_text(src) == 'let a = 1\n\nlet b = 2\nindicator c "C" {\n    value = a\n}\n'
    assert format_text("") == ""
    assert format_text("# only a comment") == "# only a comment\n"


def test_a_syntax_error_raises_the_located_diagnostic():
    with pytest.raises(RulesetError) as e:
        format_text("let a = (1 +\n", "bad.qbe")
    d = e.value.diagnostics[0]
    assert d.code == "syntax" and d.span.file == "bad.qbe" and d.span.line == 1


# ---------------------------------------------------------------------------- properties

SPACE = st.sampled_from([" ", "  ", "   ", "\t", "\n", "\n\n\n", " \n      ", "\n  "])


def _respace(text: str, data) -> str:
    """The same tokens and comments with every run of whitespace replaced (a comment still ends its line)."""
    parts = re.split(r'("(?:[^"\\\n]|\\.)*"|(?:#|//)[^\n]*|\s+)', text)
    out = []
    for part in parts:
        if part and part.isspace():
            choice = data.draw(SPACE)
            if "\n" in part and "\n" not in choice:
                choice = "\n" + choice
            out.append(choice)
        else:
            out.append(part)
    return "".join(out)


SMALL = [p for p in SHIPPED if p.stat().st_size < 20_000]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(SMALL or SHIPPED), st.data())
def test_respaced_rulesets_format_to_the_same_meaning(path, data):
    text = path.read_text(encoding="utf-8")
    mutated = _respace(text, data)
    out = format_text(mutated)
    assert same(out, text)
    assert comments(out) == comments(text)
    assert format_text(out) == out


NAMES = st.sampled_from(["students", "比例", "a_1", "学生数"])
ATOMS = st.one_of(
    NAMES,
    st.sampled_from(["1", "0.5", "85%", "yes", "no", "2e3"]),
)


def _expr():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "and", "or", ">=", "<", "="]), inner).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}" if t[1] in ("and", "or") or t[1][0] in "<>=" else f"({t[0]}) {t[1]} ({t[2]})"
            ),
            inner.map(lambda e: f"-({e})"),
            inner.map(lambda e: f"not ({e})"),
            st.tuples(NAMES, st.lists(inner, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
            inner.map(lambda e: f"({e}) in {{a, b}}"),
        )

    return st.recursive(ATOMS, extend, max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expr(), st.data())
def test_generated_expressions_keep_their_meaning(expr, data):
    src = f'let x "值" = {expr}\nindicator i "指标" {{\n  value = {expr}  # c\n  require >= 1\n}}\n'
    try:
        parse_text(src)
    except RulesetError:  # the generator can produce a sentence the grammar refuses (e.g. chained comparisons)
        return
    mutated = _respace(src, data)
    out = format_text(mutated)
    assert same(out, src)
    assert format_text(out) == out
    assert comments(out) == ["# c"]


# ---------------------------------------------------------------------------- the command


def _folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    good = tmp_path / "good.qbe"
    good.write_text('let a = 1 + 2\n', encoding="utf-8")
    messy = tmp_path / "sub" / "messy.qbe"
    messy.parent.mkdir()
    messy.write_text('let   a=1+2   # 注释\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("let   a=1", encoding="utf-8")
    return tmp_path, good, messy


def test_fmt_check_lists_the_files_that_would_change_and_exits_3(tmp_path):
    folder, good, messy = _folder(tmp_path)
    before = messy.read_bytes()
    r = CliRunner().invoke(main, ["fmt", "--check", str(folder), "--lang", "en"])
    assert r.exit_code == 3
    assert [ln for ln in r.output.splitlines() if ln.startswith("would reformat")] == [f"would reformat: {messy}"]
    assert "2 file(s), 1 would be reformatted" in r.output
    assert messy.read_bytes() == before
    assert CliRunner().invoke(main, ["fmt", "--check", str(good)]).exit_code == 0


def test_fmt_diff_prints_a_unified_diff_and_changes_nothing(tmp_path):
    folder, _, messy = _folder(tmp_path)
    r = CliRunner().invoke(main, ["fmt", "--diff", str(messy)])
    assert r.exit_code == 0
    assert f"--- {messy}" in r.output
    assert "-let   a=1+2   # 注释\n+let a = 1 + 2  # 注释\n" in r.output
    assert messy.read_text(encoding="utf-8") == "let   a=1+2   # 注释\n"


def test_fmt_rewrites_files_in_place(tmp_path):
    folder, good, messy = _folder(tmp_path)
    r = CliRunner().invoke(main, ["fmt", str(folder)])
    assert r.exit_code == 0, r.output
    assert messy.read_text(encoding="utf-8") == "let a = 1 + 2  # 注释\n"
    assert good.read_text(encoding="utf-8") == "let a = 1 + 2\n"
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "let   a=1"  # not a ruleset
    assert sorted(p.name for p in messy.parent.iterdir()) == ["messy.qbe"]  # no temporary file left
    assert CliRunner().invoke(main, ["fmt", "--check", str(folder)]).exit_code == 0


def test_fmt_leaves_a_broken_file_alone_and_says_where(tmp_path):
    folder, _, messy = _folder(tmp_path)
    bad = folder / "bad.qbe"
    bad.write_text('indicator a "A" {\n    value = (1 +\n}\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["fmt", str(folder), "--lang", "en"])
    assert r.exit_code == 3
    assert f"{bad}:3:1: error[syntax]" in r.output
    assert bad.read_text(encoding="utf-8") == 'indicator a "A" {\n    value = (1 +\n}\n'
    assert messy.read_text(encoding="utf-8") == "let a = 1 + 2  # 注释\n"  # the others are still formatted
    zh = CliRunner().invoke(main, ["fmt", "--check", str(bad)])
    assert "错误" in zh.output and zh.exit_code == 3


def test_fmt_missing_path_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["fmt", str(tmp_path / "nope.qbe"), "--lang", "en"])
    assert r.exit_code == 2
    assert "no such file or folder" in r.output


def test_fmt_check_passes_on_the_bundled_rulesets():
    r = CliRunner().invoke(main, ["fmt", "--check", str(ROOT / "rulesets"), str(ROOT / "benchmarks")])
    assert r.exit_code == 0, r.output
