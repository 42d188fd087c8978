"""The report's fast paths against the straightforward ones they replace, object for object and byte for byte.

Building the report at national scale column by column (``rows_at``,
``_checks_at``, ``_aggregates``, the row findings worded from columns) and
encoding its shell with orjson (``compact_json``) must give exactly what the
per-entity code (``Evaluation.row``, ``_check_at``) and ``json.dumps`` give.
The references here are that per-entity code, written out plainly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, row, run_rows
from qbe.default_plugins.writers import json_writer
from qbe.default_plugins.writers.json_writer import JsonWriter, compact_json
from qbe.results.assemble import STAGE_KEYS, _check_at
from qbe.results.fastjson import rows_json, school_checks_json
from qbe.results.findings import (
    STAGE_EN,
    STAGE_ZH,
    _check_finding,
    _context,
    _excess,
    _num_cached,
    _simple,
    _st_zh,
    pct_floor,
)

ROOT = Path(__file__).resolve().parents[1]


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ------------------------------------------------------------------------------ references


def reference_row_findings(ev, rows: list[dict]) -> list[dict]:
    """The row part of a county's findings, worded from the row objects (as it was before columns)."""
    labels, _, rule, rule_label, _ = _context(ev)
    num = _num_cached
    out = []
    for r in rows:
        where = f"{r['school_name'] or r['school_code']}（{STAGE_ZH.get(r['stage'] or '', r['stage'])}）"
        where_en = f"{r['school_name'] or r['school_code']} ({STAGE_EN.get(r['stage'] or '', r['stage'])})"
        for ind, res in r["indicators"].items():
            if res["status"] not in ("not_met", "tolerated"):
                continue
            d = labels[ind]
            unit = d.unit or ""
            p = pct_floor(res["ratio"]) if res["ratio"] is not None else None
            base_zh = f"{where}{d.label} {num(res['value'])} {unit}，为要求（{num(res['required'])}）的{p}%"
            base_en = f"{where_en} {ind} {num(res['value'])} {unit}, {p}% of the requirement ({num(res['required'])})"
            if res["status"] == "tolerated":
                zh = f"{base_zh}，未100%达标，但符合“{rule_label}”条件"
                en = f"{base_en}: not fully met, but within the rule '{rule}'"
            else:
                passes = r["status"] == "met"
                zh = base_zh + ("，未达标" + ("" if passes else f"，不符合“{rule_label}”条件"))
                en = base_en + (": not met" + ("" if passes else f", and the rule '{rule}' is not satisfied"))
            out.append({"kind": "indicator", "item": ind, "label": d.label, "status": res["status"],
                        "school_code": r["school_code"], "school_name": r["school_name"], "stage": r["stage"],
                        "value": res["value"], "required": res["required"], "ratio": res["ratio"], "rule": rule,
                        "text_zh": zh, "text_en": en})
        if r["status"] == "not_assessed" and r["errors"]:
            out.append(_simple("data", "row", "数据有误", "not_assessed", r,
                               f"{where}数据有误，未能评估（{len(r['errors'])} 处）",
                               f"{where_en}: data errors, not assessed ({len(r['errors'])})"))
        for cid, c in r["checks"].items():
            if c["status"] == "not_met":
                d = labels[cid]
                extra_zh, extra_en = _excess(c, d.unit)
                shown = "" if c["value"] is None else f" {num(c['value'])}{d.unit or ''}"
                out.append(_check_finding(cid, {**c, "label": d.label}, r, f"{where}{d.label}{shown}{extra_zh}",
                                          f"{where_en} {cid} {num(c['value'])}{extra_en}"))
    return out


