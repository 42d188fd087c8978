"""Every shipped standard passes `qbe check` with no errors and runs on its bundled example."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qbe.cli import main
from qbe.pipeline import check_file
from qbe.standards import installed

SHIPPED = [s for s in installed() if s.provider == "qbe"]


def test_all_seven_standards_are_shipped():
    ids = {s.id for s in SHIPPED}
    assert {"national-2017", "national-2019", "hebei-2017", "shenyang-2024", "zhejiang-2020", "qiantang-2022"} <= ids


@pytest.mark.parametrize("info", SHIPPED, ids=lambda s: s.id)
def test_checks_clean_and_runs_on_its_example(info, tmp_path):
    model, diags, _ = check_file(info.path)
    assert model is not None, [d.render("en") for d in diags]
    assert not [d for d in diags if d.is_error]
    assert (info.example_dir / "schools.csv").is_file(), f"{info.id} ships no example"
    args = ["run", "-s", info.id, "--example", "-f", "terminal,markdown,json", "-o", str(tmp_path)]
    if model.params or model.standard.years:
        args += ["--year", str(model.standard.years[0] if model.standard.years else model.version)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / f"{info.id}.json").read_text(encoding="utf-8"))
    assert rep["standard"]["id"] == info.id
    assert rep["errors"] == []
    assert all(c["verdict"] in ("met", "not_met", "tolerated") for c in rep["counties"])
