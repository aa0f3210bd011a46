"""Applying changes to a database: the incremental side of the fold, in the caller's transaction.

``apply_changes`` inserts the changes a database lacks (anti-join on ``change_id``), then
re-folds only the buildings they touch, from all of those buildings' changes. The state rows
it writes are therefore exactly what ``fold.recompute`` gives for the whole log, which the
property tests check. The same code merges files into a central, pushes a laptop's batch and
pulls the central's changes into a laptop.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.forms.record import Evaluation, evaluate
from surveyor.services.survey import derived_columns
from surveyor.store import hlc, models
from surveyor.store.bulk import RawJSON, load_json, write_rows
from surveyor.store.ids import building_code
from surveyor.sync.fold import (
    DUPLICATE_KEY,
    MAX_SKEW_MS,
    STATUS_KEY,
    ChangeRow,
    ConflictRow,
    EntityState,
    duplicate_rows,
    fold_entity,
)

CHANGE = models.TABLES.tables["change"]
BUILDING = models.TABLES.tables["building"]
CONFLICT = models.TABLES.tables["conflict"]
WATERMARK = models.TABLES.tables["peer_watermark"]
CLOCK = models.TABLES.tables["clock"]
#: Ids per ``IN (...)`` list: under SQLite's and psycopg's parameter limits, few round trips.
CHUNK = 900


class ClonedSite(SurveyorError):
    """Two different changes claim the same (site, seq): a database file was copied."""


@dataclass(frozen=True)
class RowHint:
    """Evaluation columns of the sender's state row, reused when its heads equal ours.

    Evaluating the form costs ~0.4 ms per building; the sender already did it for the same
    answers under the same form version, so only buildings whose heads differ are evaluated.
    """

    heads: Mapping[str, Any]  # the sender's heads, encoded (store.heads)
    form_version: str
    completeness: float
    errors: Mapping[str, Any]
    error_count: int


@dataclass
class ApplyStats:
    received: int = 0
    new: int = 0
    buildings: int = 0
    open_conflicts: int = 0
    clock_suspect: int = 0
    clock_ahead: int = 0
    sites: set[str] = field(default_factory=set)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@functools.lru_cache(maxsize=1 << 16)
def as_uuid(text: str) -> uuid.UUID:
    """Text id to UUID for binding; cached, as site and building ids repeat across changes."""
    return uuid.UUID(text)


#: The ``change`` columns in the order ``change_from_values`` takes them.
CHANGE_COLUMNS = (
    "change_id",
    "site_id",
    "seq",
    "hlc",
    "entity_id",
    "op",
    "form_version",
    "fields",
    "parents",
    "author",
    "wall_time",
)


def change_from_values(
    change_id: Any,
    site_id: Any,
    seq: Any,
    stamp: Any,
    entity_id: Any,
    op: Any,
    form_version: Any,
    fields: Any,
    parents: Any,
    author: Any,
    wall_time: Any,
) -> ChangeRow:
    """A ``change`` row's values (in ``CHANGE_COLUMNS`` order) as a ChangeRow.

    Ids become canonical text. The text of ``fields`` read from a file is kept, so a merge
    writes it without dumping it again (changes are immutable).
    """
    return ChangeRow(
        change_id=canonical_id(change_id),
        site_id=_repeated_id(site_id),
        seq=int(seq),
        hlc=int(stamp),
        entity_id=_repeated_id(entity_id),
        op=str(op),
        form_version=str(form_version),
        fields=load_json(fields),
        parents=load_json(parents),
        author=str(author),
        wall_time=str(wall_time),
        fields_json=fields if isinstance(fields, str) else None,
    )


def change_from_mapping(r: Mapping[Any, Any]) -> ChangeRow:
    """A ``change`` row from SQLAlchemy (``.mappings()``) or sqlite3 as a ChangeRow."""
    return change_from_values(*(r[c] for c in CHANGE_COLUMNS))


@functools.lru_cache(maxsize=1 << 14)
def _repeated_id(value: Any) -> str:
    """canonical_id, cached: site and building ids repeat across a file's changes."""
    return canonical_id(value)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def canonical_id(value: Any) -> str:
    """An id as lower-case hyphenated text; SQLite's 32-hex form is rewritten by slicing (fast)."""
    if isinstance(value, str) and len(value) == 32:
        v = value.lower()
        return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
    return str(_uuid(value))