def reference_school_findings(ev, schools: list[dict]) -> list[dict]:
    """The school part of a county's findings, worded from the school objects (``school_checks``)."""
    labels, _, _, _, related = _context(ev)
    num = _num_cached
    out = []
    for s in schools:
        who = s["school_name"] or s["school_code"]
        for cid, c in s["checks"].items():
            if c["status"] != "not_met":
                continue
            d = labels[cid]
            extra_zh, extra_en = _excess(c, d.unit)
            # unjudged checks about the same figures, unless also not met
            theirs = [(other, s["checks"][other]["status"]) for other in related.get(cid, ())]
            ctx_zh = "".join(f"（{labels[o].label}）" if st == "met" else f"（{labels[o].label}：{_st_zh(st)}）"
                             for o, st in theirs if st != "not_met")
            ctx_en = "".join(f"; {o}: {st}" for o, st in theirs if st != "not_met")
            shown = "" if c["value"] is None else f" {num(c['value'])}{d.unit or ''}"
            out.append(_check_finding(cid, {**c, "label": d.label}, {**s, "stage": None},
                                      f"{who}{d.label}{shown}{extra_zh}{ctx_zh}",
                                      f"{who} {cid}{'' if c['value'] is None else ' ' + num(c['value'])}{extra_en}"
                                      f"{ctx_en}"))
    return out


def reference_aggregate(ev, d, c: int) -> dict:
    """One county's aggregate result, group by group."""
    fr = ev.frame
    if ev.decl(d.name).level == "county":
        return {"all": _check_at(d, ev._check_arrays(d, "county"), c, full=True)}
    a = ev._check_arrays(d, "cs")
    out = {}
    for g in np.nonzero(fr.cs_county == c)[0].tolist():
        stage = int(fr.cs_stage[g])
        if 0 <= stage < len(STAGE_KEYS):
            out[STAGE_KEYS[stage]] = _check_at(d, a, g, full=True)
    return out


def assert_fast_paths_equal(ev, report: dict) -> None:
    """Every fast path of ``ev`` against its reference."""
    fr, m = ev.frame, ev.model
    by_row = ev.issues_by_row
    # rows: all of them, and an unordered subset with repeats
    assert ev.rows_at(np.arange(fr.n), by_row) == [ev.row(i, by_row.get(i)) for i in range(fr.n)]
    some = [fr.n - 1, 0, fr.n - 1] if fr.n else []
    assert ev.rows_at(some, by_row) == [ev.row(i, by_row.get(i)) for i in some]
    # every judged declaration at every level it has, plain and with label, part and source
    for d in m.decls.values():
        if d.kind not in ("check", "item", "aggregate"):
            continue
        level = ev.decl(d.name).level
        a = ev._check_arrays(d, level)
        idx = list(range(fr.size(level)))
        for full in (False, True):
            assert ev._checks_at(d, a, idx, full) == [_check_at(d, a, i, full) for i in idx], d.name
        if d.kind == "aggregate":
            assert ev._aggregates(d) == [reference_aggregate(ev, d, c) for c in range(fr.n_county)]
    # the notable rows' objects, made when asked, are those of Evaluation.row
    notable = ev.notable_rows().tolist()
    for c in report["counties"]:
        expected = [ev.row(i, by_row.get(i)) for i in notable if ev.row_columns()["county_code"][i] == c["county_code"]]
        assert ev.notable_by_county(c["county_code"]) == expected
        # the findings worded from columns are those worded from the row objects, then the school objects
        # (the report's school_checks), first in the county's list
        schools = [s for s in report["school_checks"] if s["county_code"] == c["county_code"]]
        known = reference_row_findings(ev, expected) + reference_school_findings(ev, schools)
        assert c["findings"][: len(known)] == known
    # the shell encodes as json.dumps does
    assert compact_json(report) == dumps(report).encode("utf-8")
    # the counties laid out from the evaluation are the dicts' counties, encoded
    assert b"".join(bytes(p) for p in json_writer._counties(ev)) == dumps(report["counties"]).encode("utf-8")
    assert ev.to_dict(include_rows=False, counties=False)["counties"] == []


# ------------------------------------------------------------------------------ generated data

amount = st.one_of(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.sampled_from([0, 1, "abc", None]))
schools = st.lists(
    st.fixed_dictionaries(
        {
            "students": st.one_of(st.integers(min_value=1, max_value=3000), st.sampled_from([0, "x"])),
            "teachers_above_degree": amount,
            "teaching_area_m2": amount,
            "sports_area_m2": amount,
            "equipment_value_yuan": amount,
            "multimedia_rooms": amount,
            "design_capacity": amount,
            "stage": st.sampled_from(["primary", "junior"]),
            "county": st.sampled_from(["990001", "990002", "990003"]),
            "school_name": st.sampled_from(["甲校", "", 'q"uote\\', "换行\n"]),
        }
    ),
    min_size=1,
    max_size=12,
)


