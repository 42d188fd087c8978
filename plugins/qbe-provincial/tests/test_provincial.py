"""Tests of the plugin on its own: claims, reading the example exports, and a run through qbe.

    pip install 'plugins/qbe-provincial[test]'   # next to qbe
    pytest plugins/qbe-provincial/tests

The plugin object is registered on a fresh plugin manager, so these tests do
not depend on what else is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qbe.data.readers import DataSourceError
from qbe.pipeline import run
from qbe.plugins import get_plugin_manager, registry

import qbe_provincial
from qbe_provincial.loader import ProvincialLoader, parse_grid

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
QBE_EXAMPLE = HERE.parents[2] / "rulesets" / "examples" / "national-2017"
LOADER = ProvincialLoader()


@pytest.mark.parametrize("name", ["export.xlsx", "export.csv"])
def test_claims_the_examples(name):
    assert LOADER.claims(str(EXAMPLES / name))


def test_leaves_other_files_alone(tmp_path):
    if QBE_EXAMPLE.exists():
        assert not LOADER.claims(str(QBE_EXAMPLE / "schools.xlsx"))
        assert not LOADER.claims(str(QBE_EXAMPLE / "schools.csv"))
    assert not LOADER.claims(str(tmp_path / "missing.xlsx"))
    assert not LOADER.claims("postgresql://h/db?table=t")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    assert not LOADER.claims(str(broken))  # never raises
    gbk = tmp_path / "other.csv"
    gbk.write_bytes("学校代码,学段\n".encode("gb18030"))
    assert not LOADER.claims(str(gbk))


@pytest.mark.parametrize("name", ["export.xlsx", "export.csv"])
def test_reads_the_examples(name):
    (sheet,) = LOADER.read(str(EXAMPLES / name))
    assert sheet.header_row == 3 and sheet.row_numbers == list(range(4, 39))
    assert sheet.sheet == ("J301学校办学条件" if name.endswith("xlsx") else None)
    assert "序号" not in sheet.headers and len(sheet.headers) == 24  # 序号 and 专任教师 合计 left out
    row = dict(zip(sheet.headers, sheet.rows[0]))
    assert row["school_code"] == "9999010001" and row["stage"] == "小学"
    assert row["urban"] == "是" and row["training_spend_share"] == "6%"
    # two columns called 间数（间）, told apart by their group (a CSV's cells are all text)
    assert str(row["music_rooms"]) == "4" and str(row["art_rooms"]) == "4"
    assert str(row["music_room_min_area_m2"]) == "100" and str(row["art_room_min_area_m2"]) == "96"
    assert all(r[0] != "总计" for r in sheet.rows)


def test_header_rules():
    rows = [
        ["省教育统计报表系统导出", None, None, None],
        ["学校标识码", "所在区县", None, "新统计项"],
        [None, "区县代码", "区县名称", None],
        ["S1", "999901", "示例区", 3],
        ["合计", None, None, 3],
        ["S2", "999901", "示例区", 4],  # below the totals: not data
    ]
    sheet = parse_grid("x.csv", None, rows)
    assert sheet.headers == ["school_code", "county_code", "county_name", "新统计项"]  # unknown: passed on
    assert sheet.rows == [["S1", "999901", "示例区", 3]] and sheet.row_numbers == [4]
    with pytest.raises(DataSourceError, match="学校标识码"):
        parse_grid("x.csv", None, [["省教育统计报表系统导出"], ["别的表"]])


def test_run_gives_the_csv_verdicts(tmp_path):
    if not QBE_EXAMPLE.exists():
        pytest.skip("qbe's example data is not next to this checkout")
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(qbe_provincial, name="provincial")
    reg = registry(pm)
    assert reg.loaders[0][0] == "provincial" and not reg.failures
    reports = {}
    for data in (QBE_EXAMPLE / "schools.csv", EXAMPLES / "export.xlsx", EXAMPLES / "export.csv"):
        out = tmp_path / data.name
        res = run("national-2017", str(data), str(QBE_EXAMPLE / "counties.csv"), ["json"], out, reg=reg)
        assert res.data_errors == 0
        rep = json.loads((out / "national-2017.json").read_text(encoding="utf-8"))
        reports[data.name] = (rep["counties"], [{k: v for k, v in s.items() if k != "row"} for s in rep["schools"]],
                              rep["warnings"])
    assert reports["export.xlsx"] == reports["schools.csv"] == reports["export.csv"]
