"""A plugin adds functions to the ruleset language, type-checked when the ruleset is checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qbe import hookimpl
from qbe.pipeline import check_file, run
from qbe.plugins import Function, get_plugin_manager, registry


def _median(values, codes, n):
    out = np.full(n, np.nan)
    for g in range(n):
        v = values[codes == g]
        if len(v) and not np.isnan(v).any():
            out[g] = float(np.median(v))
    return out


class MathPlugin:
    @hookimpl
    def qbe_functions(self):
        return [
            Function("sqrt", np.sqrt, 1, returns="number", description="square root"),
            Function("median", _median, 1, aggregate=True, returns="same", description="median per group"),
            Function("sum", np.sum, 1),  # clashes with a built-in: refused
        ]


RULESET = """standard fn-1 { version 2020 stages { primary "小学" junior "初中" } }
inputs row { students: count "在校生数" unit "人" range 1.. }
indicator root "学生数平方根" { value = sqrt(students) require >= 20 }
aggregate mid "中位规模" per county, stage { value = median(students) require <= 1000 }
"""


@pytest.fixture()
def reg():
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(MathPlugin(), name="qbe-math")
    return registry(pm)


def test_functions_registered_and_clash_refused(reg):
    assert set(reg.functions) == {"sqrt", "median"}
    assert any("sum" in f.error and f.plugin == "qbe-math" for f in reg.failures)


def test_plugin_functions_in_a_run(reg, tmp_path):
    (tmp_path / "fn.qbe").write_text(RULESET, encoding="utf-8")
    (tmp_path / "s.csv").write_text("county_code,school_code,school_type,stage,students\n"
                                    "1,A,primary,primary,400\n1,B,primary,primary,900\n1,C,primary,primary,1600\n",
                                    encoding="utf-8")
    res = run(str(tmp_path / "fn.qbe"), str(tmp_path / "s.csv"), None, ["json"], tmp_path / "o", reg=reg)
    rep = json.loads(res.written["json"].read_text(encoding="utf-8"))
    roots = {s["school_code"]: s["indicators"]["root"] for s in rep["schools"]}
    assert roots["A"]["value"] == 20.0 and roots["A"]["status"] == "met"  # exactly at the requirement
    assert roots["B"]["value"] == 30.0
    mid = rep["counties"][0]["aggregates"]["mid"]["primary"]
    assert mid["value"] == 900.0 and mid["status"] == "met"


def test_plugin_functions_are_type_checked(reg, tmp_path):
    p = tmp_path / "bad.qbe"
    p.write_text(RULESET.replace("sqrt(students)", "sqrt(students, 2)").replace("median(students)", "median(urban)")
                 + 'indicator r2 "R2" { value = median(students) require >= 1 }\n'
                 + 'indicator r3 "R3" { value = sqtr(students) require >= 1 }\n', encoding="utf-8")
    model, diags, _ = check_file(p, reg)
    assert model is None
    msgs = [(d.code, d.message_en) for d in diags if d.is_error]
    assert any(c == "arity" and "sqrt()" in m for c, m in msgs)
    assert any(c == "unknown_name" and "'urban'" in m for c, m in msgs)
    assert any(c == "aggregate_in_row" and "median()" in m for c, m in msgs)
    assert any(c == "unknown_name" and "did you mean 'sqrt'" in m for c, m in msgs)


def test_without_the_plugin_the_function_is_unknown(tmp_path):
    p = tmp_path / "fn.qbe"
    p.write_text(RULESET, encoding="utf-8")
    model, diags, _ = check_file(p, registry(get_plugin_manager(load_entry_points=False)))
    assert model is None and any("unknown function 'sqrt'" in d.message_en for d in diags)


def test_a_failing_plugin_function_is_named(tmp_path):
    class Bad:
        @hookimpl
        def qbe_functions(self):
            return [Function("boom", lambda x: 1 / 0, 1)]

    pm = get_plugin_manager(load_entry_points=False)
    pm.register(Bad(), name="qbe-bad")
    reg = registry(pm)
    (tmp_path / "b.qbe").write_text(RULESET.replace("sqrt(students)", "boom(students)").replace(
        'aggregate mid "中位规模" per county, stage { value = median(students) require <= 1000 }\n', ""), encoding="utf-8")
    (tmp_path / "s.csv").write_text("county_code,school_code,school_type,stage,students\n1,A,primary,primary,400\n",
                                    encoding="utf-8")
    from qbe.errors import QbeError

    with pytest.raises(QbeError) as e:
        run(str(tmp_path / "b.qbe"), str(tmp_path / "s.csv"), None, ["json"], tmp_path / "o", reg=reg)
    assert "boom()" in e.value.message_en and "ZeroDivisionError" in e.value.message_en