def change_to_params(c: ChangeRow) -> dict[str, Any]:
    return {
        "change_id": c.change_id,  # unique per row: caching its UUID would only evict
        "site_id": as_uuid(c.site_id),
        "seq": c.seq,
        "hlc": c.hlc,
        "entity_type": "building",
        "entity_id": as_uuid(c.entity_id),
        "op": c.op,
        "form_version": c.form_version,
        "fields": c.fields if c.fields_json is None else RawJSON(c.fields_json),
        "parents": c.parents,
        "author": c.author,
        "wall_time": c.wall_time,
    }


def existing_change_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The anti-join: which of these change ids the database already holds."""
    found: set[str] = set()
    for part in chunks(ids):
        rows = conn.execute(
            sa.select(CHANGE.c.change_id).where(CHANGE.c.change_id.in_([as_uuid(i) for i in part]))
        )
        found.update(str(r[0]) for r in rows)
    return found


def check_not_cloned(conn: Connection, new: Sequence[ChangeRow], label: str) -> None:
    """Refuse changes whose (site, seq) is already taken by a different change (§6 clones)."""
    by_site: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in new:
        by_site[c.site_id].append(c)
    for site, rows in by_site.items():
        lo = min(c.seq for c in rows)
        hi = max(c.seq for c in rows)
        taken = {
            int(seq): str(cid)
            for seq, cid in conn.execute(
                sa.select(CHANGE.c.seq, CHANGE.c.change_id).where(
                    CHANGE.c.site_id == as_uuid(site), CHANGE.c.seq.between(lo, hi)
                )
            )
        }
        seen: dict[int, str] = {}
        for c in rows:
            other = taken.get(c.seq) or seen.setdefault(c.seq, c.change_id)
            if other != c.change_id:
                raise ClonedSite(
                    f"{label} holds changes of site {site} that differ from ones already "
                    f"merged (seq {c.seq}): it is a copy of another laptop's database; "
                    "nothing of it was merged"
                )


def load_entity_changes(conn: Connection, entity_ids: Sequence[str]) -> dict[str, list[ChangeRow]]:
    """Every change the database holds for these buildings."""
    out: dict[str, list[ChangeRow]] = defaultdict(list)
    for part in chunks(entity_ids):
        rows = conn.execute(
            sa.select(CHANGE).where(CHANGE.c.entity_id.in_([as_uuid(i) for i in part]))
        ).mappings()
        for r in rows:
            c = change_from_mapping(r)
            out[c.entity_id].append(c)
    return out


def existing_buildings(conn: Connection, entity_ids: Sequence[str]) -> dict[str, str | None]:
    """Ids of the buildings that already have a state row, with their normalised address."""
    out: dict[str, str | None] = {}
    for part in chunks(entity_ids):
        rows = conn.execute(
            sa.select(BUILDING.c.id, BUILDING.c.address_norm).where(
                BUILDING.c.id.in_([as_uuid(i) for i in part])
            )
        )
        out.update((str(i), a) for i, a in rows)
    return out


_KNOWN: dict[int, tuple[Form, frozenset[str]]] = {}


def _known_fields(form: Form | None) -> frozenset[str] | None:
    """The form's field ids, computed once per form object (state_row runs per building)."""
    if form is None:
        return None
    hit = _KNOWN.get(id(form))
    if hit is None or hit[0] is not form:
        hit = _KNOWN[id(form)] = (form, frozenset(form.fields))
    return hit[1]


