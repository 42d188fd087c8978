"""The versioned rulesets national-2019, hebei-2017 and zhejiang-2020 and their examples.

Each ruleset extends national-2017. For each: ``qbe check`` passes, ``qbe run
--example`` gives the differences the ruleset is written for (checked against
values computed by hand from the example CSVs), ``qbe diff`` lists what
changed, the fast evaluator agrees with the row-by-row oracle, and the
committed example CSVs are what their generator scripts produce.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.interpreter import from_tables
from qbe.pipeline import check_file, evaluate, load_model, load_table
from qbe.plugins import registry
from qbe.results.schema import Report

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
EXAMPLES = RULESETS / "examples"
STANDARDS = ["national-2019", "hebei-2017", "zhejiang-2020"]

SMALL_POINT_REASON = "在校生不足50人的教学点，不纳入资源配置指标计算（河北省具体办法）"
SEVEN = [
    "teachers_above_degree_per100", "backbone_teachers_per100", "pe_art_teachers_per100",
    "teaching_area_per_student", "sports_area_per_student", "equipment_value_per_student",
    "multimedia_rooms_per100",
]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def run_json(tmp_path: Path, standard: str, data: str | None = None, example: bool = False,
             expect_exit: int = 0) -> dict:
    """``qbe run`` with the JSON writer; the report as a dict (validated against the schema)."""
    out = tmp_path / f"out-{standard}-{data or 'example'}".replace("/", "_")
    args = ["run", "--standard", standard, "-f", "json", "-o", str(out)]
    if example:
        args.append("--example")
    if data is not None:
        args += ["-d", str(EXAMPLES / data / "schools.csv"), "-c", str(EXAMPLES / data / "counties.csv")]
    res = invoke(*args)
    assert res.exit_code == expect_exit, res.output
    report = json.loads((out / f"{standard}.json").read_text(encoding="utf-8"))
    Report.model_validate(report)
    return report


def rows_of(report: dict, name: str) -> dict[str, dict]:
    """The school's rows in the report, by stage."""
    out = {r["stage"]: r for r in report["schools"] if r["school_name"] == name}
    assert out, name
    return out


def school_check(report: dict, name: str, check: str) -> dict:
    found = [s for s in report["school_checks"] if s["school_name"] == name]
    assert len(found) == 1, name
    return found[0]["checks"][check]


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def weighted_cv(pairs: list[tuple[int, Fraction]]) -> float:
    """X̄ = Σ P·X / Σ P, S = √(Σ P/ΣP · (X − X̄)²), CV = S / X̄ (the 2017 method's CV)."""
    total = sum(p for p, _ in pairs)
    mean = sum(p * x for p, x in pairs) / total
    var = sum(Fraction(p, total) * (x - mean) ** 2 for p, x in pairs)
    return math.sqrt(var) / float(mean)


# ---------------------------------------------------------------------------- all three


@pytest.mark.parametrize("standard", STANDARDS)
def test_check_passes_without_errors(standard):
    path = RULESETS / f"{standard}.qbe"
    model, diags, _ = check_file(path, registry())
    assert model is not None
    assert [d for d in diags if d.is_error] == []
    res = invoke("check", str(path))
    assert res.exit_code == 0, res.output
    assert "0 个错误" in res.output


@pytest.mark.parametrize("standard", STANDARDS)
def test_every_change_states_a_tagged_source(standard):
    model = load_model(standard, registry())
    base = load_model("national-2017", registry())
    assert model.standard.id == standard
    changed = [d for d in model.decls.values() if base.decls.get(d.name) != d]
    assert changed
    for d in changed:
        assert d.source, d.name
        assert d.source_tag in ("V", "S", "R"), (d.name, d.source_tag)


@pytest.mark.parametrize("standard", STANDARDS)
def test_show_traces_to_both_files(standard):
    res = invoke("show", standard)
    assert res.exit_code == 0, res.output
    assert f"files: {standard}.qbe → national-2017.qbe" in res.output


@pytest.mark.parametrize("standard", STANDARDS)
def test_example_listed_and_runs(standard, tmp_path):
    res = invoke("standards")
    assert res.exit_code == 0
    line = next(x for x in res.output.splitlines() if x.startswith(standard + "\t"))
    assert line.endswith("[example]")
    report = run_json(tmp_path, standard, example=True)
    assert report["standard"]["id"] == standard
    assert report["summary"]["rows_with_errors"] == 0
    assert report["errors"] == []


