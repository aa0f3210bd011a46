"""Opening databases: engines for SQLite (WAL) and PostgreSQL, migrations, write transactions.

Every database, laptop or central, SQLite or PostgreSQL, is created and upgraded by the same
Alembic migrations from the same models.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from surveyor.errors import (
    DiskFull,
    SurveyorError,
    damaged_database,
    database_trouble,
    driver_detail,
    is_damaged,
)
from surveyor.paths import missing_folder
from surveyor.store import models
from surveyor.store.bulk import dump_json, load_json
from surveyor.store.restart import (
    HOME,
    former_sites,
    home_of,
    mark_as_backup,
    needs_settling,
    settle_home,
)
from surveyor.store.sqlitefile import (
    copy_database,
    readonly_folder_hint,
    readonly_uri,
    require_sqlite_file,
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Revisions this version of Surveyor knows, oldest first; the last one is head.
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_building_list_index",
    "0003_compact_heads",
    "0004_merge_write_costs",
    "0005_packed_heads",
    "0006_agreeing_heads",
    "0007_duplicates_by_number",
    "0008_change_author_index",
    "0009_building_sort_by_key",
    "0010_duplicates_by_key",
    "0011_search_place_numbers",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]


def is_url(target: str) -> bool:
    return "://" in target


#: How a PostgreSQL central may be written: libpq (psql) accepts ``postgres://`` as well as
#: ``postgresql://``, so supervisors copy either; SQLAlchemy knows only the driver's name.
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def shown_target(target: str) -> str:
    """A database named in a message, without any password a URL may carry (nor its user)."""
    return without_secrets(target)


def without_secrets(target: str, *, keep_user: bool = False) -> str:
    """``target`` with every spelling of a password hidden: in the user part
    (``user:pw@host``) and as libpq's ``?password=`` (or ``sslpassword=``) parameter.

    ``keep_user``: for a command line to copy, the user stays and the password becomes
    ``PASSWORD``; otherwise the whole user part is ``…``. Everything before the last ``@`` is
    the user part, so a password holding an unencoded ``@`` is hidden whole too."""
    scheme, sep, rest = target.partition("://")
    if not sep:
        return target
    userinfo, at, place = rest.rpartition("@")
    placeholder = "PASSWORD" if keep_user else "…"
    place = _hidden_password_parameters(place, placeholder)
    if not at:
        return f"{scheme}://{place}"
    if not keep_user:
        return f"{scheme}://…@{place}"
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':' + placeholder if colon else ''}@{place}"


def _hidden_password_parameters(place: str, placeholder: str) -> str:
    """A URL's host part with the value of each ``…password=`` query parameter replaced."""
    base, question, query = place.partition("?")
    if not question:
        return place
    parts = []
    for part in query.split("&"):
        key, equals, _ = part.partition("=")
        secret = equals and key.strip().lower().endswith("password")
        parts.append(f"{key}={placeholder}" if secret else part)
    return f"{base}?{'&'.join(parts)}"


def typed_target(target: str) -> str:
    """A database for a command line to copy: as typed, but a URL's password, however
    spelled, is a placeholder (``shown_target`` hides the user too, and the command then
    named a role that does not exist)."""
    return without_secrets(target, keep_user=True)


def engine_url(target: str) -> str:
    """The SQLAlchemy URL of a central given as a URL, refusing what is not PostgreSQL.

    Another scheme (``mysql://``, ``http://``) reached SQLAlchemy's plugin loader and came out
    as an internal error; it is a mistyped target, so it is one sentence."""
    scheme, rest = target.split("://", 1)
    if scheme.lower() not in POSTGRES_SCHEMES:
        raise SurveyorError(
            f"{shown_target(target)} is not a SQLite path or postgresql:// URL",
            zh=f"{shown_target(target)} 既不是 SQLite 文件路径，也不是 postgresql:// 网址",
        )
    url = "postgresql+psycopg://" + rest
    if rest.count("@") > 1 or not _parses(url):
        raise SurveyorError(
            f"cannot read the URL {shown_target(target)}: a user name or password holding "
            "@ : / # ? or % must be written percent-encoded (@ as %40, : as %3A, / as %2F, "
            "# as %23, ? as %3F, % as %25)",
            zh=f"无法识别网址 {shown_target(target)}：用户名或密码中的 @ : / # ? % "
            "须写成百分号编码（@ 写作 %40，: 写作 %3A，/ 写作 %2F，# 写作 %23，? 写作 %3F，"
            "% 写作 %25）",
        )
    return url


