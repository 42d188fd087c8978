"""Plugins: built-ins register through the public hooks; a third party can add a loader;
a broken plugin is reported by name and contained."""

from __future__ import annotations

import json
from pathlib import Path

from qbe import hookimpl
from qbe.data.table import RawSheet
from qbe.pipeline import run
from qbe.plugins import get_plugin_manager, registry

EXAMPLE = Path(__file__).resolve().parents[1] / "rulesets" / "examples" / "national-2017"


class PipeLoader:
    """Reads a '|'-separated text export, as some provincial systems write."""

    name = "pipe"
    description = "pipe-separated export"

    def claims(self, source: str) -> bool:
        return source.endswith(".psv")

    def read(self, source, sheet=None, known_headers=None):
        lines = Path(source).read_text(encoding="utf-8").splitlines()
        headers = lines[0].split("|")
        rows = [[c or None for c in ln.split("|")] for ln in lines[1:]]
        return [RawSheet(source, headers, rows, list(range(2, len(rows) + 2)))]


class ThirdParty:
    @hookimpl
    def qbe_loaders(self):
        return [PipeLoader()]


class Broken:
    @hookimpl
    def qbe_loaders(self):
        raise RuntimeError("boom")

    @hookimpl
    def qbe_writers(self):
        raise ImportError("missing dependency")


def test_builtins_come_through_the_hooks():
    reg = registry(get_plugin_manager(load_entry_points=False))
    assert {"csv", "xlsx", "json"} <= {loader.name for _, loader in reg.loaders}
    assert {"terminal", "markdown", "json"} <= set(reg.writers)
    assert all(name.startswith("qbe.") for name, _ in reg.loaders)


def test_third_party_loader_used_without_changing_qbe(tmp_path):
    src = (EXAMPLE / "schools.csv").read_text(encoding="utf-8").replace(",", "|")
    psv = tmp_path / "schools.psv"
    psv.write_text(src, encoding="utf-8")
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(ThirdParty(), name="qbe-pipe")
    reg = registry(pm)
    assert reg.loaders[0][0] == "qbe-pipe"  # plugins are asked before built-ins
    res = run("national-2017", str(psv), str(EXAMPLE / "counties.csv"), ["json"], tmp_path / "out", reg=reg)
    assert res.data_errors == 0
    rep = json.loads((tmp_path / "out" / "national-2017.json").read_text(encoding="utf-8"))
    assert len(rep["schools"]) == 35 and rep["counties"][0]["verdict"] == "not_met"


def test_broken_plugin_is_named_and_contained(tmp_path):
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(Broken(), name="qbe-broken")
    reg = registry(pm)
    failures = {f.plugin: f.error for f in reg.failures}
    assert "boom" in failures["qbe-broken"] or "missing dependency" in failures["qbe-broken"]
    assert len(reg.failures) == 2
    # the run still works with the built-ins
    res = run("national-2017", str(EXAMPLE / "schools.csv"), None, ["json"], tmp_path, reg=reg)
    assert res.written["json"].exists()


def test_failing_writer_does_not_stop_the_others(tmp_path):
    class BadWriter:
        format = "bad"
        extension = ".bad"
        description = "always fails"

        def render(self, evaluation, report, lang="zh"):
            raise ValueError("cannot render")

    class P:
        @hookimpl
        def qbe_writers(self):
            return [BadWriter()]

    pm = get_plugin_manager(load_entry_points=False)
    pm.register(P(), name="qbe-bad")
    reg = registry(pm)
    res = run("national-2017", str(EXAMPLE / "schools.csv"), None, ["bad", "json"], tmp_path, reg=reg)
    assert "bad" in res.failed_writers and "cannot render" in res.failed_writers["bad"]
    assert res.written["json"].exists()
    assert not (tmp_path / "national-2017.bad").exists()
