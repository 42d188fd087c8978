"""The fast numpy plan against the slow row-by-row oracle, on generated data.

Hypothesis builds small counties with every school type, values at and near
thresholds, zeros that make a CV undefined, and missing optional inputs; the
two evaluators must give the same status for every indicator, rule, check,
CV and county item, and the same numbers.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import GOOD_COUNTY, run_rows
from qbe.interpreter import from_tables
from qbe.status import Status

TYPES = {
    "primary": ["primary"],
    "junior": ["junior"],
    "nine_year": ["primary", "junior"],
    "twelve_year": ["primary", "junior"],
    "complete_middle": ["junior"],
    "teaching_point": ["primary"],
}
STUDENTS = st.sampled_from([1, 37, 45, 99, 100, 150, 500, 1000, 2000, 2661, 3000])
RATE = st.sampled_from([0, 0.5, 0.85, 0.9, 1, 2.3, 2.4, 4.2, 4.5, 5.3, 5.8, 7.5, 10.2, 12])


@st.composite
def amount(draw, students, scale=1.0):
    """An amount that is sometimes exactly a threshold × students, sometimes anything."""
    how = draw(st.integers(0, 2))
    if how == 0:
        return round(draw(RATE) * students * scale, 2)
    if how == 1:
        return draw(st.integers(0, 5000))
    return round(draw(st.floats(0, 20, allow_nan=False)) * students * scale, 1)


@st.composite
def school(draw, county: str, idx: int):
    stype = draw(st.sampled_from(sorted(TYPES)))
    urban = draw(st.sampled_from(["是", "否"]))
    rows = []
    for stage in TYPES[stype]:
        p = draw(STUDENTS)
        r = {
            "county_code": county,
            "school_code": f"{county}-{idx}",
            "school_name": f"校{idx}",
            "school_type": stype,
            "stage": stage,
            "urban": urban,
            "students": p,
            "classes": draw(st.integers(0, 80)),
            "max_class_size": draw(st.integers(20, 56)),
            "teachers_above_degree": round(draw(amount(p, 0.01))),
            "backbone_teachers": round(draw(amount(p, 0.01))),
            "pe_art_teachers": round(draw(amount(p, 0.01))),
            "teaching_area_m2": draw(amount(p)),
            "sports_area_m2": draw(amount(p)),
            "equipment_value_yuan": draw(amount(p, 1000)),
            "multimedia_rooms": round(draw(amount(p, 0.01))),
            "music_rooms": draw(st.integers(0, 6)),
            "art_rooms": draw(st.integers(0, 6)),
            "music_room_min_area_m2": draw(st.one_of(st.none(), st.sampled_from([60, 96, 110]))),
            "art_room_min_area_m2": draw(st.sampled_from([60, 90, 110])),
            "public_funds_yuan": draw(st.one_of(st.none(), st.integers(0, 200000))),
            "design_capacity": 3000,
            "training_spend_share": 0.05,
        }
        rows.append(r)
    return rows


@st.composite
def dataset(draw):
    rows = []
    counties = []
    for c in range(draw(st.integers(1, 2))):
        code = f"99000{c}"
        for i in range(draw(st.integers(1, 5))):
            rows.extend(draw(school(code, i)))
        if draw(st.booleans()):
            cty = dict(GOOD_COUNTY, county_code=code)
            cty["satisfaction_rate"] = draw(st.sampled_from([0.8, 0.85, 0.9]))
            cty["exam_based_admission"] = draw(st.sampled_from(["是", "否"]))
            cty["rotation_share"] = draw(st.sampled_from([0.05, 0.1, 0.2]))
            counties.append(cty)
    return rows, counties


def close(a, b) -> bool:
    a = None if a is not None and isinstance(a, float) and math.isnan(a) else a
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(dataset())
def test_fast_plan_equals_oracle(national, data):
    rows, counties = data
    ev, rep = run_rows(national, rows, counties or None)
    fr = ev.frame
    oracle = from_tables(national, fr.rows, fr.counties)
    m = national
    # rows: every indicator, check and rule
    for i in range(fr.n):
        ent = oracle.row_entity(i)
        for d in m.decls.values():
            if d.kind in ("indicator", "rule") or (d.kind == "check" and d.entity == "row"):
                want = oracle.decl(d.name, ent)
                o = ev.decl(d.name)
                got = int(ev.arr(o.final, "row")[i])
                assert got == int(want["final"]), (d.name, i, Status(got), want)
                if o.value is not None and d.kind != "rule":
                    assert close(ev.arr(o.value, "row")[i], want["value"]), (d.name, i)
    # schools
    for j in range(fr.n_school):
        r0 = int(fr.school_first[j])
        ent = oracle.school_entity((oracle.rows[r0]["county_code"], oracle.rows[r0]["school_code"]))
        for d in m.decls.values():
            if d.kind == "check" and d.entity == "school":
                got = int(ev.arr(ev.decl(d.name).final, "school")[j])
                assert got == int(oracle.decl(d.name, ent)["final"]), (d.name, j)
    # county × stage balance
    bal = ev.decl("resource_cv")
    for g in range(fr.n_cs):
        county = str(fr.county_codes[fr.cs_county[g]])
        ent = oracle.cs_entity(county, int(fr.cs_stage[g]))
        want = oracle.decl("resource_cv", ent)["balance"]
        for ind, (cv_n, _, _, st_n, _) in bal.balance.items():
            got_cv = ev.arr(cv_n, "cs")[g]
            w = want[ind]
            if w["cv"] is None:
                assert math.isnan(got_cv), (ind, g)
            else:
                assert math.isclose(got_cv, w["cv"], rel_tol=1e-7, abs_tol=1e-9), (ind, g, got_cv, w["cv"])
            assert int(ev.arr(st_n, "cs")[g]) == int(w["status"]), (ind, g)
    # counties: items, parts via verdict
    for c in range(fr.n_county):
        ent = oracle.county_entity(str(fr.county_codes[c]))
        for d in m.decls.values():
            if d.kind in ("item", "verdict"):
                got = int(ev.arr(ev.decl(d.name).final, "county")[c])
                assert got == int(oracle.decl(d.name, ent)["final"]), (d.name, c, Status(got))
    assert len(rep["schools"]) == len(rows)
