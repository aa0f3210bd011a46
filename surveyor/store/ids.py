"""Identifiers: UUIDv7 for rows and changes, and the human building code printed on labels."""

from __future__ import annotations

import os
import time
import uuid

# Crockford base32: no I, L, O, U, so a code read aloud or typed from a label is unambiguous.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_CROCKFORD)} | {"I": 1, "L": 1, "O": 0}

#: Prefix of every building code (Nankai district).
CODE_PREFIX = "NK"
#: URI carried by QR labels; upper case so QR encoders can use the dense alphanumeric mode.
URI_PREFIX = "URN:NKCENSUS:B:"


def uuid7(unix_ms: int | None = None) -> uuid.UUID:
    """A RFC 9562 version-7 UUID: a 48-bit ms timestamp then 74 random bits.

    Time-ordered ids keep B-tree inserts local; randomness makes ids from different laptops
    collision-free without coordination.
    """
    ms = int(time.time() * 1000) if unix_ms is None else unix_ms
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68 & 0xFFF  # 12 bits
    rand_b = rand & ((1 << 62) - 1)  # 62 bits
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def building_code(building_id: uuid.UUID) -> str:
    """The permanent short code of a building, derived from its id: ``NK-XXXXX-XXXXX``.

    It uses 50 random bits of the UUIDv7, so any laptop can mint it offline and it never
    changes when the address does. Collisions are caught by the unique index.
    """
    bits = building_id.int & ((1 << 50) - 1)
    chars = "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{CODE_PREFIX}-{chars[:5]}-{chars[5:]}"


def building_uri(code: str) -> str:
    """The URI printed in QR codes; the TUI's scanner search resolves it back to the code."""
    return URI_PREFIX + code


def normalize_code(text: str) -> str | None:
    """Turn a scanned URI or a typed code into the canonical code, or None if it is neither.

    Accepts lower case, missing dashes and the Crockford look-alikes (O→0, I/L→1).
    """
    raw = text.strip().upper()
    if raw.startswith(URI_PREFIX):
        raw = raw[len(URI_PREFIX) :]
    raw = raw.replace("-", "").replace(" ", "")
    if not raw.startswith(CODE_PREFIX):
        return None
    body = raw[len(CODE_PREFIX) :]
    if len(body) != 10 or any(c not in _DECODE for c in body):
        return None
    canon = "".join(_CROCKFORD[_DECODE[c]] for c in body)
    return f"{CODE_PREFIX}-{canon[:5]}-{canon[5:]}"
