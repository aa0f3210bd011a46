"""Photos travel by SHA-256: only missing blobs are copied, each verified and written atomically.

Blobs live beside their database (``<db>.blobs/ab/cdef…``, see ``paths.blob_dir_for``); a blob
is copied through ``store.blobs.copy_blob``, so an interrupted copy never leaves a wrong file
under a blob's name (§4.10).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor import paths
from surveyor.store import models
from surveyor.store.blobs import blob_path, copy_blob, has_valid_blob
from surveyor.store.db import central_identity, is_url

ATTACHMENT = models.TABLES.tables["attachment"]


@dataclass
class BlobStats:
    copied: int = 0
    present: int = 0
    missing: int = 0


def default_blob_dir(target: str) -> Path:
    """Where a database keeps its photos: beside a SQLite file; for a PostgreSQL central, under
    the data folder, named by the server and database the URL reaches (``central_identity``),
    so another spelling of the same central (``&port=5432``, another user) finds its photos.

    The folder was once named by the URL's text after its last ``@``: one found under that
    name is renamed to the new one, so photos merged before are still found."""
    if not is_url(target):
        return paths.blob_dir_for(Path(target))
    root = paths.data_dir() / "central-blobs"
    folder = root / _folder_key(central_identity(target))
    legacy = root / _folder_key(target.rsplit("@", 1)[-1])
    if not folder.exists() and legacy.is_dir():
        try:
            legacy.rename(folder)
        except OSError:  # another process renamed it first, or the folder is read-only
            return folder if folder.is_dir() else legacy
    return folder


def _folder_key(text: str) -> str:
    """A folder name for ``text``: a hash, so no part of a URL is written on the disk."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_unsent(conn: Connection, offered: Sequence[tuple[str, int, str]]) -> int:
    """Record the offered photos the target lacks as not stored (no bytes travel); returns how
    many of them it does not hold.

    For a sync with a URL central and no ``--blobs``: the photos stay on the laptop, but the
    central knows of them, so a later handover merge (``missing_blobs_in``) or a sync with
    ``--blobs`` still brings them in.
    """
    held = {
        str(sha): bool(stored)
        for sha, stored in conn.execute(sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.stored))
    }
    new = [
        {"sha256": sha, "size": size, "mime": mime, "stored": False}
        for sha, size, mime in offered
        if sha not in held
    ]
    if new:
        conn.execute(sa.insert(ATTACHMENT), new)
    return sum(not held.get(sha) for sha, _, _ in offered)


def transfer_attachments(
    conn: Connection,
    offered: Sequence[tuple[str, int, str]],
    src_dir: Path,
    dst_dir: Path,
) -> BlobStats:
    """Copy the blobs the target lacks and record them, in the caller's transaction."""
    stats = BlobStats()
    if not offered:
        return stats
    held = {
        str(sha): bool(stored)
        for sha, stored in conn.execute(sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.stored))
    }
    for sha, size, mime in offered:
        if held.get(sha) and blob_path(dst_dir, sha).is_file():
            stats.present += 1
            continue
        ok = has_valid_blob(dst_dir, sha) or copy_blob(src_dir, dst_dir, sha)
        stats.copied += ok
        stats.missing += not ok
        if sha in held:
            if ok:
                conn.execute(
                    sa.update(ATTACHMENT).where(ATTACHMENT.c.sha256 == sha).values(stored=True)
                )
        else:
            conn.execute(
                sa.insert(ATTACHMENT), [{"sha256": sha, "size": size, "mime": mime, "stored": ok}]
            )
        held[sha] = ok
    return stats


def missing_blobs_in(conn: Connection, src_dir: Path) -> list[str]:
    """The photos the target records as missing (never received) that ``src_dir`` now has.

    A read only: a file merged again (skipped) takes the write lock just when it has some.
    """
    missing = conn.execute(
        sa.select(ATTACHMENT.c.sha256).where(ATTACHMENT.c.stored.is_(False))
    ).scalars()
    return [str(sha) for sha in missing if blob_path(src_dir, str(sha)).is_file()]


def fill_missing_blobs(conn: Connection, shas: Sequence[str], src_dir: Path, dst_dir: Path) -> int:
    """Copy those photos, verified on receipt, and record them as stored; returns how many.

    For a file merged while its blob folder lacked some photos: merging it again (skipped as
    already merged) brings them in.
    """
    copied = [sha for sha in shas if copy_blob(src_dir, dst_dir, sha)]
    if copied:
        conn.execute(
            sa.update(ATTACHMENT).where(ATTACHMENT.c.sha256.in_(copied)).values(stored=True)
        )
    return len(copied)
