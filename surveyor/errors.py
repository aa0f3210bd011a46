"""User-facing errors: each carries a sentence a person can act on."""

from __future__ import annotations

import errno
import re


class SurveyorError(Exception):
    """An error whose message is shown to the user as is (no traceback).

    Raise it for bad input, refused saves and unusable files: the CLI prints the message and
    exits with code 2, the TUI shows it in a toast.
    """

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The same sentence in Chinese, for the interface in zh (the CLI prints ``message``).
        self.zh = zh

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``); English where no Chinese was given."""
        return self.zh if lang == "zh" and self.zh else self.message


#: The system's reasons people meet, in Chinese: ``strerror`` is English whatever the locale.
_OS_REASONS_ZH = {
    errno.ENOENT: "没有这个文件或文件夹",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许这样操作",
    errno.ENOSPC: "磁盘已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "只读的文件系统（例如写保护的U盘）",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一项不是文件夹",
    errno.EIO: "读写出错（磁盘或U盘可能有故障）",
    errno.EBUSY: "正被占用",
    errno.ENAMETOOLONG: "名字太长",
    errno.EEXIST: "已经存在",
    errno.EMFILE: "同时打开的文件太多",
    errno.EFBIG: "文件太大（超出文件系统或系统设定的上限）",
    errno.ENODEV: "没有这个设备（U盘可能已拔出）",
    errno.ENXIO: "没有这个设备（U盘可能已拔出）",
}


def os_reason(exc: OSError, lang: str) -> str:
    """The system's reason for ``exc``, in ``lang`` where we know its words."""
    english = exc.strerror or str(exc)
    if lang == "zh" and exc.errno is not None:
        return _OS_REASONS_ZH.get(exc.errno, english)
    return english


def cannot_read(
    path: object, exc: OSError, kind: type[SurveyorError] = SurveyorError
) -> SurveyorError:
    """A file that could not be read, with the system's reason, in both languages."""
    return kind(
        f"cannot read {path}: {os_reason(exc, 'en')}", zh=f"无法读取 {path}：{os_reason(exc, 'zh')}"
    )


#: A write that failed for want of room: the sentence says to free some.
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def cannot_write(path: object, exc: OSError, *, into: bool = False) -> SurveyorError:
    """A file (or, ``into``, a folder's files) that could not be written, with the reason;
    a full disk also says that nothing was written and what to do."""
    verb = "write into" if into else "write"
    en, zh = (
        f"cannot {verb} {path}: {os_reason(exc, 'en')}",
        f"无法写入 {path}：{os_reason(exc, 'zh')}",
    )
    if exc.errno in DISK_FULL_ERRNOS:
        return DiskFull(
            f"{en}; nothing was written: free some space and try again",
            zh=f"{zh}；未写入任何内容，请腾出空间后重试",
        )
    return SurveyorError(en, zh=zh)


class ValidationFailed(SurveyorError):
    """A save was refused because answers break the form's rules.

    ``errors`` maps field id to the message in the requested language, so the TUI can show each
    one inline at its field.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.errors.items())
        super().__init__(f"refused: {detail}", zh=f"未保存：{detail}")


class NotFound(SurveyorError):
    """A building (or other record) named by the user does not exist."""


class DiskFull(SurveyorError):
    """A write failed because the disk (or the database server's disk) is full.

    Nothing of that write was kept (its transaction rolled back); what was saved before is
    intact. Raised instead of the driver's "database or disk is full" (and, when opening a
    database on a disk with no room left, its "disk I/O error"), so every front end can say
    what to do: free some space and try again.
    """


#: A damaged SQLite file, as every command says it ({db}: the file): what was lost since the
#: last copy cannot be read back here, so the sentence says where the last copies are.
DAMAGED_EN = (
    "{db} is damaged (SQLite cannot read it whole); stop working in it and keep it: go on "
    "from your last copy made with 'surveyor export-db' (a SQLite central: the newest file in "
    "the .backups folder beside it), then sync to get back what the central holds"
)
DAMAGED_ZH = (
    "{db}已损坏（SQLite 无法完整读取）；请停止在其中工作并保留该文件：改用最近一次"
    "「surveyor export-db」导出的副本（SQLite 中心库：用旁边 .backups 文件夹中最新的文件），"
    "再同步以取回中心库保存的内容"
)


#: SQLite's words for SQLITE_CORRUPT and SQLITE_NOTADB (damaged pages, a truncated or
#: half-copied file), met by any read of a damaged page, whatever the command.
DAMAGED_NEEDLES = ("database disk image is malformed", "file is not a database")


def is_damaged(exc: BaseException) -> bool:
    """True for SQLite's error on a damaged file (``DAMAGED_NEEDLES``)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(needle in text for needle in DAMAGED_NEEDLES)


