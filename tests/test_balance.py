"""The student-weighted coefficient of variation, against the published worked example."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import GOOD_COUNTY, row, run_rows
from qbe.compiler.kernels import weighted_cv

STUDENTS = [45, 37, 89, 76, 55]
BOOKS = [279, 137, 935, 160, 402]


def test_kernel_published_example():
    x = np.array(BOOKS, float) / np.array(STUDENTS, float)
    cv, mean, count = weighted_cv(x, np.array(STUDENTS, float), np.zeros(5, dtype=np.int64), 1)
    assert round(float(cv[0]), 5) == 0.51526
    assert round(float(cv[0]), 2) == 0.52  # as published
    assert mean[0] == pytest.approx(sum(BOOKS) / sum(STUDENTS))
    assert count[0] == 5


def test_unweighted_and_sample_cv_differ_from_the_published_one():
    # the check that the weighting matters: neither of these rounds to the published 0.52
    x = np.array(BOOKS, float) / np.array(STUDENTS, float)
    assert round(float(x.std() / x.mean()), 4) == 0.4888
    assert round(float(x.std(ddof=1) / x.mean()), 4) == 0.5465


def five_schools(amounts, students=STUDENTS):
    rows = []
    for i, (p, b) in enumerate(zip(students, amounts)):
        rows.append(row(school_code=f"C{i}", school_name=f"学校{i}", students=p, equipment_value_yuan=b * 1000,
                        classes=2, teachers_above_degree=5, backbone_teachers=1, pe_art_teachers=1,
                        teaching_area_m2=p * 5, sports_area_m2=p * 8, multimedia_rooms=3))
    return rows


def test_engine_cv_published_example(national):
    _, rep = run_rows(national, five_schools(BOOKS), [GOOD_COUNTY])
    b = rep["counties"][0]["balance"]["primary"]["equipment_value_per_student"]
    assert round(b["cv"], 5) == 0.51526
    assert b["limit"] == 0.5
    assert b["met"] is False and b["status"] == "not_met"  # 0.515 > 0.50 (the unweighted 0.489 would pass)
    assert b["schools"] == 5


def test_cv_mean_zero_is_not_assessed(national):
    rows = five_schools(BOOKS)
    for r in rows:
        r["backbone_teachers"] = 0
    _, rep = run_rows(national, rows, [GOOD_COUNTY])
    b = rep["counties"][0]["balance"]["primary"]["backbone_teachers_per100"]
    assert b["cv"] is None
    assert b["status"] == "not_assessed" and b["met"] is None
    assert rep["counties"][0]["parts"]["balance"] == "not_met"  # equipment CV fails anyway


def test_single_school_cv_is_zero(national):
    _, rep = run_rows(national, [row()], [GOOD_COUNTY])
    for b in rep["counties"][0]["balance"]["primary"].values():
        assert b["cv"] == 0.0 and b["status"] == "met"


def test_equal_values_cv_zero_and_composite(national):
    rows = five_schools([p * 3 for p in STUDENTS])  # 3000 yuan per pupil everywhere
    _, rep = run_rows(national, rows, [GOOD_COUNTY])
    c = rep["counties"][0]
    assert c["balance"]["primary"]["equipment_value_per_student"]["cv"] == pytest.approx(0.0, abs=1e-12)
    # composite CV is the mean of the seven, for information
    cvs = [b["cv"] for b in c["balance"]["primary"].values()]
    assert c["composite_cv"]["primary"] == pytest.approx(sum(cvs) / 7)
