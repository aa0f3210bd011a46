"""Options shared by the command modules, and where the laptop database comes from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from surveyor.errors import SurveyorError
from surveyor.settings import load_settings, recorded_author

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Survey database (default: $SURVEYOR_DB, else survey.db in the user data folder; "
        "'surveyor paths' shows it).",
    ),
]
FormOpt = Annotated[
    Path | None, typer.Option("--form", help="Form definition (default: the bundled census form).")
]


def check_lang(lang: str) -> str:
    """``lang`` if it is one the interface speaks (zh, en); otherwise a sentence, exit 2."""
    if lang not in ("zh", "en"):
        raise SurveyorError(
            f"unknown language '{lang}'; use zh or en", zh=f"未知语言「{lang}」，请用 zh 或 en"
        )
    return lang


LangOpt = Annotated[
    str,
    typer.Option(
        "--lang",
        envvar="SURVEYOR_LANG",
        callback=check_lang,
        help="Language of labels and messages: zh or en ($SURVEYOR_LANG sets it for all).",
    ),
]


def check_optional_lang(lang: str | None) -> str | None:
    return None if lang is None else check_lang(lang)


#: The app's language for one session; without it, the settings file (F2), else $SURVEYOR_LANG.
AppLangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        callback=check_optional_lang,
        help="Interface language for this session: zh or en "
        "(default: the settings file, else $SURVEYOR_LANG, else zh).",
    ),
]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Name recorded on the change (default: the laptop's inspector, else 'inspector' "
        "in the settings file; see 'surveyor paths').",
    ),
]
#: ``--by`` of the supervisor's commands on a central (assign, conflicts resolve, review, delete).
SupervisorByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Your name, recorded on the change (default: 'inspector' in the settings file; "
        "see 'surveyor paths').",
    ),
]


def author_name(by: str | None, store: Any = None) -> str:
    """Whose change it is, as the log keeps it for good: ``--by``; else the inspector the
    laptop database was set up for; else the name in the settings file (``inspector``, the
    name the app records). With none of them, the write is refused, saying how to give one.

    A central has no inspector: its changes were recorded as the role word "supervisor",
    then as the computer's login name ("root"), which says nobody and stays in the log for
    good. A name nobody can be found for is asked for instead of invented."""
    from surveyor.i18n import error_from
    from surveyor.settings import config_path

    db_inspector = None if store is None else store.meta("inspector")
    known = recorded_author(by, db_inspector, load_settings()[0].inspector)
    if known:
        return known
    raise error_from("cli.name_needed", config=config_path())


def app_author(target: str, by: str | None) -> str | None:
    """The name the app records, decided before its screen opens: on a central (a URL, or a
    SQLite file whose role says so) ``author_name``'s, refused without one as ``review``
    refuses; on a laptop ``by`` (None: the app takes the laptop's own inspector).

    A central has no inspector: ``surveyor app`` on one recorded every edit under the
    placeholder "inspector", for good."""
    from surveyor.store.sqlitefile import sqlite_role

    if "://" in target or sqlite_role(Path(target)) == "central":
        return author_name(by)
    return by


def name_for_hint(lang: str) -> str:
    """The ``--by`` value a printed command line to copy carries: the name a supervisor set
    in the settings file, else a placeholder to replace (NAME, 你的姓名)."""
    configured = recorded_author(None, None, load_settings()[0].inspector)
    if configured:
        return shell_word(configured)
    return "你的姓名" if lang == "zh" else "NAME"


def shell_word(text: str) -> str:
    """``text`` as one word of a command line to copy: quoted only when the shell needs it
    (``shlex.quote`` quotes every Chinese name: --by '王芳')."""
    import shlex

    plain = text and all(c.isalnum() or c in "-_.@" for c in text)
    return text if plain else shlex.quote(text)


CentralOpt = Annotated[
    str,
    typer.Option("--central", "--into", help="Central store: a SQLite path or postgresql:// URL."),
]
#: ``--central`` instead of ``--db``, for a command that works on either.
EitherCentralOpt = Annotated[
    str | None,
    typer.Option("--central", help="Central store: a SQLite path or a postgresql:// URL."),
]


def db_path(db: Path | None) -> Path:
    """The laptop database a command works on: its ``--db``, else the default one.

    A URL given as ``--db`` (or in ``$SURVEYOR_DB``) is refused: the option is a file path,
    which had collapsed ``postgresql://`` to ``postgresql:/``, printed the password in the
    "does not exist" sentence and let ``init`` make folders named after the URL.
    """
    from surveyor import paths

    path = paths.default_db_path() if db is None else db
    if _looks_like_url(str(path)):
        where = "--db" if db is not None else f"${paths.DB_ENV_VAR}"
        raise SurveyorError(
            f"{where} takes a database file, not a URL; a central store is given with "
            "--central TARGET (e.g. surveyor doctor --central postgresql://…)",
            zh=f"{where} 只接受数据库文件，不接受网址；中心库请用 --central 指定"
            "（例如 surveyor doctor --central postgresql://...）",
        )
    return path


def _looks_like_url(text: str) -> bool:
    """``scheme:/…`` as a URL reads once a path has collapsed its ``//`` (not ``C:/``)."""
    scheme, sep, _ = text.partition(":/")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()


@contextmanager
def reading_store(db: Path | None, central: str | None) -> Iterator[Any]:
    """The store a reading command (exports, needs, doctor, show) works on, opened read-only:
    ``--central`` (a laptop given there is refused as sync refuses it), else ``--db``, else
    the default laptop database."""
    with chosen_store(db, central, readonly=True) as store:
        yield store


@contextmanager
def chosen_store(db: Path | None, central: str | None, *, readonly: bool) -> Iterator[Any]:
    """``--central`` or ``--db`` (else the default laptop database), refusing both at once: a
    supervisor sets a value on a PostgreSQL central, which ``--db`` (a file) cannot name."""
    from surveyor.cli.sync_cmds import open_target
    from surveyor.store.db import open_store

    if db is not None and central is not None:
        raise SurveyorError(
            "give either --db or --central, not both", zh="--db 与 --central 只能给一个"
        )
    if central is not None:
        store = open_target(central, readonly=readonly)
    else:
        store = open_store(db_path(db), readonly=readonly)
    try:
        yield store
    finally:
        store.close()


def pass_db_down(ctx: typer.Context, db: Path | None) -> None:
    """Make ``surveyor --db X COMMAND`` mean ``surveyor COMMAND --db X``.

    The option before the command used to be read only when no command followed, so
    ``surveyor --db w1.db set …`` wrote to the default database instead. A command that does
    not work on a laptop database refuses it rather than ignore it. An explicit ``--db``
    after the command still wins.
    """
    name = ctx.invoked_subcommand
    if db is None or name is None:
        return
    group: Any = ctx.command
    command = group.get_command(ctx, name)
    defaults = _db_defaults(command, db)
    if defaults is None:
        raise SurveyorError(
            f"'surveyor {name}' does not use --db; see 'surveyor {name} --help' for its options",
            zh=f"「surveyor {name}」不用 --db；它的选项见「surveyor {name} --help」",
        )
    ctx.default_map = {name: defaults}


def _db_defaults(command: Any, db: Path) -> dict[str, Any] | None:
    """Click ``default_map`` entries giving ``db`` to each command below that has ``--db``."""
    commands = getattr(command, "commands", None)
    if commands is None:
        takes_db = any(p.name == "db" for p in command.params)
        return {"db": db} if takes_db else None
    found = {n: d for n, c in commands.items() if (d := _db_defaults(c, db)) is not None}
    return found or None


def print_table(header: list[str], rows: list[list[object]]) -> None:
    """Columns aligned by display width: a Chinese character takes two cells, so padding by
    characters (f"{x:<20}") left every column after a 街道 name out of line. A header of
    empty names prints no header line."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=None, padding=(0, 2, 0, 0), show_edge=False, highlight=False, show_header=any(header)
    )
    for index, name in enumerate(header):
        numeric = bool(rows) and all(_is_number(row[index]) for row in rows)
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))  # never markup: addresses are typed
    console = Console(highlight=False)
    # Never cut a code or an address to fit: a narrow terminal wraps the line instead.
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if needed > console.width:
        console = Console(highlight=False, width=needed)
    console.print(table)


def _is_number(cell: object) -> bool:
    """A count or a percentage: right-aligned, so digits line up."""
    return isinstance(cell, int) or (isinstance(cell, str) and cell.rstrip("%").isdigit())
