"""Bulk inserts and upserts of plain rows through the driver, for merges.

SQLAlchemy's ``executemany`` runs a Python bind processor per column per row (JSON dumps,
UUID to hex); for a merge that writes a few thousand wide rows per file that was about a
third of the time. Here each column's conversion is chosen once per statement and rows go to
the driver as tuples. JSON may come pre-serialised (``RawJSON``) when it is copied unchanged,
as a change's ``fields`` are from the file that carried them.

Values are stored exactly as SQLAlchemy stores them (32-hex UUIDs and 0/1 booleans on
SQLite, native types on PostgreSQL; JSON through the engine's serializer), so the ORM and
Core read these rows like any other.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Rows per driver call: large enough to amortise a round trip, small enough for memory.
CHUNK = 1000
#: From this many rows, PostgreSQL inserts use COPY (below it, a statement is as quick).
COPY_FROM = 50
#: Values per ``IN (...)`` list: under the 999 parameters of SQLite builds before 3.32.
IN_LIST = 900


class RawJSON:
    """JSON text already serialised; written as is instead of being dumped again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dump_json(value: Any) -> str:
    """The one JSON text form of the store (also the engines' serializer).

    Compact UTF-8: Chinese stays readable in the file and takes a third of the bytes of
    ``\\u`` escapes. orjson writes exactly that, 5-10x faster than ``json`` (merges dump a
    few thousand rows per file); ``json`` takes what orjson refuses (integers beyond 64 bits).
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(value: Any) -> Any:
    """Decode JSON text (or pass through what the driver already decoded, as psycopg does)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _json_param(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, RawJSON):
        return value.text
    return dump_json(value)


#: A UUID already in canonical text form (as ``sync.rows.canonical_id`` writes it).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid_hex(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value.replace("-", "")  # a third of the cost of parsing it
    return uuid.UUID(value).hex


def _uuid_native(value: Any) -> Any:
    # PostgreSQL parses UUID text itself; a UUID object is adapted natively.
    if value is None or isinstance(value, uuid.UUID):
        return value
    return str(uuid.UUID(value))


def _as_int(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _converter(column: sa.Column[Any], dialect: str) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return _uuid_native if dialect == "postgresql" else _uuid_hex
    if isinstance(kind, sa.JSON):
        return _json_param
    if isinstance(kind, sa.Boolean) and dialect == "sqlite":
        return _as_int
    return None


def row_converter(
    table: sa.Table, names: Sequence[str], dialect: str
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function from a row mapping to the driver's tuple for ``names``, conversions chosen once.

    Merges build these tuples in worker processes (``sync.prepare``), so a row crosses to the
    writing process already in the form the driver takes.
    """
    converters = [(i, fn) for i, n in enumerate(names) if (fn := _converter(table.c[n], dialect))]
    keys = tuple(names)

    def convert(row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = [row[n] for n in keys]
        for i, fn in converters:
            values[i] = fn(values[i])
        return tuple(values)

    return convert


def write_rows(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: bool = False,
) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``; see ``write_values``."""
    if not rows:
        return
    names = list(rows[0])
    convert = row_converter(table, names, conn.dialect.name)
    write_values(conn, table, names, [convert(r) for r in rows], conflict=conflict, update=update)


def write_values(
    conn: Connection,
    table: sa.Table,
    names: Sequence[str],
    values: Sequence[tuple[Any, ...]],
    *,
    conflict: Sequence[str] = (),
    update: bool = False,
) -> None:
    """Insert driver-ready tuples (from ``row_converter``) for the columns ``names``.

    With ``conflict`` columns, a row whose key exists is skipped, or replaced when ``update``
    (``INSERT … ON CONFLICT``, the same SQL on SQLite and PostgreSQL).
    """
    if not values:
        return
    dialect = conn.dialect.name
    placeholder = "%s" if dialect == "postgresql" else "?"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join([placeholder] * len(names))})"
    )
    if conflict:
        target = ", ".join(conflict)
        changed = [n for n in names if n not in conflict]
        if update and changed:
            sets = ", ".join(f"{n} = excluded.{n}" for n in changed)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
    if dialect == "postgresql" and not conflict and len(values) >= COPY_FROM:
        _copy_values(conn, table, names, values)
        return
    for start in range(0, len(values), CHUNK):
        conn.exec_driver_sql(sql, list(values[start : start + CHUNK]))


def select_values(
    conn: Connection,
    table: sa.Table,
    names: Sequence[str],
    key: str,
    values: Sequence[Any],
    *,
    equal: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows (``names``) of ``table`` whose ``key`` is one of ``values`` (and whose columns in
    ``equal`` hold those values), as the driver gives them.

    The probes a merge makes per file ask for a thousand ids at a time; SQLAlchemy's
    processing of each bound value and result took as long as SQLite's lookups. So values
    bind through ``row_converter``'s conversion, and rows come back raw: ids as hex text on
    SQLite and UUIDs on PostgreSQL (``sync.rows.canonical_id`` reads both), JSON as text on
    SQLite (``load_json`` reads both).
    """
    dialect = conn.dialect.name
    convert = _binder(table.c[key], dialect)
    mark = "%s" if dialect == "postgresql" else "?"
    columns = ", ".join(names)
    also = "".join(f" AND {column} = {mark}" for column in equal or {})
    also_values = [_binder(table.c[c], dialect)(v) for c, v in (equal or {}).items()]
    for start in range(0, len(values), IN_LIST):
        part = [convert(v) for v in values[start : start + IN_LIST]]
        marks = ", ".join([mark] * len(part))
        sql = f"SELECT {columns} FROM {table.name} WHERE {key} IN ({marks}){also}"
        yield from conn.exec_driver_sql(sql, (*part, *also_values))


def keyset_batches(
    conn: Connection, query: sa.Select[Any], key: sa.ColumnElement[Any], size: int
) -> Iterator[Sequence[sa.Row[Any]]]:
    """The rows of ``query`` in ``key`` order, ``size`` at a time.

    Each batch starts after the last key of the one before (an index seek, not a growing
    OFFSET), so a scan of a large table keeps memory flat and its pace even.
    """
    last: Any = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = conn.execute(page.order_by(key).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1]._mapping[key]


def _binder(column: sa.Column[Any], dialect: str) -> Callable[[Any], Any]:
    """The driver-ready conversion of a bound value of ``column`` (identity if none)."""
    return _converter(column, dialect) or (lambda value: value)


def _copy_values(
    conn: Connection, table: sa.Table, names: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """Plain inserts on PostgreSQL go through COPY, in the caller's transaction.

    COPY skips per-row statement execution and planning: sync-merge.md §2.2 measured it ~55x
    faster than batched INSERTs, and for a merge's new rows it roughly halved the write time.
    It runs on the driver's own cursor, so its errors are wrapped here as SQLAlchemy wraps a
    statement's (``sa.exc.IntegrityError``, ``OperationalError`` and the rest): callers
    handle one kind whichever way the rows went (a clashing change id among 50 rows or more
    was an internal error, not the refusal 49 rows gave; a full disk was not ``DiskFull``).
    """
    driver: Any = conn.connection.dbapi_connection
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, statement, exc) from exc


def _wrapped(conn: Connection, statement: str, exc: Exception) -> BaseException:
    """The driver's error as the ``sa.exc.DBAPIError`` subclass SQLAlchemy would raise."""
    return cast(
        BaseException,
        sa.exc.DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ),
    )
