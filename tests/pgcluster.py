"""A throwaway PostgreSQL cluster for the test suite.

Each :class:`PgCluster` runs its own ``postgres`` server in its own temporary directory,
reachable only through a Unix-domain socket (no TCP at all), so any number of them - one per
pytest-xdist worker, say - can run side by side without port conflicts.

PostgreSQL refuses to run as root.  When the tests run as root, the directories are chowned
to the ``postgres`` OS user and the server binaries are run as that user via
``runuser -u postgres --``; otherwise they run as the current user.

The server binaries come from :func:`find_pg_bindir`; ``scripts/ensure_postgres.sh``
installs them when they are missing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

__all__ = ["BASE_DIR_ENV", "DEFAULT_DB", "PgCluster", "default_base_dir", "find_pg_bindir"]

DEFAULT_DB = "surveyor_test"
PG_OS_USER = "postgres"  # OS account used to run the server when we are root
SUPERUSER = "postgres"  # database superuser created by initdb (-U)
PORT = 5432  # only names the socket file (.s.PGSQL.5432); there is no TCP listener

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS; keep a margin
_LOG_TAIL_LINES = 40
_TIMEOUT = 120  # seconds for any single initdb / pg_ctl call


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin ; "9.6" -> (9, 6), "15" -> (15,)
    return tuple(int(p) for p in re.findall(r"\d+", bindir.parent.name)) or (0,)


def _has_server_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl"))


def find_pg_bindir() -> Path | None:
    """Directory holding the PostgreSQL server binaries (initdb, pg_ctl), or None.

    ``pg_config --bindir`` first, else the newest ``/usr/lib/postgresql/*/bin`` with both
    ``initdb`` and ``pg_ctl``.  Deliberately does not search $PATH: ``/usr/local/bin/initdb``
    and friends may be wrappers.
    """
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            bindir = Path(out.stdout.strip())
            if _has_server_binaries(bindir):
                return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bindir in candidates:
        if _has_server_binaries(bindir):
            return bindir
    return None


BASE_DIR_ENV = "SURVEYOR_PG_BASE_DIR"


def default_base_dir() -> Path:
    """Where clusters create their temp directory.

    ``$SURVEYOR_PG_BASE_DIR`` if set (e.g. ``/dev/shm``: a tmpfs makes CREATE DATABASE ~25x
    and cluster start ~2x faster than a disk-backed /tmp); else /tmp when root (the
    ``postgres`` user must be able to traverse every parent directory); else the usual
    temp dir.
    """
    override = os.environ.get(BASE_DIR_ENV)
    if override:
        return Path(override)
    if os.geteuid() == 0:
        return Path("/tmp")
    return Path(tempfile.gettempdir())


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(server log {path} unreadable: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"(server log {path} is empty)"


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _check_ident(name: str) -> str:
    if not _IDENT_RE.match(name):
        raise ValueError(
            f"invalid database name {name!r}: use letters, digits and underscores "
            "(max 63 chars, not starting with a digit)"
        )
    return name


class PgCluster:
    """A private PostgreSQL server in a fresh temp directory under ``base_dir``.

    ``base_dir`` is the *parent*: ``start()`` creates a unique ``surveyor-pg-*`` directory
    inside it (creating ``base_dir`` too if needed) and ``stop()`` removes all of that again.
    When running as root every parent directory must be traversable by the ``postgres`` user
    (``/tmp`` is; pytest's ``tmp_path`` is not - it is mode 0700), see
    :func:`default_base_dir`.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        bindir: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self._bindir = bindir
        self.settings = dict(settings or {})
        self.work_dir: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.log_file: Path | None = None
        self.port = PORT
        self._extra_dirs: list[Path] = []  # socket dir, if it had to live outside work_dir
        self._created_parents: list[Path] = []  # parts of base_dir that start() created
        self._running = False
        self._as_root = os.geteuid() == 0
        self._pg_uid: int | None = None
        self._pg_gid: int | None = None
        self._server_version: int | None = None

    # ------------------------------------------------------------------ properties
    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            found = find_pg_bindir()
            if found is None:
                raise RuntimeError(
                    "PostgreSQL server binaries (initdb, pg_ctl) not found: neither "
                    "`pg_config --bindir` nor /usr/lib/postgresql/*/bin has them. "
                    "Run `bash scripts/ensure_postgres.sh` (as root) to install them."
                )
            self._bindir = found
        return self._bindir

    @property
    def running(self) -> bool:
        return self._running

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """initdb + pg_ctl start + CREATE DATABASE surveyor_test.  Raises RuntimeError."""
        if self._running or self.work_dir is not None:
            raise RuntimeError("PgCluster.start() called twice; call stop() first")
        bindir = self.bindir
        if self._as_root:
            self._lookup_pg_user()
        try:
            self._make_dirs()
            self._initdb(bindir)
            self._write_config()
            self._pg_ctl_start(bindir)
            self._running = True
            atexit.register(self._atexit_stop)
            self.create_database(DEFAULT_DB)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """pg_ctl stop -m fast, then remove every directory this cluster created.

        Idempotent; safe to call on a cluster that failed to start."""
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit_stop)
        try:
            if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
                self._shutdown()
        finally:
            self._running = False
            for d in [*self._extra_dirs, self.work_dir]:
                if d is not None:
                    shutil.rmtree(d, ignore_errors=True)
            for d in reversed(self._created_parents):  # innermost first; only if empty
                with contextlib.suppress(OSError):
                    d.rmdir()
            self._extra_dirs = []
            self._created_parents = []
            self.work_dir = self.data_dir = self.socket_dir = self.log_file = None

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ URLs / databases
    def url(self, dbname: str = DEFAULT_DB) -> str:
        """SQLAlchemy URL (psycopg 3 driver) over the Unix socket."""
        if self.socket_dir is None:
            raise RuntimeError("PgCluster is not started")
        host = quote(str(self.socket_dir), safe="/")
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{quote(dbname, safe='')}"
            f"?host={host}&port={self.port}"
        )

    def conninfo(self, dbname: str = DEFAULT_DB) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect(**cluster.conninfo())``."""
        if self.socket_dir is None:
            raise RuntimeError("PgCluster is not started")
        return {
            "host": str(self.socket_dir),
            "port": self.port,
            "user": SUPERUSER,
            "dbname": dbname,
            "connect_timeout": 10,
        }

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name`` (must be a plain identifier); returns its URL."""
        _check_ident(name)
        with self._admin_connection() as conn:
            # PG 15+ defaults to WAL_LOG; with fsync off FILE_COPY is faster (~2x on tmpfs).
            strategy = " STRATEGY = FILE_COPY" if (self._server_version or 0) >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}"{strategy}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS ``name``, terminating any connections still open to it."""
        _check_ident(name)
        if name in ("postgres", "template0", "template1"):
            raise ValueError(f"refusing to drop system database {name!r}")
        with self._admin_connection() as conn:
            if (self._server_version or 0) >= 130000:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    # ------------------------------------------------------------------ internals
    def _admin_connection(self) -> Any:
        import psycopg  # imported lazily so find_pg_bindir() works without it

        if not self._running:
            raise RuntimeError("PgCluster is not started")
        try:
            conn = psycopg.connect(**self.conninfo("postgres"), autocommit=True)
        except psycopg.OperationalError as exc:
            raise RuntimeError(self._with_log(f"cannot connect to test cluster: {exc}")) from exc
        self._server_version = conn.info.server_version
        return conn

    def _lookup_pg_user(self) -> None:
        import pwd

        try:
            pw = pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root but there is no {PG_OS_USER!r} OS user to run the server "
                "as (PostgreSQL refuses to run as root). Installing the 'postgresql' package "
                "creates it: run `bash scripts/ensure_postgres.sh`."
            ) from None
        self._pg_uid, self._pg_gid = pw.pw_uid, pw.pw_gid

    def _give_to_pg(self, path: Path, mode: int) -> None:
        os.chmod(path, mode)
        if self._as_root:
            assert self._pg_uid is not None and self._pg_gid is not None
            os.chown(path, self._pg_uid, self._pg_gid)

    def _check_traversable(self, path: Path) -> None:
        """As root: every parent of ``path`` must be searchable by the postgres user."""
        if not self._as_root:
            return
        for parent in path.parents:
            st = parent.stat()
            if st.st_uid == self._pg_uid:
                ok = bool(st.st_mode & 0o100)
            elif st.st_gid == self._pg_gid:
                ok = bool(st.st_mode & 0o010)
            else:
                ok = bool(st.st_mode & 0o001)
            if not ok:
                raise RuntimeError(
                    f"the {PG_OS_USER!r} OS user cannot traverse {parent} "
                    f"(mode {oct(st.st_mode & 0o777)}), so it cannot reach {path}. "
                    "Use a base_dir under /tmp (see default_base_dir())."
                )

    def _make_dirs(self) -> None:
        # base_dir may not exist yet (e.g. /tmp/<unique>): create it, and remove it in stop().
        missing = [p for p in (self.base_dir, *self.base_dir.parents) if not p.exists()]
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._created_parents = sorted(missing, key=lambda p: len(p.parts))
        work = Path(tempfile.mkdtemp(prefix="surveyor-pg-", dir=self.base_dir)).resolve()
        self.work_dir = work
        self._check_traversable(work)
        # 0711: others (root without CAP_DAC_OVERRIDE, say) may pass through to the socket.
        self._give_to_pg(work, 0o711)
        self.data_dir = work / "data"  # created by initdb
        self.log_file = work / "server.log"

        sock = work / "sock"
        if len(str(sock / f".s.PGSQL.{self.port}")) > _SOCKET_PATH_MAX:
            # Unix socket paths are limited to ~104 bytes; fall back to a short dir in /tmp.
            sock = Path(tempfile.mkdtemp(prefix="surveyor-pgs-", dir="/tmp"))
            self._extra_dirs.append(sock)
        else:
            sock.mkdir()
        self._give_to_pg(sock, 0o711)
        self.socket_dir = sock

        self.log_file.touch()
        self._give_to_pg(self.log_file, 0o644)

    def _env(self) -> dict[str, str]:
        # PG* variables (PGDATA, PGPORT, PGHOST, PGOPTIONS, ...) would override our settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_MESSAGES"] = "C"  # English messages from initdb / pg_ctl
        if self._as_root:
            env["HOME"] = str(self.work_dir)
        return env

    def _run(self, argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self._as_root:
            runuser = shutil.which("runuser") or (
                "/usr/sbin/runuser" if os.access("/usr/sbin/runuser", os.X_OK) else None
            )
            if runuser is None:
                raise RuntimeError(
                    "running as root but `runuser` (util-linux) is not available to run "
                    f"PostgreSQL as the {PG_OS_USER!r} user"
                )
            cmd = [runuser, "-u", PG_OS_USER, "--", *cmd]
        try:
            return subprocess.run(
                cmd,
                cwd=self.work_dir,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                self._with_log(f"{what} timed out after {_TIMEOUT}s: {' '.join(cmd)}")
            ) from exc
        except OSError as exc:
            raise RuntimeError(f"{what} could not be run ({' '.join(cmd)}): {exc}") from exc

    def _initdb(self, bindir: Path) -> None:
        assert self.data_dir is not None
        base = [
            str(bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
        proc = self._run([*base, "--locale=C.UTF-8"], "initdb")
        if proc.returncode != 0 and "locale" in (proc.stdout + proc.stderr).lower():
            # C.UTF-8 is not available on this system: plain C is fine for tests.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            proc = self._run([*base, "--locale=C"], "initdb")
        if proc.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {proc.returncode}) for {self.data_dir}:\n"
                f"{proc.stdout}\n{proc.stderr}".rstrip()
            )

    def _write_config(self) -> None:
        assert self.data_dir is not None and self.socket_dir is not None
        settings = {
            "listen_addresses": "''",  # no TCP at all
            "unix_socket_directories": _conf_quote(str(self.socket_dir)),
            "port": str(self.port),
            # Durability is pointless for a throwaway cluster.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            # Keep many concurrent clusters (xdist) light.
            "shared_buffers": "16MB",
            "max_connections": "100",
            "max_wal_senders": "0",
            "wal_level": "minimal",
            "max_parallel_workers_per_gather": "0",
            "logging_collector": "off",
            "log_min_messages": "warning",
            "timezone": "'UTC'",
        }
        settings.update(self.settings)
        lines = ["", "# --- added by tests/pgcluster.py ---"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")

    def _pg_ctl_start(self, bindir: Path) -> None:
        assert self.data_dir is not None and self.log_file is not None
        proc = self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        if proc.returncode != 0:
            raise RuntimeError(
                self._with_log(
                    f"pg_ctl start failed (exit {proc.returncode}):\n"
                    f"{proc.stdout}\n{proc.stderr}".rstrip()
                )
            )

    def _shutdown(self) -> None:
        assert self.data_dir is not None
        pg_ctl = str(self.bindir / "pg_ctl")
        for mode in ("fast", "immediate"):
            try:
                proc = self._run(
                    [pg_ctl, "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30", "stop"],
                    "pg_ctl stop",
                )
            except RuntimeError:
                continue
            if proc.returncode == 0 or not (self.data_dir / "postmaster.pid").exists():
                return
        # Last resort: kill the postmaster named in postmaster.pid.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)

    def _atexit_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    def _with_log(self, message: str) -> str:
        if self.log_file is None:
            return message
        return f"{message}\n--- tail of server log {self.log_file} ---\n{_tail(self.log_file)}"
