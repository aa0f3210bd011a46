"""Shared fixtures: a real throwaway PostgreSQL cluster, fresh databases, the census form."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from surveyor.forms.catalog import DEFAULT_FORM, get_form
from surveyor.forms.model import Form
from surveyor.store.db import Store, init_store
from tests.pgcluster import PgCluster, default_base_dir, find_pg_bindir

ROOT = Path(__file__).resolve().parents[1]
# Tests run the real `surveyor` command; make the one beside this interpreter win.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
# ...and import this checkout's code, not the one the venv was installed from (a worktree).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
# The tests say which language they want; a developer's own $SURVEYOR_LANG must not decide.
os.environ.pop("SURVEYOR_LANG", None)


@pytest.fixture(scope="session", autouse=True)
def supervisor_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' own settings file, never the developer's: it names a supervisor, as one
    sets it once (README), so a command run on a central without --by records that name
    instead of being refused. A test of a missing name points $SURVEYOR_CONFIG elsewhere."""
    path = tmp_path_factory.mktemp("settings") / "config.toml"
    path.write_text('inspector = "测试督导"\n', encoding="utf-8")
    os.environ["SURVEYOR_CONFIG"] = str(path)
    return path


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    """A PostgreSQL server for this test session, on a unix socket only. Never skipped."""
    if find_pg_bindir() is None:
        pytest.fail(
            "PostgreSQL server binaries not found; run 'bash scripts/ensure_postgres.sh' "
            "(the './dev test' command does this)" + (" [CI]" if os.environ.get("CI") else "")
        )
    cluster = PgCluster(default_base_dir())  # /tmp, or $SURVEYOR_PG_BASE_DIR
    try:
        cluster.start()
    except RuntimeError as exc:
        pytest.fail(f"could not start the test PostgreSQL cluster:\n{exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def form() -> Form:
    return get_form(DEFAULT_FORM)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database target on each backend: the same store tests run on both."""
    if request.param == "sqlite":
        return str(tmp_path / "survey.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(backend: str) -> Iterator[Store]:
    s = init_store(backend, role="laptop", inspector="测试员")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = init_store(tmp_path / "survey.db", role="laptop", inspector="测试员")
    try:
        yield s
    finally:
        s.close()


REGISTER_ROW = {
    "district": "nankai",
    "subdistrict": "wanxing",
    "community": "宜宾里社区",
    "compound_name": "宜宾东里",
    "building_no": "3号楼",
    "address": "南开区宜宾道12号",
}


#: Crockford base32 as building codes spell it (``store.ids``).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def mint_codes(monkeypatch: pytest.MonkeyPatch, *codes: str) -> None:
    """The next buildings created get ``codes`` (NK-XXXXX-XXXXX), in order, then random ones:
    a code is its id's low 50 bits, so a test can give a building a code holding the digits
    it searches for (a random code held 13 once and the search found it)."""
    from surveyor.services import survey
    from surveyor.store.ids import uuid7

    def with_code(code: str) -> uuid.UUID:
        bits = 0
        for char in code.replace("-", "")[2:]:
            bits = bits * 32 + _CROCKFORD.index(char)
        return uuid.UUID(int=uuid7().int >> 50 << 50 | bits)

    pending = [with_code(c) for c in codes]
    monkeypatch.setattr(survey, "uuid7", lambda: pending.pop(0) if pending else uuid7())
