"""qbe lint: each finding at its exact place, none on the shipped rulesets, and never a wrong claim.

The soundness properties evaluate the same ruleset on data spread over the declared ranges (ends
included) and check that a requirement lint calls impossible is never met there, one it calls
certain never fails, and a grade it calls unreachable is never given.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_rows
from qbe.cli import ExitCode, main
from qbe.language.parser import parse_text
from qbe.semantics import check_ruleset
from qbe.semantics.lint import CODES, LINT_FINDINGS, lint_file, lint_model
from qbe.semantics.lint.intervals import Interval, compare_outcomes

HEAD = """standard t {
    title "t"
    version 2024
    stages { primary "小学" junior "初中" }
    parts { p "部分" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
    teachers: count "教师数" unit "人" range 0..50
    area:     area  "教学用房面积" unit "m²" range 0..
}
inputs county {
    share: percent "比例" range 0..1
    flag:  yesno "是否"
}
"""  # 15 lines: a fragment appended to it starts on line 16


def findings(tmp_path: Path, body: str, head: str = HEAD, keep_unused: bool = False):
    """Lint ``head + body``; the base's inputs a small example leaves unused are left out unless asked for."""
    f = tmp_path / "t.qbe"
    f.write_text(head + body, encoding="utf-8")
    res = lint_file(f)
    assert not res.has_errors, [d.render("en", res.sources) for d in res.check]
    if not keep_unused:
        res.findings = [d for d in res.findings if d.code != "unused_input"]
    return res


def lint_text(tmp_path: Path, body: str, head: str = HEAD, keep_unused: bool = False) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in findings(tmp_path, body, head, keep_unused).findings]


# ---------------------------------------------------------------------------- requirements

def test_requirement_never_met_on_a_per100_ratio(tmp_path):
    # teachers ≤ 50 and students ≥ 1: at most 50 / 1 × 100 = 5000 per hundred
    got = lint_text(tmp_path, """indicator per100 "每百名学生教师数" {
    value   = teachers / students * 100
    require primary >= 6000, junior >= 5000
}
""")
    assert got == [("never_met", 18, 13)]


def test_requirement_never_fails(tmp_path):
    got = lint_text(tmp_path, """indicator per100 "每百名学生教师数" {
    value   = teachers / students * 100
    require primary >= 0, junior >= 0.01
}
""")
    assert got == [("never_fails", 18, 13)]


def test_percent_required_above_its_range(tmp_path):
    res = findings(tmp_path, """item i "比例" {
    value   = share
    require >= 150%
}
""")
    assert [(d.code, d.span.line, d.span.column) for d in res.findings] == [("never_met", 18, 13)]
    d = res.findings[0]
    assert "0% to 100%" in d.message_en and "'>= 150%'" in d.message_en
    assert "永远无法达到" in d.message_zh
    text = d.render("zh", res.sources)
    assert "t.qbe:18:13: 警告[never_met]" in text
    assert "       |             ^~~~~~~" in text  # under '>= 150%'


def test_the_top_of_a_range_still_meets_it(tmp_path):
    # 100% is reachable (a share of exactly 1): not a finding, and neither is >= 99.9999%
    assert lint_text(tmp_path, """item i "比例" { value = share  require >= 100% }
item j "比例" { value = share  require >= 99.9999% }
item k "比例" { value = share  require <= 0% }
""") == []


def test_unbounded_inputs_give_no_finding(tmp_path):
    assert lint_text(tmp_path, """indicator a "生均" { value = area / students  require >= 1000000 }
""") == []


def test_balance_limit_below_zero(tmp_path):
    got = lint_text(tmp_path, """indicator a "生均" { value = area / students  require >= 1 }
balance cv "差异系数" {
    indicators [a]
    weight     students
    require    primary <= -0.1, junior <= 0.45
}
""")
    assert got == [("never_met", 20, 16)]


# ---------------------------------------------------------------------------- conditions

def test_comparison_inside_a_check_is_always_true(tmp_path):
    got = lint_text(tmp_path, """item i "i" { check share >= 0 and flag }
""")
    assert got == [("always_true", 16, 20)]


def test_comparison_never_true_in_an_aggregate(tmp_path):
    got = lint_text(tmp_path, """item i "i" { value = share(teachers > 60)  require <= 5% }
""")
    assert got == [("never_true", 16, 28)]


def test_constant_exempt_condition(tmp_path):
    got = lint_text(tmp_path, """indicator a "生均" { value = area / students  require >= 1
    exempt when yes "总是" }
""")
    assert got == [("constant_condition", 17, 17)]


