"""Every semantic error of a ruleset, located at its line and column, with a fix."""

from __future__ import annotations

import pytest

from qbe.errors import RulesetError
from qbe.language.parser import parse_text
from qbe.semantics import check_ruleset

HEADER = """standard test-1 {
    title "测试" version 2020
    stages { primary "小学" junior "初中" }
    parts { resources "资源配置" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
    teaching_area_m2: area "教学及辅助用房面积" unit "m²" range 0..
    share: percent "比例" range 0..1
}
"""


def diags(body: str):
    rs = parse_text(HEADER + body, "t.qbe")
    model, ds = check_ruleset(rs)
    return model, ds


def only_error(body: str):
    model, ds = diags(body)
    errors = [d for d in ds if d.is_error]
    assert model is None
    assert errors, ds
    return errors[0], errors


def line_of(body: str, needle: str) -> int:
    text = HEADER + body
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_clean_ruleset_passes():
    model, ds = diags('indicator a "A" { value = teaching_area_m2 / students require primary >= 4.5 }\n'
                      'indicator b "B" { value = share require >= 85% }')
    assert model is not None
    assert [d.code for d in ds] == []


def test_unknown_name_with_suggestion():
    body = 'indicator a "A" { value = teaching_area_m2 / studnets require >= 1 }'
    d, _ = only_error(body)
    assert d.code == "unknown_name"
    assert "did you mean 'students'" in d.message_en
    assert "students" in d.message_zh
    assert (d.span.line, d.span.column) == (line_of(body, "studnets"), body.index("studnets") + 1)
    text = d.render("en", {"t.qbe": HEADER + body})
    assert "t.qbe:11:" in text and "^~~~~~~~" in text


def test_duplicate_id():
    body = 'indicator a "A" { value = students require >= 1 }\nindicator a "B" { value = students require >= 2 }'
    d, _ = only_error(body)
    assert d.code == "duplicate_id"
    assert d.span.line == line_of(body, '"B"')
    assert "first declared at t.qbe:11" in d.message_en


def test_unit_mismatch_area_compared_with_count():
    body = 'indicator a "A" { value = teaching_area_m2 require >= students }'
    d, _ = only_error(body)
    assert d.code == "unit_mismatch"
    assert "m²" in d.message_en and "人" in d.message_en


def test_percent_written_as_85():
    body = 'indicator a "A" { value = share require >= 85 }'
    d, _ = only_error(body)
    assert d.code == "percent_scale"
    assert "85%" in d.hint_en and "0.85" in d.hint_en
    assert d.span.column == body.index("85") + 1


def test_cycle():
    body = 'let x = y + 1\nlet y = x * 2\nindicator a "A" { value = x require >= 1 }'
    _, errors = only_error(body)
    assert any(e.code == "cycle" and "x → y → x" in e.message_en.replace("y → x → y", "x → y → x") for e in errors)


def test_requirement_for_undeclared_stage():
    body = 'indicator a "A" { value = students require senior >= 1 }'
    d, _ = only_error(body)
    assert d.code == "undeclared_stage"
    assert d.span.column == body.index("senior") + 1


def test_unused_input_is_a_warning():
    model, ds = diags('indicator a "A" { value = students require >= 1 }')
    assert model is not None
    warns = [d for d in ds if d.code == "unused_input"]
    assert {d.message_en.split("'")[1] for d in warns} == {"teaching_area_m2", "share"}
    assert all(not d.is_error for d in warns)


def test_aggregate_in_a_row_item():
    d, _ = only_error('indicator a "A" { value = sum(students) require >= 1 }')
    assert d.code == "aggregate_in_row"


def test_row_value_in_a_county_item():
    d, _ = only_error('item c "C" { value = students require >= 1 }')
    assert d.code == "level_mismatch"
    assert "sum(students)" in d.hint_en


def test_clause_not_allowed():
    d, _ = only_error('rule r "R" { when all of [] require >= 1 }') if False else only_error(
        'indicator a "A" { value = students require >= 1 check students > 1 }')
    assert d.code == "clause_not_allowed"


def test_unknown_part():
    d, _ = only_error('indicator a "A" { value = students require >= 1 part resoruces }')
    assert d.code == "unknown_name" and "resources" in d.message_en


def test_unknown_category_value():
    d, _ = only_error('indicator a "A" { value = students require >= 1 applies when school_type in {nine_yaer} }')
    assert d.code == "unknown_category_value"
    assert "nine_year" in d.hint_en


def test_all_problems_reported_at_once():
    body = ('indicator a "A" { value = studnets require >= 1 }\n'
            'indicator b "B" { value = share require >= 85 }\n'
            'indicator c "C" { value = teaching_area_m2 require >= students }')
    _, errors = only_error(body)
    assert {e.code for e in errors} >= {"unknown_name", "percent_scale", "unit_mismatch"}


def test_syntax_error_location_and_suggestion():
    with pytest.raises(RulesetError) as ei:
        parse_text(HEADER + 'indicator a "A" { vaule = 1 }', "t.qbe")
    (d,) = ei.value.diagnostics
    assert (d.span.line, d.span.column) == (11, 19)
    assert "did you mean 'value'" in d.hint_en
    text = ei.value.render("zh")
    assert "t.qbe:11:19" in text and "是否想写 'value'" in text


def test_syntax_error_unclosed_brace_points_to_end():
    with pytest.raises(RulesetError) as ei:
        parse_text(HEADER + 'indicator a "A" { value = 1 require >= 1', "t.qbe")
    (d,) = ei.value.diagnostics
    assert d.code == "syntax"
    assert "end of file" in d.message_en


def test_chinese_identifiers_strings_and_comments():
    body = ('# 注释\n// 另一种注释\nlet 生均面积 "生均面积" = teaching_area_m2 / students\n'
            'indicator 面积指标 "生均教学及辅助用房面积" { value = 生均面积 require primary >= 4.5 }')
    model, ds = diags(body)
    assert model is not None, [d.render("en") for d in ds]
    assert "面积指标" in model.decls


def test_negative_range_bounds_keep_their_sign():
    """``range -5..3`` is -5 to 3 (the minus sign used to be dropped, giving 5..3)."""
    rs = parse_text('inputs row {\n    a: count "A" range -5..3\n    b: count "B" range -1..-1\n'
                    '    c: count "C" range ..-2.5\n    d: count "D" range 2..\n}\n', "t.qbe")
    got = [(f.name, f.minimum, f.maximum) for f in rs.inputs[0].fields]
    assert got == [("a", -5.0, 3.0), ("b", -1.0, -1.0), ("c", None, -2.5), ("d", 2.0, None)]
