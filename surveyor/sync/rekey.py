"""``surveyor rekey``: give a copied laptop database its own site id, so it can sync.

A laptop restored from a backup and surveyed on before it synced, or a second laptop made
from a copy of the first, carries the same site id as its original, and the two logs number
different changes alike from the place they parted. The central refuses the second to arrive
(``ClonedSite``): its answers would otherwise overwrite the other's under the same numbers.

Re-keying keeps every change (ids, clocks, parents, payloads: the history is the same) and
moves the copy's own changes from the place it parted from what the central holds of that id
onwards to a new site id, numbered 1, 2, …. The changes before that place are the very ones
the central holds, and stay. Nothing is lost either way: where both laptops answered the same
field differently, the merge shows a conflict for review, as for any two inspectors.

Where the central holds none of the copy's later numbers (the original has not synced them
yet), everything past what the central holds moves too: run on the original by mistake, that
only gives its unsynced changes a new id. If the other copy (a handover export) is merged
after that, the central holds those changes under the old id and the sync of this one is
refused (``apply.RenumberedChanges``); run again, rekey puts every change the central already
holds back under the site and number it holds it by (the ids are random: the same id is the
same change), and moves only the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.store import models
from surveyor.store.bulk import select_values
from surveyor.store.db import Store, read_tx, shown_target, write_tx
from surveyor.sync.apply import update_watermarks
from surveyor.sync.rows import CHANGE, as_uuid, canonical_id

META = models.META_TABLE
CLOCK = models.CLOCK_TABLE


@dataclass(frozen=True)
class Rekeyed:
    """What ``rekey`` did: the old and new site ids, from which change number it parted from
    the central's log, and how many changes moved to the new id."""

    old_site: str
    new_site: str
    parted_at: int
    moved: int
    #: Changes put back under the site and number the central holds them by (a copy of this
    #: database merged there after a mistaken rekey), and those sites.
    restored: int = 0
    back_sites: str = ""


def own_log(conn: sa.Connection, site: str) -> dict[int, str]:
    """seq → change id of every change ``site`` made that this database holds."""
    rows = conn.execute(
        sa.select(CHANGE.c.seq, CHANGE.c.change_id).where(CHANGE.c.site_id == as_uuid(site))
    )
    return {int(seq): canonical_id(change_id) for seq, change_id in rows}


def parting_seq(mine: dict[int, str], theirs: dict[int, str]) -> int | None:
    """The first of the copy's change numbers where the central holds another change or none;
    None when the central holds every one of them (then this database is no copy to fix)."""
    for seq in sorted(mine):
        if theirs.get(seq) != mine[seq]:
            return seq
    return None


def held_places(conn: sa.Connection, ids: list[str]) -> dict[str, tuple[str, int]]:
    """change id → (site, seq) of those of ``ids`` this database holds: the same changes
    (ids are random), perhaps numbered by a copy of the laptop (a handover export)."""
    rows = select_values(conn, CHANGE, ("change_id", "site_id", "seq"), "change_id", ids)
    return {canonical_id(c): (canonical_id(s), int(q)) for c, s, q in rows}


def rekey(laptop: Store, central: Store) -> Rekeyed:
    """Move the laptop's own changes from where they part from the central onwards to a new
    site id, in one transaction; the laptop must be closed and reopened afterwards."""
    if laptop.role == "central":
        raise SurveyorError(
            "rekey works on a laptop database (--db), not on a central store",
            zh="rekey 只用于笔记本数据库（--db），不用于中心库",
        )
    old = str(laptop.site_id)
    with read_tx(central.engine) as conn:
        theirs = own_log(conn, old)
    with write_tx(laptop.engine) as conn:
        mine = own_log(conn, old)
        parted = parting_seq(mine, theirs)
        if parted is None:
            raise SurveyorError(
                f"{shown_target(laptop.target)} agrees with everything the central holds of it: "
                "it is not a copy, and syncs as it is; nothing was changed",
                zh=f"{shown_target(laptop.target)} 与中心库所存的完全一致：它不是副本，可直接同步；"
                "未做任何改动",
            )
        new = str(uuid.uuid4())
        parting = sorted(seq for seq in mine if seq >= parted)
        with read_tx(central.engine) as hub:
            back = held_places(hub, [mine[seq] for seq in parting])
        for seq in parting:  # the central's place: the same change is numbered once
            if mine[seq] in back:
                site, number = back[mine[seq]]
                _place(conn, mine[seq], site, number)
        moving = [seq for seq in parting if mine[seq] not in back]
        for number, seq in enumerate(moving, start=1):
            _place(conn, mine[seq], new, number)
        if back:
            update_watermarks(conn, {site for site, _ in back.values()})
        conn.execute(sa.update(META).where(META.c.key == "site_id").values(value=new))
        conn.execute(sa.update(CLOCK).where(CLOCK.c.id == 1).values(seq=len(moving)))
    sites = ", ".join(sorted({site for site, _ in back.values()}))
    return Rekeyed(old, new, parted, len(moving), len(back), sites)


def _place(conn: sa.Connection, change_id: str, site: str, seq: int) -> None:
    """Put one change at (``site``, ``seq``) in this database's log."""
    conn.execute(
        sa.update(CHANGE)
        .where(CHANGE.c.change_id == as_uuid(change_id))
        .values(site_id=as_uuid(site), seq=seq)
    )