def central_identity(target: str) -> str:
    """The server and database a PostgreSQL URL reaches, as ``host:port/dbname``: libpq's
    defaults filled in ($PGHOST, $PGPORT or 5432, $PGDATABASE or the user's name), user,
    password and other parameters left out, so every spelling of one central says the same."""
    try:
        url = sa.engine.make_url(engine_url(target))
        port_given = url.port
    except (SurveyorError, ValueError, sa.exc.ArgumentError):
        return target.rsplit("@", 1)[-1]  # unreadable: never the password before an '@'

    def given(key: str) -> str | None:
        value = url.query.get(key)
        return value[-1] if isinstance(value, tuple) else value

    env = os.environ.get
    host = url.host or given("host") or env("PGHOST") or ""
    port = port_given or given("port") or env("PGPORT") or 5432
    user = url.username or given("user") or env("PGUSER") or getpass.getuser()
    dbname = url.database or given("dbname") or env("PGDATABASE") or user
    return f"{host.lower()}:{port}/{dbname}"


def _parses(url: str) -> bool:
    """True when SQLAlchemy reads the URL whole (an unencoded ':' in a password made its
    port 'w/rd', an internal error at connect)."""
    try:
        sa.engine.make_url(url).port  # noqa: B018 - the port is only parsed when asked for
    except (ValueError, sa.exc.ArgumentError):
        return False
    return True


