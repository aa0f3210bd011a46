"""Photo files (blobs) beside a database, named by their SHA-256 (``<db>.blobs/ab/cdef…``).

A blob is written to a temporary name in its folder, fsynced and renamed, so an interrupted
write never leaves a wrong file under a blob's name; a copy from another folder is checked
against its hash first (``copy_blob``), as it may be damaged at its source.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import uuid
from pathlib import Path

from surveyor.errors import DiskFull
from surveyor.paths import STALE_TEMP_SECONDS, remove_stale_temps


def blob_path(folder: Path, sha: str) -> Path:
    return folder / sha[:2] / sha[2:]


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def has_valid_blob(folder: Path, sha: str) -> bool:
    path = blob_path(folder, sha)
    return path.is_file() and sha256_file(path) == sha


#: ``write_blob``'s temporary names: ``.<rest of the hash>.<8 hex>.tmp``.
_TEMP_NAME = re.compile(r"\.[0-9a-f]{62}\.[0-9a-f]{8}\.tmp")


def sweep_stale_temps(folder: Path, *, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove the temporary files killed photo writes left in ``folder``; returns how many.

    A sync or merge killed mid-copy left ``ab/.cdef….1a2b3c4d.tmp`` (megabytes each) that
    nothing removed; every merge and sync sweeps the folders it writes photos into, once.
    """
    try:
        subs = [e.path for e in os.scandir(folder) if len(e.name) == 2 and e.is_dir()]
    except OSError:
        return 0
    return sum(remove_stale_temps(Path(sub), _TEMP_NAME, older_than=older_than) for sub in subs)


def write_blob(folder: Path, sha: str, data: bytes) -> Path:
    """Write one blob atomically: a temporary file, fsynced, renamed to its hash.

    A failed write (a full disk) removes its temporary file: left behind, it kept the disk full
    and every retry left another. A full disk is said as DiskFull, in a sentence.
    """
    dst = blob_path(folder, sha)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFull(
                f"the disk holding {folder} is full: the photo was not stored (what was saved "
                "before is intact); free some space and try again",
                zh=f"{folder} 所在的磁盘已满：照片没有存入（之前保存的内容完好）；请腾出空间后重试",
            ) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def copy_blob(src_dir: Path, dst_dir: Path, sha: str) -> bool:
    """Copy one blob, verified on receipt; False when the source lacks it or it is damaged."""
    try:
        data = blob_path(src_dir, sha).read_bytes()
    except OSError:
        return False
    if hashlib.sha256(data).hexdigest() != sha:
        return False
    write_blob(dst_dir, sha, data)
    return True
