"""Running a PostgreSQL central as a district IT officer does: roles without every privilege,
passwords in the URL, its photo folder, upgrading an older schema."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyor.errors import database_trouble
from surveyor.forms.model import Form
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import HEAD_REVISION, Store, open_store, shown_target
from surveyor.sync.actions import assign
from surveyor.sync.transfer import sync
from tests.conftest import REGISTER_ROW
from tests.pgcluster import PgCluster
from tests.sync.conftest import MINI

pytestmark = pytest.mark.postgres

FORM = ("--form", str(MINI))


def run(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["surveyor", *args, "--lang", lang], capture_output=True, text=True, check=False
    )


def _admin(cluster: PgCluster, url: str, *statements: str) -> None:
    """Run ``statements`` as the cluster's superuser in the database of ``url``."""
    import psycopg

    dbname = url.split("@/", 1)[1].split("?", 1)[0]
    with psycopg.connect(**cluster.conninfo(dbname), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _as(url: str, role: str) -> str:
    return url.replace("://postgres@", f"://{role}@", 1)


def _new_role(cluster: PgCluster, url: str, *grants: str) -> str:
    """A login role that may connect to ``url``'s database, with ``grants`` ({role} filled)."""
    role = f"r_{uuid.uuid4().hex[:8]}"
    _admin(cluster, url, f"CREATE ROLE {role} LOGIN", *(g.format(role=role) for g in grants))
    return role


def _change_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM change")).scalar_one())
    finally:
        engine.dispose()


def test_central_init_by_a_role_that_does_not_own_the_database_says_what_to_grant(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    """PostgreSQL 15 gives no CREATE on schema public to other roles: an internal error."""
    role = _new_role(pg_cluster, pg_url)
    for lang, words in (("en", "may not create tables in schema public"), ("zh", "无权在模式")):
        result = run("central", "init", _as(pg_url, role), lang=lang)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and role in result.stderr, result.stderr
        assert "internal error" not in result.stderr and "内部错误" not in result.stderr
    with sa.create_engine(pg_url).connect() as conn:
        assert sa.inspect(conn).get_table_names() == []  # nothing was written


def test_a_read_only_role_syncing_or_resolving_is_told_what_privilege_it_lacks(
    pg_cluster: PgCluster, pg_url: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """'permission denied for table change' / '… clock' were internal errors (exit 1)."""
    assert run("central", "init", pg_url).returncode == 0
    role = _new_role(pg_cluster, pg_url, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    reader = _as(pg_url, role)
    a = laptops("甲")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    hub = open_store(pg_url)
    sync(a, hub, mini)
    hub.close()
    save_answers(a, mini, code, {"year_built": "1962"}, author="甲")  # something to push
    before = _change_count(pg_url)
    for args in (
        ("sync", "--db", a.target, "--central", reader, *FORM),
        ("set", code, "year_built=1990", "--central", reader, "--by", "督导", *FORM),
        ("merge", a.target, "--into", reader, *FORM),
    ):
        result = run(*args)
        assert result.returncode == 2, result.stderr
        assert f"PostgreSQL role {role} may not use table" in result.stderr, result.stderr
        assert "GRANT SELECT, INSERT, UPDATE, DELETE" in result.stderr
    zh = run("sync", "--db", a.target, "--central", reader, *FORM, lang="zh")
    assert zh.returncode == 2 and f"PostgreSQL 角色 {role} 无权使用中心库的表" in zh.stderr
    assert _change_count(pg_url) == before


def test_a_password_given_as_a_url_parameter_is_never_printed(
    pg_url: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """libpq's ``?password=`` showed in the 'Resolve:' line and in a refused URL."""
    secret = "s3cr3tPW"
    central = f"{pg_url}&password={secret}"  # trusted socket: the password is ignored
    assert run("central", "init", central).returncode == 0
    hub = open_store(pg_url)
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    sync(a, hub, mini)
    assign(hub, mini, "乙", refs=[code], author="督导")
    sync(b, hub, mini)
    save_answers(a, mini, code, {"year_built": "1962"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1963"}, author="乙")
    sync(a, hub, mini)
    sync(b, hub, mini)
    hub.close()
    shown = run("conflicts", "show", code, "year_built", "--central", central, *FORM)
    assert shown.returncode == 0 and "Resolve: " in shown.stdout, shown.stderr
    assert secret not in shown.stdout and "password=PASSWORD" in shown.stdout
    bad = run("progress", "--central", f"{pg_url}&port=abc&password={secret}")
    assert bad.returncode == 2 and secret not in bad.stderr + bad.stdout, bad.stderr


def test_every_spelling_of_a_password_is_hidden() -> None:
    from surveyor.cli.sync_cmds import _typed_target

    for url in (
        "postgresql://surv:s3cr3tPW@db/census",
        "postgresql:///census?host=/run&user=surv&password=s3cr3tPW",
        "postgresql://surv@db/census?sslpassword=s3cr3tPW&sslmode=require",
    ):
        assert "s3cr3tPW" not in shown_target(url) + _typed_target(url), url
    assert _typed_target("postgresql:///census?user=surv&password=x&port=5432") == (
        "postgresql:///census?user=surv&password=PASSWORD&port=5432"
    )


class _Refused(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.surveyor_role = "surv"


@pytest.mark.parametrize(
    ("driver", "zh"),
    [
        (
            'connection failed: connection to server on socket "/s/.s.PGSQL.5432" failed: '
            'FATAL:  password authentication failed for user "surv"',
            "拒绝了 PostgreSQL 角色 surv 的密码",
        ),
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            'FATAL:  database "Census" does not exist',
            "没有数据库「Census」",
        ),
        ("permission denied for table clock", "无权使用中心库的表 clock"),
        ("must be owner of table change", "不是中心库各表的所有者"),
    ],
)
def test_the_servers_common_refusals_are_said_in_chinese(driver: str, zh: str) -> None:
    """They stayed in the driver's English in the zh interface."""
    said = database_trouble(_Refused(driver), "zh")
    assert said is not None and zh in said, said
    assert database_trouble(_Refused(driver), "en") is not None


def test_a_missing_central_database_is_named(pg_url: str, tmp_path: Path) -> None:
    missing = pg_url.replace("@/t_", "@/gone_", 1)
    result = run("progress", "--central", missing, lang="zh")
    assert result.returncode == 2 and "没有数据库「gone_" in result.stderr, result.stderr
    assert "无法打开 中心数据库" not in result.stderr  # no stray space


def _revision(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


def test_an_older_postgresql_central_is_upgraded_only_by_central_upgrade(
    pg_cluster: PgCluster, pg_url: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """Read commands said to "save an answer with 'surveyor set'" (a fake edit kept in the log
    forever) and that "a copy of the old file is kept" (there is none); any write upgraded it
    in place, with no backup."""
    from tests.sync.test_migrations import _rewrite_as_0004

    assert run("central", "init", pg_url).returncode == 0
    a = laptops("甲")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    hub = open_store(pg_url)
    sync(a, hub, mini)
    _rewrite_as_0004(hub)
    hub.close()
    before = _change_count(pg_url)
    for args in (
        ("progress", "--central", pg_url),
        ("set", code, "year_built=1990", "--central", pg_url, "--by", "督导", *FORM),
    ):
        refused = run(*args)
        assert refused.returncode == 2, refused.stderr
        assert "surveyor central upgrade" in refused.stderr and "pg_dump" in refused.stderr
        assert "copy of the old file" not in refused.stderr and "surveyor set" not in refused.stderr
    unconfirmed = run("central", "upgrade", pg_url)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr, unconfirmed.stderr
    role = _new_role(
        pg_cluster,
        pg_url,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    )
    stranger = run("central", "upgrade", _as(pg_url, role), "--yes")
    assert stranger.returncode == 2, stranger.stderr
    assert "must be run by the role that owns them" in stranger.stderr, stranger.stderr
    assert _revision(pg_url) == "0004_merge_write_costs" and _change_count(pg_url) == before

    done = run("central", "upgrade", pg_url, "--yes")
    assert done.returncode == 0 and "upgraded" in done.stdout, done.stderr
    assert _revision(pg_url) == HEAD_REVISION and _change_count(pg_url) == before
    assert "nothing to upgrade" in run("central", "upgrade", pg_url).stdout
    assert run("progress", "--central", pg_url).returncode == 0


def test_an_older_sqlite_central_is_upgraded_with_its_copy_kept(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    from tests.sync.test_migrations import _rewrite_as_0004

    central = str(tmp_path / "central.db")
    assert run("central", "init", central).returncode == 0
    a = laptops("甲")
    create_building(a, mini, REGISTER_ROW, author="甲")
    hub = open_store(central)
    sync(a, hub, mini)
    _rewrite_as_0004(hub)
    hub.close()
    done = run("central", "upgrade", central)
    assert done.returncode == 0 and "a copy of the old file is kept" in done.stdout, done.stderr
    assert (tmp_path / "central.db.schema-0004_merge_write_costs.bak").is_file()
    assert _revision(f"sqlite:///{central}") == HEAD_REVISION


def test_the_centrals_photo_folder_is_the_same_for_every_spelling_of_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding '&port=5432' (or another user, or a password parameter) named another folder,
    and doctor then said every photo was missing."""
    import hashlib

    from surveyor.sync.attachments import default_blob_dir

    monkeypatch.setattr("surveyor.paths.data_dir", lambda: tmp_path / "data")
    url = "postgresql://surv:s3cr3tPW@db.local/census"
    same = (
        "postgresql://surv:s3cr3tPW@db.local:5432/census",
        "postgresql://other@db.local/census?sslmode=require",
        "postgresql:///census?host=db.local&port=5432&user=surv&password=s3cr3tPW",
    )
    assert {default_blob_dir(u) for u in same} == {default_blob_dir(url)}
    assert default_blob_dir(url) != default_blob_dir("postgresql://surv@db.local/census2")
    assert all("s3cr3tPW" not in str(default_blob_dir(u)) for u in (url, *same))

    # A folder named the old way (a hash of the text after the last '@') is found again.
    socket_url = "postgresql:///census?host=/run/pg&user=surv&password=s3cr3tPW"
    old = tmp_path / "data" / "central-blobs" / hashlib.sha256(socket_url.encode()).hexdigest()[:16]
    (old / "ab").mkdir(parents=True)
    (old / "ab" / "cdef").write_bytes(b"photo")
    moved = default_blob_dir(socket_url)  # as spelled when the photos came in
    assert moved != old and not old.exists(), moved
    again = default_blob_dir(socket_url + "&port=5432")
    assert again == moved and (again / "ab" / "cdef").read_bytes() == b"photo"
