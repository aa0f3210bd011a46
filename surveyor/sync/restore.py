"""``surveyor central restored``: a central put back from a backup writes under a new id.

Laptops pulled the central's own changes (register, assignments, resolutions) after the
backup was taken, numbered by the central's site id. Put back, the central would number its
next changes alike, and each laptop holding one of the lost ones was refused at its next sync
(docs/SYNC.md, "Restoring a central"). Run right after the restore, this gives the central a
new site id: its next changes take new places, and the laptops send back the lost ones (a
sync pushes every change the central lacks, whoever made it), so nothing made before the
restore is lost.

Run late, after the restored central had written again, ``since`` (the number a laptop's sync
or a merge named) moves the central's own changes from that number on to the new id too;
their ids, clocks and payloads are unchanged. A laptop that pulled one of them at its old
place puts it at the new one at its next sync (``follow_the_central``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.store.db import Store, read_tx, shown_target, write_tx
from surveyor.store.restart import restart_site
from surveyor.sync.apply import WATERMARK, refold, update_watermarks
from surveyor.sync.fold import ChangeRow
from surveyor.sync.rekey import held_places
from surveyor.sync.rows import CHANGE, as_uuid, canonical_id


@dataclass(frozen=True)
class Restarted:
    """What ``central_restored`` did: the old and new site ids, and how many changes made
    after the restore (from number ``since`` on) moved to the new id."""

    old_site: str
    new_site: str
    moved: int
    since: int


def central_restored(
    store: Store, form: Form | None, *, since: int | None = None, site: str | None = None
) -> Restarted:
    """Give a central put back from a backup a new site id, in one transaction; its changes
    from number ``since`` on (made after the restore) move to it. ``site``: the id they
    carry, when it is one the central wrote under before (a second refusal after a first
    ``--from``), not its current one. The store must be opened again afterwards (its
    ``site_id`` is read at open)."""
    old = site or str(store.site_id)
    if old not in {str(s) for s in store.own_sites}:
        raise SurveyorError(
            f"{shown_target(store.target)} never wrote under the id {old}; nothing was changed",
            zh=f"{shown_target(store.target)} 从未用编号 {old} 记录改动；未作任何改动",
        )
    with write_tx(store.engine) as conn:
        moving = _own_changes_from(conn, old, since) if since is not None else []
        _, new = restart_site(conn, seq=len(moving))
        for number, change_id in enumerate(moving, start=1):
            conn.execute(
                sa.update(CHANGE)
                .where(CHANGE.c.change_id == as_uuid(change_id))
                .values(site_id=as_uuid(new), seq=number)
            )
        if moving:
            reset_watermark(conn, old)
            update_watermarks(conn, [new])
            refold(conn, _buildings_of(conn, moving), form)
    return Restarted(old, new, len(moving), since or 0)


def _own_changes_from(conn: Connection, site: str, since: int) -> list[str]:
    """Ids of ``site``'s changes numbered ``since`` or more, in their order."""
    rows = conn.execute(
        sa.select(CHANGE.c.change_id)
        .where(CHANGE.c.site_id == as_uuid(site), CHANGE.c.seq >= since)
        .order_by(CHANGE.c.seq)
    ).scalars()
    return [canonical_id(c) for c in rows]


def _buildings_of(conn: Connection, change_ids: list[str]) -> list[str]:
    """The buildings these changes touch: their site takes part in the provisional value's
    tie-break (``fold``), so they are folded again under the new one."""
    rows = conn.execute(
        sa.select(CHANGE.c.entity_id)
        .where(CHANGE.c.change_id.in_([as_uuid(c) for c in change_ids]))
        .distinct()
    ).scalars()
    return sorted(canonical_id(e) for e in rows)


def reset_watermark(conn: Connection, site: str) -> None:
    """Recompute ``site``'s watermark from 0: changes above it moved away, and a laptop's
    sync sends only what lies above the central's watermark (the lost changes, there)."""
    conn.execute(sa.delete(WATERMARK).where(WATERMARK.c.site_id == as_uuid(site)))
    update_watermarks(conn, [site])


def follow_the_central(
    laptop: Store, form: Form | None, places: Mapping[str, tuple[str, int]]
) -> None:
    """Put these changes (id → the central's site and number for it) where the central
    holds them, in one transaction: the same id is the same change, and the central's
    changes moved by ``central_restored`` after the laptop had pulled them, left at their
    old place, clashed with a lost change sent back there."""
    with write_tx(laptop.engine) as conn:
        old_sites = {
            canonical_id(s)
            for s in conn.execute(
                sa.select(CHANGE.c.site_id)
                .where(CHANGE.c.change_id.in_([as_uuid(c) for c in places]))
                .distinct()
            ).scalars()
        }
        for change_id, (site, seq) in places.items():
            conn.execute(
                sa.update(CHANGE)
                .where(CHANGE.c.change_id == as_uuid(change_id))
                .values(site_id=as_uuid(site), seq=seq)
            )
        for site in old_sites:
            reset_watermark(conn, site)
        update_watermarks(conn, {site for site, _ in places.values()})
        refold(conn, _buildings_of(conn, list(places)), form)


def moved_on_the_central(laptop: Store, offered: Sequence[ChangeRow]) -> dict[str, tuple[str, int]]:
    """Those of the changes a central offers that the laptop holds at another place: id →
    the central's (site, seq). Asked only when a pull clashed, so a sync pays nothing."""
    with read_tx(laptop.engine) as conn:
        here = held_places(conn, [c.change_id for c in offered])
    return {
        c.change_id: (c.site_id, c.seq)
        for c in offered
        if c.change_id in here and here[c.change_id] != (c.site_id, c.seq)
    }