def damaged_database(label: tuple[str, str]) -> SurveyorError:
    """The refusal of a damaged database (``label``: it in English and Chinese), for a check
    that finds the damage itself (``doctor``) rather than meeting SQLite's error."""
    return SurveyorError(DAMAGED_EN.format(db=label[0]), zh=DAMAGED_ZH.format(db=label[1]))


#: Driver messages a person cannot act on, as sentences they can (matched in lower case).
_DATABASE_TROUBLES = (
    (
        ("database is locked", "database table is locked"),
        "another program (or another Surveyor window) is writing to {db}; try again in a moment",
        "另一个程序（或另一个 Surveyor 窗口）正在写入{db}；请稍后再试",
    ),
    (
        # Only what says the server was not reached: psycopg starts every refusal with
        # "connection failed: connection to server … failed:", a wrong password or database
        # name too, and those must be said as the server says them.
        (
            "connection refused",
            "could not connect",
            "no such file or directory",
            "could not translate host name",
            "no route to host",
            "network is unreachable",
            "timeout expired",
        ),
        "the central database server cannot be reached; check the network and try again",
        "连接不上中心数据库服务器；请检查网络后重试",
    ),
    (
        (
            "terminating connection",
            "the connection is lost",
            "connection is closed",
            "server closed the connection unexpectedly",
            "consuming input failed",
        ),
        "the connection to the central database server was lost; what was written before "
        "is kept (a batch or file cut off is rolled back); try again to continue",
        "与中心数据库服务器的连接已断开；之前写入的内容都已保存（中途断开的批次或文件已回滚）；"
        "重试即可继续",
    ),
    (
        ("attempt to write a readonly database",),  # SQLite's words, not PostgreSQL's
        "{db} can only be read here (a read-only file or folder); copy it somewhere writable",
        "这里只能读取{db}（文件或文件夹只读）；请把它复制到可写的位置",
    ),
    (
        DAMAGED_NEEDLES,
        DAMAGED_EN,
        DAMAGED_ZH,
    ),
    (
        ("disk i/o error",),
        "the disk could not be read or written (a USB stick pulled out, a failing disk); "
        "what was saved before is intact",
        "磁盘读写失败（U 盘被拔出或磁盘故障）；之前保存的内容完好",
    ),
)