def test_constant_applies_built_from_comparisons_is_reported_once(tmp_path):
    # the comparison is the finding; the applies clause it makes constant is not repeated
    got = lint_text(tmp_path, """indicator a "生均" { value = area / students  require >= 1
    applies when students < 1 }
""")
    assert got == [("never_true", 17, 18)]


def test_year_switch_on_a_param_is_not_a_finding(tmp_path):
    head = HEAD.replace('    version 2024\n', '    version 2024\n    years 2022..2024\n')
    got = lint_text(tmp_path, """param strict "是否从严" { 2022: 0 2023: 0 2024: 1 }
item i "i" { check flag or strict == 0 }
""", head=head)
    assert got == []


def test_target_out_of_range_in_one_year_names_that_year(tmp_path):
    head = HEAD.replace('    version 2024\n', '    version 2024\n    years 2022..2024\n')
    res = findings(tmp_path, """param target "目标" { 2022: 80% 2023: 90% 2024: 120% }
item i "比例" { value = share  require >= target }
""", head=head)
    assert [(d.code, d.span.line, d.span.column) for d in res.findings] == [("never_met", 18, 38)]
    assert res.findings[0].message_en.endswith("(in 2024)")
    assert res.findings[0].message_zh.endswith("（2024 年）")


# ---------------------------------------------------------------------------- grades

def test_grade_band_shadowed_by_an_earlier_one(tmp_path):
    got = lint_text(tmp_path, """item i "分等" { value = share  grades { 合格 >= 85%, 良 >= 90%, 不合格 } }
""")
    assert got == [("grade_unreachable", 16, 50)]


def test_grade_band_outside_the_range(tmp_path):
    got = lint_text(tmp_path, """item i "分等" { value = share  grades { 优 >= 120%, 合格 >= 85%, 不合格 } }
""")
    assert got == [("grade_unreachable", 16, 39)]


def test_grade_equal_thresholds_overlap(tmp_path):
    got = lint_text(tmp_path, """item i "分等" { value = share  grades { 合格 >= 85%, 基本合格 >= 85%, 不合格 } }
""")
    assert got == [("grade_unreachable", 16, 50)]


def test_grade_fallback_never_given(tmp_path):
    got = lint_text(tmp_path, """item i "分等" { value = share  grades { 合格 >= 0%, 不合格 } }
""")
    assert got == [("grade_unreachable", 16, 49)]


def test_grade_gap_without_a_fallback(tmp_path):
    res = findings(tmp_path, """item i "分等" {
    value  = share
    grades { 合格 >= 85%, 基本合格 >= 60% }
}
""")
    assert [(d.code, d.span.line, d.span.column) for d in res.findings] == [("grade_gap", 18, 5)]
    assert "between 0% and 60%" in res.findings[0].message_en


def test_grade_gap_between_better_grades(tmp_path):
    res = findings(tmp_path, """item i "分等" {
    value  = share
    grades { 合格 >= 85%, 基本合格 <= 60%, 不合格 }
}
""")
    assert [(d.code, d.span.line, d.span.column) for d in res.findings] == [("grade_gap", 18, 5)]
    assert "between 60% and 85%" in res.findings[0].message_en


def test_contiguous_grades_are_fine(tmp_path):
    assert lint_text(tmp_path, """item i "分等" { value = share  grades { 合格 >= 85%, 基本合格 >= 80%, 不合格 } }
item j "分等" { value = share  grades { 合格 > 85%, 基本合格 >= 85%, 不合格 } }
item k "分等" { value = share  grades { 合格 <= 10%, 基本合格 < 20%, 不合格 } }
""") == []


# ---------------------------------------------------------------------------- overrides

PARENT = """standard base-2020 {
    title "base"
    version 2020
    stages { primary "小学" junior "初中" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
    area:     area  "教学用房面积" unit "m²" range 0..
}
indicator a "生均" {
    value   = area / students
    require primary >= 4.5, junior >= 5.8
    source  "base"
}
let per_student = area / students
indicator b "生均2" { value = per_student  require >= 1  source "base" }
"""


def test_override_identical(tmp_path):
    (tmp_path / "base.qbe").write_text(PARENT, encoding="utf-8")
    child = """standard child-2021 extends base-2020 {
    version 2021
}
override indicator a {
    require primary >= 4.50, junior >= 5.8
    source  "child"
}
override indicator b {
    value   = per_student
    require >= 2
    source  "child"
}
override let per_student = area / students source "child"
"""
    f = tmp_path / "child.qbe"
    f.write_text(child, encoding="utf-8")
    res = lint_file(f)
    assert not res.has_errors
    got = [(Path(d.span.file).name, d.code, d.span.line, d.span.column) for d in res.findings]
    assert got == [
        ("child.qbe", "override_identical", 4, 20),  # every judged clause repeated: the whole override
        ("child.qbe", "override_identical", 9, 5),  # only the value is repeated; the require changes
        ("child.qbe", "override_identical", 13, 14),
    ]