def _rows_of(drawn: list[dict]) -> list[dict]:
    out = []
    for j, s in enumerate(drawn):
        over = {k: v for k, v in s.items() if k not in ("county", "school_name") and v is not None}
        over.update(county_code=s["county"], school_code=f"S{j:03d}", school_name=s["school_name"],
                    school_type=s["stage"], county_name="测试县")
        out.append(row(**over))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(schools)
def test_fast_paths_equal_the_straightforward_ones_on_generated_schools(national, drawn):
    rows = _rows_of(drawn)
    counties = [GOOD_COUNTY, {**GOOD_COUNTY, "county_code": "990002", "satisfaction_rate": 0.5}]
    ev, report = run_rows(national, rows, counties, allow_errors=True)
    assert_fast_paths_equal(ev, report)


def test_fast_paths_hold_on_a_shortfall_of_every_kind(national):
    rows = [
        row(),
        row(school_code="S002", teaching_area_m2=4300),  # tolerated
        row(school_code="S003", teaching_area_m2=2000, sports_area_m2=1000),  # not met, with remedies
        row(school_code="S004", students="abc"),  # data error: not assessed
        row(school_code="S005", students=3000, design_capacity=1000),  # over capacity: a school check
        row(school_code="S006", county_code="990002", school_name="", teachers_above_degree=1),
    ]
    ev, report = run_rows(national, rows, [GOOD_COUNTY], allow_errors=True)
    kinds = {f["kind"] for c in report["counties"] for f in c["findings"]}
    assert {"indicator", "data"} <= kinds
    statuses = {f["status"] for c in report["counties"] for f in c["findings"] if f["kind"] == "indicator"}
    assert statuses == {"not_met", "tolerated"}
    assert_fast_paths_equal(ev, report)


@pytest.mark.parametrize("std", ["national-2017", "national-2019", "hebei-2017", "shenyang-2024", "zhejiang-2020",
                                 "qiantang-2022", "preschool-2020"])
def test_fast_paths_hold_on_every_bundled_example(std):
    ev, report = _example(std)
    assert_fast_paths_equal(ev, report)


def _example(std: str):
    from qbe import pipeline

    folder = ROOT / "rulesets" / "examples" / std
    schools_file = next(p for p in folder.iterdir() if p.name.startswith("schools"))
    counties_file = next((p for p in folder.iterdir() if p.name.startswith("counties")), None)
    result = pipeline.run(std, str(schools_file), str(counties_file) if counties_file else None, formats=[],
                          year=2023 if std == "qiantang-2022" else None)
    return result.evaluation, result.report


# ------------------------------------------------------------------------------ the JSON shell

odd_floats = st.sampled_from([5e-05, 1e-07, 4.44938361832e-05, 1e16, 1e22, -1e-300, 0.0001, 9999999999999998.0, -0.0])
leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), odd_floats,
    st.text(), st.sampled_from(["sha256:1b832e53de0e5", "0.00001", ":1e5,", "\x00\x1f\u2028"]),
)
json_like = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, min_size=64, max_size=80),  # written element by element
        st.dictionaries(st.text(max_size=5), inner, max_size=5),
        st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none()), inner, max_size=3),  # keys json converts
    ),
    max_leaves=150,
)


_finite = st.floats(allow_nan=False, allow_infinity=False)
_item = st.one_of(
    _finite,
    st.sampled_from([1e-7, 5e-05, 1e16, 0.1, -2.5e-300]),  # numbers orjson writes in another form, and not
    st.dictionaries(st.text(max_size=3), st.one_of(_finite, st.text(max_size=4), st.none()), max_size=3),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_item, min_size=64, max_size=90))
