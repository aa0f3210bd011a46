"""The building list says why a search lists a row, and why it lists none.

「盛河 2」 listed 顺林东里's buildings (their 社区 is 盛河东里社区) with no 社区 column to show
why; 「yunju」 (pinyin) said 「显示 0 / 共 0 栋」 and nothing more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import AppFactory, run, settle, until


async def search_for(app: Any, pilot: Any, query: str) -> DataTable[Any]:
    """Type ``query`` into the search box and wait until its rows and count are shown."""
    await settle(app, pilot)
    search = app.screen.query_one("#search", Input)
    search.value = query
    screen = app.screen
    await until(
        app,
        lambda: screen.counted and screen._last_query.get("search") == (query or None),
        f"the answer to {query}",
    )
    await settle(app, pilot)
    table: DataTable[Any] = screen.query_one("#buildings", DataTable)
    return table


def compound_cells(table: DataTable[Any]) -> dict[str, str]:
    """Each row's compound cell, by its code."""
    return {
        table.get_cell(row, "code").plain: table.get_cell(row, "compound").plain
        for row in table.rows
    }


@pytest.mark.parametrize("width", [80, 120])
def test_a_row_found_through_its_community_says_the_community(
    sample_db: Path, make_app: AppFactory, width: int
) -> None:
    """鞍山花园 2: 鞍山花园's buildings match by their compound; 嘉苑北里's and 福水花园's only
    by their 社区, 鞍山花园社区, which the list did not show: now their compound cell says it,
    dim, at 80 columns too (cut there, and said to be)."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(width, 30)) as pilot:
            table = await search_for(app, pilot, "鞍山花园 2")
            cells = compound_cells(table)
            assert cells, "no rows"
            via = {code: cell for code, cell in cells.items() if not cell.startswith("鞍山花园")}
            assert {cell[:5] for cell in via.values()} == {"嘉苑北里（", "福水花园（"}, cells
            if width >= 120:
                assert set(via.values()) == {"嘉苑北里（鞍山花园社区）", "福水花园（鞍山花园社区）"}
            else:
                assert all(cell.endswith(("）", "~")) for cell in via.values()), via
            assert all(cell == "鞍山花园" for code, cell in cells.items() if code not in via)
            # Searched by what the list shows, no row says its community.
            table = await search_for(app, pilot, "嘉苑北里")
            assert set(compound_cells(table).values()) == {"嘉苑北里"}

    run(body)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "搜索按汉字、编号和数字匹配，不支持拼音"),
        ("en", "search matches Chinese characters, codes and numbers, not pinyin"),
    ],
)
def test_a_latin_search_that_finds_nothing_says_what_search_matches(
    sample_db: Path, make_app: AppFactory, lang: str, said: str
) -> None:
    """yunju (pinyin for 云居) said 「显示 0 / 共 0 栋」 and no more."""

    async def body() -> None:
        app = make_app(sample_db, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await search_for(app, pilot, "yunju")
            count = app.screen.query_one("#count", Static)
            assert said in str(count.render()), str(count.render())
            await search_for(app, pilot, "不存在的词")  # Chinese that finds nothing: no hint
            assert said not in str(count.render())
            await search_for(app, pilot, "")
            assert said not in str(count.render())

    run(body)
