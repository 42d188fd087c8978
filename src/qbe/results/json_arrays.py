"""The row arrays of a large JSON report, laid out by two processes at once.

Why: at national scale the ``schools`` and ``school_checks`` arrays (~360 MB)
take about as long to lay out as everything else the report needs (the
county results, their findings and their JSON), and each is single-threaded
work. On a machine with two or more processors a forked child lays out the
arrays from the same evaluation (its memory is shared copy-on-write, nothing
is sent across) block by block from the front, while the parent builds the
report dict and encodes the counties and then takes blocks from the back
until the two meet. The bytes are those the one-process path writes
(:mod:`.fastjson`); tests compare them.

The child writes straight into the file that becomes the report: first the
report's opening members (known before the fork: the standard and the
summary), then its blocks. The parent appends the blocks it laid out and the
rest of the report, and the file is renamed into place; nothing is copied.
Should the opening the parent finally writes differ from what the child
wrote, the child's file is dropped, as it is when the child fails.

Used only where it is safe and pays: on Linux (fork without exec is unsafe on
macOS, Windows has no fork), with two or more usable processors, for reports
of at least :data:`MIN_ROWS` rows. ``QBE_JSON_PROCESSES=1`` turns it off. If the
child fails in any way, its file is dropped and the arrays are laid out in
this process as before, so the report is the same either way.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import fastjson
from .fastjson import JsonObjects, rows_json, school_checks_json

if TYPE_CHECKING:
    from .assemble import Evaluation

#: Fewer rows than this are laid out in-process: a fork costs tens of milliseconds.
MIN_ROWS = 50_000

#: Row blocks this process lays out are held in memory until the report is written: at most this much.
MAX_STOLEN_BYTES = 256 << 20

#: A child that begins no block and writes nothing for this long is taken to be stuck: it is
#: stopped and the report is made in this process. (A block takes a fraction of a second.)
STALL_SECONDS = 60.0

#: Environment variable: ``1`` keeps the JSON report in one process.
PROCESSES_ENV = "QBE_JSON_PROCESSES"


def usable() -> bool:
    """Whether this machine and setting allow the second process."""
    if os.environ.get(PROCESSES_ENV, "").strip() == "1":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus >= 2


class BlockQueue:
    """The arrays' blocks (:class:`Tasks`), shared by the two processes: the child takes them from
    the front, this process from the back once its own work is done, so neither waits long for the
    other whatever the split of the work (many counties or few, a slow disk or a fast one).

    The two ends are two integers in a page of anonymous memory that the fork
    shares, guarded by a pipe holding one byte: a process takes the byte to
    move an end and puts it back after. (``multiprocessing`` offers the same,
    but importing it costs every run ~0.01 s.)
    """

    def __init__(self, n_blocks: int) -> None:
        import mmap

        self.n = n_blocks  # in all
        self._page = mmap.mmap(-1, mmap.PAGESIZE)  # shared with a child forked after this
        self._ends = memoryview(self._page).cast("q")  # next block from the front; one past the last left
        self._ends[0], self._ends[1] = 0, n_blocks
        self._token_r, self._token_w = os.pipe()
        os.write(self._token_w, b".")

    @contextlib.contextmanager
    def locked(self, wait: float | None = None) -> Iterator[memoryview]:
        """The two ends, for this process alone while the ``with`` lasts; TimeoutError if the other
        process has held them ``wait`` seconds (it died holding them, say)."""
        if wait is not None:
            import select

            if not select.select([self._token_r], [], [], wait)[0]:
                raise TimeoutError("the other process holds the block queue")
        os.read(self._token_r, 1)
        try:
            yield self._ends
        finally:
            os.write(self._token_w, b".")

    def _take(self, back: bool) -> int | None:
        with self.locked(STALL_SECONDS if back else None) as ends:
            i, j = ends[0], ends[1]
            if i >= j:
                return None
            if back:
                ends[1] = j - 1
                return j - 1
            ends[0] = i + 1
            return i

    def front(self) -> int | None:
        return self._take(back=False)

    def back(self) -> int | None:
        return self._take(back=True)

    def taken(self) -> int:
        """How many blocks have been taken from the front (the child's progress)."""
        return int(self._ends[0])  # one aligned word: read whole, no lock needed

    def close(self) -> None:
        """Let go of the pipe and the page (in this process; the child's copies go with it)."""
        for fd in (self._token_r, self._token_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._token_r = self._token_w = -1
        self._ends.release()
        self._page.close()


def _block(objects: JsonObjects, i: int, last: int) -> bytes:
    """Block ``i`` of the array body, objects followed by commas, the last block closing the array."""
    data = objects.block(i)
    return data[:-1] + b"]" if i == last else data


class Tasks:
    """The blocks of the arrays the two processes share, in report order: task ``t`` is block ``i``
    of array ``key``. The child works from the first task on, this process from the last back, so
    the child lays out a prefix of the tasks and this process the rest.

    Each array's parts (:mod:`.fastjson`: its columns encoded, its lookup
    tables) are made by a process when it first lays out one of its blocks, not
    before the fork: the child starts on the rows at once, and this process,
    coming from the back, usually makes only the school checks' parts. The
    row columns under both are made before the fork (:func:`start`).
    """

    def __init__(self, arrays: dict[str, tuple[int, Callable[[], JsonObjects]]]) -> None:
        self.sizes = {key: fastjson.n_blocks(n) for key, (n, _) in arrays.items()}  # blocks per array
        self._make = {key: make for key, (_, make) in arrays.items()}
        self._made: dict[str, JsonObjects] = {}
        self.order = [(key, i) for key, n in self.sizes.items() for i in range(n)]

    def __len__(self) -> int:
        return len(self.order)

    def objects(self, key: str) -> JsonObjects:
        if key not in self._made:
            self._made[key] = self._make[key]()
        return self._made[key]

    def lay_out(self, t: int) -> tuple[str, int, bytes]:
        key, i = self.order[t]
        return key, i, _block(self.objects(key), i, self.sizes[key] - 1)


#: The report's members around the arrays, as the JSON writer writes them: what the child writes
#: before the ``schools`` array (given to :func:`start`) and between the two arrays.
BETWEEN = b',"school_checks":'


class ArraysJob:
    """A child process laying out the arrays into the report's file; :meth:`finish` waits for it."""

    def __init__(self, pid: int, status_fd: int, path: Path, head: bytes, queue: BlockQueue, tasks: Tasks) -> None:
        self._pid: int | None = pid
        self._fd: int | None = status_fd
        self.path, self.head = path, head
        self._queue, self._tasks = queue, tasks
        self._stolen: list[tuple[str, bytes]] = []  # blocks laid out here, last first
        self._ok: bool | None = None
        self._handed_over = False

    def steal(self) -> None:
        """Lay out blocks the child has not reached yet, from the last one back, until the two meet
        (or :data:`MAX_STOLEN_BYTES` are held here: these blocks wait in memory for the child's part)."""
        held = sum(len(b) for _, b in self._stolen)
        while held < MAX_STOLEN_BYTES:
            try:
                t = self._queue.back()
            except TimeoutError:  # the child holds the queue and does not let go: finish() finds it stuck
                return
            if t is None:
                return
            key, _, data = self._tasks.lay_out(t)
            self._stolen.append((key, data))
            held += len(data)

    def finish(self, head: bytes) -> tuple[Path, list[bytes]] | None:
        """The file the child wrote (the report's opening, then its blocks) and what follows its part
        up to the end of the ``school_checks`` array; None if the child failed or the report's
        opening is not what the child was given (then the report is made in this process)."""
        if self._ok is None:
            try:
                message = self._status()
            finally:
                self._close_pipe()
            self._ok = message == b"ok" and head == self.head
            # The child is reaped in close(), after the report is written: tearing down its copy of
            # this process's address space takes a few tenths of a second, and nothing waits on it.
            if not self._ok:
                self._stop()
                self._remove()
                self._stolen = []
        if not self._ok:
            return None
        self._handed_over = True  # the writer goes on with the file; it is no longer this job's to remove
        blocks = self._stolen[::-1]
        tail = [b for key, b in blocks if key == "schools"]
        # the child wrote the start of the school checks if it took their first block (the task after
        # the last row block); else they start here
        if self._queue.taken() <= self._tasks.sizes["schools"]:
            tail.append(BETWEEN + b"[")
        tail += [b for key, b in blocks if key == "school_checks"]
        return self.path, tail

    def _status(self) -> bytes:
        """The child's last words ("ok" or what failed), read to the end of the pipe; b"stalled" if it
        has made no progress (no block begun, nothing written) for :data:`STALL_SECONDS`."""
        import select

        message, seen, quiet = b"", None, 0.0
        while True:
            ready, _, _ = select.select([self._fd], [], [], 1.0)
            if ready:
                chunk = os.read(self._fd, 4096)  # type: ignore[arg-type]
                if not chunk:
                    return message
                message += chunk
                continue
            try:
                size = self.path.stat().st_size
            except OSError:
                size = -1
            now = (self._queue.taken(), size)
            quiet = quiet + 1.0 if now == seen else 0.0
            seen = now
            if quiet >= STALL_SECONDS:
                return b"stalled"

    def close(self) -> None:
        """Stop the child if it still runs and remove its file unless it became the report."""
        self._stop()
        self._remove()

    def _stop(self) -> None:
        if self._pid is not None:
            try:
                os.kill(self._pid, 9)
            except OSError:
                pass
        self._reap()

    def _close_pipe(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _reap(self) -> None:
        self._close_pipe()
        if self._queue is not None:
            self._queue.close()
            self._queue = None
        if self._pid is not None:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            self._pid = None

    def _remove(self) -> None:
        if self._handed_over:
            return
        try:
            self.path.unlink()
        except OSError:  # never made
            pass

    def __del__(self) -> None:  # a job nobody waited for must not leave a child or its file behind
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def start(ev: Evaluation, folder: Path, stem: str, head: bytes) -> ArraysJob | None:
    """Fork a child that writes ``head`` (the report up to its ``schools`` array) and lays out the
    ``schools`` and ``school_checks`` arrays of ``ev``'s JSON report into a file beside the report;
    None where not worth it or not possible. The parent assembles the county part meanwhile, then
    takes blocks from the end (:meth:`ArraysJob.steal`) until it meets the child."""
    if ev.frame.n < MIN_ROWS or not usable():
        return None
    if not ev.frame.n_school:
        return None
    # the row columns and the rows' issues, made once before the fork: both processes read them (the
    # arrays' parts are made by whichever process lays out a block of them first: see Tasks)
    ev.row_columns_base()  # the remedies only the row array shows are left to the child
    issues_by_row = ev.issue_index()[2]
    tasks = Tasks({
        "schools": (ev.frame.n, lambda: rows_json(ev, issues_by_row)),
        "school_checks": (ev.frame.n_school, lambda: school_checks_json(ev)),
    })
    try:
        queue = BlockQueue(len(tasks))
    except (OSError, ImportError):  # no shared memory or pipe here (some sandboxes): one process, as before
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{stem}.json.", suffix=".part", dir=folder)
        os.close(fd)
        path = Path(name)
    except OSError:
        queue.close()
        return None
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        queue.close()
        path.unlink(missing_ok=True)
        return None
    # The child must not run the cyclic collector over the parent's millions of objects: touching
    # them copies every page of the shared heap. Frozen objects are skipped; the child collects nothing.
    gc.freeze()
    pid = -1
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process that has threads (numpy's BLAS pool, say): the
            # child only lays out bytes and writes a file, and leaves with os._exit
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:  # no memory or process slot for a child: lay out everything here
        os.close(read_fd)
        os.close(write_fd)
        queue.close()
        path.unlink(missing_ok=True)
        return None
    finally:
        if pid != 0:
            gc.unfreeze()
    if pid == 0:  # pragma: no cover - runs in the child; its work is checked through the report's bytes
        gc.disable()
        os.close(read_fd)
        if "pyarrow" in sys.modules:  # the C library's allocator is safe after fork; Arrow's own may not be
            sys.modules["pyarrow"].set_memory_pool(sys.modules["pyarrow"].system_memory_pool())
        status = b"ok"
        try:
            # Not open(path, "wb"): the file is new and empty, and truncating it on open makes ext4 start
            # writing it out to disk when it is closed (its guard for files replaced by truncation),
            # which held the report back by ~0.1 s.
            with os.fdopen(os.open(path, os.O_WRONLY), "wb") as f:
                f.write(head + b"[")
                while (t := queue.front()) is not None:
                    key, i, data = tasks.lay_out(t)
                    if key == "school_checks" and i == 0:  # every row block was laid out here
                        f.write(BETWEEN + b"[")
                    f.write(data)
        except BaseException as e:  # noqa: BLE001 - every failure is reported to the parent, which falls back
            status = f"{type(e).__name__}: {e}".encode("utf-8", "replace")[:2000] or b"failed"
        finally:
            try:
                os.write(write_fd, status)
                os.close(write_fd)  # the parent reads to the end of the pipe: it goes on now, not at exit
            finally:
                os._exit(0)
    os.close(write_fd)
    return ArraysJob(pid, read_fd, path, head, queue, tasks)


#: Where :func:`start`'s job waits on the evaluation for the JSON writer.
JOB_KEY = "_json_arrays_job"


def discard(ev: Evaluation) -> None:
    """Stop a job the JSON writer did not take (the run failed first, say) and remove its file."""
    job = ev.__dict__.pop(JOB_KEY, None)
    if job is not None:
        job.close()