def test_long_lists_are_written_in_chunks_with_the_same_bytes(items):
    # lists of 64+ items go element by element, CHUNK_ITEMS at a time: 7 here, so chunk edges fall
    # everywhere, numbers in another form (1e-07, 1e+16) included
    old = json_writer.CHUNK_ITEMS
    json_writer.CHUNK_ITEMS = 7
    try:
        assert compact_json(items) == dumps(items).encode("utf-8")
        assert compact_json({"counties": items, "n": 1e-7}) == dumps({"counties": items, "n": 1e-7}).encode("utf-8")
    finally:
        json_writer.CHUNK_ITEMS = old


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_compact_json_is_json_dumps(obj):
    assert compact_json(obj) == dumps(obj).encode("utf-8")


def test_compact_json_without_orjson_is_json_dumps(monkeypatch):
    monkeypatch.setattr(json_writer, "_orjson", None)
    obj = {"a": [1e16, 5e-05, "中"], "b": {"c": None}}
    assert compact_json(obj) == dumps(obj).encode("utf-8")


def test_a_number_in_another_form_sends_only_its_element_to_the_standard_library(monkeypatch):
    if json_writer._orjson is None:
        pytest.skip("orjson not installed")
    seen = []
    real = json_writer._stdlib
    monkeypatch.setattr(json_writer, "_stdlib", lambda o: seen.append(o) or real(o))
    counties = [{"code": str(i), "cv": 0.25, "share": 0.5} for i in range(100)]
    counties[37]["share"] = 4.4e-05
    out = compact_json({"counties": counties, "hash": "sha256:9e5"})
    assert out == dumps({"counties": counties, "hash": "sha256:9e5"}).encode()
    assert b'"share":4.4e-05' in out
    assert seen == [4.4e-05, "sha256:9e5"]


def test_a_streamed_report_is_the_shell_with_the_arrays_in_place(national):
    """Above 2,000 rows the writer streams: the bytes must be those of json.dumps with the arrays put in."""
    rows = [row(school_code=f"S{i:04d}", county_code=f"99000{i % 3 + 1}", teaching_area_m2=4300 if i % 7 == 0 else 5000,
                teachers_above_degree=1e-05 if i == 5 else 50) for i in range(2100)]
    ev, _ = run_rows(national, rows, [GOOD_COUNTY])
    report = ev.to_dict(include_rows=False)
    got = b"".join(bytes(p) for p in JsonWriter().render(ev, report))
    shell = dict(report)
    shell["schools"], shell["school_checks"] = "\x00S\x00", "\x00C\x00"
    text = dumps(shell)
    head, rest = text.split(dumps("\x00S\x00"), 1)
    middle, tail = rest.split(dumps("\x00C\x00"), 1)
    expected = (head.encode() + b"[" + b"".join(rows_json(ev, ev.issues_by_row).blocks()) + b"]" + middle.encode()
                + b"[" + b"".join(school_checks_json(ev).blocks()) + b"]" + tail.encode() + b"\n")
    assert got == expected
    parsed = json.loads(got)
    assert len(parsed["schools"]) == 2100 and parsed["counties"][0]["findings"]
    # the dict leaves both per-row and per-school objects out; the written report has every one
    assert report["schools"] == [] and report["school_checks"] == []
    assert parsed["school_checks"] == json.loads(dumps(ev._schools())) and len(parsed["school_checks"]) == 2100


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["", "甲县", "乙县", "丙县"])), min_size=1, max_size=30))
def test_a_countys_name_is_its_first_named_row(rows):
    """``_county_names``: the name on a county's first row that has one (None for a county without),
    as a plain loop over the rows finds it."""
    from types import SimpleNamespace

    from qbe.results.assemble import Evaluation

    codes = np.array([c for c, _ in rows])
    names = np.array([n for _, n in rows], dtype=object)
    n_county = int(codes.max()) + 1
    frame = SimpleNamespace(n=len(rows), n_county=n_county, row_county=codes, counties=None,
                            rows=SimpleNamespace(columns={"county_name": names}))  # fmt: skip
    want: list = [None] * n_county
    for c, name in rows:
        if want[c] is None and name:
            want[c] = name
    assert Evaluation._county_names(SimpleNamespace(frame=frame)) == want
