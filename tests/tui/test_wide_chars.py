"""Chinese toasts stay whole over the survey screen's widget edges (Textualize/textual#6357):
a character straddling the edge of a widget beneath the toast was drawn as two spaces, and
"这栋楼已审核" read "这  楼已审核" at 80 columns."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from surveyor.tui import wide_chars
from tests.tui.test_flows import first_with_status
from tests.tui.test_tmux_smoke import quit_cleanly, run_surveyor

ROOT = Path(__file__).resolve().parents[2]
APPROVED_WARNING = "这栋楼已审核：修改任何答案都会撤销审核，需主管重新审核"


def test_the_fix_is_for_the_pinned_textual_release() -> None:
    """Bumping Textual fails here first: look whether the release fixed #6357 (drop the
    module) or whether the two replaced compositor methods changed (carry the fix over)."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"textual=={wide_chars.FOR_TEXTUAL}" in pins
    assert version("textual") == wide_chars.FOR_TEXTUAL
    assert wide_chars.install()


@pytest.mark.slow
def test_a_chinese_toast_is_whole_in_a_real_80_column_terminal(
    sample_db: Path, tmp_path: Path
) -> None:
    """The toast is drawn over a screen already shown, by partial updates, as a real
    terminal gets them."""
    target = first_with_status(sample_db, "approved")
    tmux, rc_file = run_surveyor(
        tmp_path, f"app --db '{sample_db}'", 'language = "zh"\n', size=(80, 24)
    )
    try:
        tmux.wait_for("NK-")  # the list is there (the target may be past its first screen)
        tmux.keys(target.code, literal=True)
        tmux.keys("Enter")
        tmux.wait_for("调查日期")
        tmux.wait_for("需主管重新审核")
        assert APPROVED_WARNING in tmux.screen(), tmux.screen()
        quit_cleanly(tmux, rc_file)
    finally:
        tmux("kill-server")
