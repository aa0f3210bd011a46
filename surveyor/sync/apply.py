"""Applying changes to a database: the incremental side of the fold, in the caller's transaction.

``apply_prepared`` inserts the changes a database lacks (found by their place in their site's
log, which also refuses a cloned laptop's), then
brings the buildings they touch up to date: from the batch's own fold (``sync.prepare``) when
the database's changes of a building are exactly the batch's, else by re-folding the
building from all of its changes here. The state rows it writes are therefore exactly what
``fold.recompute`` gives for the whole log, which the property tests check. The same code
merges files into a central, pushes a laptop's batch and pulls the central's changes into a
laptop (``apply_changes``).
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.i18n import t_in
from surveyor.store import hlc, models
from surveyor.store.bulk import (
    IN_LIST,
    dump_json,
    load_json,
    select_values,
    write_rows,
    write_values,
)
from surveyor.store.db import Store, database_role, shown_target, typed_target
from surveyor.sync.fold import DUPLICATE_KEY, MAX_SKEW_MS, ChangeRow, duplicate_rows
from surveyor.sync.prepare import (
    ChangeKey,
    PreparedBuilding,
    PreparedChanges,
    fold_buildings,
    prepare_changes,
)
from surveyor.sync.rows import (
    BUILDING,
    CHANGE,
    CHANGE_COLUMNS,
    CHANGE_NAMES,
    CONFLICT,
    CONFLICT_NAMES,
    PriorEvaluation,
    RowHint,
    answers_key,
    as_uuid,
    canonical_id,
    change_from_values,
    conflict_params,
)

WATERMARK = models.TABLES.tables["peer_watermark"]
CLOCK = models.TABLES.tables["clock"]
META = models.TABLES.tables["meta"]
#: Ids per ``IN (...)`` list: under SQLite's and psycopg's parameter limits, few round trips.
CHUNK = IN_LIST


class Sequenced(Protocol):
    """A change's place in its site's log (a ``ChangeRow`` or a ``ChangeKey``)."""

    @property
    def change_id(self) -> str: ...
    @property
    def site_id(self) -> str: ...
    @property
    def seq(self) -> int: ...


class Stamped(Protocol):
    @property
    def hlc(self) -> int: ...


class ClonedSite(SurveyorError):
    """Two different changes claim the same (site, seq): a database file was copied."""

    def __init__(self, message: str, *, site: str = "", zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        #: The id both copies carry ("" when unknown: a damaged or edited file).
        self.site = site

    #: The lowest number at which the two differ (0 when unknown).
    seq: int = 0

    @classmethod
    def differs(cls, label: str, site: object, seq: int) -> ClonedSite:
        """``label`` (a file merged) holds a change of ``site`` at ``seq`` other than the one
        merged there. The command names the file only: a label that is no path ("the central
        …") was put inside it, and the line could not be run."""
        clone = cls(
            f"{label} holds changes of site {site} that differ from ones already merged "
            f"(seq {seq}): it is a copy of another laptop's database; nothing of it was merged. "
            f"Give the copy its own id with 'surveyor rekey --db {label} --central CENTRAL' "
            "(CENTRAL: the central's path or URL), then merge it again",
            site=str(site),
            zh=f"{label} 中站点 {site} 的改动与已合并的不同（序号 {seq}）："
            "它是另一台笔记本数据库的副本；其内容均未合并。"
            f"请先用「surveyor rekey --db {label} --central 中心库」"
            "（中心库：中心库的路径或网址）给它一个自己的编号，再合并",
        )
        clone.seq = seq
        return clone


class CentralRestored(ClonedSite):
    """The central holds changes under its own id that differ from ones a laptop received
    from it before: it was put back from a backup that Surveyor could not tell as one (a
    file copied by hand, a data-only restore) and has written since, under the numbers of
    the changes it lost. ``surveyor central restored --from SEQ`` is the fix; the laptop is
    no copy, and rekeying it (what the refusal said) fixed nothing."""

    def __init__(self, key: str, site: str, seq: int, **words: object) -> None:
        def said(lang: str) -> str:
            return t_in(lang, key, seq=seq, **words)

        super().__init__(said("en"), site=site, zh=said("zh"))
        self.seq = seq


def restored_central(
    exc: ClonedSite, central: Store, label: str, *, merging: bool
) -> CentralRestored | None:
    """``exc`` said in the words of a central put back from a backup when the differing
    changes are the central's own (under its current id or a former one), else None.
    ``label`` names the laptop database or the file merged."""
    if exc.site not in {str(s) for s in central.own_sites} or not exc.seq:
        return None
    target = shlex.quote(typed_target(central.target))
    fix = f"surveyor central restored {target} --from {exc.seq}"
    if exc.site != str(central.site_id):  # an id it wrote under before
        fix += f" --site {exc.site}"
    return CentralRestored(
        "merge.central_restored" if merging else "sync.central_restored",
        exc.site,
        exc.seq,
        central=shown_target(central.target),
        label=label,
        fix=fix,
    )


@dataclass
class ApplyStats:
    received: int = 0
    new: int = 0
    buildings: int = 0
    open_conflicts: int = 0
    #: Buildings flagged as possible duplicates (same address) where this batch landed.
    possible_duplicates: int = 0
    clock_suspect: int = 0
    clock_ahead: int = 0
    sites: set[str] = field(default_factory=set)
    #: Answers of fields the applying form does not know, and the newest form version that
    #: wrote them (``prepare.unknown_answers``).
    unknown_answers: int = 0
    unknown_form: str = ""


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """A form version in the order releases come ("0.10" after "0.9")."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def existing_change_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The anti-join: which of these change ids the database already holds."""
    rows = select_values(conn, CHANGE, ("change_id",), "change_id", ids)
    return {canonical_id(r[0]) for r in rows}


def _same_changes_held(conn: Connection, keys: Sequence[ChangeKey]) -> set[str]:
    """The ids of ``keys`` this database holds as the very same changes (same building and
    clock) under another place; empty if any held id names another change (an edited file)."""
    mine = {k.change_id: (k.entity_id, int(k.hlc)) for k in keys}
    rows = select_values(conn, CHANGE, ("change_id", "entity_id", "hlc"), "change_id", list(mine))
    held = {canonical_id(c): (canonical_id(e), int(h)) for c, e, h in rows}
    if any(mine[c] != facts for c, facts in held.items()):
        return set()
    return set(held)


def held_sites(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """change id → the site it is held under here, for those of ``ids`` this database holds:
    a change held under another site than it comes with was numbered again by a rekey."""
    rows = select_values(conn, CHANGE, ("change_id", "site_id"), "change_id", ids)
    return {canonical_id(c): canonical_id(s) for c, s in rows}


def held_in_log(conn: Connection, changes: Sequence[Sequenced], label: str) -> set[str]:
    """Which of these changes the database holds, found by their place in their site's log.

    One range probe per site on the (site, seq) index instead of an id lookup per change.
    A place taken by a different change is a cloned database: ``ClonedSite``.
    """
    by_site: dict[str, list[Sequenced]] = defaultdict(list)
    for c in changes:
        by_site[c.site_id].append(c)
    held: set[str] = set()
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
        clashes: list[int] = []
        for c in rows:
            other = taken.get(c.seq) or seen.setdefault(c.seq, c.change_id)
            if other != c.change_id:
                clashes.append(c.seq)
            if c.seq in taken:
                held.add(c.change_id)
        if clashes:  # the lowest: from there on a restored central's numbers were reused
            raise ClonedSite.differs(label, site, min(clashes))
    return held


class RenumberedChanges(ClonedSite):
    """Changes this database holds already, under another site's numbers: a laptop re-keyed
    after a copy of it (a handover export) had been merged, so both carried the same changes
    under two ids. Nothing is damaged; ``surveyor rekey`` run again puts them back."""

    def __init__(self, label: str, site: str, count: int, fix: str) -> None:
        def said(lang: str) -> str:
            return t_in(lang, "sync.renumbered_changes", label=label, n=count, fix=fix)

        super().__init__(said("en"), site=site, zh=said("zh"))
        self.count = count

    def told_of(self, label: str, fix: str) -> RenumberedChanges:
        """The same refusal, naming the laptop database and the central as a sync knows them."""
        return RenumberedChanges(label, self.site, self.count, fix)


def insert_changes(
    conn: Connection, prepared: PreparedChanges, new: Sequence[ChangeKey], label: str = ""
) -> None:
    """Write new change rows; a change id held at another place in the log is refused: as
    changes numbered again by a rekey (``RenumberedChanges``: the ids are held here), else as
    a damaged file. The insert runs in a savepoint so that the ids can be looked up after."""
    rows = [prepared.change_rows[k.change_id] for k in new]
    try:
        with conn.begin_nested():
            write_values(conn, CHANGE, CHANGE_NAMES, rows)
    except sa.exc.IntegrityError as exc:
        held = _same_changes_held(conn, new)
        if held:
            site = next(k.site_id for k in new if k.change_id in held)
            fix = f"surveyor rekey --db {label} --central CENTRAL"
            raise RenumberedChanges(label, site, len(held), fix) from exc
        raise ClonedSite(
            "the changes hold a change id already held with a different site or sequence "
            "number: the file is damaged or was edited; nothing of it was merged",
            zh="其中某条改动的编号已以不同的站点或序号存在：文件已损坏或被改过；其内容均未合并",
        ) from exc


def load_entity_changes(conn: Connection, entity_ids: Sequence[str]) -> dict[str, list[ChangeRow]]:
    """Every change the database holds for these buildings."""
    out: dict[str, list[ChangeRow]] = defaultdict(list)
    for values in select_values(conn, CHANGE, CHANGE_COLUMNS, "entity_id", entity_ids):
        c = change_from_values(*values)
        out[c.entity_id].append(c)
    return out


def existing_buildings(conn: Connection, entity_ids: Sequence[str]) -> dict[str, str | None]:
    """Ids of the buildings that already have a state row, with their normalised address."""
    rows = select_values(conn, BUILDING, ("id", "address_norm"), "id", entity_ids)
    return {canonical_id(i): address for i, address in rows}


def delete_conflicts(conn: Connection, entity_ids: Sequence[str], *, duplicates: bool) -> None:
    """Delete the conflict rows of these buildings (field conflicts or duplicate flags)."""
    dup = CONFLICT.c.field_key == DUPLICATE_KEY
    for part in chunks(entity_ids):
        conn.execute(
            sa.delete(CONFLICT).where(
                CONFLICT.c.entity_id.in_([as_uuid(i) for i in part]), dup if duplicates else ~dup
            )
        )


def refresh_duplicates(
    conn: Connection,
    entity_ids: Iterable[str],
    addresses: set[str],
    *,
    unflagged: Collection[str] = (),
) -> int:
    """Recompute duplicate flags for every building at the touched addresses.

    Only the flag rows that exist or are due are rewritten: a file touches a thousand
    buildings, of which a handful share an address. ``unflagged`` names buildings known to
    have no flag rows (new here): not probed for any. Returns how many buildings at those
    addresses are flagged, so a merge report can say so (they wait for the supervisor like
    a conflict).
    """
    from surveyor.services.survey import building_number_key  # it builds on sync

    members: dict[str, tuple[str, str] | None] = {}
    columns = ("id", "address_norm", "building_no", "deleted")
    for i, address, number, deleted in select_values(
        conn, BUILDING, columns, "address_norm", sorted(addresses)
    ):
        members[canonical_id(i)] = None if deleted else (address, building_number_key(number))
    touched = set(members) | set(entity_ids)
    flagged = duplicate_rows(members)
    held = flagged_entities(conn, sorted(e for e in touched if e not in unflagged))
    rewritten = held | {r.entity_id for r in flagged}
    if rewritten:
        delete_conflicts(conn, sorted(rewritten), duplicates=True)
    write_rows(conn, CONFLICT, [conflict_params(r) for r in flagged])
    return len(flagged)


def flags_duplicates(conn: Connection) -> bool:
    """Duplicate buildings are flagged on a central only: it alone sees every laptop's work."""
    return database_role(conn) == "central"


def flagged_entities(conn: Connection, entity_ids: Sequence[str]) -> set[str]:
    """Which of these buildings hold a duplicate flag."""
    rows = select_values(
        conn, CONFLICT, ("entity_id",), "entity_id", entity_ids, equal={"field_key": DUPLICATE_KEY}
    )
    return {canonical_id(r[0]) for r in rows}


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


def observe_clock(conn: Connection, new: Sequence[Stamped], now: int | None = None) -> int:
    """Move the local HLC past what was received, so later local edits sort after it.

    Stamps more than a day ahead of ``now`` (this machine's clock unless the caller knows a
    better one: a push runs on the laptop, whose clock may be the wrong one) are not observed
    (they would drag every later edit into the future, cf. CockroachDB's max offset); returns
    how many.
    """
    limit = hlc.pack((hlc.now_ms() if now is None else now) + MAX_SKEW_MS)
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


def catch_up_own_seq(conn: Connection, new: Sequence[ChangeKey]) -> None:
    """Move this database's change counter past its own changes received back.

    A laptop restored from an older copy pulls its own later changes from the central; its
    next save would reuse their numbers and be refused by the log's (site, seq) key.
    """
    own = conn.execute(sa.select(META.c.value).where(META.c.key == "site_id")).scalar()
    if own is None:
        return
    site = canonical_id(own)
    top = max((k.seq for k in new if k.site_id == site), default=0)
    if top:
        conn.execute(sa.update(CLOCK).where(CLOCK.c.id == 1, CLOCK.c.seq < top).values(seq=top))


def refold(
    conn: Connection,
    entity_ids: Sequence[str],
    form: Form | None,
    *,
    left_addresses: Iterable[str] = (),
) -> int:
    """Re-fold these buildings from all their changes here; write state rows and conflicts.

    ``left_addresses`` are normalised addresses these buildings had before the caller
    already rewrote their state rows (a save on a central): the duplicate flags of the
    buildings still there are re-checked too, else a building left alone at its address kept
    its flag. Returns the number of open field conflicts among them.
    """
    existing = existing_buildings(conn, entity_ids)
    prepared = PreparedChanges(conn.dialect.name)
    return settle_buildings(
        conn, entity_ids, form, prepared, existing, left_addresses=left_addresses
    ).conflicts


def change_ids_by_entity(conn: Connection, entity_ids: Sequence[str]) -> dict[str, set[str]]:
    """The ids of every change held for these buildings (no payloads: a cheap probe)."""
    out: dict[str, set[str]] = defaultdict(set)
    for eid, cid in select_values(
        conn, CHANGE, ("entity_id", "change_id"), "entity_id", entity_ids
    ):
        out[canonical_id(eid)].add(canonical_id(cid))
    return out


def prior_evaluations(
    conn: Connection,
    entity_ids: Sequence[str],
    existing: Mapping[str, str | None],
    prepared: PreparedChanges,
) -> dict[str, list[PriorEvaluation]]:
    """Evaluations a re-fold of these buildings may reuse: of the state row held here, and of
    the batch's own fold (``rows.state_row`` reuses one whose answers equal the re-fold's)."""
    out: dict[str, list[PriorEvaluation]] = defaultdict(list)
    held = [e for e in entity_ids if e in existing]
    columns = ("id", "form_version", "answers", "completeness", "errors", "error_count")
    for i, version, answers, completeness, errors, count in select_values(
        conn, BUILDING, columns, "id", held
    ):
        if (key := answers_key(load_json(answers))) is not None:
            errors_json = dump_json(load_json(errors))
            out[canonical_id(i)].append(
                PriorEvaluation(version, key, float(completeness), errors_json, int(count))
            )
    at = {name: i for i, name in enumerate(prepared.building_names)}
    for eid in entity_ids:
        if (mine := prepared.buildings.get(eid)) is None:
            continue
        row = mine.row  # driver-ready: JSON columns are text
        if (key := answers_key(load_json(row[at["answers"]]))) is not None:
            out[eid].append(
                PriorEvaluation(
                    row[at["form_version"]],
                    key,
                    row[at["completeness"]],
                    row[at["errors"]],
                    row[at["error_count"]],
                )
            )
    return out


class Settled(NamedTuple):
    """What settling buildings left for a supervisor: open field conflicts among them, and
    buildings flagged as possible duplicates at their addresses."""

    conflicts: int
    duplicates: int


def settle_buildings(
    conn: Connection,
    entity_ids: Sequence[str],
    form: Form | None,
    prepared: PreparedChanges,
    existing: Mapping[str, str | None],
    *,
    written: set[str] | frozenset[str] = frozenset(),
    left_addresses: Iterable[str] = (),
) -> Settled:
    """Write the state rows, conflicts and duplicate flags of these buildings.

    A prepared building is used when the changes held here are exactly those it was folded
    from: for a building that already had a state row this is checked against the log; for
    one that had none (so no changes here before), all of its changes must be among the ones
    just ``written``. Every other building is re-folded from the log. ``existing`` maps the
    buildings that had a state row to their normalised address. Returns the number of open
    field conflicts among them and of possible duplicates at their addresses.
    """
    old = [e for e in entity_ids if e in existing]
    held = change_ids_by_entity(conn, [e for e in old if e in prepared.buildings])
    chosen: dict[str, PreparedBuilding] = {}
    refold_ids: list[str] = []
    for eid in entity_ids:
        b = prepared.buildings.get(eid)
        usable = b is not None and (
            b.change_ids == frozenset(held.get(eid, ()))
            if eid in existing
            else b.change_ids <= written
        )
        if b is not None and usable:
            chosen[eid] = b
        else:
            refold_ids.append(eid)
    names = prepared.building_names
    if refold_ids:
        log = load_entity_changes(conn, refold_ids)
        prior = prior_evaluations(conn, refold_ids, existing, prepared)
        refolded_names, refolded = fold_buildings(
            log, form, conn.dialect.name, prepared.hints, prior
        )
        names = names or refolded_names
        chosen.update(refolded)
    fresh: list[tuple[Any, ...]] = []
    updated: list[tuple[Any, ...]] = []
    conflicts: list[tuple[Any, ...]] = []
    addresses = {a for a in existing.values() if a} | {a for a in left_addresses if a}
    for eid in entity_ids:
        b = chosen.get(eid)
        if b is None:  # no changes held for it
            continue
        (updated if eid in existing else fresh).append(b.row)
        conflicts.extend(b.conflicts)
        if b.address_norm:
            addresses.add(b.address_norm)
    write_values(conn, BUILDING, names, updated, conflict=["id"], update=True)
    write_values(conn, BUILDING, names, fresh)
    if old:
        delete_conflicts(conn, old, duplicates=False)
    write_values(conn, CONFLICT, CONFLICT_NAMES, conflicts)
    duplicates = 0
    if flags_duplicates(conn):
        new_here = {e for e in entity_ids if e not in existing}
        duplicates = refresh_duplicates(conn, entity_ids, addresses, unflagged=new_here)
    return Settled(sum(b.open_conflicts for b in chosen.values()), duplicates)


#: ``meta`` key: this site's seq up to which local saves have been re-folded (by a pull).
FOLDED_SEQ_KEY = "folded_own_seq"


def buildings_to_refold(conn: Connection, site_id: str, since: int) -> list[str]:
    """The buildings a pull re-folds after local saves: those with an open conflict (a save
    may have replaced one of its heads), and those this site saved after seq ``since``.

    A resolved row, kept for the record, changes only with a new change of its building: one
    pulled (its building is re-folded as it is applied) or one of this site's saves (selected
    here); a building re-folded for either reason has its resolved rows rewritten with the
    others. Selecting every building that ever had a conflict re-folded more of them at each
    pull as the survey went on.
    """
    site = as_uuid(site_id)
    ids = {
        canonical_id(i)
        for i in conn.execute(
            sa.select(CONFLICT.c.entity_id).where(CONFLICT.c.status == "open").distinct()
        ).scalars()
    }
    ids |= {
        canonical_id(i)
        for i in conn.execute(
            sa.select(CHANGE.c.entity_id)
            .where(CHANGE.c.site_id == site, CHANGE.c.seq > since)
            .distinct()
        ).scalars()
    }
    return sorted(ids)


def refold_after_local_saves(conn: Connection, form: Form | None, site_id: str) -> int:
    """Re-fold the buildings local saves may have left with inexact conflict rows.

    The write path (``SurveyWriter``) keeps a state row's values and heads right but does not
    read the log, so it does not maintain ``conflict``: a save on a conflicted field adds a
    head there, and a save whose head moved underneath (``seen``) starts one. Pull calls this so a
    laptop's conflicts are exact after every sync: buildings with an open conflict, and
    buildings this site saved since the last pull. Returns how many were re-folded.
    """
    mark = conn.execute(sa.select(META.c.value).where(META.c.key == FOLDED_SEQ_KEY)).scalar()
    since = int(mark or 0)
    site = as_uuid(site_id)
    top = conn.execute(sa.select(sa.func.max(CHANGE.c.seq)).where(CHANGE.c.site_id == site))
    top_seq = int(top.scalar() or 0)
    ids = buildings_to_refold(conn, site_id, since)
    if ids:
        refold(conn, ids, form)
    if top_seq != since:
        if mark is None:
            conn.execute(sa.insert(META), [{"key": FOLDED_SEQ_KEY, "value": str(top_seq)}])
        else:
            conn.execute(
                sa.update(META).where(META.c.key == FOLDED_SEQ_KEY).values(value=str(top_seq))
            )
    return len(ids)


def apply_changes(
    conn: Connection,
    changes: Sequence[ChangeRow],
    form: Form | None,
    *,
    label: str,
    hints: Mapping[str, RowHint] | None = None,
    now: int | None = None,
) -> ApplyStats:
    """Add the changes this database lacks and bring the touched buildings up to date.

    ``now`` is the time received stamps are checked against (``observe_clock``).
    Runs in the caller's transaction, so a failure anywhere leaves nothing written. Only the
    new changes are prepared, and only for buildings that have no state row here yet (the
    others hold other changes, so they are re-folded from the log anyway).
    """
    unique = {c.change_id: c for c in changes}
    have = held_in_log(conn, list(unique.values()), label)  # refuses a clone too
    new = [c for cid, c in unique.items() if cid not in have]
    existing = existing_buildings(conn, sorted({c.entity_id for c in new}))
    prepared = prepare_changes(new, form, conn.dialect.name, hints=hints, skip=existing)
    stats = apply_prepared(conn, prepared, form, label=label, have=have, existing=existing, now=now)
    stats.received = len(changes)
    return stats


def apply_prepared(
    conn: Connection,
    prepared: PreparedChanges,
    form: Form | None,
    *,
    label: str,
    have: set[str] | None = None,
    existing: Mapping[str, str | None] | None = None,
    now: int | None = None,
) -> ApplyStats:
    """Add the prepared changes this database lacks and bring the touched buildings up to date.

    ``have`` (the batch's change ids already held) and ``existing`` (see
    ``settle_buildings``) may be passed when the caller already asked. Runs in the caller's
    transaction, so a failure anywhere leaves nothing written.
    """
    stats = ApplyStats(received=len(prepared.keys))
    if have is None:
        have = held_in_log(conn, prepared.keys, label)  # refuses a clone too
    new = [k for k in prepared.keys if k.change_id not in have]
    if not new:
        return stats
    new.sort(key=lambda c: (c.site_id, c.seq))
    insert_changes(conn, prepared, new, label)
    entity_ids = sorted({k.entity_id for k in new})
    if existing is None:
        existing = existing_buildings(conn, entity_ids)
    written = {k.change_id for k in new}
    stats.open_conflicts, stats.possible_duplicates = settle_buildings(
        conn, entity_ids, form, prepared, existing, written=written
    )
    stats.new = len(new)
    stats.buildings = len(entity_ids)
    stats.sites = {c.site_id for c in new}
    stats.clock_suspect = sum(1 for c in new if c.clock_suspect)
    unknown = [c for c in new if c.unknown_answers]
    stats.unknown_answers = sum(c.unknown_answers for c in unknown)
    stats.unknown_form = max((c.form_version for c in unknown), key=version_key, default="")
    update_watermarks(conn, stats.sites)
    stats.clock_ahead = observe_clock(conn, new, now)
    catch_up_own_seq(conn, new)
    return stats