def test_real_overrides_are_not_findings(tmp_path):
    (tmp_path / "base.qbe").write_text(PARENT, encoding="utf-8")
    f = tmp_path / "child.qbe"
    f.write_text("""standard child-2021 extends base-2020 { version 2021 }
override indicator a { require primary >= 5, junior >= 5.8  source "child" }
override indicator b "新名称" { source "child" }
""", encoding="utf-8")
    res = lint_file(f)
    assert res.findings == []


# ---------------------------------------------------------------------------- hygiene

def test_unused_input_let_and_param(tmp_path):
    got = lint_text(tmp_path, """let dead = area / students
param nothing "无用" { 2024: 1 }
item i "i" { value = share  require >= 50% }
""", keep_unused=True)
    # the checker's own warning for the inputs nothing reads (dead reads area and students, though nothing reads dead)
    assert got == [("unused_input", 9, 5), ("unused_input", 14, 5), ("unused_let", 16, 5), ("unused_param", 17, 7)]


def test_counting_rules(tmp_path):
    got = lint_text(tmp_path, """indicator a "生均" { value = area / students  require >= 1 }
indicator b "每百名" { value = teachers / students * 100  require >= 1 }
rule r0 "r0" { when at least 0 of [a, b] }
rule r1 "r1" { when at least 1 of [a, b, a], rest >= 120% }
item i "i" { check all(r0) and all(r1) and flag and share >= 50% }
""")
    assert got == [("at_least_zero", 18, 21), ("tolerance_never_applies", 19, 21), ("duplicate_member", 19, 42)]


def test_param_years(tmp_path):
    head = HEAD.replace('    version 2024\n', '    version 2024\n    years 2021..2026\n')
    got = lint_text(tmp_path, """param target "目标" {
    2022: 50%
    2024: 70%
    2024-09-01: 80%
    2027: 90%
}
item i "i" { value = share  require >= target  check flag }
""", head=head)
    assert got == [
        ("param_missing_year", 17, 7),  # 2021 is covered but has no value
        ("param_value_unused", 19, 5),  # 2024 is replaced by 2024-09-01 in its own year
        ("param_year_gap", 19, 5),  # 2023 keeps the 2022 value
        ("param_value_unused", 21, 5),  # 2027 is after the covered years
    ]


def test_info_with_a_requirement(tmp_path):
    got = lint_text(tmp_path, """item i "i" { value = share  require >= 50%  info  check flag }
""")
    assert got == [("info_ignored", 16, 45)]


def test_every_code_is_documented():
    docs = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"`{code}`" in docs, code


# ---------------------------------------------------------------------------- shipped rulesets

@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.qbe")), ids=lambda p: p.stem)
def test_no_findings_on_shipped_rulesets(path):
    res = lint_file(path)
    assert not res.has_errors
    assert [d.render("en", res.sources) for d in res.findings] == []


# ---------------------------------------------------------------------------- CLI

MINI = """standard m {
    title "m"
    version 2024
    stages { primary "小学" }
}
inputs county {
    share: percent "比例" range 0..1
}
"""


