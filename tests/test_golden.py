"""Golden files for the views a province reads: diff of two standards and compare of verdicts.

After a deliberate change, regenerate with ``QBE_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff of the files under tests/golden/ like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbe.cli import main

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[1] / "rulesets" / "examples"

CASES = {
    "diff_national-2017_national-2019.md": ["diff", "national-2017", "national-2019", "--markdown"],
    "diff_national-2017_hebei-2017.txt": ["diff", "national-2017", "hebei-2017"],
    "show_qiantang-2022.txt": ["show", "qiantang-2022"],
    "compare_national-2017_hebei-2017.md": [
        "compare", "--standards", "national-2017,hebei-2017", "--data", str(EXAMPLES / "hebei-2017" / "schools.csv"),
        "--county-data", str(EXAMPLES / "hebei-2017" / "counties.csv"), "--markdown",
    ],
    "compare_qiantang-2022_2022_2024.txt": ["compare", "--standards", "qiantang-2022@2022,qiantang-2022@2024", "--example"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    res = CliRunner().invoke(main, CASES[name])
    assert res.exit_code == 0, res.output
    # file paths differ between machines; keep only file names
    text = res.output.replace(str(EXAMPLES.parent) + "/", "")
    path = GOLDEN / name
    if os.environ.get("QBE_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with QBE_UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(encoding="utf-8")
