"""The per-field heads of a state row, stored grouped by change (schema 0003).

A building's fields are nearly always set by a handful of changes (the register import, a
survey save or two), so the heads are kept as ``{change_id: [hlc, [field, ...]]}``: each
change id and its HLC once, then the field names it heads. A 100-field survey costs about
1.8 KB instead of 5.7 KB for one UUID string and one HLC per field, which is most of what a
merge reads, parses, serialises and writes (sync-merge.md §2.2: bytes, not logic, set the
merge's speed).

The encoding is canonical (change ids and field names sorted), so two equal head maps
encode to equal documents and can be compared without decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The stored form: change id -> [hlc, sorted field names].
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
    """Per-field maps back from the stored form: (field -> change id, field -> HLC)."""
    field_change: dict[str, str] = {}
    field_hlc: dict[str, int] = {}
    for change_id, (stamp, fields) in doc.items():
        field_change.update(dict.fromkeys(fields, change_id))
        field_hlc.update(dict.fromkeys(fields, int(stamp)))
    return field_change, field_hlc


def set_heads(doc: Mapping[str, Any], fields: list[str], change_id: str, stamp: int) -> HeadsDoc:
    """The heads after one change set ``fields``: they move to the new change's group.

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