def state_row(state: EntityState, form: Form | None, hint: RowHint | None) -> dict[str, Any]:
    """The ``building`` row for a folded building (same columns the write path maintains)."""
    known = _known_fields(form)
    values = state.values
    # Set operations per head change rather than a Python step per field: this runs for
    # every field of every merged building.
    heads: dict[str, list[Any]] = {}
    others: set[str] = set()
    for change, keys in state.groups:
        kept = {k for k in keys if k[:1] != "_"} if known is None else keys & known
        if STATUS_KEY in keys:
            kept.add(STATUS_KEY)
        if len(kept) < len(keys):
            others |= keys - kept
        if kept:
            heads[change.change_id] = [change.hlc, sorted(kept)]
    heads = {cid: heads[cid] for cid in sorted(heads)}
    if known is None:
        answers = {k: v for k, v in values.items() if v is not None and k[:1] != "_"}
    else:
        answers = {k: v for k, v in values.items() if v is not None and k in known}
    extra: dict[str, Any] = {}
    if others:
        ordered = sorted(others)
        extra = {
            "values": {k: values[k] for k in ordered},
            "heads": {k: state.head[k].change_id for k in ordered},
        }
    status = str(state.values.get(STATUS_KEY) or "not_started")
    code = building_code(as_uuid(state.entity_id))
    version = form.version if form is not None else state.last.form_version
    if hint is not None and hint.heads == heads and hint.form_version == version:
        derived = derived_columns(code, answers, status, _no_evaluation())
        derived |= {
            "completeness": hint.completeness,
            "errors": dict(hint.errors),
            "error_count": hint.error_count,
        }
    elif form is not None:
        derived = derived_columns(code, answers, status, evaluate(form, answers))
    else:
        derived = derived_columns(code, answers, status, _no_evaluation()) | {"completeness": 0.0}
    assigned = state.values.get("_assigned_to")
    return {
        "id": as_uuid(state.entity_id),
        "code": code,
        "form_version": version,
        "answers": answers,
        "heads": heads,
        "extra": extra,
        "deleted": state.deleted,
        "conflict_count": state.open_conflicts,
        "assigned_to": None if assigned is None else str(assigned)[:80],
        "created_hlc": state.first.hlc,
        "updated_hlc": state.last.hlc,
        "updated_by": state.last.author,
        **derived,
    }


def _no_evaluation() -> Evaluation:
    """An empty Evaluation, for when the evaluation columns come from elsewhere."""
    return Evaluation(values={}, relevant=set())


def conflict_params(row: ConflictRow) -> dict[str, Any]:
    return {
        "entity_id": as_uuid(row.entity_id),
        "field_key": row.field_key,
        "kind": row.kind,
        "base_change_id": None if row.base_change_id is None else as_uuid(row.base_change_id),
        "head_change_ids": list(row.head_change_ids),
        "provisional_change_id": (
            None if row.provisional_change_id is None else as_uuid(row.provisional_change_id)
        ),
        "status": row.status,
        "resolved_by": None if row.resolved_by is None else as_uuid(row.resolved_by),
    }


def write_buildings(
    conn: Connection, rows: list[dict[str, Any]], existing: Mapping[str, Any]
) -> None:
    """Write state rows: plain inserts for new buildings (COPY on PostgreSQL), upserts for
    the ones ``existing`` says are already there."""
    fresh = [r for r in rows if str(r["id"]) not in existing]
    if len(fresh) < len(rows):
        update = [r for r in rows if str(r["id"]) in existing]
        write_rows(conn, BUILDING, update, conflict=["id"], update=True)
    write_rows(conn, BUILDING, fresh)


def replace_conflicts(
    conn: Connection, entity_ids: Sequence[str], rows: list[ConflictRow], *, duplicates: bool
) -> None:
    """Replace the conflict rows of these buildings (field conflicts or duplicate flags)."""
    dup = CONFLICT.c.field_key == DUPLICATE_KEY
    for part in chunks(entity_ids):
        conn.execute(
            sa.delete(CONFLICT).where(
                CONFLICT.c.entity_id.in_([as_uuid(i) for i in part]), dup if duplicates else ~dup
            )
        )
    write_rows(conn, CONFLICT, [conflict_params(r) for r in rows])