def _oracle_agrees(standard: str, folder: str) -> None:
    reg = registry()
    m = load_model(standard, reg)
    rows, issues = load_table(str(EXAMPLES / folder / "schools.csv"), m.row_schema(), ("school_code", "stage"), reg)
    counties, more = load_table(str(EXAMPLES / folder / "counties.csv"), m.county_schema(), ("county_code",), reg)
    assert not [i for i in issues + more if i.severity == "error"]
    ev = evaluate(m, rows, counties, issues + more)
    fr = ev.frame
    oracle = from_tables(m, fr.rows, fr.counties)
    for d in m.decls.values():
        if d.kind in ("indicator", "rule") or (d.kind == "check" and d.entity == "row"):
            for i in range(fr.n):
                want = oracle.decl(d.name, oracle.row_entity(i))
                assert int(ev.arr(ev.decl(d.name).final, "row")[i]) == int(want["final"]), (d.name, i)
        elif d.kind == "check":
            for j in range(fr.n_school):
                r0 = oracle.rows[int(fr.school_first[j])]
                want = oracle.decl(d.name, oracle.school_entity((r0["county_code"], r0["school_code"])))
                assert int(ev.arr(ev.decl(d.name).final, "school")[j]) == int(want["final"]), (d.name, j)
        elif d.kind in ("item", "verdict"):
            for c in range(fr.n_county):
                want = oracle.decl(d.name, oracle.county_entity(str(fr.county_codes[c])))
                assert int(ev.arr(ev.decl(d.name).final, "county")[c]) == int(want["final"]), (d.name, c)
    bal = ev.decl("resource_cv")
    for g in range(fr.n_cs):
        ent = oracle.cs_entity(str(fr.county_codes[fr.cs_county[g]]), int(fr.cs_stage[g]))
        want = oracle.decl("resource_cv", ent)["balance"]
        for ind, (cv_n, _, _, st_n, _) in bal.balance.items():
            assert math.isclose(ev.arr(cv_n, "cs")[g], want[ind]["cv"], rel_tol=1e-9), (ind, g)
            assert int(ev.arr(st_n, "cs")[g]) == int(want[ind]["status"]), (ind, g)


@pytest.mark.parametrize("standard", STANDARDS)
def test_fast_plan_equals_oracle_on_the_example(standard):
    _oracle_agrees(standard, standard)
    _oracle_agrees("national-2017", standard)


