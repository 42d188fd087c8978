"""A large JSON report's row arrays laid out by a second process: the same bytes, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qbe import pipeline
from qbe.results import json_arrays
from qbe.results.assemble import Evaluation

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not json_arrays.usable(), reason="a second process needs Linux and two processors")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A generated national-style dataset of 60 counties (about 4,600 school-stage rows)."""
    out = tmp_path_factory.mktemp("gen")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--out", str(out), "--counties", "60",
                    "--seed", "3"], check=True, capture_output=True)  # fmt: skip
    return out


def run(data: Path, out: Path, formats=("json",)) -> bytes:
    pipeline.run("national-2017", str(data / "schools.csv"), str(data / "counties.csv"), formats=formats, output=out,
                 echo=lambda *a, **k: None)  # fmt: skip
    return (out / "national-2017.json").read_bytes()


@pytest.fixture()
def one_process(data, tmp_path_factory) -> bytes:
    """The report made in one process, the reference."""
    os.environ[json_arrays.PROCESSES_ENV] = "1"
    try:
        return run(data, tmp_path_factory.mktemp("one"))
    finally:
        del os.environ[json_arrays.PROCESSES_ENV]


def test_two_processes_write_the_same_bytes(data, tmp_path, monkeypatch, one_process):
    from qbe.results.fastjson import JsonObjects

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    whole_arrays_here = []
    real = JsonObjects.as_array
    monkeypatch.setattr(JsonObjects, "as_array", lambda self: whole_arrays_here.append(len(self)) or real(self))
    assert run(data, tmp_path) == one_process
    # neither array was laid out whole in this process: both came block by block, shared with the child
    assert whole_arrays_here == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]  # spools removed
    with pytest.raises(ChildProcessError):  # the child, left to exit while the report was written, is reaped
        os.waitpid(-1, os.WNOHANG)


def test_below_the_threshold_or_turned_off_no_process_is_started(data, tmp_path, monkeypatch, one_process):
    started = []
    real = json_arrays.start
    monkeypatch.setattr(json_arrays, "start", lambda *a: started.append(real(*a)) or started[-1])
    assert run(data, tmp_path / "a") == one_process
    assert not any(started)  # ~4,600 rows are below MIN_ROWS
    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setenv(json_arrays.PROCESSES_ENV, "1")
    assert run(data, tmp_path / "b") == one_process
    assert not any(started)


def test_a_failing_child_leaves_the_work_to_this_process(data, tmp_path, monkeypatch, one_process):
    from qbe.results import fastjson

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    # several blocks, of which this process takes only one: the child's share must be made again here
    monkeypatch.setattr(fastjson, "BLOCK_ROWS", 400)
    monkeypatch.setattr(json_arrays, "MAX_STOLEN_BYTES", 1)

    def broken(queue):  # only the forked child takes blocks from the front: it inherits this and fails in it
        raise MemoryError("no memory for the row array")

    monkeypatch.setattr(json_arrays.BlockQueue, "front", broken)
    assert run(data, tmp_path) == one_process
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_the_child_may_stop_before_at_or_after_the_last_row_block(data, tmp_path, monkeypatch, one_process, extra):
    """Where the two processes meet decides who writes the start of the school checks: the child,
    if it took their first block; else this process."""
    from qbe.results import fastjson

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setattr(fastjson, "BLOCK_ROWS", 400)
    rows = sum(1 for _ in (data / "schools.csv").open(encoding="utf-8")) - 1
    limit = -(-rows // 400) + extra  # tasks the child may take: the row blocks, give or take one

    def front(queue):  # the child takes no task past the limit; this process takes the rest
        with queue.locked() as ends:
            i, j = ends[0], ends[1]
            if i >= j or i >= limit:
                return None
            ends[0] = i + 1
            return i

    real_steal = json_arrays.ArraysJob.steal
    taken = []

    def steal(job):  # this process waits until the child has taken all it may
        import time

        while job._queue.taken() < limit:
            time.sleep(0.01)
        taken.append(job._queue.taken())
        real_steal(job)

    monkeypatch.setattr(json_arrays.BlockQueue, "front", front)
    monkeypatch.setattr(json_arrays.ArraysJob, "steal", steal)
    assert run(data, tmp_path) == one_process
    assert taken == [limit]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]


def test_an_opening_unlike_the_childs_drops_the_childs_file(data, tmp_path, monkeypatch, one_process):
    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    real = json_arrays.start
    monkeypatch.setattr(json_arrays, "start", lambda ev, folder, stem, head: real(ev, folder, stem, head + b" "))
    assert run(data, tmp_path) == one_process
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]


def test_a_stuck_child_is_stopped_and_the_report_made_here(data, tmp_path, monkeypatch, one_process):
    import time

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setattr(json_arrays, "STALL_SECONDS", 2.0)
    monkeypatch.setattr(json_arrays.BlockQueue, "front", lambda queue: time.sleep(3600))  # the child hangs
    started = time.monotonic()
    assert run(data, tmp_path) == one_process
    assert time.monotonic() - started < 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]
    with pytest.raises(ChildProcessError):  # stopped and reaped
        os.waitpid(-1, os.WNOHANG)


def test_a_child_that_dies_holding_the_queue_is_stopped_and_the_report_made_here(data, tmp_path, monkeypatch, one_process):
    import time

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setattr(json_arrays, "STALL_SECONDS", 1.0)
    real_steal = json_arrays.ArraysJob.steal

    def steal(job):  # the queue's token is gone, as if a process died holding it: both sides wait
        os.read(job._queue._token_r, 1)
        real_steal(job)

    monkeypatch.setattr(json_arrays.ArraysJob, "steal", steal)
    started = time.monotonic()
    assert run(data, tmp_path) == one_process
    assert time.monotonic() - started < 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]