def refresh_duplicates(conn: Connection, entity_ids: Iterable[str], addresses: set[str]) -> None:
    """Recompute duplicate flags for every building at the touched addresses."""
    members: dict[str, str | None] = {}
    addr_list = sorted(addresses)
    for part in chunks(addr_list):
        rows = conn.execute(
            sa.select(BUILDING.c.id, BUILDING.c.address_norm, BUILDING.c.deleted).where(
                BUILDING.c.address_norm.in_(list(part))
            )
        )
        for i, addr, deleted in rows:
            members[str(i)] = None if deleted else addr
    touched = sorted(set(members) | set(entity_ids))
    flagged = duplicate_rows(members)
    if not flagged and not _has_duplicate_rows(conn, touched):
        return
    replace_conflicts(conn, touched, flagged, duplicates=True)


def flags_duplicates(conn: Connection) -> bool:
    """Duplicate buildings are flagged on a central only: it alone sees every laptop's work."""
    meta = models.TABLES.tables["meta"]
    role = conn.execute(sa.select(meta.c.value).where(meta.c.key == "role")).scalar()
    return role == "central"


def _has_duplicate_rows(conn: Connection, entity_ids: Sequence[str]) -> bool:
    for part in chunks(entity_ids):
        hit = conn.execute(
            sa.select(CONFLICT.c.entity_id)
            .where(
                CONFLICT.c.field_key == DUPLICATE_KEY,
                CONFLICT.c.entity_id.in_([as_uuid(i) for i in part]),
            )
            .limit(1)
        ).first()
        if hit is not None:
            return True
    return False


def update_watermarks(conn: Connection, sites: Iterable[str]) -> None:
    """Advance each site's highest contiguous seq held (the replica version vector)."""
    for site in sorted(sites):
        sid = as_uuid(site)
        current = conn.execute(
            sa.select(WATERMARK.c.max_seq).where(WATERMARK.c.site_id == sid)
        ).scalar()
        mark = int(current or 0)
        seqs = conn.execute(
            sa.select(CHANGE.c.seq)
            .where(CHANGE.c.site_id == sid, CHANGE.c.seq > mark)
            .order_by(CHANGE.c.seq)
        ).scalars()
        start = mark
        for seq in seqs:
            if seq != mark + 1:
                break
            mark = int(seq)
        if mark == start:
            continue
        if current is None:
            conn.execute(sa.insert(WATERMARK), [{"site_id": sid, "max_seq": mark}])
        else:
            conn.execute(
                sa.update(WATERMARK).where(WATERMARK.c.site_id == sid).values(max_seq=mark)
            )


def watermarks(conn: Connection) -> dict[str, int]:
    return {
        str(s): int(m) for s, m in conn.execute(sa.select(WATERMARK.c.site_id, WATERMARK.c.max_seq))
    }


def observe_clock(conn: Connection, new: Sequence[ChangeRow]) -> int:
    """Move the local HLC past what was received, so later local edits sort after it.

    Stamps more than a day ahead of this machine's clock are not observed (they would drag
    every later edit into the future, cf. CockroachDB's max offset); returns how many.
    """
    limit = hlc.pack(hlc.now_ms() + MAX_SKEW_MS)
    trusted = [c.hlc for c in new if c.hlc <= limit]
    suspect = len(new) - len(trusted)
    if trusted:
        top = max(trusted)
        current = conn.execute(sa.select(CLOCK.c.hlc).where(CLOCK.c.id == 1)).scalar_one()
        if top > current:
            conn.execute(
                sa.update(CLOCK).where(CLOCK.c.id == 1).values(hlc=hlc.observe(current, top))
            )
    return suspect


