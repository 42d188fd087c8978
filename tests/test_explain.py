"""``qbe explain``: the plain-language trace of every verdict for one school or county.

Golden files hold the demo's traces; regenerate them after a deliberate change with
``QBE_UPDATE_GOLDEN=1 pytest tests/test_explain.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main

GOLDEN = Path(__file__).parent / "golden"
EXAMPLE = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"

CASES = {
    "explain_national-2017_school_boya.txt": ["--example", "--school", "博雅小学"],
    "explain_national-2017_county_999901.txt": ["--example", "--county", "999901"],
}


def explain(*args: str):
    return CliRunner().invoke(main, ["explain", "--standard", "national-2017", *args])


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    res = explain(*CASES[name])
    assert res.exit_code == 0, res.output
    path = GOLDEN / name
    if os.environ.get("QBE_UPDATE_GOLDEN"):
        path.write_text(res.output, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with QBE_UPDATE_GOLDEN=1 once and review it"
    assert res.output == path.read_text(encoding="utf-8")


def _block(text: str, item: str) -> str:
    """The lines of one item's trace (from its ■ line to the next ■ or ▶)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "■" in line and f"{item}" in line)
    end = next((j for j in range(start + 1, len(lines)) if lines[j].lstrip().startswith(("■", "▶", "──"))), len(lines))
    return "\n".join(lines[start:end])


def test_teaching_area_of_boya_is_tolerated_by_the_6_of_7_rule():
    res = explain("--data", str(EXAMPLE / "schools.csv"), "--county-data", str(EXAMPLE / "counties.csv"),
                  "--school", "博雅小学")
    assert res.exit_code == 0, res.output
    block = _block(res.output, "teaching_area_per_student")
    # 3870 m² over 1000 students; 3.87 / 4.5 = 86.0% (rounded down)
    assert "生均教学及辅助用房面积 = teaching_area_staged / students = 3870 / 1000 = 3.87 m²/生" in block
    assert "要求 ≥ 4.5（教督〔2017〕6号 第五条（四） [V]）" in block
    assert "86%" in block
    assert "未达到要求，但按规则容许" in block
    assert "resource_school_pass" in block and "其余 6 项均已达到" in block
    for other in ("每百名学生拥有高于规定学历教师数", "生均体育运动场馆面积", "每百名学生拥有网络多媒体教室数"):
        assert other in block
    assert "不低于 85%" in block
    assert "⚠" not in res.output  # the fast evaluation and the exact one agree


def test_school_by_code_and_one_indicator():
    res = explain("--example", "--school", "9999010003", "--indicator", "teaching_area_per_student")
    assert res.exit_code == 0, res.output
    assert "3870 / 1000 = 3.87" in res.output
    assert "sports_area_per_student" not in res.output


def test_binhu_school_size_is_over_by_661():
    res = explain("--example", "--school", "滨湖实验小学", "--indicator", "school_size")
    assert res.exit_code == 0, res.output
    block = _block(res.output, "school_size")
    assert "sum(students) = 2661 人" in block
    assert "= 2000" in block  # a primary school: the 2000 limit, not the nine-year one
    assert "133%" in block and "超过 661 人" in block
    assert "结论：未达标" in block


def test_county_trace_names_what_decided():
    res = explain("--example", "--county", "999901")
    assert res.exit_code == 0, res.output
    out = res.output
    # county figures substituted into a condition
    assert "180000 ≥ 175000 ✓ 且 performance_pay_approved=是 ✓" in out
    # each CV per stage with its mean and limit
    assert "生均教学及辅助用房面积：差异系数 0.145 ≤ 0.5（均值 5.415，22 所学校）→ 达标" in out
    # the schools behind the failed item, and the verdict with what decided it
    assert "滨湖实验小学 2661 人，为要求的 133%，超过 661 人：未达标" in out
    assert "结论 县域义务教育优质均衡发展督导评估结论（overall）：未达标" in out
    assert "决定结论的是：all of part guarantee" in out
    assert "⚠" not in out


