"""Shared helpers: build validated tables from plain dicts and evaluate them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from qbe.data.table import RawSheet
from qbe.data.validate import validate_sheet
from qbe.pipeline import evaluate, load_model
from qbe.results import arrow_layout

# Property tests explore new inputs on every local run. CI (QBE_HYPOTHESIS_PROFILE=ci, set by
# .ci/run) derandomizes them, so the same commit always gives the same verdict; a case found
# locally is then pinned with @example.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("QBE_HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "rulesets" / "national-2017.qbe"

#: A primary-stage row that meets every indicator and check with room to spare.
GOOD_PRIMARY = {
    "county_code": "990001",
    "county_name": "测试县",
    "school_code": "S001",
    "school_name": "测试小学",
    "school_type": "primary",
    "stage": "primary",
    "urban": "是",
    "students": 1000,
    "classes": 24,
    "max_class_size": 42,
    "teachers_above_degree": 50,  # 5.0 per 100 (≥ 4.2)
    "backbone_teachers": 15,  # 1.5 per 100 (≥ 1)
    "pe_art_teachers": 12,  # 1.2 per 100 (≥ 0.9)
    "teaching_area_m2": 5000,  # 5.0 per student (≥ 4.5)
    "sports_area_m2": 8000,  # 8.0 (≥ 7.5)
    "equipment_value_yuan": 2500000,  # 2500 (≥ 2000)
    "multimedia_rooms": 30,  # 3.0 per 100 (≥ 2.3)
    "music_rooms": 2,
    "art_rooms": 2,
    "music_room_min_area_m2": 100,
    "art_room_min_area_m2": 95,
    "public_funds_yuan": 1000000,
    "design_capacity": 1200,
    "training_spend_share": 0.06,
}

GOOD_COUNTY = {
    "county_code": "990001",
    "county_name": "测试县",
    "layout_reasonable": "是",
    "unified_standards": "是",
    "public_funds_standard_primary": 800,
    "public_funds_standard_junior": 1000,
    "special_ed_funding_per_student": 7000,
    "teacher_avg_salary": 120000,
    "civil_servant_avg_salary": 110000,
    "performance_pay_approved": "是",
    "training_hours_completion": "100%",
    "staffing_managed_by_county": "是",
    "rotation_share": 0.12,
    "backbone_rotation_share": 0.25,
    "certified_teacher_share": 1,
    "nearby_admission_primary": 1,
    "nearby_admission_junior": 0.96,
    "quota_allocation_share": 0.6,
    "quota_tilted_rural": "是",
    "left_behind_care_system": "是",
    "migrant_public_share": 0.9,
    "junior_retention_rate": 0.98,
    "disabled_enrolment_rate": 0.96,
    "charter_and_digital": "是",
    "ict_use": "是",
    "moral_education_good": "是",
    "curriculum_complete": "是",
    "burden_controlled": "是",
    "monitoring_lowest_level": 3,
    "monitoring_max_difference": 0.1,
    "satisfaction_rate": 0.9,
    "exam_based_admission": "否",
    "irregular_school_choice": "否",
    "key_schools_or_classes": "否",
    "unfilled_vacancies": "否",
    "major_safety_accident": "否",
    "falsified_data": "否",
}


def raw_sheet(rows: list[dict], source: str = "schools.csv") -> RawSheet:
    headers: list[str] = []
    for r in rows:
        for k in r:
            if k not in headers:
                headers.append(k)
    cells = [[("" if r.get(h) is None else str(r.get(h))) for h in headers] for r in rows]
    cells = [[c if c != "" else None for c in row] for row in cells]
    return RawSheet(source, headers, cells, list(range(2, len(rows) + 2)))


@pytest.fixture(scope="session")
def national():
    return load_model(str(NATIONAL))


def tables(model, rows: list[dict], counties: list[dict] | None = None):
    t, issues = validate_sheet(raw_sheet(rows), model.row_schema(), key=("school_code", "stage"))
    c = None
    if counties is not None:
        c, ci = validate_sheet(raw_sheet(counties, "counties.csv"), model.county_schema(), key=("county_code",))
        issues = issues + ci
    return t, c, issues


def run_rows(model, rows: list[dict], counties: list[dict] | None = None, allow_errors: bool = False):
    t, c, issues = tables(model, rows, counties)
    errors = [i for i in issues if i.severity == "error"]
    if not allow_errors:
        assert not errors, [i.render("en") for i in errors]
    ev = evaluate(model, t, c, issues)
    report = ev.to_dict()
    assert_counties_laid_out_alike(ev, report)
    return ev, report


def assert_counties_laid_out_alike(ev, report: dict) -> None:
    """A large JSON report lays the counties out from the columns (qbe.results.county_json): every
    evaluation the tests make checks that this gives the report dict's counties, byte for byte."""
    from qbe.results.county_json import counties_json

    want = [json.dumps(c, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode() for c in report["counties"]]
    assert counties_json(ev) == want


class layout:
    """Force one layout for every block, however small: ``numpy`` as if pyarrow were not installed,
    ``arrow`` for every block (tests that use it skip without pyarrow)."""

    def __init__(self, which: str) -> None:
        self.which = which

    def __enter__(self):
        self.saved = (arrow_layout._MODULES, arrow_layout.MIN_ROWS)
        if self.which == "numpy":
            arrow_layout._MODULES = False
        else:
            arrow_layout.arrow()
            arrow_layout.MIN_ROWS = 1
        return self

    def __exit__(self, *exc):
        arrow_layout._MODULES, arrow_layout.MIN_ROWS = self.saved


def row(**over) -> dict:
    r = dict(GOOD_PRIMARY)
    r.update(over)
    return r


# ---------------------------------------------------------------------------- browser tests


def chromium_or_skip(request, what: str) -> str:
    """Debian's chromium (or $QBE_CHROMIUM), else skip ``what`` saying why, even without -rs:
    CI logs should tell why the browser was not used."""
    exe = os.environ.get("QBE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).is_file():
        why = f"chromium is not installed (Debian: apt-get install chromium fonts-noto-cjk); {what} is skipped"
        capman = request.config.pluginmanager.get_plugin("capturemanager")
        if capman is not None:
            with capman.global_and_fixture_disabled():
                print(f"\nSKIPPED {request.node.name}: {why}")
        pytest.skip(why)
    return exe


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Where browser tests keep their screenshots: $QBE_ARTIFACTS (.ci/run sets it), else a temporary folder."""
    d = Path(os.environ["QBE_ARTIFACTS"]) if os.environ.get("QBE_ARTIFACTS") else tmp_path_factory.mktemp("artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d


def varied_rows() -> list[dict]:
    """Met, tolerated, not met, tiny and huge figures, odd texts and rows with data errors."""
    return [
        row(),
        row(school_code="S002", school_name='引号"与\\反斜杠', teaching_area_m2=4300),  # one shortfall: tolerated
        row(school_code="S003", teaching_area_m2=2000, sports_area_m2=1000),  # two shortfalls: not met
        row(school_code="S004", students=3, teachers_above_degree=0.0000003),  # a value of 1e-05 per 100
        row(school_code="S005", equipment_value_yuan=1e19),  # a value past 1e16
        row(school_code="S006", students="abc"),  # a data error: not assessed, with its error object
        row(school_code="S007", school_name="", school_type="junior", stage="junior"),
        row(school_code="S008", school_name="换行\n制表\t控制\x01", public_funds_yuan=1),
    ]


def read_with_engine(path: Path, engine: str, known=None):
    """``read_csv`` with the CSV engine forced (``arrow`` or ``python``); for property tests, which
    cannot use the function-scoped ``monkeypatch``."""
    from qbe.data.readers import read_csv

    old = os.environ.get("QBE_CSV_ENGINE")
    os.environ["QBE_CSV_ENGINE"] = engine
    try:
        return read_csv(path, known)[0]
    finally:
        if old is None:
            os.environ.pop("QBE_CSV_ENGINE", None)
        else:
            os.environ["QBE_CSV_ENGINE"] = old
