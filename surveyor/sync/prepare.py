"""A batch of changes prepared for applying: the part of the work that needs the batch alone.

Folding each building of a laptop file and building its state row is about half of a
merge, and none of it needs the central. ``prepare_changes`` does that part; the central's
part (``apply.apply_prepared``) then uses a prepared state row for every building whose
changes on the central, once the new ones are written, are exactly the batch's: the fold is
a function of that set, so the prepared row is the one a re-fold would write. The other
buildings are re-folded from the central's log as before. A merge prepares the next files in
worker processes (``sync.pipeline``) while it writes the current one.

Prepared rows are driver-ready tuples (``bulk.row_converter``): the writing process only
hands them to ``executemany`` (or COPY). Everything here is tuples and text, which a worker
process pickles to the merging one at a fraction of the cost of dicts and objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from surveyor.forms.model import Form
from surveyor.store.bulk import row_converter
from surveyor.sync.fold import ChangeRow, fold_entity
from surveyor.sync.rows import (
    BUILDING,
    CHANGE,
    CHANGE_NAMES,
    CONFLICT,
    CONFLICT_NAMES,
    PriorEvaluation,
    RowHint,
    change_to_params,
    conflict_values,
    state_row,
)


class ChangeKey(NamedTuple):
    """What the central's side needs of a change: ids, place in its site's log, clock."""

    change_id: str
    site_id: str
    seq: int
    hlc: int
    entity_id: str
    clock_suspect: bool
    #: Answers of fields the form applying it does not know (a laptop on a newer form): kept
    #: in the state row's ``extra``, left out of every export; the merge report says so.
    unknown_answers: int = 0
    form_version: str = ""


class PreparedBuilding(NamedTuple):
    """A building folded from the batch's changes alone, with rows ready to write."""

    change_ids: frozenset[str]
    row: tuple[Any, ...]  # ``building`` columns in ``PreparedChanges.building_names`` order
    address_norm: str | None
    conflicts: list[tuple[Any, ...]]  # ``conflict`` rows in ``CONFLICT_NAMES`` order
    open_conflicts: int


@dataclass
class PreparedChanges:
    """A batch of changes (unique by id), its change rows and its folded buildings."""

    dialect: str
    keys: list[ChangeKey] = field(default_factory=list)
    change_rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    buildings: dict[str, PreparedBuilding] = field(default_factory=dict)
    building_names: tuple[str, ...] = ()
    hints: Mapping[str, RowHint] = field(default_factory=dict)


def prepare_changes(
    changes: Iterable[ChangeRow],
    form: Form | None,
    dialect: str,
    *,
    hints: Mapping[str, RowHint] | None = None,
    skip: Collection[str] = (),
) -> PreparedChanges:
    """Key, convert and fold a batch for a database of ``dialect``.

    Buildings in ``skip`` are not folded: the caller knows the database holds other changes
    of theirs, so their prepared rows could not be used.
    """
    prepared = PreparedChanges(dialect, hints=hints or {})
    to_change_row = row_converter(CHANGE, CHANGE_NAMES, dialect)
    by_entity: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in changes:
        if c.change_id in prepared.change_rows:
            continue
        prepared.keys.append(
            ChangeKey(
                c.change_id,
                c.site_id,
                c.seq,
                c.hlc,
                c.entity_id,
                c.clock_suspect,
                unknown_answers(c, form),
                c.form_version,
            )
        )
        prepared.change_rows[c.change_id] = to_change_row(change_to_params(c))
        by_entity[c.entity_id].append(c)
    folded = {e: group for e, group in by_entity.items() if e not in skip}
    prepared.building_names, prepared.buildings = fold_buildings(
        folded, form, dialect, prepared.hints
    )
    return prepared


def unknown_answers(change: ChangeRow, form: Form | None) -> int:
    """How many answers ``change`` sets of fields ``form`` does not have (reserved ``_``
    keys are the log's own, not answers)."""
    if form is None:
        return 0
    others = change.fields.keys() - form.fields.keys()  # a set operation: once per change
    return sum(1 for k in others if not k.startswith("_"))


def fold_buildings(
    changes_by_entity: Mapping[str, list[ChangeRow]],
    form: Form | None,
    dialect: str,
    hints: Mapping[str, RowHint],
    prior: Mapping[str, Sequence[PriorEvaluation]] | None = None,
) -> tuple[tuple[str, ...], dict[str, PreparedBuilding]]:
    """Fold each building from the given changes into driver-ready state and conflict rows.

    ``hints`` and ``prior`` offer evaluations already computed (see ``rows.state_row``).
    Returns the state rows' column names (empty when there is no building) and the rows.
    """
    to_conflict_row = row_converter(CONFLICT, CONFLICT_NAMES, dialect)
    names: tuple[str, ...] = ()
    to_building_row = None
    out: dict[str, PreparedBuilding] = {}
    for eid, group in changes_by_entity.items():
        if not group:
            continue
        state = fold_entity(eid, group)
        row = state_row(state, form, hints.get(eid), prior.get(eid, ()) if prior else ())
        if to_building_row is None:
            names = tuple(row)
            to_building_row = row_converter(BUILDING, names, dialect)
        out[eid] = PreparedBuilding(
            change_ids=frozenset(c.change_id for c in group),
            row=to_building_row(row),
            address_norm=row["address_norm"],
            conflicts=conflict_values(state.conflicts, to_conflict_row),
            open_conflicts=state.open_conflicts,
        )
    return names, out