def test_english():
    res = explain("--example", "--school", "博雅小学", "--indicator", "teaching_area_per_student", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert "required ≥ 4.5" in res.output
    assert "at 86% of the requirement" in res.output
    assert "tolerated by the rule" in res.output
    assert "status: below the requirement, but tolerated by a rule" in res.output


def test_unknown_school_suggests_close_matches():
    res = explain("--example", "--school", "博雅小")
    assert res.exit_code == 2
    assert "博雅小学" in res.output
    res = explain("--example", "--school", "博雅小", "--lang", "en")
    assert res.exit_code == 2
    assert "close matches: 博雅小学" in res.output


def test_unknown_county_and_indicator_are_usage_errors():
    res = explain("--example", "--county", "999902")
    assert res.exit_code == 2 and "999901" in res.output
    res = explain("--example", "--school", "博雅小学", "--indicator", "teaching_area")
    assert res.exit_code == 2 and "teaching_area_per_student" in res.output


def test_needs_a_school_or_county():
    res = explain("--example")
    assert res.exit_code == 2


@pytest.mark.parametrize("standard,year,county", [
    ("national-2019", None, "999901"),
    ("hebei-2017", None, "999901"),
    ("preschool-2020", None, "999901"),
    ("qiantang-2022", "2024", "999903"),
    ("shenyang-2024", None, "999902"),
    ("zhejiang-2020", None, "999901"),
])
def test_other_standards_agree_with_the_exact_evaluator(standard, year, county):
    extra = ["--year", year] if year else []
    res = CliRunner().invoke(main, ["explain", "--standard", standard, "--example", "--county", county, *extra])
    assert res.exit_code == 0, res.output
    assert "⚠" not in res.output


def test_a_disagreement_with_the_exact_evaluator_is_shown(monkeypatch):
    from qbe.explain import explain as do_explain
    from qbe.interpreter import Oracle

    original = Oracle.decl

    def skewed(self, name, ent):
        out = original(self, name, ent)
        if name == "teaching_area_per_student":
            out = dict(out, value=out["value"] + 1)
        return out

    monkeypatch.setattr(Oracle, "decl", skewed)
    text = do_explain("national-2017", str(EXAMPLE / "schools.csv"), str(EXAMPLE / "counties.csv"),
                      school="博雅小学", indicator="teaching_area_per_student")
    assert "⚠ 逐行核算得 4.87，与快速计算 3.87 不一致（程序缺陷）" in text


def test_a_trace_reads_only_its_own_rows_and_says_the_same(tmp_path):
    """The exact evaluator is built only for the school's or county's rows; the words are unchanged.

    Two counties (the example and a copy with other codes and one school's teaching area halved)
    are traced both ways: with every row in the exact evaluator, and with only the rows needed.
    """
    import csv

    from qbe.compiler import compile_model
    from qbe.explain import Explainer, trace_text
    from qbe.pipeline import evaluate, load_model, load_table, stage_issues
    from qbe.plugins import registry

    def copy(src: Path, dst: Path, edit) -> None:
        with src.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        out = rows + [edit(dict(r)) for r in rows]
        with dst.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, list(rows[0]))
            w.writeheader()
            w.writerows(out)

    def second_county(r: dict) -> dict:
        r["county_code"] = "999902"
        if "school_code" in r:
            r["school_code"] = "X" + r["school_code"]
            if r["school_name"] == "博雅小学":
                r["teaching_area_m2"] = str(float(r["teaching_area_m2"]) / 2)
        return r

    copy(EXAMPLE / "schools.csv", tmp_path / "s.csv", second_county)
    copy(EXAMPLE / "counties.csv", tmp_path / "c.csv", second_county)
    reg = registry()
    model = load_model("national-2017", reg)
    rows, issues = load_table(str(tmp_path / "s.csv"), model.row_schema(), ("school_code", "stage"), reg)
    counties, c_issues = load_table(str(tmp_path / "c.csv"), model.county_schema(), ("county_code",), reg)
    ev = evaluate(model, rows, counties, issues + c_issues + stage_issues(model, rows), compile_model(model))
    full = Explainer(ev, "zh")
    for c, code in enumerate(["999901", "999902"]):
        assert trace_text(ev, "zh", county=code) == "\n".join([full.heading(), *full.county(c)]).rstrip() + "\n"
    for code in ["9999010003", "X9999010003"]:
        (g,) = full.find_school(code, None)
        got = trace_text(ev, "zh", school=code)
        assert got == "\n".join([full.heading(), *full.school(g)]).rstrip() + "\n"
    assert "未达标" in trace_text(ev, "zh", school="X9999010003")  # the halved area is a shortfall in the copy
    assert len(Explainer(ev, "zh", subset=[0]).oracle.rows) == 1
