"""Inspector TUI speed, each figure against a bare Textual baseline measured in the same run.

Prints, for the sample database and for a generated 50,000-building database:
  1. cold start, in a fresh process, from the parent's spawn, against a bare Textual app
     (Header, Input, DataTable, Footer) that exits on its first ready frame, measured in the
     same run, each figure with its ratio to that bare app:
       - "start: first frame": the first interactive frame, the issue's metric (targets:
         <= 1.0 s and <= 3x the bare app): the building list's frame is painted with the search
         box focused and accepting keys (the table is still empty, "opening the database");
       - "start: first rows": the list showing its first rows (the figure reported as "cold
         start" before the start was split; the database is opened after the first frame);
       - "start: `surveyor app`": the first interactive frame through the real command's path
         (Typer CLI, its file check, ``run_app``), headless;
  2. opening a building's survey at a field of its largest section (18 fields): from the
     request until the section's first screenful is mounted and the cursor is in the field
     (the rest of the section follows after that first frame), against pushing a bare screen
     with 18 label+input rows (target <= 200 ms);
  3. switching to the largest section: from PgDn until it shows with the cursor in its first
     field, against a bare container re-mounting 18 label+input rows (target <= 150 ms);
  4. a field-to-field key press (Enter): CPU time per press, against Enter→focus-next in a bare
     app with 18 inputs (target <= 50 ms);
  5. a search: from the keystroke until the list shows the rows (the first keystroke searches
     at once; only keys in quick succession are debounced), against a bare app refilling a
     DataTable with as many rows (60) from memory (target at 50k <= 50 ms).

Medians of several runs. No figure is asserted anywhere: machines differ, ratios travel.

Usage: python benchmarks/bench_tui.py [--sample PATH] [--big PATH] [--runs 5] [--start-only]
  --sample defaults to sample_db/nankai_sample.db (built with 2,000 buildings if missing);
  --big defaults to a cached 50,000-building database in the user cache dir (built if missing,
  which takes a few minutes once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from platformdirs import user_cache_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT / "sample_db" / "nankai_sample.db"
QUERY = "宜宾"
ROWS = 18  # fields of the largest section (envelope), for the bare screens
WINDOW = 60  # rows the building list shows per window (screens/buildings.py)

BARE_START = """
import sys, time
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Input
class Bare(App[None]):
    def compose(self):
        yield Header(); yield Input(); yield DataTable(); yield Footer()
    def on_ready(self):
        print(time.time() - t0); self.exit()
Bare().run(headless=True, size=(80, 24))
"""

# Ours, as run_app runs it: the app gets the path and opens the database after its first frame.
# Both moments are hooked, not polled (a polling timer would compete with the start-up thread):
# start_loading is called by the list right after its first frame is painted, the first
# interactive frame (checked: the list is the screen, the search box has the focus); the first
# rows are there when the list's _show has put the first window in the table.
TIMED_APP = """
import sys, time
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.buildings import BuildingsScreen
class Timed(SurveyorApp):
    frame = None
    def start_loading(self):
        if self.frame is None:
            s, f = self.screen, self.focused
            assert isinstance(s, BuildingsScreen) and s.first_frame_shown, s
            assert f is not None and f.id == "search", f
            self.frame = time.time() - t0
        super().start_loading()
_show = BuildingsScreen._show
def _timed_show(self, page, offset, *rest):
    _show(self, page, offset, *rest)
    if self.first_page_shown and not self.app.__dict__.get("timed"):
        self.app.timed = True
        assert self.query_one("#buildings").row_count > 0
        print(self.app.frame, time.time() - t0)
        self.app.exit()
BuildingsScreen._show = _timed_show
"""
OURS_START = (
    """
import sys, time
t0 = float(sys.argv[1])
from pathlib import Path
"""
    + TIMED_APP
    + """
app = Timed(Path(sys.argv[2]))
try:
    app.run(headless=True, size=(80, 24))
finally:
    app.close_store()
"""
)
# The real command: `surveyor app --db PATH` through the Typer CLI, with the app made headless.
CLI_START = (
    """
import sys, time
t0 = float(sys.argv[1])
from surveyor.cli import main as cli
import surveyor.tui.app as tui
"""
    + TIMED_APP
    + """
class Headless(Timed):
    def run(self, **_kw):
        return super().run(headless=True, size=(80, 24))
tui.SurveyorApp = Headless
try:
    cli.run(["app", "--db", sys.argv[2]])
except SystemExit as exc:
    assert not exc.code, exc.code
