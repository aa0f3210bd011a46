"""Photo files (blobs) beside a database, named by their SHA-256 (``<db>.blobs/ab/cdef…``).

A blob is written to a temporary name in its folder, checked against its hash, fsynced and
renamed, so an interrupted copy never leaves a wrong file under a blob's name.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path


def blob_path(folder: Path, sha: str) -> Path:
    return folder / sha[:2] / sha[2:]


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def has_valid_blob(folder: Path, sha: str) -> bool:
    path = blob_path(folder, sha)
    return path.is_file() and sha256_file(path) == sha


def copy_blob(src_dir: Path, dst_dir: Path, sha: str) -> bool:
    """Copy one blob, verified on receipt; False when the source lacks it or it is damaged."""
    src = blob_path(src_dir, sha)
    try:
        data = src.read_bytes()
    except OSError:
        return False
    if hashlib.sha256(data).hexdigest() != sha:
        return False
    dst = blob_path(dst_dir, sha)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return True
