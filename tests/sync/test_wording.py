"""Conflicts in words: times in the supervisor's own time zone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import Store, init_store
from surveyor.sync.actions import Choice, assign, resolve_conflict
from surveyor.sync.transfer import pull, push
from surveyor.sync.wording import field_name, local_time, value_text
from tests.conftest import REGISTER_ROW


def test_a_stored_utc_time_is_shown_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change times are stored in UTC; shown as stored, a Tianjin supervisor read 08:15 for an
    edit made at 16:15 and could not match it to the inspector's day."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert local_time("2026-11-23T08:15:02.123+00:00") == "2026-11-23 16:15"
        assert local_time("2026-11-23T20:05:00+00:00") == "2026-11-24 04:05"  # the next day
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_value_no_longer_in_the_conflict_is_named_by_its_tag(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """A stale pick said "01a20d65-eccd-7214-9c92-279f2423a3a6 is not one of …": the #tag
    'conflicts show' prints is what a supervisor can match."""
    central = init_store(tmp_path / "central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    stale = save_answers(a, mini, code, {"year_built": "1984"}, author="甲").change_id
    save_answers(a, mini, code, {"year_built": "1985"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1990"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    tag = str(stale).replace("-", "")[-6:]
    with pytest.raises(SurveyorError) as refused:
        resolve_conflict(central, mini, code, "year_built", Choice("head", str(stale)), author="s")
    for lang in ("en", "zh"):
        said = refused.value.text(lang)
        assert f"#{tag} " in said and str(stale) not in said, said
    central.close()


def test_reserved_fields_are_said_by_name(mini: Form) -> None:
    from surveyor.sync.review import Version

    edit = Version("c", "(edited: _status)", "乙", "", "", "upsert", edited=("_status",))
    assert value_text(mini, "_deleted", edit, "zh") == "修改了：状态"
    assert value_text(mini, "_deleted", edit, "en") == "edited: status"
    assert field_name(mini, "_status", "zh") == "状态"
    status = Version("c", "complete", "乙", "", "", "upsert")
    assert value_text(mini, "_status", status, "zh") == "已完成"


def test_an_unknown_answer_is_said_in_the_supervisors_language(mini: Form) -> None:
    """'conflicts show --lang zh' and the review said a year answered 不详 as 'unknown'."""
    from surveyor.sync.review import Version

    unknown = Version("c", "unknown", "乙", "", "", "upsert")
    assert value_text(mini, "gas_pipe_year", unknown, "zh") == "不详"
    assert value_text(mini, "gas_pipe_year", unknown, "en") == "unknown"


def test_every_reserved_key_is_named_by_its_key_or_its_words(mini: Form) -> None:
    """'conflicts show … _status' was refused as "the form has no field '_status'": only a
    delete and a duplicate were known by their key or words."""
    from surveyor.sync.wording import conflict_key

    for key, words in (
        ("_status", ("status", "状态")),
        ("_assigned_to", ("assigned to", "分配给")),
        ("_deleted", ("building deleted", "楼栋是否删除")),
        ("_duplicate", ("buildings at this address", "同一地址的楼栋")),
    ):
        for name in (key, *words):
            assert conflict_key(mini, name) == key, name
    assert conflict_key(mini, "year_built") == "year_built"