"""
)


def ensure_db(path: Path, buildings: int, seed: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {path} ({buildings:,} buildings; this happens once)...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "surveyor",
                "sample",
                "--out",
                str(path),
                "--buildings",
                str(buildings),
                "--seed",
                str(seed),
            ],
            check=True,
        )
    return path


def start_times(script: str, *args: str) -> list[float]:
    """The figures the script prints on its last line, in seconds from the spawn."""
    out = subprocess.run(
        [sys.executable, "-c", script, repr(time.time()), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,  # a start that never shows its rows is a broken benchmark, not a figure
        env={
            "SURVEYOR_CONFIG": "/nonexistent/config.toml",
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
        },
    )
    return [float(v) for v in out.stdout.strip().splitlines()[-1].split()]


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition never became true")
        await asyncio.sleep(0.0005)


async def timed(action: Callable[[], Awaitable[None] | None], check: Callable[[], bool]) -> float:
    t0 = time.perf_counter()
    result = action()
    if result is not None:
        await result
    await until(check)
    return time.perf_counter() - t0


# -- the bare baselines -----------------------------------------------------------------------
def bare_app(rows: int) -> Any:
    from textual.app import App, ComposeResult
    from textual.binding import Binding, BindingType
    from textual.containers import Horizontal, VerticalScroll
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer, Header, Input, Label

    def row(i: int) -> Horizontal:
        return Horizontal(
            Label(f"字段 {i} / field {i}"), Input(id=f"f{i}", compact=True), classes="row"
        )

    class Form(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            with VerticalScroll(id="fields"):
                yield from (row(i) for i in range(rows))
            yield Footer()

        def on_mount(self) -> None:
            self.query_one("#f0").focus()

    class Bare(App[None]):
        CSS = ".row { height: 1; } Label { width: 20; } #fields { height: 1fr; }"
        BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "next", "Next")]

        def compose(self) -> ComposeResult:
            yield Header()
            yield Input(id="search")
            yield DataTable(id="table")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(DataTable).add_columns("a", "b", "c", "d", "e", "f", "g", "h")

        def action_next(self) -> None:
            self.screen.focus_next()

        def on_input_changed(self, event: Input.Changed) -> None:
            if event.input.id == "search":
                table = self.query_one(DataTable)
                with self.batch_update():
                    table.clear()
                    table.add_rows(
                        [
                            (
                                f"NK-{i}",
                                "万兴街道",
                                "宜宾东里",
                                f"{i}号楼",
                                "草稿",
                                "50%",
                                "",
                                "南开区宜宾道12号",
                            )
                            for i in range(WINDOW)
                        ]
                    )

        async def remount(self) -> None:
            box = self.screen.query_one("#fields")
            with self.batch_update():
                await box.remove_children()
                await box.mount_all([row(i) for i in range(rows)])
            self.screen.query_one("#f0").focus()

    Bare.Form = Form  # type: ignore[attr-defined]
    return Bare()


async def bare_figures(rows: int, presses: int) -> dict[str, float]:
    app = bare_app(rows)
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.Form()
        out["open"] = await timed(
            lambda: app.push_screen(screen),
            lambda: app.focused is not None and app.focused.id == "f0",
        )
        out["switch"] = await timed(
            app.remount,
            lambda: (
                app.focused is not None
                and app.focused.id == "f0"
                and len(app.screen.query(".row")) == rows
            ),
        )
        await pilot.pause()
        cpu = time.process_time()
        for _ in range(presses):
            await pilot.press("enter")
        out["key"] = (time.process_time() - cpu) / presses
        app.pop_screen()
        await pilot.pause()
        search = app.query_one("#search")
        table = app.query_one("#table")
        table.clear()
        out["search"] = await timed(
            lambda: setattr(search, "value", QUERY), lambda: table.row_count == WINDOW
        )
    return out


# -- the inspector app --------------------------------------------------------------------------
async def our_figures(db: Path, presses: int) -> tuple[dict[str, float], int]:
    from surveyor.services.browse import browse_buildings
    from surveyor.settings import Settings
    from surveyor.store.db import open_store
    from surveyor.tui.app import SurveyorApp
    from surveyor.tui.screens.buildings import BuildingsScreen
    from surveyor.tui.screens.survey import SurveyScreen

    store = open_store(db)
    tmp = Path(tempfile.mkdtemp())
    target = browse_buildings(store, status="draft", limit=1).rows[0]
    app = SurveyorApp(
        store,
        settings=Settings(language="zh", autosave_delay=5.0),
        settings_path=tmp / "config.toml",
    )
    form = app.form
    # The worst case: the largest section (envelope, 18 fields).
    biggest = max(
        range(len(form.sections)), key=lambda i: len(form.section_fields(form.sections[i].id))
    )
    first_field = form.section_fields(form.sections[biggest].id)[0].id
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, BuildingsScreen) and app.screen.first_page_shown)
        await pilot.pause()
        await app.workers.wait_for_complete()
        total = app.screen.total if isinstance(app.screen, BuildingsScreen) else 0

        def survey_ready(section: int) -> Callable[[], bool]:
            def check() -> bool:
                s = app.screen
                return (
                    isinstance(s, SurveyScreen)
                    and s.section_index == section
                    and not s._switching
                    and app.focused is not None
                    and app.focused.id in form.fields
                    and form.field(app.focused.id).section_id == form.sections[section].id
                )

            return check

        out["open"] = await timed(
            lambda: app.open_building(target.id, first_field), survey_ready(biggest)
        )
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SurveyScreen)
        await screen.show_section(biggest - 1)
        await pilot.pause()
        out["switch"] = await timed(lambda: screen.action_section(1), survey_ready(biggest))
        await pilot.pause()
        cpu = time.process_time()
        done = 0
        while done < presses:
            await screen.show_section(2, focus="year_built")
            await pilot.pause()
            for _ in range(min(5, presses - done)):
                await pilot.press("enter")
                done += 1
        cpu_used = time.process_time() - cpu
        # the section re-mounts above are not key presses: measure and subtract them
        cpu = time.process_time()
        for _ in range((presses + 4) // 5):
            await screen.show_section(2, focus="year_built")
            await pilot.pause()
        out["key"] = max(0.0, cpu_used - (time.process_time() - cpu)) / presses
        await screen.save_now()
        screen.dismiss(None)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        listing = app.screen
        assert isinstance(listing, BuildingsScreen)
        search = listing.query_one("#search")
        listing.first_page_shown = False

        def found() -> bool:
            return listing.first_page_shown and listing._last_query.get("search") == QUERY

        t0 = time.perf_counter()
        out["search"] = await timed(lambda: setattr(search, "value", QUERY), found)
        await until(lambda: listing.counted)
        out["count"] = time.perf_counter() - t0
    store.close()
    return out, total


def median(values: list[float]) -> float:
    return statistics.median(values)


def _span(values: list[float]) -> str:
    return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}ms"


def report(label: str, db: Path, runs: int, presses: int, start_only: bool) -> dict[str, Any]:
    # Interleaved, so that a change in the machine's load hits them all alike.
    starts_bare, starts_frame, starts_rows, starts_cli = [], [], [], []
    for _ in range(runs):
        starts_bare.append(start_times(BARE_START)[0])
        frame, rows = start_times(OURS_START, str(db))
        starts_frame.append(frame)
        starts_rows.append(rows)
        starts_cli.append(start_times(CLI_START, str(db))[0])
    figures = {
        "start: first frame": (median(starts_frame), median(starts_bare), 1.0),
        "start: first rows": (median(starts_rows), median(starts_bare), 1.0),
        "start: `surveyor app`": (median(starts_cli), median(starts_bare), 1.0),
    }
    ours_runs, bare_runs = [], []
    total = -1
    for _ in range(0 if start_only else runs):
        ours, total = asyncio.run(our_figures(db, presses))
        ours_runs.append(ours)
        bare_runs.append(asyncio.run(bare_figures(ROWS, presses)))
    figures |= {} if start_only else _other_figures(ours_runs, bare_runs)
    size = f"{total:,} buildings; " if total >= 0 else ""
    print(f"\n== {label}: {db} ({size}medians of {runs} runs)")
    print(f"{'figure':<24}{'ours':>10}{'bare':>10}{'ratio':>8}{'target':>10}")
    for name, (ours_s, bare_s, target) in figures.items():
        ratio = ours_s / bare_s if bare_s else float("inf")
        print(
            f"{name:<24}{ours_s * 1000:>8.0f}ms{bare_s * 1000:>8.0f}ms{ratio:>7.1f}x"
            f"{target * 1000:>8.0f}ms"
        )
    spread = {
        "bare": starts_bare,
        "first frame": starts_frame,
        "first rows": starts_rows,
        "surveyor app": starts_cli,
    }
    print("start runs (min-max): " + ", ".join(f"{k} {_span(v)}" for k, v in spread.items()))
    return {
        "db": str(db),
        "buildings": total,
        "figures": {k: {"ours_s": v[0], "bare_s": v[1]} for k, v in figures.items()},
        "start_runs_s": spread,
    }


def _other_figures(
    ours_runs: list[dict[str, float]], bare_runs: list[dict[str, float]]
) -> dict[str, tuple[float, float, float]]:
    return {
        "open survey": (
            median([r["open"] for r in ours_runs]),
            median([r["open"] for r in bare_runs]),
            0.200,
        ),
        "switch section": (
            median([r["switch"] for r in ours_runs]),
            median([r["switch"] for r in bare_runs]),
            0.150,
        ),
        "key press (Enter, CPU)": (
            median([r["key"] for r in ours_runs]),
            median([r["key"] for r in bare_runs]),
            0.050,
        ),
        "search": (
            median([r["search"] for r in ours_runs]),
            median([r["search"] for r in bare_runs]),
            0.050,
        ),
        "search + its count": (
            median([r["count"] for r in ours_runs]),
            median([r["search"] for r in bare_runs]),
            0.050,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument(
        "--big", type=Path, default=user_cache_path("surveyor", appauthor=False) / "bench50k.db"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--start-only", action="store_true", help="only the cold-start figures (quick)"
    )
    args = parser.parse_args()
    quick = args.start_only
    results = [
        report("sample", ensure_db(args.sample, 2000, 2024), args.runs, args.presses, quick),
        report("50k", ensure_db(args.big, 50_000, 7), args.runs, args.presses, quick),
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