#: Page size of a new central SQLite file. A state row (≈ 5 KB of JSON) fits in one 16 KiB
#: page instead of spilling into overflow pages of SQLite's default 4 KiB, which makes a merge
#: ≈ 10 % faster (docs/PERFORMANCE.md). Laptops keep the default: a save rewrites a few
#: pages, and each costs a whole page in the WAL.
CENTRAL_PAGE_SIZE = 16384


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _sqlite_engine(path: Path, *, readonly: bool = False) -> Engine:
    if readonly:
        # Connected by hand: a URL would have SQLAlchemy re-parse the path ('#', '%', spaces).
        uri = readonly_uri(path)
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            json_serializer=dump_json,
            json_deserializer=load_json,
        )
    else:
        engine = sa.create_engine(
            f"sqlite:///{path}",
            connect_args={"check_same_thread": False},
            json_serializer=dump_json,
            json_deserializer=load_json,
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 10000")
        cur.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            # WAL + NORMAL: a commit survives a process crash; a power cut may lose the
            # last few ms, never corrupt (sqlite.org/wal.html).
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN, so two writers wait instead of deadlocking
        # on a lock upgrade.
        immediate = conn.get_execution_options().get("surveyor_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(target: str | Path, *, readonly: bool = False) -> Engine:
    """An engine for a SQLite path or a ``postgresql://`` URL."""
    text = str(target)
    if not is_url(text):
        engine = _sqlite_engine(Path(text), readonly=readonly)
    else:
        try:
            engine = sa.create_engine(
                engine_url(text),
                pool_pre_ping=True,
                json_serializer=dump_json,
                json_deserializer=load_json,
            )
        except sa.exc.ArgumentError as exc:  # a port that is not a number, and the like
            raise SurveyorError(
                f"{shown_target(text)} is not a valid postgresql:// URL ({exc})",
                zh=f"{shown_target(text)} 不是有效的 postgresql:// 网址（{exc}）",
            ) from exc
    _name_its_errors(engine, text)
    return engine


def _name_its_errors(engine: Engine, target: str) -> None:
    """Mark each driver error of ``engine`` with the database it came from (``database_labels``), so
    the sentence for it names that database: a merge holds two, and "another program is
    writing to this database" did not say which one was locked."""
    labels = database_labels(target)
    role = connecting_role(engine)

    @event.listens_for(engine, "handle_error")
    def _name(context: sa.engine.ExceptionContext) -> None:
        if context.sqlalchemy_exception is not None:
            context.sqlalchemy_exception.surveyor_database = labels  # type: ignore[attr-defined]
            context.sqlalchemy_exception.surveyor_role = role  # type: ignore[attr-defined]


def connecting_role(engine: Engine) -> str | None:
    """The PostgreSQL role a central's URL logs in as (libpq's defaults: $PGUSER, else the
    system user), so a refused privilege names the role to grant it to; None for SQLite."""
    if engine.dialect.name == "sqlite":
        return None
    user = engine.url.username or engine.url.query.get("user")
    if isinstance(user, tuple):
        user = user[-1]
    return user or os.environ.get("PGUSER") or getpass.getuser()


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL and PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    if getattr(orig, "sqlstate", None) == "53100":
        return True
    text = str(orig)
    return "database or disk is full" in text or "No space left on device" in text


def is_transient(exc: BaseException) -> bool:
    """A write that may succeed when tried again: a full disk, a database another program holds
    locked, a lost connection to the server. A refusal (bad input, a deleted building) is not."""
    if isinstance(exc, DiskFull | sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _disk_full_error(engine: Engine, exc: BaseException) -> DiskFull:
    where = (
        f"the disk holding {engine.url.database}"
        if engine.dialect.name == "sqlite"
        else "the central database server's disk"
    )
    where_zh = (
        f"{engine.url.database} 所在的磁盘"
        if engine.dialect.name == "sqlite"
        else "中心数据库服务器的磁盘"
    )
    return DiskFull(
        f"{where} is full: nothing of this write was saved (what was saved before is "
        "intact); free some space and try again",
        zh=f"{where_zh}已满：这次写入没有保存（之前保存的内容完好）；请腾出空间后重试",
    )


#: Any fixed number: every write transaction of a PostgreSQL database takes this lock first
#: (the value older versions' merges took, so they wait for the same lock).
PG_WRITE_LOCK = 0x5355525645594F52 & 0x7FFFFFFFFFFFFFFF


def lock_writers(conn: Connection) -> None:
    """Take the database's one write lock for the rest of the transaction, as SQLite's
    ``BEGIN IMMEDIATE`` does: on PostgreSQL, a transaction-scoped advisory lock.

    Row locks were not enough: a merge reads a building's changes, then writes the state it
    folded from them; a save committed in between (its row lock only delayed the merge's
    write) was in the log but lost from the state, and its conflict never opened. Saves
    already wait for one another on the clock row, so this costs them nothing but one
    statement.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK})


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commits on success, rolls back everything on any error.

    Write transactions of one database run one at a time (``lock_writers``), on both
    backends. A full disk becomes ``DiskFull`` (one sentence for the user) after the rollback.
    """
    try:
        with engine.connect() as conn:
            conn.execution_options(surveyor_write=True)
            with conn.begin():
                lock_writers(conn)
                yield conn
    except sa.exc.OperationalError as exc:
        if is_disk_full(exc):
            raise _disk_full_error(engine, exc) from exc
        raise


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for the whole block."""
    with engine.connect() as conn, conn.begin():
        yield conn


def database_role(conn: Connection) -> str:
    """This database's role, ``laptop`` or ``central``, as ``init_store`` recorded it."""
    role = conn.execute(
        sa.select(models.META_TABLE.c.value).where(models.META_TABLE.c.key == "role")
    ).scalar()
    return str(role or "laptop")


def current_revision(conn: Connection) -> str | None:
    insp = sa.inspect(conn)
    if not insp.has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_upgrade(engine: Engine) -> None:
    """Create or upgrade the schema, in a write transaction (``write_tx``).

    Its write lock makes two programs opening an older database at once upgrade it in turn,
    and the later finds it upgraded (the revision is read again under the lock): side by side,
    the later failed half-way, as an internal error on PostgreSQL (an index both created,
    Alembic's "expected to match one row") and as a locked database on SQLite.
    """
    # Imported lazily: Alembic costs ~100 ms to import and is needed only to create or
    # upgrade a database, never on an ordinary open.
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with write_tx(engine) as conn:
        if current_revision(conn) == HEAD_REVISION:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def backup_before_upgrade(path: Path, rev: str) -> Path:
    """Copy a SQLite file (SQLite's backup API, so commits still in its -wal are in it) to
    ``<name>.schema-<rev>.bak`` before a migration rewrites it, once per old revision: an
    upgrade that goes wrong, or a new version taken back, must not cost a laptop's survey."""
    backup = path.with_name(f"{path.name}.schema-{rev}.bak")
    if backup.exists():
        return backup
    try:
        copy_database(path, backup, before_rename=mark_as_backup)
    except (sqlite3.Error, OSError) as exc:
        raise SurveyorError(
            f"cannot keep a copy of {path} before upgrading it ({exc}); nothing was changed",
            zh=f"升级前无法保留 {path} 的副本（{exc}）；文件未作任何改动",
        ) from exc
    return backup


def check_schema(engine: Engine, *, label: tuple[str, str]) -> str | None:
    """The database's revision; refuses one written by a newer Surveyor (``label``: the
    database in English and in Chinese, as ``database_labels`` says it)."""
    with engine.connect() as conn:
        rev = current_revision(conn)
    if rev is not None and rev not in KNOWN_REVISIONS:
        raise SurveyorError(
            f"{label[0]} was written by a newer version of Surveyor (schema {rev}); "
            "upgrade Surveyor before opening it",
            zh=f"{label[1]} 由更新版本的 Surveyor 写入（结构版本 {rev}）；请先升级 Surveyor 再打开",
        )
    return rev


@dataclass
class Store:
    """An open database: its engine, its site id and where it keeps photo blobs."""

    engine: Engine
    target: str
    site_id: uuid.UUID
    role: str
    #: Ids it wrote under before (a central restored from a backup: ``store.restart``).
    former_sites: tuple[uuid.UUID, ...] = ()

    @property
    def own_sites(self) -> tuple[uuid.UUID, ...]:
        """Every id this database's own changes carry: the current one and former ones."""
        return (self.site_id, *self.former_sites)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(models.META_TABLE.c.value).where(models.META_TABLE.c.key == key)
            ).scalar()

    def close(self) -> None:
        self.engine.dispose()


def _folder_is_full(path: Path) -> bool:
    """Less than a SQLite page or two left where the database lives."""
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def _label(target: str, lang: str = "en") -> str:
    """The database a message names, in ``lang``: a URL is "the central database" (its
    password must not be printed), a file by its path."""
    if lang == "zh":
        return "中心数据库" if is_url(target) else f"数据库 {target}"
    return "the central database" if is_url(target) else f"database {target}"


def database_labels(target: str) -> tuple[str, str]:
    """``_label`` in English and in Chinese."""
    return _label(target), _label(target, "zh")


def _trouble(exc: BaseException) -> tuple[str, str]:
    """A driver's error in English and in Chinese, in a sentence that names the database."""
    return (
        database_trouble(exc, "en", named=True) or driver_detail(exc),
        database_trouble(exc, "zh", named=True) or driver_detail(exc),
    )


def _create_sqlite_file(path: Path, *, page_size: int) -> None:
    """Create an empty WAL-mode SQLite file with ``page_size``, which is fixed from then on."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA page_size = {int(page_size)}")
            conn.execute("PRAGMA journal_mode = WAL")  # writes the header with the page size
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise SurveyorError(
            f"cannot create database {path}: {exc}", zh=f"无法创建数据库 {path}：{exc}"
        ) from exc


def _require_no_tables(engine: Engine, target: str) -> None:
    """Refuse a database that already holds tables but is no Surveyor database: creating ours
    among them failed half-way ("relation building already exists") as an internal error, and
    a central must not share a database with another program's tables."""
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    if tables:
        shown = shown_target(target)
        raise SurveyorError(
            f"{shown} is not empty (it has tables such as {', '.join(sorted(tables)[:3])}); "
            "a central store needs an empty database; nothing was written",
            zh=f"{shown} 不是空数据库（已有 {'、'.join(sorted(tables)[:3])} 等表）；"
            "中心库需要一个空数据库；未写入任何内容",
        )


def init_store(target: str | Path, *, role: str, inspector: str | None = None) -> Store:
    """Create a new database (laptop or central) with a fresh site id.

    Refuses an existing SQLite file or an already initialised PostgreSQL database, so an
    ``init`` typed twice never resets someone's work.
    """
    text = str(target)
    said, said_zh = database_labels(text)
    if not is_url(text):
        path = Path(text)
        if path.exists() and path.stat().st_size > 0:
            raise SurveyorError(
                f"{path} already exists; choose another path", zh=f"{path} 已存在；请换一个路径"
            )
        if why := missing_folder(path):
            raise SurveyorError(
                f"cannot create {said}: {why[0]}", zh=f"无法创建{said_zh}：{why[1]}"
            )
        if role == "central":
            _create_sqlite_file(path, page_size=CENTRAL_PAGE_SIZE)
    engine = make_engine(text)
    try:
        rev = check_schema(engine, label=(said, said_zh))
        if rev is not None:
            raise SurveyorError(f"{said} is already initialised", zh=f"{said_zh} 已经初始化过")
        _require_no_tables(engine, text)
        _alembic_upgrade(engine)
        site_id = uuid.uuid4()
        meta = models.META_TABLE
        with write_tx(engine) as conn:
            rows = [
                {"key": "site_id", "value": str(site_id)},
                {"key": "role", "value": role},
                {"key": "created_at", "value": utc_now_iso()},
            ]
            if inspector:
                rows.append({"key": "inspector", "value": inspector})
            if role == "central" and (home := home_of(conn)) is not None:
                rows.append({"key": HOME, "value": home})
            conn.execute(sa.insert(meta), rows)
            conn.execute(sa.insert(models.CLOCK_TABLE), [{"id": 1, "seq": 0, "hlc": 0}])
    except sa.exc.DatabaseError as exc:  # also a refused privilege (ProgrammingError)
        engine.dispose()
        reason, reason_zh = _trouble(exc)
        raise SurveyorError(
            f"cannot create {said}: {reason}", zh=f"无法创建{said_zh}：{reason_zh}"
        ) from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine=engine, target=text, site_id=site_id, role=role)


def open_store(
    target: str | Path, *, readonly: bool = False, any_schema: bool = False, upgrade: bool = False
) -> Store:
    """Open an existing database, upgrading its schema if it is older than this Surveyor.

    Read-only, an older database cannot be upgraded, so it is refused in a sentence (its
    queries would fail on missing columns) unless ``any_schema``: copying it as it is
    (``export-db``) needs none of its columns. A SQLite file is upgraded as it is opened for
    writing, a copy of it kept first; a PostgreSQL database only when ``upgrade`` is given
    ('surveyor central upgrade'): nothing copies it, so its owner backs it up first.
    """
    text = str(target)
    said, said_zh = database_labels(text)
    if not is_url(text):
        require_sqlite_file(Path(text))
    engine = make_engine(text, readonly=readonly)
    try:
        if not readonly and not is_url(text):
            _check_before_writing(text, (said, said_zh))
        rev = _surveyor_revision(engine, (said, said_zh))
        if rev != HEAD_REVISION and readonly and not any_schema:
            raise older_schema(text, rev)
        if rev != HEAD_REVISION and not readonly and is_url(text) and not upgrade:
            raise older_schema(text, rev)
        if rev != HEAD_REVISION and not readonly:
            if not is_url(text):
                backup_before_upgrade(Path(text), rev)
            _alembic_upgrade(engine)
        with engine.connect() as conn:
            meta = models.META_TABLE
            facts = {k: v for k, v in conn.execute(sa.select(meta.c.key, meta.c.value))}
            settle = not readonly and needs_settling(conn, facts)
        if settle:  # a central put back from a backup: a new id for its next changes
            with write_tx(engine) as conn:
                facts = settle_home(conn, facts)
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        if is_disk_full(exc) or (not is_url(text) and _folder_is_full(Path(text))):
            # Opening in WAL mode creates the -wal and -shm files; on a full disk that fails
            # as a "disk I/O error".
            raise DiskFull(
                f"cannot open {said}: its disk is full; free some space and try again "
                "(nothing in it was changed)",
                zh=f"无法打开{said_zh}：所在磁盘已满；请腾出空间后重试（其中内容未作任何改动）",
            ) from exc
        if is_damaged(exc):
            raise damaged_database((said, said_zh)) from exc
        hint = None if is_url(text) else readonly_folder_hint(Path(text))
        if hint is not None:
            raise SurveyorError(
                f"cannot open {said}: {hint[0]}",
                zh=f"无法打开{said_zh}：{hint[1]}",
            ) from exc
        reason, reason_zh = _trouble(exc)
        raise SurveyorError(
            f"cannot open {said}: {reason}", zh=f"无法打开{said_zh}：{reason_zh}"
        ) from exc
    except BaseException:
        engine.dispose()
        raise
    try:
        site_id = _site_id((said, said_zh), facts)
    except SurveyorError:
        engine.dispose()
        raise
    return Store(
        engine=engine,
        target=text,
        site_id=site_id,
        role=facts.get("role", "laptop"),
        former_sites=former_sites(facts),
    )


def older_schema(target: str, rev: str) -> SurveyorError:
    """The refusal of a database an older Surveyor wrote, saying how to upgrade it: a SQLite
    file by any write (its copy is kept beside it); a PostgreSQL central only by
    'surveyor central upgrade' after a pg_dump (there is no file to copy)."""
    said, said_zh = database_labels(target)
    if not is_url(target):
        return SurveyorError(
            f"{said} was written by an older version of Surveyor (schema {rev}); "
            "open it once in the app, or save an answer with 'surveyor set', to upgrade it "
            "(a copy of the old file is kept beside it)",
            zh=f"{said_zh} 由旧版本的 Surveyor 写入（结构版本 {rev}）；"
            "请先在应用中打开一次，或用「surveyor set」保存一个答案，以完成升级"
            "（旧文件会在旁边保留一份副本）",
        )
    command = f"surveyor central upgrade {shlex.quote(without_secrets(target, keep_user=True))}"
    return SurveyorError(
        f"{said} was written by an older version of Surveyor (schema {rev}); back it up "
        f"(pg_dump, see docs/SYNC.md), then upgrade it as the owner of its tables: {command}",
        zh=f"{said_zh}由旧版本的 Surveyor 写入（结构版本 {rev}）；请先备份（pg_dump，见 "
        f"docs/SYNC.md），再以其各表所有者的身份升级：{command}",
    )


def schema_revision(store: Store) -> str | None:
    """The schema revision ``store`` is at (an older one when opened with ``any_schema``)."""
    with store.engine.connect() as conn:
        return current_revision(conn)


def _check_before_writing(path: str, label: tuple[str, str]) -> None:
    """Refuse a file that is no Surveyor database (or is a newer Surveyor's) read-only, before
    it is opened for writing: the writable engine turns a file to WAL mode as it connects, and
    another program's database given by mistake was changed before it was refused."""
    probe = make_engine(path, readonly=True)
    try:
        _surveyor_revision(probe, label)
    finally:
        probe.dispose()


def _surveyor_revision(engine: Engine, label: tuple[str, str]) -> str:
    """The schema revision of a Surveyor database; anything else is refused in a sentence."""
    rev = check_schema(engine, label=label)
    if rev is None:
        raise SurveyorError(
            f"{label[0]} is not a Surveyor database; it was left as it is: check the path",
            zh=f"{label[1]} 不是 Surveyor 数据库；文件未作改动：请检查路径",
        )
    return rev


def _site_id(label: tuple[str, str], facts: dict[str, str]) -> uuid.UUID:
    """The database's own site id from ``meta``: every change it makes is keyed by it, so a
    missing or damaged one is said in a sentence (a damaged one was an internal error)."""
    if "site_id" not in facts:
        raise SurveyorError(
            f"{label[0]} has no site id; it is damaged or not initialised",
            zh=f"{label[1]} 没有站点标识：文件已损坏或未初始化",
        )
    try:
        return uuid.UUID(facts["site_id"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise SurveyorError(
            f"{label[0]} is damaged: its site id ({facts['site_id']!s:.40}) is not an id",
            zh=f"{label[1]} 已损坏：其站点标识（{facts['site_id']!s:.40}）不是有效的标识",
        ) from exc