def _generator(folder: str):
    path = EXAMPLES / folder / "make_example.py"
    spec = importlib.util.spec_from_file_location(f"make_example_{folder.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_csv_rows(columns: list[str], records: list[dict]) -> list[dict]:
    return [{c: str(r[c]) for c in columns} for r in records]


@pytest.mark.parametrize("standard", STANDARDS)
def test_example_files_are_what_the_generator_writes(standard):
    gen = _generator(standard)
    if standard == "zhejiang-2020":
        columns, schools, county_columns, counties = gen.build()
        gen.check(schools, counties)
    else:
        columns, schools = gen.build()
        gen.check(schools)
        county_columns, counties = gen.read(gen.BASE / "counties.csv")
    assert read_csv(EXAMPLES / standard / "schools.csv") == _as_csv_rows(columns, schools)
    assert read_csv(EXAMPLES / standard / "counties.csv") == _as_csv_rows(county_columns, counties)


@pytest.mark.parametrize("standard", STANDARDS)
def test_example_readme_says_fictional(standard):
    text = (EXAMPLES / standard / "README.md").read_text(encoding="utf-8")
    assert "虚构" in text and "FICTIONAL" in text


# ---------------------------------------------------------------------------- national-2019


def test_national_2019_school_size_reproduces_seed_000(tmp_path):
    r = run_json(tmp_path, "national-2019", example=True)
    jiangpan = school_check(r, "江畔实验学校", "school_size")
    assert (jiangpan["value"], jiangpan["required"], jiangpan["excess"], jiangpan["status"]) == (3224, 3000, 224, "not_met")
    binhu = school_check(r, "滨湖实验小学", "school_size")
    assert (binhu["value"], binhu["required"], binhu["excess"], binhu["status"]) == (2661, 2000, 661, "not_met")
    # 62% migrant pupils; built 2008; both cells blank → no allowance
    assert school_check(r, "新城小学", "school_size")["required"] == 2400
    assert school_check(r, "东湖小学", "school_size")["required"] == 2400
    assert school_check(r, "示例区第一中学", "school_size")["required"] == 2000
    c = r["counties"][0]
    assert c["verdict"] == "not_met"
    assert c["items"]["guarantee_04"]["status"] == "not_met"
    assert c["items"]["guarantee_03"]["status"] == "met"
    assert c["parts"] == {"resources": "met", "balance": "met", "guarantee": "not_met", "quality": "met",
                          "recognition": "met", "veto": "met"}
    texts = " ".join(f["text_zh"] for f in c["findings"])
    assert "超过指标224人" in texts and "超过指标661人" in texts


def test_national_2019_allowances_on_rows(tmp_path):
    r = run_json(tmp_path, "national-2019", example=True)
    xikou = rows_of(r, "溪口小学")["primary"]
    assert xikou["indicators"]["pe_art_teachers_per100"]["value"] == pytest.approx(1 / 80 * 100)  # (0 + 1) / 80
    assert xikou["indicators"]["pe_art_teachers_per100"]["status"] == "met"
    assert xikou["status"] == "met"
    # 500 pupils: the 2 exchange teachers do not count
    assert rows_of(r, "白鹭小学")["primary"]["indicators"]["pe_art_teachers_per100"]["value"] == pytest.approx(6 / 500 * 100)
    cuiyuan = rows_of(r, "翠苑小学")["primary"]["indicators"]["sports_area_per_student"]
    assert cuiyuan["value"] == pytest.approx((7040 + 1500) / 1100)
    assert cuiyuan["status"] == "met"
    # rented ground not in a high-density area does not count
    first = rows_of(r, "示例区第一实验小学")["primary"]["indicators"]["sports_area_per_student"]
    assert first["value"] == pytest.approx(18720 / 1800)
    # 2100 m² filled once on the primary row, apportioned 1 : 1.1 by students
    jinxiu = rows_of(r, "锦绣学校")
    assert jinxiu["primary"]["indicators"]["sports_area_per_student"]["value"] == pytest.approx(
        (11200 + 2100 * 1400 / (1400 + 1.1 * 700)) / 1400)
    assert jinxiu["junior"]["indicators"]["sports_area_per_student"]["value"] == pytest.approx(
        (9800 + 2100 * 1.1 * 700 / (1400 + 1.1 * 700)) / 700)
    assert school_check(r, "东湖小学", "arts_rooms")["status"] == "met"  # 80 / 70 ≥ 73 / 67, built 2008
    assert school_check(r, "溪口小学", "arts_rooms")["status"] == "met"  # 60 / 65 ≥ 54 / 61, rural, class 24
    assert r["counties"][0]["resources"] == {"met": 36}


def test_national_2019_cv_by_hand(tmp_path):
    r = run_json(tmp_path, "national-2019", example=True)
    rows = [x for x in read_csv(EXAMPLES / "national-2019" / "schools.csv") if x["stage"] == "primary"]
    pairs = []
    for x in rows:
        extra = int(x["exchange_pe_art_teachers"] or 0) if x["urban"] == "no" and 50 <= int(x["students"]) <= 99 else 0
        pairs.append((int(x["students"]), Fraction(int(x["pe_art_teachers"]) + extra, int(x["students"])) * 100))
    got = r["counties"][0]["balance"]["primary"]["pe_art_teachers_per100"]
    assert got["schools"] == len(pairs) == 23
    assert got["cv"] == pytest.approx(weighted_cv(pairs), rel=1e-9)


def test_same_data_under_national_2017(tmp_path):
    r = run_json(tmp_path, "national-2017", data="national-2019")
    jiangpan = school_check(r, "江畔实验学校", "school_size")
    assert (jiangpan["required"], jiangpan["excess"]) == (2500, 724)
    xikou = rows_of(r, "溪口小学")["primary"]
    assert xikou["indicators"]["pe_art_teachers_per100"]["value"] == 0
    assert xikou["indicators"]["pe_art_teachers_per100"]["status"] == "not_met"
    assert xikou["status"] == "not_met"
    cuiyuan = rows_of(r, "翠苑小学")["primary"]["indicators"]["sports_area_per_student"]
    assert cuiyuan["value"] == pytest.approx(7040 / 1100)
    assert cuiyuan["status"] == "tolerated"
    assert school_check(r, "东湖小学", "arts_rooms")["status"] == "not_met"
    assert school_check(r, "溪口小学", "arts_rooms")["status"] == "not_met"


def test_national_2019_on_old_data_gives_no_allowance(tmp_path):
    """national-2017 data has none of the new columns: it evaluates, with no allowance anywhere."""
    r = run_json(tmp_path, "national-2019", data="national-2017")
    assert r["errors"] == []
    assert school_check(r, "江畔实验学校", "school_size")["excess"] == 724
    assert school_check(r, "滨湖实验小学", "school_size")["excess"] == 661
    old = run_json(tmp_path, "national-2017", data="national-2017")
    for a, b in zip(r["schools"], old["schools"]):
        assert a["indicators"] == b["indicators"]
        assert a["status"] == b["status"]
    assert r["counties"][0]["balance"] == old["counties"][0]["balance"]
    assert r["counties"][0]["verdict"] == old["counties"][0]["verdict"] == "not_met"


def test_migrant_share_bare_60_is_rejected(tmp_path):
    rows = read_csv(EXAMPLES / "national-2019" / "schools.csv")
    for x in rows:
        if x["school_name"] == "滨湖实验小学":
            x["migrant_share"] = "60"
        if x["school_name"] == "新城小学":
            assert x["migrant_share"] == "62%"  # the percent-sign form is accepted
    path = tmp_path / "schools.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "bad"
    res = invoke("run", "-s", "national-2019", "-d", str(path), "-c", str(EXAMPLES / "national-2019" / "counties.csv"),
                 "-f", "json", "-o", str(out))
    assert res.exit_code == 4, res.output
    report = json.loads((out / "national-2019.json").read_text(encoding="utf-8"))
    [err] = report["errors"]
    assert err["code"] == "percent_scale" and err["value"] == "60"
    assert "60%" in err["message_zh"] and "0.6" in err["message_zh"]


def test_diff_national_2019():
    res = invoke("diff", "national-2017", "national-2019")
    assert res.exit_code == 0, res.output
    out = res.output
    for line in [
        "~ pe_art_teachers_per100  value:",
        "~ sports_area_per_student  value:",
        "~ arts_rooms  check:",
        "~ school_size  require all:",
        "~ guarantee_03  label:",
        "~ guarantee_04  label:",
        "+ input built_year  建成年份",
        "+ input migrant_share  随迁子女占比",
        "+ input high_density_city  高密度城区",
        "+ input exchange_pe_art_teachers  交流或兼职体艺教师数",
        "+ input rented_sports_area_m2  租用或屋顶运动场地面积",
    ]:
        assert line in out, line
    assert "teaching_area_per_student" not in out
    assert "then 3000 else 2500" in out


# ---------------------------------------------------------------------------- hebei-2017


def test_hebei_small_teaching_point_is_exempt(tmp_path):
    r = run_json(tmp_path, "hebei-2017", example=True)
    point = rows_of(r, "石门教学点")["primary"]
    for ind in SEVEN:
        res = point["indicators"][ind]
        assert res["status"] == "exempt", ind
        assert res["reason"] == SMALL_POINT_REASON
        # met says whether the value meets the requirement on its own, before the exemption:
        # under national-2017 only its multimedia rooms do
        assert res["met"] is (ind == "multimedia_rooms_per100"), ind
    assert point["indicators"]["teachers_above_degree_per100"]["value"] == pytest.approx(1 / 30 * 100)
    assert point["rules"] == {"resource_school_pass": "not_applicable"}
    assert point["pass"] is None
    # exactly 50 pupils: not "under 50", judged as usual
    ling = rows_of(r, "岭下教学点")["primary"]
    assert all(ling["indicators"][i]["status"] == "met" for i in SEVEN)
    assert ling["status"] == "met"
    c = r["counties"][0]
    assert c["resources"] == {"met": 36, "not_applicable": 1}
    assert c["verdict"] == "met"


def test_hebei_cv_leaves_the_small_point_out(tmp_path):
    hebei = run_json(tmp_path, "hebei-2017", example=True)
    national = run_json(tmp_path, "national-2017", data="hebei-2017")
    rows = [x for x in read_csv(EXAMPLES / "hebei-2017" / "schools.csv") if x["stage"] == "primary"]

    def pairs(keep):
        return [(int(x["students"]), Fraction(int(x["backbone_teachers"]) * 100, int(x["students"])))
                for x in rows if keep(x)]

    h = hebei["counties"][0]["balance"]["primary"]["backbone_teachers_per100"]
    n = national["counties"][0]["balance"]["primary"]["backbone_teachers_per100"]
    assert (h["schools"], n["schools"]) == (23, 24)
    assert h["cv"] == pytest.approx(weighted_cv(pairs(lambda x: x["school_name"] != "石门教学点")), rel=1e-9)
    assert n["cv"] == pytest.approx(weighted_cv(pairs(lambda x: True)), rel=1e-9)
    assert h["cv"] < n["cv"]


def test_hebei_data_under_national_2017_fails_the_point(tmp_path):
    r = run_json(tmp_path, "national-2017", data="hebei-2017")
    point = rows_of(r, "石门教学点")["primary"]
    statuses = {i: point["indicators"][i]["status"] for i in SEVEN}
    assert statuses == {i: ("met" if i == "multimedia_rooms_per100" else "not_met") for i in SEVEN}
    assert point["indicators"]["equipment_value_per_student"]["ratio"] == pytest.approx(1500 / 2000)
    assert point["status"] == "not_met" and point["pass"] is False
    c = r["counties"][0]
    assert c["resources"] == {"met": 36, "not_met": 1}
    assert c["parts"]["resources"] == "not_met"
    assert {k: v for k, v in c["parts"].items() if k != "resources"} == {
        "balance": "met", "guarantee": "met", "quality": "met", "recognition": "met", "veto": "met"}
    assert c["verdict"] == "not_met"


def test_diff_hebei():
    res = invoke("diff", "national-2017", "hebei-2017")
    assert res.exit_code == 0, res.output
    for ind in SEVEN:
        assert f"~ {ind}  exempt: —  →  school_type == teaching_point and students < 50 — {SMALL_POINT_REASON}" in res.output
    assert "~ resource_school_pass  applies: —  →  not (school_type == teaching_point and students < 50)" in res.output
    assert "+ input" not in res.output


# ---------------------------------------------------------------------------- zhejiang-2020


def test_zhejiang_eligibility(tmp_path):
    r = run_json(tmp_path, "zhejiang-2020", example=True)
    assert r["standard"]["parts"]["eligibility"] == "申报条件"
    by_code = {c["county_code"]: c for c in r["counties"]}
    eligible, early = by_code["999901"], by_code["999902"]
    item = eligible["items"]["eligibility_modernisation"]
    assert (item["value"], item["required"], item["status"]) == (2, 1, "met")  # 2021 − 2019
    assert eligible["parts"]["eligibility"] == "met"
    assert eligible["verdict"] == "met"
    item = early["items"]["eligibility_modernisation"]
    assert (item["value"], item["required"], item["status"]) == (0, 1, "not_met")  # 2021 − 2021
    assert early["parts"] == {"resources": "met", "balance": "met", "guarantee": "met", "quality": "met",
                              "recognition": "met", "veto": "met", "eligibility": "not_met"}
    assert early["verdict"] == "not_met"


def test_zhejiang_data_under_national_2017_both_pass(tmp_path):
    r = run_json(tmp_path, "national-2017", data="zhejiang-2020")
    assert [(c["county_code"], c["verdict"]) for c in r["counties"]] == [("999901", "met"), ("999902", "met")]
    assert all("eligibility_modernisation" not in c["items"] for c in r["counties"])


def test_zhejiang_needs_the_years(tmp_path):
    r = run_json(tmp_path, "zhejiang-2020", data="national-2017", expect_exit=4)
    assert {e["code"] for e in r["errors"]} == {"missing_column"}
    c = r["counties"][0]
    assert c["items"]["eligibility_modernisation"]["status"] == "not_assessed"
    assert c["parts"]["eligibility"] == "not_assessed"


def test_diff_zhejiang():
    res = invoke("diff", "national-2017", "zhejiang-2020")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "+ eligibility_modernisation  通过省教育基本现代化县评估满一年" in out
    assert "~ overall  when:" in out and "and all of part eligibility" in out
    assert "+ input basic_modernisation_year" in out and "+ input evaluation_year" in out
    assert "teaching_area_per_student" not in out
