"""Preparing a merge's next files in worker processes while the current one is written.

``prepare_file`` is everything a file's merge needs from the file alone: reading and checking
it (``files.read_snapshot``) and preparing its changes (``sync.prepare``). It needs no
central, so with two or more files to read, ``Prefetcher`` runs it ahead in worker processes
and the merging process only writes.
Workers are forked where the platform can and the merging process runs no other thread (no
imports to repeat, the form already in memory); they open only the laptop files, read-only,
and never touch the connections they inherit (a forked worker ends with ``os._exit``, so it
does not close them either). Otherwise they are spawned and get the form pickled. Small
merges (under ``POOL_FROM_BYTES``) stay in process: starting workers would cost more. A
worker hands its result over as a file in a spool folder, not through the executor's pipe (a
worker killed mid-write there would hang the merge). A worker that dies (killed, out of
memory) costs no file: the rest are prepared in process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path

from surveyor.forms.model import Form
from surveyor.paths import blob_dir_for
from surveyor.sync.files import read_snapshot
from surveyor.sync.prepare import PreparedChanges, prepare_changes

#: Environment variable overriding how many worker processes prepare files (0: none).
WORKERS_ENV_VAR = "SURVEYOR_MERGE_WORKERS"
#: How often a worker checks that the merging process still runs.
PARENT_CHECK_SECONDS = 0.2
#: Garbage-collector thresholds while merging (``merge.fewer_gc_pauses``, and in workers).
MERGE_GC_THRESHOLDS = (50_000, 20, 20)
#: Below this many bytes of files to read, a merge prepares them in process.
POOL_FROM_BYTES = 4 << 20
#: Workers run this much nicer than the merging process: it alone writes, so a file's merge
#: waits for nothing but it; the workers take the CPU it leaves.
WORKER_NICENESS = 10
#: Spool folders are ``<prefix><merging pid>-<random>`` in the temporary directory.
SPOOL_PREFIX = "surveyor-merge-"


@dataclass
class PreparedFile:
    """A checked file, its changes prepared for a central of one dialect."""

    path: Path
    sha256: str
    site_id: str
    inspector: str | None
    attachments: list[tuple[str, int, str]]  # sha256, size, mime
    batch: PreparedChanges

    @property
    def max_seq(self) -> int:
        own = [k.seq for k in self.batch.keys if k.site_id == self.site_id]
        return max(own, default=0)

    @property
    def blob_dir(self) -> Path:
        return blob_dir_for(self.path)


def prepare_file(path: Path, form: Form | None, dialect: str) -> PreparedFile:
    """Read and check a file (``RefusedFile`` if it cannot be merged) and prepare its changes."""
    snap = read_snapshot(path)
    batch = prepare_changes(snap.changes, form, dialect, hints=snap.hints)
    return PreparedFile(
        snap.path, snap.sha256, snap.site_id, snap.inspector, snap.attachments, batch
    )


def workers_for(paths: Iterable[Path]) -> int:
    """Worker processes for a merge of these files.

    ``SURVEYOR_MERGE_WORKERS`` decides when set. Otherwise none below ``POOL_FROM_BYTES``
    (starting workers would cost more than they save) or on one core; else two: the merging
    process is the bottleneck beyond that, and on two cores its writes leave time idle.
    """
    env = os.environ.get(WORKERS_ENV_VAR, "").strip()
    if env.isdigit():
        return int(env)
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += path.stat().st_size
    cores = os.cpu_count() or 1
    return 2 if size >= POOL_FROM_BYTES and cores > 1 else 0


def _start_method() -> BaseContext:
    """Fork (cheap, nothing to re-import) unless another thread could hold a lock mid-fork."""
    single = threading.active_count() == 1
    fork = single and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else "spawn")


_WORKER_FORM: Form | None = None


def _start_worker(form: Form | None, parent: int, spool: Path) -> None:
    global _WORKER_FORM
    gc.set_threshold(*MERGE_GC_THRESHOLDS)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    # Ctrl-C reaches the whole process group: the merging process stops the pool itself, and
    # a worker's own KeyboardInterrupt would only print a traceback over its message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_FORM = form
    threading.Thread(target=_exit_with_parent, args=(parent, spool), daemon=True).start()


def _exit_with_parent(parent: int, spool: Path) -> None:
    """End this worker once the merging process is gone (``kill -9``, a crash), and remove
    the spool folder it can no longer clean up.

    Otherwise it would wait for work forever: a forked worker holds the write end of its own
    job queue, so the queue never reports the parent's end closing.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    shutil.rmtree(spool, ignore_errors=True)  # may race the other worker: the next merge sweeps
    os._exit(1)