def refold(
    conn: Connection,
    entity_ids: Sequence[str],
    form: Form | None,
    *,
    pending: Mapping[str, list[ChangeRow]] | None = None,
    hints: Mapping[str, RowHint] | None = None,
    existing: Mapping[str, str | None] | None = None,
) -> int:
    """Re-fold these buildings from their changes and write state rows, conflicts, duplicates.

    ``pending`` holds changes just inserted (so buildings that are new here need no read
    back); ``existing`` maps the buildings that already had a state row to their address.
    Returns the number of open field conflicts among them.
    """
    if existing is None:
        existing = existing_buildings(conn, entity_ids)
    old = [e for e in entity_ids if e in existing]
    held = load_entity_changes(conn, old) if old else {}
    rows: list[dict[str, Any]] = []
    conflicts: list[ConflictRow] = []
    addresses = {a for a in existing.values() if a}
    for eid in entity_ids:
        changes = held.get(eid) if eid in existing else (pending or {}).get(eid)
        if not changes:
            continue
        state = fold_entity(eid, changes)
        row = state_row(state, form, (hints or {}).get(eid))
        rows.append(row)
        conflicts.extend(state.conflicts)
        if row["address_norm"]:
            addresses.add(row["address_norm"])
    write_buildings(conn, rows, existing)
    if old:
        replace_conflicts(conn, old, conflicts, duplicates=False)
    else:
        write_rows(conn, CONFLICT, [conflict_params(r) for r in conflicts])
    if flags_duplicates(conn):
        refresh_duplicates(conn, entity_ids, addresses)
    return sum(1 for c in conflicts if c.status == "open")


#: ``meta`` key: this site's seq up to which local saves have been re-folded (by a pull).
FOLDED_SEQ_KEY = "folded_own_seq"


def refold_after_local_saves(conn: Connection, form: Form | None, site_id: str) -> int:
    """Re-fold the buildings local saves may have left with inexact conflict rows.

    The write path (``SurveyWriter``) keeps a state row's values and heads right but does not
    read the log, so it does not maintain ``conflict``: a save on a conflicted field adds a
    head there, and a save on a field with two concurrent heads that agreed (no conflict)
    names only the shown one as parent, which starts a conflict. Pull calls this so a
    laptop's conflicts are exact after every sync: buildings with a conflict row, and
    buildings this site saved since the last pull. Returns how many were re-folded.
    """
    meta = models.META_TABLE
    mark = conn.execute(sa.select(meta.c.value).where(meta.c.key == FOLDED_SEQ_KEY)).scalar()
    since = int(mark or 0)
    site = as_uuid(site_id)
    top = conn.execute(sa.select(sa.func.max(CHANGE.c.seq)).where(CHANGE.c.site_id == site))
    top_seq = int(top.scalar() or 0)
    ids = {str(i) for i in conn.execute(sa.select(CONFLICT.c.entity_id)).scalars()}
    ids |= {
        str(i)
        for i in conn.execute(
            sa.select(CHANGE.c.entity_id)
            .where(CHANGE.c.site_id == site, CHANGE.c.seq > since)
            .distinct()
        ).scalars()
    }
    if ids:
        refold(conn, sorted(ids), form)
    if top_seq != since:
        if mark is None:
            conn.execute(sa.insert(meta), [{"key": FOLDED_SEQ_KEY, "value": str(top_seq)}])
        else:
            conn.execute(
                sa.update(meta).where(meta.c.key == FOLDED_SEQ_KEY).values(value=str(top_seq))
            )
    return len(ids)


def apply_changes(
    conn: Connection,
    changes: Sequence[ChangeRow],
    form: Form | None,
    *,
    label: str,
    hints: Mapping[str, RowHint] | None = None,
) -> ApplyStats:
    """Add the changes this database lacks and bring the touched buildings up to date.

    Runs in the caller's transaction, so a failure anywhere leaves nothing written.
    """
    stats = ApplyStats(received=len(changes))
    unique = {c.change_id: c for c in changes}
    have = existing_change_ids(conn, list(unique))
    new = [c for cid, c in unique.items() if cid not in have]
    if not new:
        return stats
    check_not_cloned(conn, new, label)
    new.sort(key=lambda c: (c.site_id, c.seq))
    write_rows(conn, CHANGE, [change_to_params(c) for c in new])
    pending: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in new:
        pending[c.entity_id].append(c)
    entity_ids = sorted(pending)
    existing = existing_buildings(conn, entity_ids)
    stats.open_conflicts = refold(
        conn, entity_ids, form, pending=pending, hints=hints, existing=existing
    )
    stats.new = len(new)
    stats.buildings = len(entity_ids)
    stats.sites = {c.site_id for c in new}
    stats.clock_suspect = sum(1 for c in new if c.clock_suspect)
    update_watermarks(conn, stats.sites)
    stats.clock_ahead = observe_clock(conn, new)
    return stats