def test_cli_exit_codes_and_languages(tmp_path):
    bad = tmp_path / "bad.qbe"
    bad.write_text(MINI + 'item i "i" { value = share  require >= 150% }\n', encoding="utf-8")
    clean = tmp_path / "clean.qbe"
    clean.write_text(MINI + 'item i "i" { value = share  require >= 50% }\n', encoding="utf-8")
    broken = tmp_path / "broken.qbe"
    broken.write_text(MINI + 'item i "i" { value = nope  require >= 50% }\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["lint", str(clean)])
    assert r.exit_code == 0 and "未发现问题" in r.output
    r = runner.invoke(main, ["lint", str(bad), "--lang", "en"])
    assert r.exit_code == LINT_FINDINGS == ExitCode.LINT_FINDINGS == 7
    assert "bad.qbe:9:37: warning[never_met]" in r.output and "1 finding(s)" in r.output
    r = runner.invoke(main, ["lint", str(bad)])
    assert "警告[never_met]" in r.output and "共 1 个问题" in r.output
    r = runner.invoke(main, ["lint", str(broken), str(bad), "--lang", "en"])
    assert r.exit_code == 3
    assert "error[unknown_name]" in r.output and "not linted" in r.output and "warning[never_met]" in r.output


def test_cli_prints_a_shared_finding_once(tmp_path):
    (tmp_path / "base.qbe").write_text(PARENT.replace("require >= 1 ", "require >= -1 "), encoding="utf-8")
    (tmp_path / "child.qbe").write_text("standard child-2021 extends base-2020 { version 2021 }\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["lint", str(tmp_path / "base.qbe"), str(tmp_path / "child.qbe"), "--lang", "en"])
    assert r.exit_code == 7
    assert r.output.count("warning[never_fails]") == 1
    assert "base.qbe: 1 finding(s)" in r.output and "child.qbe: 1 finding(s)" in r.output


# ---------------------------------------------------------------------------- properties

NATIONAL_TEXT = (ROOT / "rulesets" / "national-2017.qbe").read_text(encoding="utf-8")
_RANGE = re.compile(r"range \d+(?:\.\d+)?\.\.(?:\d+(?:\.\d+)?)?")
_THRESHOLD = re.compile(r"(require\s+(?:(?:primary|junior)\s+)?)(>=|<=)\s*(\d+(?:\.\d+)?%?)")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_lint_never_raises_on_mutated_national_thresholds(data):
    spots = list(_THRESHOLD.finditer(NATIONAL_TEXT))
    out, last = [], 0
    for m in spots:
        # the 6-of-7 rule needs minimum requirements on its indicators, so a '>=' stays a minimum
        op = data.draw(st.sampled_from([">=", ">"] if m.group(2) == ">=" else ["<=", "<", "==", "!="]))
        if m.group(3).endswith("%"):  # a percentage stays one (a bare number there is a check error)
            n = data.draw(st.integers(0, 300).map(lambda x: f"{x}%"))
        else:
            n = data.draw(st.floats(0, 1e4).map(lambda x: f"{x:.6g}"))
        out.append(NATIONAL_TEXT[last:m.start()] + m.group(1) + op + " " + n)
        last = m.end()
    text = "".join(out) + NATIONAL_TEXT[last:]
    out, last = [], 0
    for m in _RANGE.finditer(text):  # and the declared ranges the claims are made from
        lo = data.draw(st.integers(0, 3))
        hi = data.draw(st.one_of(st.none(), st.integers(0, 5).map(lambda k, lo=lo: lo + k)))
        out.append(text[last:m.start()] + f"range {lo}..{'' if hi is None else hi}")
        last = m.end()
    text = "".join(out) + text[last:]
    model, diags = check_ruleset(parse_text(text, "national-mutated.qbe"))
    assume(model is not None)
    found = lint_model(model, diags)
    for d in found:
        assert d.span is not None and d.code and d.render("zh", model.sources) and d.render("en", model.sources)


COUNTY_HEAD = """standard s {{
    title "s"
    version 2024
    stages {{ primary "小学" }}
}}
inputs county {{
    x: percent "x" range 0..1
    y: number  "y" range {ylo}..{yhi}
}}
"""
FORMULAS = ["x", "y", "x * y", "y - x", "y / (x + 1)", "min(x, y)", "max(x, y) * 100", "abs(y - 10)",
            "ceil(y - 10.5)", "round(y / 3 - 2, 1)", "x + y", "per100(y, x)", "coalesce(y, 0)",
            "if x > 50% then y else -y", "(y - 10) * (y - 12)", "1 / (y - 10)"]


def _evaluate(model, points: list[tuple[float, float]]):
    rows = [{"county_code": f"{100000 + i}", "school_code": f"S{i}", "school_type": "primary", "stage": "primary"}
            for i in range(len(points))]
    counties = [{"county_code": f"{100000 + i}", "x": repr(x), "y": repr(y)} for i, (x, y) in enumerate(points)]
    _, rep = run_rows(model, rows, counties)
    return [c["items"]["it"] for c in rep["counties"]]


def _points(data, ylo: float, yhi: float) -> list[tuple[float, float]]:
    xs = [0.0, 1.0, 0.5, data.draw(st.floats(0, 1))]
    ys = [float(ylo), float(yhi), data.draw(st.floats(ylo, yhi)), data.draw(st.floats(ylo, yhi))]
    return [(x, y) for x in xs for y in ys]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_requirement_claims_hold_on_data(data):
    ylo = data.draw(st.integers(0, 20))  # the ends stay >= 0: a negative range bound is read without its sign
    yhi = ylo + data.draw(st.integers(0, 30))
    formula = data.draw(st.sampled_from(FORMULAS))
    op = data.draw(st.sampled_from([">=", "<=", ">", "<", "==", "!="]))
    thr = data.draw(st.one_of(st.integers(-60, 60).map(str), st.floats(-60, 60).map(lambda v: f"{abs(v):.3g}")))
    text = COUNTY_HEAD.format(ylo=ylo, yhi=yhi) + f'item it "it" {{ value = {formula}  require {op} {thr} }}\n'
    model, diags = check_ruleset(parse_text(text, "s.qbe"))
    assume(model is not None)
    codes = {d.code for d in lint_model(model, diags) if d.code in ("never_met", "never_fails")}
    if not codes:
        return
    statuses = {it["status"] for it in _evaluate(model, _points(data, ylo, yhi))}
    if "never_met" in codes:
        assert "met" not in statuses, (text, statuses)
    if "never_fails" in codes:
        assert "not_met" not in statuses, (text, statuses)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_grade_claims_hold_on_data(data):
    n = data.draw(st.integers(1, 3))
    bands = []
    for i in range(n):
        op = data.draw(st.sampled_from([">=", "<=", ">", "<"]))
        bands.append(f"g{i} {op} {data.draw(st.integers(-10, 110))}%")
    fallback = data.draw(st.booleans())
    if fallback:
        bands.append("last")
    text = COUNTY_HEAD.format(ylo=0, yhi=1) + f'item it "it" {{ value = x  grades {{ {", ".join(bands)} }} }}\n'
    model, diags = check_ruleset(parse_text(text, "s.qbe"))
    assume(model is not None)
    found = lint_model(model, diags)
    unreachable = {source_label(model, d) for d in found if d.code == "grade_unreachable"}
    gap = any(d.code == "grade_gap" for d in found)
    cuts = [int(b.split()[-1][:-1]) / 100 for b in bands if "%" in b]
    xs = sorted({min(1.0, max(0.0, x + d)) for x in (0.0, 1.0, *cuts, data.draw(st.floats(0, 1))) for d in (-0.001, 0, 0.001)})
    items = _evaluate(model, [(x, 0.0) for x in xs])
    given_grades = {it.get("grade") for it in items}
    assert not (unreachable & given_grades), (text, unreachable, given_grades)
    if not gap and not fallback:
        # no gap reported: every value in range gets a grade
        assert None not in given_grades, (text, xs, items)


def source_label(model, d) -> str:
    """The band label a grade finding points at."""
    line = model.sources[d.span.file].splitlines()[d.span.line - 1]
    return re.match(r"\w+", line[d.span.column - 1:]).group(0)


def test_interval_comparisons_by_hand():
    share = Interval(0.0, 1.0)
    assert compare_outcomes(">=", share, Interval.point(1.5)) == (False, True)
    assert compare_outcomes(">=", share, Interval.point(1.0)) == (True, True)
    assert compare_outcomes(">=", share, Interval.point(0.0)) == (True, False)
    assert compare_outcomes(">", share, Interval.point(1.0)) == (False, True)
    assert compare_outcomes("<", share, Interval.point(0.0)) == (False, True)
    assert compare_outcomes("==", share, Interval.point(2.0)) == (False, True)
    assert compare_outcomes("!=", Interval.point(2.0), Interval.point(2.0)) == (False, True)
    # teachers 0..50 over students ≥ 1, per hundred: 0 to 5000
    r = Interval(0.0, 50.0) / Interval(1.0, float("inf")) * Interval.point(100.0)
    assert (r.lo, r.hi) == (0.0, 5000.0)
    # a divisor that may be 0 or more: quotients of non-negatives are non-negative, unbounded above
    r = Interval(1.0, 2.0) / Interval(0.0, 3.0)
    assert (r.lo, r.hi) == (1.0 / 3.0, float("inf"))
    # a divisor on both sides of 0: anything
    r = Interval(1.0, 2.0) / Interval(-1.0, 1.0)
    assert (r.lo, r.hi) == (float("-inf"), float("inf"))


def test_no_gap_claimed_where_the_range_is_unknown(tmp_path):
    # with area ranged 0.. the value area / students is at least 0, so the values from 0 to 4.5 that get
    # no grade are a bounded, certain gap; with no range on area the value could be anything, and the
    # bands alone prove nothing about the data
    head = HEAD.replace("range 0..\n", "\n", 1)  # area loses its range: the value is unbounded
    assert "area:     area  \"教学用房面积\" unit \"m²\" \n" in head
    assert lint_text(tmp_path, """indicator a "生均" { value = area / students  grades { 合格 >= 5.8, 基本合格 >= 4.5 } }
""", head=head) == []
    assert lint_text(tmp_path, """indicator a "生均" { value = area / students  grades { 合格 >= 5.8, 基本合格 >= 4.5 } }
""") == [("grade_gap", 16, 45)]