def new_spool() -> Path:
    """A private spool folder named after this process (``sweep_spools`` reads the name)."""
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-"))


def sweep_spools() -> None:
    """Remove this user's spool folders whose merging process is gone: killed before its
    workers started, or together with them, no worker was left to remove them."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        owner = folder.name[len(SPOOL_PREFIX) :].split("-", 1)[0]
        with contextlib.suppress(OSError):
            info = folder.lstat()
            mine = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            if mine and owner.isdigit() and not _running(int(owner)):
                shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _prepare_in_worker(path: Path, dialect: str, spool: Path) -> str:
    """Prepare a file and leave the result in the spool folder; returns its path.

    A result of ≈ 10 MB does not go through the executor's pipe: a worker killed while
    writing it there leaves half a message, and the executor then waits for the rest forever.
    A path is short enough to be written in one piece.
    """
    prepared = prepare_file(path, _WORKER_FORM, dialect)
    # A fifth of the bytes, and no use there: a re-fold in the merging process is offered the
    # evaluations of this file's prepared rows instead (``apply.prior_evaluations``).
    prepared.batch.hints = {}
    out = spool / f"{os.getpid()}-{time.monotonic_ns()}.pickle"
    part = out.with_suffix(".part")
    with part.open("wb") as fh:
        pickle.dump(prepared, fh, protocol=pickle.HIGHEST_PROTOCOL)
    part.replace(out)
    return str(out)


def _load_spooled(name: str) -> PreparedFile:
    path = Path(name)
    try:
        with path.open("rb") as fh:
            prepared: PreparedFile = pickle.load(fh)
    finally:
        path.unlink(missing_ok=True)
    return prepared


class Prefetcher:
    """Prepares a merge's files in order, a few ahead of the one being written.

    ``files`` maps each file's place in the merge to its path, in merge order. ``take(i)``
    returns file ``i`` prepared (or raises its ``RefusedFile``); ``drop(i)`` says it will not
    be taken (found already merged meanwhile). With fewer than two files or no workers,
    files are prepared in process: splitting one file between workers was measured slower
    than preparing it here (forking a merging process and checking the file twice cost more
    than the halves saved).
    """

    def __init__(
        self,
        files: dict[int, Path],
        form: Form | None,
        dialect: str,
        *,
        workers: int | None = None,
    ) -> None:
        self._files = files
        self._form = form
        self._dialect = dialect
        count = workers if workers is not None else workers_for(files.values())
        self._ahead = count + 1
        self._pending = iter(list(files))
        self._futures: dict[int, Future[str]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._spool: Path | None = None
        # Every merge sweeps, with workers or not: one that finds little left to read after
        # a killed run would otherwise leave that run's folder behind.
        sweep_spools()
        if count > 0 and len(files) > 1:
            self._spool = new_spool()
            self._pool = ProcessPoolExecutor(
                count,
                mp_context=_start_method(),
                initializer=_start_worker,
                initargs=(form, os.getpid(), self._spool),
            )

    def take(self, index: int) -> PreparedFile:
        try:
            self._fill()
            future = self._futures.pop(index, None)
            if future is not None:
                return _load_spooled(future.result())
        except (BrokenProcessPool, OSError, pickle.UnpicklingError, EOFError):
            # A worker died, or its spool file could not be written or read (a full disk):
            # this file and the rest are prepared here.
            self.close()
        return prepare_file(self._files[index], self._form, self._dialect)

    def drop(self, index: int) -> None:
        future = self._futures.pop(index, None)
        if future is not None:
            future.cancel()

    def _fill(self) -> None:
        """Keep up to ``_ahead`` files submitted to the workers, in merge order."""
        spool = self._spool
        while self._pool is not None and spool is not None and len(self._futures) < self._ahead:
            index = next(self._pending, None)
            if index is None:
                return
            self._futures[index] = self._pool.submit(
                _prepare_in_worker, self._files[index], self._dialect, spool
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._futures.clear()
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
