"""The per-field heads of a state row, stored grouped by change (schema 0003, 0005).

A building's fields are nearly always set by a handful of changes (the register import, a
survey save or two), so the heads are kept as ``{change_id: [hlc, [field, ...]]}``: each
change id and its HLC once, then the field names it heads. A 100-field survey costs about
1.8 KB instead of 5.7 KB for one UUID string and one HLC per field, which is most of what a
merge reads, parses, serialises and writes (sync-merge.md §2.2: bytes, not logic, set the
merge's speed).

Since 0005 a change that heads every field it set (two or more) — nearly always the latest
survey save — is stored as ``[hlc]`` alone (``pack_heads``): its names are the keys of that
change's ``fields``, which the log keeps anyway. That takes the heads from ≈ 2 KB to ≈ 0.1 KB
per surveyed building. Code works on the explicit form; ``unpack_heads`` restores it.

The encoding is canonical (change ids and field names sorted, a group short exactly when it
names all its change's fields), so two equal head maps encode to equal documents and can be
compared without decoding.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

#: Change id -> [hlc, sorted field names] (explicit), or [hlc] when stored for a change that
#: heads all its fields (packed).
HeadsDoc = dict[str, list[Any]]


def encode_heads(field_change: Mapping[str, str], field_hlc: Mapping[str, int]) -> HeadsDoc:
    """Group per-field heads by change; every field of ``field_change`` needs its HLC."""
    groups: dict[str, list[str]] = {}
    stamps: dict[str, int] = {}
    for field_id, change_id in field_change.items():
        groups.setdefault(change_id, []).append(field_id)
        stamps[change_id] = int(field_hlc[field_id])
    return encode_groups(groups, stamps)


def encode_groups(groups: Mapping[str, list[str]], stamps: Mapping[str, int]) -> HeadsDoc:
    """The stored form from fields already grouped by head change (change id -> fields)."""
    return {cid: [stamps[cid], sorted(groups[cid])] for cid in sorted(groups)}


def decode_heads(doc: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """Per-field maps back from explicit heads: (field -> change id, field -> HLC)."""
    field_change: dict[str, str] = {}
    field_hlc: dict[str, int] = {}
    for change_id, (stamp, fields) in doc.items():
        field_change.update(dict.fromkeys(fields, change_id))
        field_hlc.update(dict.fromkeys(fields, int(stamp)))
    return field_change, field_hlc


def set_heads(doc: Mapping[str, Any], fields: list[str], change_id: str, stamp: int) -> HeadsDoc:
    """Explicit heads after one change set ``fields``: they move to the new change's group.

    Cheaper than decode + encode on the save path: only groups that lose a field are rebuilt.
    """
    moved = set(fields)
    out: HeadsDoc = {}
    for cid, (old_stamp, old_fields) in doc.items():
        kept = [f for f in old_fields if f not in moved] if moved else list(old_fields)
        if kept:
            out[cid] = [old_stamp, kept]
    if fields:
        out[change_id] = [stamp, sorted(moved)]
    return {cid: out[cid] for cid in sorted(out)}


#: Changes that set fewer fields stay explicit: a name or two saves less than the lookup of
#: the change costs, and the TUI saves one answer at a time, which would pile up lookups.
PACK_FROM = 2


def heads_group(stamp: int, names: Collection[str], change_size: int) -> list[Any]:
    """One change's stored group: ``[hlc]`` when ``names`` are all the ``change_size`` fields
    the change set (names are always some of them) and there are at least ``PACK_FROM``,
    else ``[hlc, sorted names]``."""
    if len(names) == change_size and change_size >= PACK_FROM:
        return [stamp]
    return [stamp, sorted(names)]


def pack_heads(doc: Mapping[str, Any], change_sizes: Mapping[str, int]) -> HeadsDoc:
    """The stored form of explicit heads; ``change_sizes`` gives how many fields each change
    set (a change missing there is stored explicitly)."""
    return {
        cid: heads_group(int(stamp), names, change_sizes.get(cid, -1))
        for cid, (stamp, names) in sorted(doc.items())
    }


def packed_changes(doc: Mapping[str, Any]) -> list[str]:
    """The changes whose names the stored heads leave to the log."""
    return [cid for cid, group in doc.items() if len(group) == 1]


def unpack_heads(doc: Mapping[str, Any], fields_of: Mapping[str, Iterable[str]]) -> HeadsDoc:
    """The explicit form of stored heads; ``fields_of`` holds the fields set by each change
    in ``packed_changes(doc)``."""
    return {
        cid: list(group) if len(group) > 1 else [group[0], sorted(fields_of[cid])]
        for cid, group in doc.items()
    }