def driver_detail(exc: BaseException) -> str:
    """A driver's message, first line only: libpq adds hints on further lines and quotes the
    SQL ("LINE 1: SELECT id, address_norm FROM …"), which only a developer can read."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


#: The PostgreSQL server's refusals people meet running a central, as sentences that say what
#: to change: ``pattern`` (on the driver's text, in lower case) names the object in its group;
#: ``{role}`` is the role the URL connects as. Said before ``_DATABASE_TROUBLES``: psycopg
#: starts a refused login with "connection failed: connection to server … failed:" too.
_SERVER_REFUSALS = (
    (
        r'password authentication failed for user "([^"]*)"',
        "the central database server refused the password of PostgreSQL role {name}; check "
        "the user name and password (PGPASSWORD or ~/.pgpass, see docs/SYNC.md)",
        "中心数据库服务器拒绝了 PostgreSQL 角色 {name} 的密码；请检查用户名和密码"
        "（PGPASSWORD 或 ~/.pgpass，见 docs/SYNC.md）",
    ),
    (
        r"(?:fe_sendauth: )?no password supplied",
        "the central database server asks for a password and none was given; set PGPASSWORD "
        "or write it in ~/.pgpass (see docs/SYNC.md)",
        "中心数据库服务器要求密码，但没有提供；"
        "请设置 PGPASSWORD 或写入 ~/.pgpass（见 docs/SYNC.md）",
    ),
    (
        r'database "([^"]*)" does not exist',
        'database "{name}" does not exist on the central database server; check the name '
        "in the URL (a new central is made by 'surveyor central init')",
        "中心数据库服务器上没有数据库「{name}」；请检查网址中的数据库名"
        "（新建中心库用「surveyor central init」）",
    ),
    (
        r'role "([^"]*)" does not exist',
        'PostgreSQL role "{name}" does not exist on the central database server; check the '
        "user name in the URL",
        "中心数据库服务器上没有 PostgreSQL 角色「{name}」；请检查网址中的用户名",
    ),
    (
        r"must be owner of (?:table|index|sequence|relation) (\S+)",
        "PostgreSQL role {role} does not own the central's tables (table {name}): upgrading "
        "them must be run by the role that owns them (the one that ran 'surveyor central "
        "init'); nothing was changed",
        "PostgreSQL 角色 {role} 不是中心库各表的所有者（表 {name}）：升级须由拥有这些表的角色"
        "（即执行「surveyor central init」的角色）来执行；未作任何改动",
    ),
    (
        r"permission denied for schema (\S+)",
        "PostgreSQL role {role} may not create tables in schema {name} (since PostgreSQL 15 "
        "only the database's owner may): create the database with OWNER {role}, or "
        "GRANT CREATE ON SCHEMA {name} TO {role}; nothing was written",
        "PostgreSQL 角色 {role} 无权在模式 {name} 中建表"
        "（PostgreSQL 15 起只有数据库的所有者可以）："
        "请用 OWNER {role} 创建数据库，或执行 GRANT CREATE ON SCHEMA {name} TO {role}；"
        "未写入任何内容",
    ),
    (
        r"permission denied for (?:table|relation|sequence|view) (\S+)",
        "PostgreSQL role {role} may not use table {name} of the central database: a "
        "supervisor's role needs SELECT, INSERT, UPDATE and DELETE on all its tables "
        "(GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}); "
        "nothing was written",
        "PostgreSQL 角色 {role} 无权使用中心库的表 {name}：督导使用的角色需要对所有表有 "
        "SELECT、INSERT、UPDATE 和 DELETE 权限（GRANT SELECT, INSERT, UPDATE, DELETE ON ALL "
        "TABLES IN SCHEMA public TO {role}）；未写入任何内容",
    ),
    (
        r"permission denied for database (\S+)",
        "PostgreSQL role {role} may not connect to database {name}, or create in it; ask "
        "the database's owner to GRANT CONNECT, CREATE ON DATABASE {name} TO {role}; "
        "nothing was written",
        "PostgreSQL 角色 {role} 无权连接或在数据库 {name} 中创建对象；请数据库的所有者执行 "
        "GRANT CONNECT, CREATE ON DATABASE {name} TO {role}；未写入任何内容",
    ),
)


def _server_refusal(exc: BaseException, lang: str) -> str | None:
    """One of ``_SERVER_REFUSALS`` said in ``lang``, naming the object and the role."""
    text = str(getattr(exc, "orig", None) or exc)
    role = getattr(exc, "surveyor_role", None) or ("此角色" if lang == "zh" else "(this role)")
    for pattern, en, zh in _SERVER_REFUSALS:
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            name = found.group(1) if found.groups() else ""
            return (zh if lang == "zh" else en).format(name=name, role=role)
    return None


def database_trouble(exc: BaseException, lang: str, *, named: bool = False) -> str | None:
    """A database driver's error said in words (``lang``), or None when it is not a known one.

    Matched on the text, so no database library is imported to say it (the app shows errors
    before SQLAlchemy is loaded). The database is named as ``store.db`` marked the error (a
    file by its path, a PostgreSQL central as "the central database", never its URL), else
    "this database"; ``named``: the sentence around it names it already."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    labels = None if named else getattr(exc, "surveyor_database", None)
    db = ("这个数据库", "this database") if labels is None else (labels[1], labels[0])
    refusal = _server_refusal(exc, lang)
    if refusal is not None:
        return refusal
    for needles, en, zh in _DATABASE_TROUBLES:
        if any(needle in text for needle in needles):
            return zh.format(db=db[0]) if lang == "zh" else en.format(db=db[1])
    return None
