"""The scan catcher's decisions, key by key (the Pilot flows test it inside the app)."""

from __future__ import annotations

from textual import events

from surveyor.store.ids import building_uri
from surveyor.tui.scan import SCAN_GAP, ScanCatcher

CODE = "NK-9GTMP-CKHQP"


def key(name: str) -> events.Key:
    return events.Key(name, name if len(name) == 1 else None)


def feed_all(catcher: ScanCatcher, names: list[str], now: float = 0.0) -> tuple[str, list[str]]:
    """Feed keys; return the code opened (or "") and the keys passed on, in order."""
    code, passed = "", []
    for name in names:
        fed = catcher.feed(key(name), now)
        passed += [k.key for k in fed.release]
        code = fed.code or code
    return code, passed


def test_a_full_uri_opens_its_code_and_passes_nothing_on() -> None:
    catcher = ScanCatcher()
    assert feed_all(catcher, [*building_uri(CODE)]) == (CODE, [])
    assert not catcher.holding


def test_the_scanners_enter_right_after_a_scan_is_swallowed_but_a_later_one_is_not() -> None:
    catcher = ScanCatcher()
    feed_all(catcher, [*building_uri(CODE)], now=10.0)
    assert feed_all(catcher, ["enter"], now=10.0 + SCAN_GAP / 2) == ("", [])
    assert feed_all(catcher, ["enter"], now=10.0 + SCAN_GAP * 2) == ("", ["enter"])


def test_keys_that_stop_matching_are_passed_on_in_the_order_typed() -> None:
    catcher = ScanCatcher()
    assert feed_all(catcher, ["U", "R"]) == ("", [])
    assert catcher.holding
    assert feed_all(catcher, ["backspace", "x"]) == ("", ["U", "R", "backspace", "x"])
    assert feed_all(catcher, ["u", "p"]) == ("", ["u", "p"])


def test_a_pause_releases_what_was_held() -> None:
    catcher = ScanCatcher()
    feed_all(catcher, [*"URN:NK"])
    assert [k.key for k in catcher.flush()] == [*"URN:NK"]
    assert not catcher.holding


def test_a_misread_label_of_full_length_is_typed_not_opened() -> None:
    misread = building_uri(CODE).replace("NK-", "NX-")
    assert feed_all(ScanCatcher(), [*misread]) == ("", [*misread])
