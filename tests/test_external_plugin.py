"""A third-party plugin installed into a fresh environment and used from the command line.

A new virtual environment (no system site-packages) gets qbe from this
checkout, then the example plugin package plugins/qbe-provincial and a
deliberately broken plugin package, exactly as a user would install them. Its
own ``qbe`` command must then list the plugin with its version and what it
provides, read the provincial export, give the verdicts of the CSV example,
and report the broken plugin by name without failing the run.

Slow (about half a minute, mostly ``pip install``): marked ``slow``; deselect
with ``-m "not slow"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "qbe-provincial"
EXAMPLE = ROOT / "rulesets" / "examples" / "national-2017"

pytestmark = pytest.mark.slow

#: pip output that means "no index reachable", not "the packages are broken".
OFFLINE_SIGNS = ("No matching distribution found", "Could not find a version", "Temporary failure in name resolution",
                 "Network is unreachable", "Failed to establish a new connection")

BROKEN_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "qbe-broken-demo"
version = "0.0.1"
dependencies = []

[project.entry-points.qbe]
broken-demo = "qbe_broken_demo"

[tool.hatch.build.targets.wheel]
packages = ["qbe_broken_demo"]
"""

BROKEN_MODULE = """\
raise ImportError("qbe_broken_demo needs the library 'provincial_sdk', which is not installed")
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would leak the test's own Python into the venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not k.startswith("QBE_")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def pip_install(py: Path, *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", *args], capture_output=True, text=True,
                          env=clean_env(), timeout=600)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"pip cannot reach a package index: {output.strip().splitlines()[-1]}")
        pytest.fail(f"pip install {' '.join(args)} failed:\n{output}")
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A fresh venv with qbe, qbe-provincial and a broken plugin installed; (bin folder, timings)."""
    base = tmp_path_factory.mktemp("external")
    timings = {}
    t0 = time.perf_counter()
    try:
        venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(base / "venv")
    except Exception as e:  # noqa: BLE001 - no ensurepip on this Python
        pytest.skip(f"cannot create a virtual environment with pip: {e}")
    timings["venv"] = time.perf_counter() - t0
    bindir = base / "venv" / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    # the virtual environment really is isolated from the one running the tests
    probe = subprocess.run([str(py), "-c", "import sys; print(sys.prefix != sys.base_prefix); import qbe"],
                           capture_output=True, text=True, env=clean_env())
    assert probe.stdout.strip() == "True" and "ModuleNotFoundError" in probe.stderr

    timings["pip install qbe"] = pip_install(py, str(ROOT))
    broken = base / "qbe-broken-demo"
    (broken / "qbe_broken_demo").mkdir(parents=True)
    (broken / "pyproject.toml").write_text(BROKEN_PYPROJECT, encoding="utf-8")
    (broken / "qbe_broken_demo" / "__init__.py").write_text(BROKEN_MODULE, encoding="utf-8")
    timings["pip install plugins"] = pip_install(py, str(PLUGIN), str(broken))
    print("\nexternal plugin environment: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return bindir, base


def qbe(bindir: Path, *args: str, cwd: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    exe = bindir / ("qbe.exe" if os.name == "nt" else "qbe")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=clean_env(**extra_env),
                          timeout=300)


def test_qbe_plugins_lists_the_plugin_and_the_broken_one(env):
    bindir, _ = env
    res = qbe(bindir, "plugins")
    assert res.returncode == 0, res.stderr
    lines = {line.split("\t")[0]: line.split("\t") for line in res.stdout.splitlines()}
    assert lines["provincial"] == ["provincial", "0.1.0", "loader:provincial-export"]
    assert lines["qbe.loaders"][1] == "0.1.0"
    # the broken plugin is named, with its error, on standard error; the rest is listed
    assert "broken-demo\tFAILED\tImportError: qbe_broken_demo needs the library 'provincial_sdk'" in res.stderr
    assert "broken-demo" not in res.stdout

    res = qbe(bindir, "plugins", QBE_DISABLE_PLUGINS="1")
    assert "provincial" not in res.stdout and "broken-demo" not in res.stderr


def report(bindir: Path, out: Path, data: str, county: str, cwd: Path) -> dict:
    res = qbe(bindir, "run", "--standard", "national-2017", "--data", data, "--county-data", county,
              "--format", "json", "-o", str(out), cwd=cwd)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads((out / "national-2017.json").read_text(encoding="utf-8"))


def verdicts(rep: dict) -> dict:
    """Everything judged, without where each row came from."""
    return {
        "summary": rep["summary"],
        "counties": rep["counties"],
        "schools": [{k: v for k, v in s.items() if k != "row"} for s in rep["schools"]],
        "school_checks": rep["school_checks"],
        "errors": rep["errors"],
        "warnings": rep["warnings"],
    }


def test_export_gives_the_verdicts_of_the_csv_example(env):
    bindir, base = env
    counties = str(EXAMPLE / "counties.csv")
    expected = report(bindir, base / "csv", str(EXAMPLE / "schools.csv"), counties, cwd=base)
    assert expected["counties"][0]["verdict"] == "not_met"
    # as in the plugin's README: run from the plugin's folder, with the example export
    for name in ("export.xlsx", "export.csv"):
        got = report(bindir, base / name, f"examples/{name}", counties, cwd=PLUGIN)
        assert verdicts(got) == verdicts(expected), name
        rows = [s["row"] for s in got["schools"]]
        assert rows == list(range(4, 39))  # Excel rows below the two header rows


def test_terminal_run_works_with_the_broken_plugin_installed(env):
    bindir, base = env
    res = qbe(bindir, "run", "--standard", "national-2017", "--data", "examples/export.xlsx",
              "--county-data", str(EXAMPLE / "counties.csv"), "--format", "terminal", "-o", str(base / "term"),
              cwd=PLUGIN)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert "未达标" in res.stdout


def test_plain_xlsx_is_left_to_the_builtin_loader(env):
    """The plugin claims only files with its marker; qbe's own example workbook still loads as before."""
    bindir, base = env
    got = report(bindir, base / "xlsx", str(EXAMPLE / "schools.xlsx"), str(EXAMPLE / "counties.xlsx"), cwd=base)
    assert got["counties"][0]["verdict"] == "not_met" and not got["errors"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v", "-s"]))