def test_a_run_that_fails_before_writing_stops_the_child_and_removes_its_spools(data, tmp_path, monkeypatch):
    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    jobs = []
    real = json_arrays.start
    monkeypatch.setattr(json_arrays, "start", lambda *a: jobs.append(real(*a)) or jobs[-1])

    def fail(self, include_rows=True, counties=True):
        raise RuntimeError("assembling the report failed")

    monkeypatch.setattr(Evaluation, "to_dict", fail)
    with pytest.raises(RuntimeError, match="assembling"):
        run(data, tmp_path)
    assert len(jobs) == 1 and jobs[0] is not None
    assert list(tmp_path.glob(".*.part")) == []
    with pytest.raises(ChildProcessError):  # reaped: no child of this process is left
        os.waitpid(-1, os.WNOHANG)


def test_other_formats_beside_json_get_the_same_report(data, tmp_path, monkeypatch, one_process):
    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    assert run(data, tmp_path, formats=("markdown", "json")) == one_process
    assert (tmp_path / "national-2017.md").stat().st_size > 0


def test_a_report_may_go_on_with_a_file_begun_beside_it(tmp_path):
    from qbe.plugins import AppendTo, atomic_write

    begun = tmp_path / ".r.json.part"
    begun.write_bytes(b'{"a":[1,')
    os.chmod(begun, 0o600)
    atomic_write(tmp_path / "r.json", [AppendTo(begun), b"2]", b"}"])
    assert (tmp_path / "r.json").read_bytes() == b'{"a":[1,2]}' and not begun.exists()
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~umask  # like any other report

    def failing():
        yield AppendTo(again)
        yield b"x"
        raise OSError("disk full")

    again = tmp_path / ".s.json.part"
    again.write_bytes(b"{")
    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "s.json", failing())
    assert not again.exists() and not (tmp_path / "s.json").exists()


def test_a_spool_is_copied_whole_into_the_report(tmp_path):
    from qbe.plugins import atomic_write

    spool = tmp_path / "spool"
    spool.write_bytes(b"x" * 3_000_000 + "县".encode())
    atomic_write(tmp_path / "r.json", [b"{", spool, b"}"])
    assert (tmp_path / "r.json").read_bytes() == b"{" + b"x" * 3_000_000 + "县".encode() + b"}"


def n_stolen(job) -> int:
    """Blocks of either array laid out in this process."""
    return len(job._stolen)


@pytest.mark.parametrize("slow", ["child", "parent"])
def test_the_blocks_meet_in_the_middle_whoever_is_faster(data, tmp_path, monkeypatch, one_process, slow):
    import time

    from qbe.results import fastjson

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setattr(fastjson, "BLOCK_ROWS", 400)  # a dozen blocks to share
    real_front, real_steal = json_arrays.BlockQueue.front, json_arrays.ArraysJob.steal
    if slow == "child":  # the child sleeps before each block: this process lays out most of them
        monkeypatch.setattr(json_arrays.BlockQueue, "front", lambda q: time.sleep(0.3) or real_front(q))
    stolen = []

    def steal(job):
        if slow == "parent":  # this process comes late: the child has laid out every block by then
            time.sleep(3)
        real_steal(job)
        stolen.append((n_stolen(job), job._queue.n))

    monkeypatch.setattr(json_arrays.ArraysJob, "steal", steal)
    assert run(data, tmp_path) == one_process
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]
    (taken, blocks), = stolen
    assert blocks >= 10
    assert (taken > blocks // 2) if slow == "child" else (taken == 0)


def test_blocks_taken_here_stop_at_the_memory_bound(data, tmp_path, monkeypatch, one_process):
    import time

    from qbe.results import fastjson

    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)
    monkeypatch.setattr(fastjson, "BLOCK_ROWS", 400)
    monkeypatch.setattr(json_arrays, "MAX_STOLEN_BYTES", 1)  # one block, then the child does the rest
    real_front = json_arrays.BlockQueue.front
    monkeypatch.setattr(json_arrays.BlockQueue, "front", lambda q: time.sleep(0.2) or real_front(q))
    taken = []
    real_steal = json_arrays.ArraysJob.steal
    monkeypatch.setattr(json_arrays.ArraysJob, "steal", lambda job: real_steal(job) or taken.append(n_stolen(job)))
    assert run(data, tmp_path) == one_process
    assert taken == [1]


def test_without_shared_memory_the_report_is_made_in_one_process(data, tmp_path, monkeypatch, one_process):
    monkeypatch.setattr(json_arrays, "MIN_ROWS", 0)

    def no_shared_memory(self, n):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(json_arrays.BlockQueue, "__init__", no_shared_memory)
    assert run(data, tmp_path) == one_process
    assert sorted(p.name for p in tmp_path.iterdir()) == ["national-2017.json"]


def test_a_new_report_takes_the_place_of_the_old_one(tmp_path, monkeypatch):
    from qbe import plugins
    from qbe.plugins import atomic_write

    target = tmp_path / "r.json"
    atomic_write(target, b"old")
    atomic_write(target, [b"new", b" report"])
    assert target.read_bytes() == b"new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # nothing set aside is left

    real = os.rename
    calls = []

    def rename(src, dst):  # moving the old report aside works; moving the new one in fails
        calls.append((str(src), str(dst)))
        if len(calls) == 2:
            raise OSError("no room in the directory")
        return real(src, dst)

    monkeypatch.setattr(plugins.os, "rename", rename)
    with pytest.raises(OSError, match="no room"):
        atomic_write(target, b"newer")
    assert target.read_bytes() == b"new report"  # the old report is back under its name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
