"""The bundled fictional county reproduces the findings of the self-evaluation it imitates.

Seed report (2021): teaching area at 86% and 89% of the requirement in two primary
schools, tolerated by the 6-of-7/85% rule; two schools over the size limit
(2661 pupils: 661 over 2000; a nine-year school of 3224 pupils: 724 over the
2017 limit of 2500), both within design capacity; everything else met.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from qbe.cli import main


def demo_report(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--format", "terminal,json,markdown", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    return res, json.loads((tmp_path / "national-2017.json").read_text(encoding="utf-8"))


def test_demo_shape_and_findings(tmp_path):
    res, rep = demo_report(tmp_path)
    schools = rep["schools"]
    assert len(schools) == 35  # 16 primary + 7 junior + 6 nine-year × 2 stages
    assert len({s["school_code"] for s in schools}) == 29
    assert sum(s["students"] for s in schools) == 41085
    assert all(s["pass"] is True for s in schools)
    tolerated = {s["school_name"]: s["indicators"]["teaching_area_per_student"]
                 for s in schools if s["indicators"]["teaching_area_per_student"]["status"] == "tolerated"}
    assert set(tolerated) == {"博雅小学", "长桥小学"}
    assert tolerated["博雅小学"]["ratio"] == 0.86
    assert tolerated["长桥小学"]["ratio"] == 0.89
    (county,) = rep["counties"]
    assert county["county_name"] == "示例区（虚构）"
    assert county["items"]["guarantee_04"]["status"] == "not_met"
    others = {k: v["status"] for k, v in county["items"].items() if k != "guarantee_04"}
    assert set(others.values()) <= {"met", "not_applicable"}
    assert others["guarantee_06"] == "not_applicable"  # no school under 100 pupils
    for stage in ("primary", "junior"):
        assert len(county["balance"][stage]) == 7
        assert all(b["status"] == "met" for b in county["balance"][stage].values())
    assert county["verdict"] == "not_met"
    sizes = {s["school_name"]: s["checks"]["school_size"] for s in rep["school_checks"]
             if s["checks"]["school_size"]["status"] == "not_met"}
    assert {k: (v["value"], v["excess"]) for k, v in sizes.items()} == {"滨湖实验小学": (2661, 661), "江畔实验学校": (3224, 724)}
    # the Chinese finding, worded like the self-evaluation
    md = (tmp_path / "national-2017.md").read_text(encoding="utf-8")
    assert "尚有二项指标未全面达标" in md
    assert "博雅小学、长桥小学分别达到指标的86%、89%，未100%达标，但符合“每所学校至少6项指标达到要求，余项不低于要求的85%”条件" in md
    assert "滨湖实验小学办学规模 2661人，超过指标661人" in md
    assert "江畔实验学校办学规模 3224人，超过指标724人" in md
    assert md.count("（在校生数未超过学校设计规模）") == 2
    assert "未达标" in res.output and "博雅小学" in res.output


def test_demo_report_records_provenance(tmp_path):
    _, rep = demo_report(tmp_path)
    assert rep["schema_version"] == "1.2"
    assert rep["standard"]["id"] == "national-2017" and rep["standard"]["version"] == 2017
    assert rep["standard"]["ruleset_hash"].startswith("sha256:") and len(rep["standard"]["ruleset_hash"]) == 71
    from qbe import __version__

    assert rep["produced"]["qbe_version"] == __version__


def test_demo_excel_files_give_the_same_verdicts(tmp_path):
    from pathlib import Path

    ex = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"
    out = tmp_path / "x"
    res = CliRunner().invoke(main, ["run", "-s", "national-2017", "-d", str(ex / "schools.xlsx"), "-c",
                                    str(ex / "counties.xlsx"), "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    x = json.loads((out / "national-2017.json").read_text(encoding="utf-8"))
    _, csv_rep = demo_report(tmp_path)
    strip = lambda r: [{k: v for k, v in s.items() if k != "row"} for s in r["schools"]]  # noqa: E731
    assert strip(x) == strip(csv_rep)
    assert x["counties"][0]["items"] == csv_rep["counties"][0]["items"]
