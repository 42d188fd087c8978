"""`qbe test`: the test cases kept beside the rulesets, failures located, --update, coverage, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from qbe.cli import ExitCode, main
from qbe.ruletest import EXIT_TESTS_FAILED, discover, read_test_file
from qbe.ruletest.casefile import Expectation, decimals, parse_key
from qbe.ruletest.discover import tests_of as find_tests
from qbe.ruletest.runner import _matches
from qbe.standards import installed

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
N2017_TESTS = RULESETS / "tests" / "national-2017.test.toml"


def run(*args: str):
    return CliRunner().invoke(main, ["test", *args])


def line_of(text: str, needle: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if line.strip() == needle]
    assert len(lines) == 1, needle
    return lines[0]


# ---------------------------------------------------------------------------- shipped rulesets


def test_every_shipped_ruleset_has_tests():
    ids = {s.id for s in installed() if s.provider == "qbe"}
    assert {"national-2017", "national-2019", "hebei-2017", "shenyang-2024", "zhejiang-2020", "qiantang-2022",
            "preschool-2020"} <= ids
    for s in installed():
        if s.provider == "qbe":
            assert find_tests(s.path), f"{s.id} has no tests/{s.id}.test.toml"
    jobs, untested = discover([str(RULESETS)])
    assert untested == []
    assert len(jobs) >= 7


def test_shipped_ruleset_tests_pass():
    r = run(str(RULESETS), "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "0 failed" in r.output
    for sid in ("national-2017", "national-2019", "hebei-2017", "shenyang-2024", "zhejiang-2020", "qiantang-2022",
                "preschool-2020"):
        assert f"[{sid}]" in r.output
    assert "FAIL" not in r.output


def test_a_ruleset_path_finds_its_tests_by_convention():
    r = run(str(RULESETS / "qiantang-2022.qbe"), "--lang", "en", "--no-coverage")
    assert r.exit_code == 0, r.output
    assert "qiantang-2022.test.toml" in r.output
    assert "11 case(s), 11 passed" in r.output


def test_exit_code_is_documented():
    assert int(ExitCode.TESTS_FAILED) == EXIT_TESTS_FAILED == 6
    doc = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    assert "TESTS_FAILED" in doc and "| 6 |" in doc


# ---------------------------------------------------------------------------- failures and --update


@pytest.fixture
def n2017_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "national-2017.test.toml"  # no ruleset beside it: the name is the standard id
    shutil.copyfile(N2017_TESTS, dst)
    return dst


def test_wrong_expectation_is_located_and_update_restores_the_file(n2017_copy: Path):
    original = n2017_copy.read_text(encoding="utf-8")
    # the 85% case: 850,000 yuan / 500 pupils = 1700 yuan, tolerated (hand-computed)
    value_line = line_of(original, "values.equipment_value_per_student = 1700")
    status_line = line_of(original, 'indicators.equipment_value_per_student = "容许"')
    case_line = line_of(original, 'name = "一项恰为要求的85%，其余六项达标 / one indicator at exactly 85%, six met"') - 1
    wrong = original.replace("values.equipment_value_per_student = 1700", "values.equipment_value_per_student = 1701") \
        .replace('indicators.equipment_value_per_student = "容许"', 'indicators.equipment_value_per_student = "达标"')
    n2017_copy.write_text(wrong, encoding="utf-8")

    r = run(str(n2017_copy), "--lang", "en", "--no-coverage")
    assert r.exit_code == int(ExitCode.TESTS_FAILED), r.output
    assert f"FAIL  {n2017_copy}:{case_line}" in r.output
    assert f"{n2017_copy}:{value_line}: school 'S1' values.equipment_value_per_student: expected 1701, got 1700" in r.output
    assert f"{n2017_copy}:{status_line}: school 'S1' indicators.equipment_value_per_student: expected met, got tolerated" \
        in r.output
    assert "1 failed" in r.output

    zh = run(str(n2017_copy), "--no-coverage")
    assert f"{n2017_copy}:{status_line}: 学校 “S1” indicators.equipment_value_per_student：预期 达标（met），实际 容许（tolerated）" \
        in zh.output

    u = run(str(n2017_copy), "--update", "--no-coverage")
    assert u.exit_code == 0, u.output
    # only the two values changed back, in the author's wording; comments and layout untouched
    assert n2017_copy.read_text(encoding="utf-8") == original
    again = run(str(n2017_copy), "--no-coverage", "--lang", "en")
    assert again.exit_code == 0 and "0 failed" in again.output


def test_update_keeps_precision_and_percent_form(tmp_path: Path):
    f = tmp_path / "qiantang-2022.test.toml"
    f.write_text(
        "year = 2024\n"
        "[county_defaults]\n" + _qiantang_county() +
        "\n[[case]]\nname = \"p\"\n\n[[case.expect]]\ncounty = \"QT\"\n"
        "values.t02_excellent_senior = \"81.5%\"   # keep this comment\n"
        "values.t01_good_youth = 2300\n",
        encoding="utf-8",
    )
    r = run(str(f), "--lang", "en", "--no-coverage")
    assert r.exit_code == 6
    assert "expected 81.5%, got 0.8" in r.output
    run(str(f), "--update")
    text = f.read_text(encoding="utf-8")
    assert 'values.t02_excellent_senior = "80.0%"   # keep this comment\n' in text
    assert "values.t01_good_youth = 2200\n" in text
    assert run(str(f), "--no-coverage").exit_code == 0


def test_record_fills_in_a_case_written_as_data_only(tmp_path: Path):
    src = N2017_TESTS.read_text(encoding="utf-8")
    head = src[: src.index("[[case]]")]
    f = tmp_path / "national-2017.test.toml"
    f.write_text(head + '[[case]]\nname = "new"\n\n[[case.school]]\n"学校代码" = "S1"\n"教学仪器设备值" = 850000\n'
                 '\n[[case]]\nname = "partly stated"\n\n[[case.school]]\n"学校代码" = "S1"\n\n'
                 '[[case.expect]]\nschool = "S1"\npass = true\n', encoding="utf-8")
    r = run(str(f), "--update", "--record", "--no-coverage")
    assert r.exit_code == 0, r.output
    text = f.read_text(encoding="utf-8")
    # hand-computed: 1700 yuan per pupil is 85% of 2000, so tolerated, and the school passes
    assert 'indicators.equipment_value_per_student = "tolerated"' in text
    assert text.count('school = "S1"') == 2
    assert 'county = "C1"' in text and 'verdict = "met"' in text
    assert "pass = true" in text and text.count("[[case.expect]]") == 3
    again = run(str(f), "--no-coverage", "--lang", "en")
    assert again.exit_code == 0, again.output
    # every recorded expectation is checked: breaking one is noticed
    f.write_text(text.replace('indicators.equipment_value_per_student = "tolerated"',
                              'indicators.equipment_value_per_student = "met"'), encoding="utf-8")
    assert run(str(f), "--no-coverage").exit_code == 6


def test_inline_and_sub_table_forms_are_located_and_updated(tmp_path: Path):
    src = N2017_TESTS.read_text(encoding="utf-8")
    f = tmp_path / "national-2017.test.toml"
    f.write_text(src[: src.index("[[case]]")] + '[[case]]\nname = "forms"\n\n[[case.school]]\n"学校代码" = "S1"\n'
                 '"教学仪器设备值" = 850000\n\n[[case.expect]]\nschool = "S1"\n'
                 'indicators = { equipment_value_per_student = "met", pe_art_teachers_per100 = "met" }\n\n'
                 '[case.expect.values]\nequipment_value_per_student = 1701   # note\n"pe_art_teachers_per100" = 1.0\n',
                 encoding="utf-8")
    text = f.read_text(encoding="utf-8")
    inline = line_of(text, 'indicators = { equipment_value_per_student = "met", pe_art_teachers_per100 = "met" }')
    sub = line_of(text, "equipment_value_per_student = 1701   # note")
    r = run(str(f), "--lang", "en", "--no-coverage")
    assert f"{f}:{inline}: school 'S1' indicators.equipment_value_per_student: expected met, got tolerated" in r.output
    assert f"{f}:{sub}: school 'S1' values.equipment_value_per_student: expected 1701, got 1700" in r.output
    assert run(str(f), "--update").exit_code == 0
    assert f.read_text(encoding="utf-8") == text.replace('{ equipment_value_per_student = "met"',
                                                         '{ equipment_value_per_student = "tolerated"') \
        .replace("= 1701   # note", "= 1700   # note")


def test_record_needs_update():
    r = run(str(N2017_TESTS), "--record")
    assert r.exit_code == int(ExitCode.USAGE)


# ---------------------------------------------------------------------------- coverage


def test_coverage_lists_statuses_never_exercised(tmp_path: Path):
    src = N2017_TESTS.read_text(encoding="utf-8")
    head = src[: src.index("[[case]]")]
    f = tmp_path / "national-2017.test.toml"
    f.write_text(head + '[[case]]\nname = "all met"\n\n[[case.school]]\n"学校代码" = "S1"\n', encoding="utf-8")
    r = run(str(f), "--lang", "en")
    assert r.exit_code == 0
    line = next(x for x in r.output.splitlines() if x.startswith("  uncovered indicator"))
    assert "never not_met, tolerated; seen met" in line and "teachers_above_degree_per100" in line
    assert "uncovered verdict (never not_met; seen met): overall" in r.output
    assert "coverage: national-2017: 0 of 41" in r.output

    # the whole shipped file exercises every status of every declaration
    full = run(str(N2017_TESTS), "--lang", "en")
    assert "coverage: national-2017: 41 of 41" in full.output
    assert "uncovered" not in full.output

    zh = run(str(f))
    assert "未覆盖 结论（从未出现 未达标（not_met）；已出现 达标）：overall" in zh.output
    assert "uncovered" not in run(str(f), "--lang", "en", "--no-coverage").output


# ---------------------------------------------------------------------------- years


def _qiantang_county() -> str:
    text = (RULESETS / "tests" / "qiantang-2022.test.toml").read_text(encoding="utf-8")
    block = text[text.index("[county_defaults]") + len("[county_defaults]\n"):]
    return block[: block.index("\n\n")] + "\n"


def test_year_from_option_file_or_case(tmp_path: Path):
    f = tmp_path / "qiantang-2022.test.toml"
    body = ("[county_defaults]\n" + _qiantang_county() +
            '\n[[case]]\nname = "2100"\n\n[[case.county]]\n"区县代码" = "QT"\n"新培养“钱塘好少年”人数" = 2100\n\n'
            '[[case.expect]]\ncounty = "QT"\nitems.t01_good_youth = "met"\n')
    f.write_text(body, encoding="utf-8")
    assert run(str(f), "--year", "2023", "--no-coverage").exit_code == 0  # target 2100
    r = run(str(f), "--year", "2024", "--no-coverage", "--lang", "en")  # target 2200
    assert r.exit_code == 6 and "expected met, got not_met" in r.output
    r = run(str(f), "--no-coverage", "--lang", "en")
    assert r.exit_code == 6 and "choose one with --year" in r.output
    f.write_text(body.replace('name = "2100"', 'name = "2100"\nyear = 2023'), encoding="utf-8")
    assert run(str(f), "--year", "2024", "--no-coverage").exit_code == 0  # the case's own year wins


# ---------------------------------------------------------------------------- bad files


def _bad(tmp_path: Path, text: str | bytes, *args: str):
    f = tmp_path / "bad.test.toml"
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text, encoding="utf-8")
    r = run(str(f), *args)
    assert r.exit_code == int(ExitCode.DATA), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    return f, r.output


def test_bad_toml_is_located_with_a_hint(tmp_path: Path):
    f, out = _bad(tmp_path, 'standard = "national-2017"\n[[case]]\nname = "x"\n[[case.school]]\n学校代码 = "S1"\n')
    assert f"{f}:5:1: 错误[test_syntax]" in out
    assert '中文键名须加英文双引号' in out
    _, out = _bad(tmp_path, 'standard = "national-2017"\n[[case]]\nname = x\n', "--lang", "en")
    assert f"{f}:3:8: error[test_syntax]: TOML syntax error" in out
    assert "text values need quotes" in out


def test_bad_expectations_are_all_located(tmp_path: Path):
    f, out = _bad(tmp_path, 'standard = "national-2017"\n[[case]]\nname = "x"\n[[case.school]]\n"学校代码" = "S1"\n'
                            '[[case.expect]]\nschool = "S1"\nindicators.backbone_teachers_per100 = "good"\nvalues.x = "abc"\n'
                            '[[case.expect]]\nverdict = "met"\n[[case.expect]]\ncounty = "C1"\nbalance.middle.x = "met"\n'
                            'foo = 1\n', "--lang", "en")
    assert f"{f}:8:1: error[test_bad_value]: the expectation indicators.backbone_teachers_per100 = 'good' is not a status" in out
    assert f"{f}:9:1: error[test_bad_value]: the expectation values.x = 'abc' is not a number" in out
    assert f"{f}:10:1: error[test_no_target]" in out
    assert f"{f}:14:1: error[test_bad_value]: invalid stage 'middle'" in out
    assert f"{f}:15:1: error[test_unknown_key]: unknown key 'foo' in a county expectation" in out


def test_unknown_names_are_located_with_a_suggestion(tmp_path: Path):
    f, out = _bad(tmp_path, 'standard = "national-2017"\n[[case]]\nname = "x"\n[[case.expect]]\nschool = "S1"\n'
                            'indicators.teachers_above_degree_per10 = "met"\n\n[[case.expect]]\ncounty = "C1"\n'
                            'items.guarantee_99 = "met"\n')
    assert f"{f}:6:1: 错误[test_unknown_name]: 标准 national-2017 没有名为 “teachers_above_degree_per10” 的指标" in out
    assert "是否想写 “teachers_above_degree_per100”" in out
    assert f"{f}:10:1: 错误[test_unknown_name]" in out


def test_unreadable_or_empty_files_and_unknown_standard(tmp_path: Path):
    _, out = _bad(tmp_path, b"\xff\xfe\x00", "--lang", "en")
    assert "not UTF-8" in out
    _, out = _bad(tmp_path, "", "--lang", "en")
    assert "no test cases" in out
    f, out = _bad(tmp_path, 'standard = "nope-2017"\n[[case]]\nname = "x"\n', "--lang", "en")
    assert f"{f}:1:1: error[test_unknown_standard]" in out and "national-2017" in out


def test_missing_path_is_a_usage_error(tmp_path: Path):
    r = run(str(tmp_path / "nothere.test.toml"))
    assert r.exit_code == int(ExitCode.USAGE)
    lonely = tmp_path / "lonely.qbe"
    lonely.write_text("standard lonely {}\n", encoding="utf-8")
    r = run(str(lonely), "--lang", "en")
    assert r.exit_code == int(ExitCode.USAGE) and "has no tests" in r.output


def test_ruleset_errors_exit_3(tmp_path: Path):
    (tmp_path / "broken.qbe").write_text("standard broken {\n  title \"x\"\n}\nindicator a \"A\" { value = nope }\n",
                                         encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "broken.test.toml").write_text('[[case]]\nname = "x"\n', encoding="utf-8")
    r = run(str(tmp_path / "broken.qbe"), "--lang", "en")
    assert r.exit_code == int(ExitCode.RULESET), r.output
    assert "broken.qbe:4" in r.output


def test_data_problems_in_a_case_point_at_the_row(tmp_path: Path):
    src = N2017_TESTS.read_text(encoding="utf-8")
    head = src[: src.index("[[case]]")]
    f = tmp_path / "national-2017.test.toml"
    f.write_text(head + '[[case]]\nname = "typo"\n\n[[case.school]]\n"学校代码" = "S1"\n"在校学生" = 600\n"班级数" = "十二"\n',
                 encoding="utf-8")
    text = f.read_text(encoding="utf-8")
    row_line = line_of(text, '"学校代码" = "S1"') - 1
    r = run(str(f), "--lang", "en", "--no-coverage")
    assert r.exit_code == 6
    assert f"{f}:{row_line}: column '在校学生' is not a column of this standard" in r.output
    assert f"{f}:{row_line}: data error:" in r.output and "班级数" in r.output
    # a stated number of data errors turns them into an expectation
    f.write_text(text.replace('"在校学生" = 600\n', "").replace('name = "typo"', 'name = "typo"\ndata_errors = 1'),
                 encoding="utf-8")
    assert run(str(f), "--no-coverage").exit_code == 0


def test_reading_keeps_lines_of_cases_and_expectations():
    tf = read_test_file(N2017_TESTS)
    text = N2017_TESTS.read_text(encoding="utf-8").splitlines()
    assert len(tf.cases) == 18
    for case in tf.cases:
        assert text[case.line - 1].strip() == "[[case]]"
        for t in case.targets:
            assert text[t.line - 1].strip() == "[[case.expect]]"
            for e in t.expectations:
                assert text[e.line - 1].split("=")[0].strip() == ".".join(x for x in (e.path[0], *e.path[1:]) if x) \
                    or e.path[0] in ("balance", "cv")


# ---------------------------------------------------------------------------- properties


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=5))
def test_a_number_matches_to_the_decimals_written(x: float, d: int):
    written = round(x, d)  # as TOML hands it over: 4.20 arrives as 4.2, so it counts one decimal
    e = Expectation(("values", "v"), float(written), written, 1, 1)
    half = 0.5 * 10.0 ** (-decimals(written))
    assert _matches(e, written)
    assert _matches(e, written + 0.8 * half) and _matches(e, written - 0.8 * half)
    assert not _matches(e, written + 1.2 * half) and not _matches(e, written - 1.2 * half)
    assert not _matches(e, None)
    as_percent = Expectation(("values", "v"), 0.855, "85.5%", 1, 1)  # three decimals of the fraction
    assert _matches(as_percent, 0.8554) and not _matches(as_percent, 0.8556)


@given(st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), min_size=1, max_size=3),
       st.sampled_from(["", " ", "  "]))
def test_parse_key_reads_dotted_keys(parts: list[str], pad: str):
    line = pad + ".".join(parts) + pad + "=" + ' "met"'
    got = parse_key(line)
    assert got is not None and got[0] == tuple(parts)
    quoted = ".".join(f'"{p}"' for p in parts) + " = 1"
    assert parse_key(quoted)[0] == tuple(parts)
