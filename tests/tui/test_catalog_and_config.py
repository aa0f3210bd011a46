"""The message catalog, the settings file, help and the command palette."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from surveyor.i18n import CATALOG_PATH, catalog, set_language, t
from surveyor.services.browse import browse_buildings
from surveyor.settings import Settings, load_settings, save_settings
from surveyor.store.db import open_store
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.help import HelpScreen
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.note import Note
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import open_survey

TUI = Path(__file__).resolve().parents[2] / "surveyor" / "tui"
TUI_MODULES = sorted(p for p in TUI.rglob("*.py") if p.name != "__init__.py")


def test_every_message_id_used_in_the_code_is_in_the_catalog() -> None:
    used: set[str] = set()
    for path in TUI_MODULES:
        text = path.read_text(encoding="utf-8")
        used |= set(
            re.findall(r"\bt(?:_in)?\((?:[^,()]+,\s*)?\s*[f]?\"([a-z_]+\.[a-z_.{}]+)\"", text)
        )
        # the export screen's own shorthand: self.tr("done") is export.done
        used |= {f"export.{k}" for k in re.findall(r"self\.tr\(\s*[f]?\"([a-z_{}]+)\"", text)}
        # binding descriptions are message ids as well
        used |= set(re.findall(r"Binding\(\s*\"[^\"]+\",\s*\"[^\"]+\",\s*\"([a-z_.]+)\"", text))
    assert {"review.col_{key}", "export.done", "review.resolved"} <= used  # the patterns work
    known = set(catalog())
    templated = {u for u in used if "{" in u}
    missing = sorted(u for u in used - templated if u not in known)
    assert not missing, f"message ids not in {CATALOG_PATH.name}: {missing}"
    for pattern in templated:  # e.g. status.{row.status}
        prefix = pattern.split("{")[0]
        assert any(k.startswith(prefix) for k in known), pattern


def test_every_binding_has_an_id_and_a_catalog_description() -> None:
    """Ids let a user keymap remap any key; descriptions are shown through the catalog."""
    import importlib
    import inspect

    from textual.binding import Binding
    from textual.dom import DOMNode

    checked = 0
    for path in TUI_MODULES:
        name = ".".join(path.relative_to(TUI.parents[1]).with_suffix("").parts)
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, DOMNode) or cls.__module__ != name:
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                assert isinstance(binding, Binding), (cls, binding)
                assert binding.id, f"{cls.__name__}: binding {binding.key} has no id"
                assert binding.description in catalog(), (cls.__name__, binding.description)
                checked += 1
    assert checked > 20


def test_every_key_a_message_names_is_a_binding_id() -> None:
    """A message names a key by its binding id (``{key[survey.complete]}``), so it says the
    key a user's keymap gave it: with F9 moved to F10, F8 still said 「先按 F9 检查缺项」. An
    id no binding has would be said as it is; a key written out would not follow the keymap."""
    import importlib

    from surveyor.i18n import KEY_PLACEHOLDER, LANGUAGES
    from surveyor.tui.keynames import surveyor_bindings

    for path in TUI_MODULES:
        importlib.import_module(".".join(path.relative_to(TUI.parents[1]).with_suffix("").parts))
    bindings = set(surveyor_bindings())
    written_out = re.compile(r"\bF\d{1,2}\b|\b[Cc]trl\+|\bEsc\b|\bPg(?:Up|Dn)\b")
    named = 0
    for mid, texts in catalog().items():
        zh, en = (set(KEY_PLACEHOLDER.findall(texts[lang])) for lang in LANGUAGES)
        assert zh == en, f"{mid}: zh and en name different keys"
        assert zh <= bindings, f"{mid}: no binding has the id {sorted(zh - bindings)}"
        named += len(zh)
        for lang in LANGUAGES:
            keys = written_out.findall(KEY_PLACEHOLDER.sub("", texts[lang]))
            assert not keys, f"{mid} ({lang}) writes out {keys}: name the binding instead"
    assert named > 40


def _ambiguous(text: str) -> list[str]:
    """The East-Asian ambiguous-width characters of ``text``: a CJK terminal may draw each
    one column wide or two, and the line after it misaligns."""
    return [c for c in text if unicodedata.east_asian_width(c) == "A"]


def _chinese_in_yaml(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every Chinese text of a form, rules, parameters or layout file, as (where, text): the
    value of each ``zh`` key, and any other text with Chinese in it (a rule's source)."""
    if isinstance(node, dict):
        return [
            found
            for key, value in node.items()
            for found in (
                [(f"{where}.{key}", value)]
                if key == "zh" and isinstance(value, str)
                else _chinese_in_yaml(value, f"{where}.{key}")
            )
        ]
    if isinstance(node, list):
        return [
            found
            for i, item in enumerate(node)
            for found in _chinese_in_yaml(
                item,
                f"{where}[{item.get('id', item.get('code', i)) if isinstance(item, dict) else i}]",
            )
        ]
    if isinstance(node, str) and re.search(r"[\u4e00-\u9fff]", node):
        return [(where, node)]
    return []


def test_catalog_has_both_languages_and_no_ambiguous_width_characters() -> None:
    for key, texts in catalog().items():
        assert set(texts) == {"zh", "en"}, key
        for text in texts.values():
            odd = _ambiguous(text)
            assert not odd, f"{key}: East-Asian ambiguous characters {odd} misalign CJK terminals"
    # The export dialog also shows the label stocks by their titles from exports/*.yaml
    # ("A4 3×8 标签（70×37 mm）" misaligned its lines at 80 columns).
    from surveyor.exports.labels import label_layouts

    shown = [(lang, name, title) for lang in ("zh", "en") for name, title in label_layouts(lang)]
    assert len(shown) >= 6
    for lang, name, title in shown:
        odd = _ambiguous(title)
        assert not odd, f"exports/{name}.yaml title.{lang}: East-Asian ambiguous characters {odd}"
    # And every Chinese text of the form, rules, parameters and layouts: the app shows the
    # form's hints (F1), warnings and option labels (era 1981–1990年, 如“罗江东里社区”).
    import yaml

    root = TUI.parents[1]
    files = sorted([*root.glob("forms/*.yaml"), *root.glob("exports/*.yaml")])
    texts = [
        (f"{path.relative_to(root)}{where}", text)
        for path in files
        for where, text in _chinese_in_yaml(yaml.safe_load(path.read_text(encoding="utf-8")))
    ]
    assert len(texts) > 800
    odd_texts = [
        f"{where}: {_ambiguous(text)} in {text!r}" for where, text in texts if _ambiguous(text)
    ]
    assert not odd_texts, "East-Asian ambiguous characters in Chinese text:\n" + "\n".join(
        odd_texts
    )


def _chinese_in_code() -> list[tuple[str, int, str]]:
    """Every Chinese text written in code rather than the catalog, as (file, line, text): the
    value of each ``zh=`` argument, and the first argument of a helper whose first parameter
    is ``zh`` (``_msg("此项不能填…", "…")``); of an f-string, its literal parts."""
    import ast

    root = TUI.parent
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.py"))}
    helpers = {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and node.args.args
        and node.args.args[0].arg == "zh"
        and isinstance(node.args.args[0].annotation, ast.Name)
        and node.args.args[0].annotation.id == "str"
    }
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            values = [k.value for k in node.keywords if k.arg == "zh"]
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in helpers and node.args:
                values.append(node.args[0])
            for value in values:
                for part in ast.walk(value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        found.append((str(path.relative_to(root.parent)), part.lineno, part.value))
    return found


def test_chinese_written_in_code_has_no_ambiguous_width_characters() -> None:
    """The catalog's check, for the Chinese sentences still written in code: 此项不能填“不详”
    (forms/record.py) quoted with “”, which a CJK terminal may draw one column wide or two."""
    texts = _chinese_in_code()
    assert len(texts) > 300
    # Only printed, where the font draws every character at its own width: the estimates on
    # the sheet keep m² and CO₂ (tests/exports/test_print_content.py asks for them).
    paper = {"surveyor/retrofit/estimates.py"}
    odd = [
        f"{path}:{line}: {_ambiguous(text)} in {text!r}"
        for path, line, text in texts
        if path not in paper and _ambiguous(text)
    ]
    assert not odd, "East-Asian ambiguous characters in Chinese text:\n" + "\n".join(odd)


def test_t_switches_language_and_formats() -> None:
    set_language("en")
    assert t("list.count", shown=3, total=9) == "Showing 3 of 9 buildings"
    set_language("zh")
    assert t("list.count", shown=3, total=9) == "显示 3 / 共 9 栋"
    assert t("no.such.id") == "no.such.id"


def test_settings_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    settings = Settings(
        inspector='王 "芳"', language="en", autosave_delay=0.5, keymap={"survey.complete": "f10"}
    )
    save_settings(settings, path)
    loaded, problems = load_settings(path)
    assert loaded == settings and problems == []
    path.write_text('language = "fr"\ncolour = 1\n', encoding="utf-8")
    loaded, problems = load_settings(path)
    assert loaded == Settings()
    assert any("colour" in p for p in problems) and any("language" in p for p in problems)
    path.write_text("not [toml", encoding="utf-8")
    assert load_settings(path)[0] == Settings()


def test_f1_shows_the_focused_fields_help(sample_db: Path, make_app: AppFactory) -> None:
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.open_building(target.id, "building_no")
            await settle(app, pilot)
            await pilot.press("f1")
            await settle(app, pilot)
            assert isinstance(app.screen, HelpScreen)
            shown = app.screen.query_one("#field-help", Note).text
            assert "楼号" in shown and "Building no." in shown and "3号楼" in shown
            assert "f9" in str(app.screen.query_one("#keys").render())
            await pilot.press("f1")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)

    run(body)


def test_f1_and_f9_write_a_chinese_colon_in_chinese(sample_db: Path, make_app: AppFactory) -> None:
    """「选项: 1 无」 (F1) and 「室温不达标反映: 未填写」 (F9) put an ASCII colon into Chinese
    lines; English keeps its own."""
    from textual.widgets import OptionList

    from surveyor.tui.modals.problems import ProblemsModal

    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    store.close()

    async def body(lang: str) -> None:
        app = make_app(sample_db, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            shown = []
            app.open_building(target.id)
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SurveyScreen)
            for field_id in ("floors_above", "structure_type"):  # unit and rule; options
                await screen.goto_field(field_id)
                await settle(app, pilot)
                await pilot.press("f1")
                await settle(app, pilot)
                shown.append(app.screen.query_one("#field-help", Note).text)
                await pilot.press("f1")
                await settle(app, pilot)
            await pilot.press("f9")  # complete: refused, the problems listed
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemsModal)
            options = app.screen.query_one(OptionList)
            problems = [str(options.get_option_at_index(i).prompt) for i in range(3)]
            if lang == "zh":
                assert "单位：层" in shown[0] and "规则：" in shown[0] and "选项：1 " in shown[1]
                assert all(p.endswith("：未填写") for p in problems), problems
                assert not any(": " in text for text in [*shown, *problems])
            else:
                assert "Unit: storeys" in shown[0] and "Options: 1 " in shown[1]
                assert all(p.endswith(": unanswered") for p in problems), problems

    run(lambda: body("zh"))
    run(lambda: body("en"))


def test_palette_jumps_to_a_field_and_to_a_building(sample_db: Path, make_app: AppFactory) -> None:
    store = open_store(sample_db)
    first, other = browse_buildings(store, status="draft", limit=2).rows
    store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.open_building(first.id)
            await settle(app, pilot)
            await pilot.press("ctrl+g")  # go to field
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)
            app.screen.query_one(Input).value = "Storeys above"
            await pilot.pause(0.5)
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SurveyScreen)
            assert app.focused is screen.query_one("#floors_above")
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            app.screen.query_one(Input).value = other.code
            await pilot.pause(0.5)
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == other.id

    run(body)


def test_go_to_field_offers_only_the_fields_shown(sample_db: Path, make_app: AppFactory) -> None:
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    store.close()

    async def offered(app: SurveyorApp, pilot: Any, query: str) -> list[str]:
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(Input).value = query
        await pilot.pause(0.5)
        await settle(app, pilot)
        results = app.screen.query_one(CommandList)
        shown = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        await pilot.press("escape")
        await settle(app, pilot)
        return shown

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.open_building(target.id, "has_elevator")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SurveyScreen)
            assert not screen.is_shown("elevator_count")  # has_elevator is not answered yet
            hits = await offered(app, pilot, "elevator")
            assert any("has_elevator" in h for h in hits)
            assert not any("elevator_count" in h for h in hits)
            # Asked for anyway (a stale list, a script): refused with a toast, cursor stays.
            await screen.goto_field("elevator_count")
            await settle(app, pilot)
            assert app.focused is screen.query_one("#has_elevator")
            assert any("does not apply" in n.message for n in app._notifications)
            await pilot.press("1")  # yes: now it is shown, and offered
            hits = await offered(app, pilot, "elevator")
            assert any("elevator_count" in h for h in hits)
            await screen.goto_field("elevator_count")
            assert app.focused is screen.query_one("#elevator_count")

    run(body)


def test_theme_and_mine_filter(sample_db: Path, make_app: AppFactory) -> None:
    async def body() -> None:
        app = make_app(sample_db, author="赵军")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            everything = app.screen.total  # type: ignore[attr-defined]
            await pilot.press("ctrl+o")  # mine
            await pilot.pause(0.2)
            await settle(app, pilot)
            mine = app.screen.total  # type: ignore[attr-defined]
            assert 0 < mine < everything
            app.theme = "nord"
            await settle(app, pilot)
        assert tomllib.loads(app.settings_path.read_text(encoding="utf-8"))["theme"] == "nord"

    run(body)


def test_palette_opens_the_export_and_supervisor_screens(
    sample_db: Path, make_app: AppFactory
) -> None:
    from surveyor.tui.screens.exports import ExportScreen
    from surveyor.tui.screens.supervisor import ProgressScreen, SupervisorScreen

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert {
                "export: sheets, QR labels, data",
                "sync: review conflicts",
                "sync: progress",
                "building: new",
            } <= set(titles)
            for opener, kind in (
                (app.open_exports, ExportScreen),
                (app.open_conflicts, SupervisorScreen),
                (app.open_progress, ProgressScreen),
            ):
                opened = opener()
                if opened is not None:  # the export dialog first commits a survey's answers
                    await opened
                await settle(app, pilot)
                assert isinstance(app.screen, kind)
                app.pop_screen()
                await settle(app, pilot)

    run(body)


def test_the_footer_leaves_out_what_does_not_fit_the_width(
    sample_db: Path, make_app: AppFactory
) -> None:
    """At 80 columns the review's footer ran off the edge: a torn '^p 命' and a stray 'f'.
    Keys that do not fit are left out, the app's own first; the palette key always shows."""
    from textual.widgets._footer import FooterKey

    from surveyor.tui.widgets.footer import CatalogFooter

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            store = open_store(sample_db)
            try:
                target = browse_buildings(store, limit=1).rows[0]
            finally:
                store.close()
            await open_survey(app, pilot, target.id)

            def shown() -> list[FooterKey]:
                footer = app.screen.query_one(CatalogFooter)
                return list(footer.query(FooterKey))

            assert "f2" in {k.key for k in shown()}  # room for all at 100 columns
            await pilot.resize_terminal(50, 30)
            await settle(app, pilot)
            keys = shown()
            assert sum(k.outer_size.width for k in keys) <= 50
            assert keys[-1].has_class("-command-palette")
            assert "escape" in {k.key for k in keys} and "f2" not in {k.key for k in keys}

    run(body)


def test_no_chooser_shows_textual_english_prompt_in_chinese(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The new-building dialog and the export screen showed Textual's 'Select' on an empty
    chooser in the Chinese app; an empty 街道/status chooser in the export means 'all'."""
    from textual.widgets import Select, Static

    from surveyor.tui.screens.exports import ExportScreen

    def prompts(screen: Any) -> list[str]:
        """What each chooser shows (its prompt while empty)."""
        return [str(s.query_one("#label", Static).render()) for s in screen.query(Select)]

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            assert any("请选择" in p for p in prompts(app.screen))
            assert not any("Select" in p for p in prompts(app.screen))
            await pilot.press("escape")
            await settle(app, pilot)
            await app.open_exports()
            await settle(app, pilot)
            assert isinstance(app.screen, ExportScreen)  # not the list's own choosers
            shown = prompts(app.screen)
            assert any("全部状态" in p for p in shown) and any("全部街道" in p for p in shown)
            assert not any("Select" in p for p in shown)

    run(body)


def test_the_chinese_palette_speaks_chinese_and_finds_english_names(
    sample_db: Path, make_app: AppFactory
) -> None:
    """In the Chinese app the palette asked 'Search for commands…' and listed Textual's Keys,
    Maximize, Quit, Screenshot and Theme in English; 'export' (the docs' word) found nothing."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)
            search = app.screen.query_one(Input)
            assert search.placeholder == "搜索命令、楼栋或字段..."
            commands = list(app.get_system_commands(app.screen))
            for english in ("Keys", "Maximize", "Quit", "Screenshot", "Theme"):
                assert not any(c.title.startswith(english) for c in commands), english
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c.help) for c in commands)
            search.value = "export"
            await pilot.pause(0.5)
            await settle(app, pilot)
            found = app.screen.query_one(CommandList)
            shown = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
            assert any("导出" in line for line in shown), shown

    run(body)


def test_f1_on_a_choice_lists_both_arrow_keys_and_quit_once(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Help showed only ←/→ for a choice (TUI.md says ↑/↓; both work), one key per action."""
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(app, pilot)
            app.open_building(target.id, "structure_type")
            await settle(app, pilot)
            await pilot.press("f1")
            await settle(app, pilot)
            lines = str(app.screen.query_one("#keys").render()).splitlines()
            previous = next(line for line in lines if "previous option" in line)
            assert "←" in previous and "↑" in previous, previous
            quits = [line for line in lines if line.rstrip().endswith("Quit")]
            assert len(quits) == 1 and "^c" not in quits[0], quits

    run(body)


def test_the_palettes_screenshot_is_saved_in_a_folder_that_exists_and_said_in_chinese(
    sample_db: Path, make_app: AppFactory, tmp_path: Path, monkeypatch: Any
) -> None:
    """The palette's screenshot went to ~/Downloads, missing on the field laptop, and the
    Chinese app said "Failed to save screenshot" in English."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no ~/Downloads, as on the laptop
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)

    async def shoot(app: SurveyorApp, pilot: Any) -> list[str]:
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        app.screen.query_one(Input).value = "截图"
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.5)
        await settle(app, pilot)
        return [str(n.message) for n in app._notifications]

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            said = await shoot(app, pilot)
            shots = list((tmp_path / "data" / "surveyor" / "screenshots").glob("*.svg"))
            assert len(shots) == 1, said
            assert f"截图已保存：{shots[0]}" in said
            assert "南开区既有住宅普查" in shots[0].read_text(encoding="utf-8")
        # A folder that cannot be made (a file stands in its way): said in Chinese too.
        (tmp_path / "blocked").write_text("")
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "blocked"))
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            said = await shoot(app, pilot)
            folder = tmp_path / "blocked" / "surveyor" / "screenshots"
            assert any(m.startswith(f"截图未保存：无法写入 {folder}") for m in said), said

    run(body)


def test_f1_and_the_export_dialog_say_where_files_are(
    sample_master: Path, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing in the app said where the settings, the database, its photos and the log are;
    and with the default database, the export dialog offered a PDF inside the hidden data
    folder (~/.local/share/surveyor/sheets.pdf), where an inspector never finds it. F1 lists
    the places; exports are offered in Documents (else the current folder)."""
    import shutil

    from textual.widgets import Input

    from surveyor.tui.screens.exports import ExportScreen

    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    db = home / ".local" / "share" / "surveyor" / "survey.db"  # the default database
    db.parent.mkdir(parents=True)
    shutil.copy(sample_master, db)

    async def body() -> None:
        app = make_app(db, lang="en")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("f1")
            await settle(app, pilot)
            shown = str(app.screen.query_one("#paths").render())
            for said in ("settings file", str(app.settings_path), str(db), f"{db}.blobs"):
                assert said in shown, said
            assert "surveyor.log" in shown and str(home / "Documents") in shown
            await pilot.press("escape")
            await settle(app, pilot)
            await app.open_exports()
            await settle(app, pilot)
            assert isinstance(app.screen, ExportScreen)
            offered = app.screen.query_one("#export-out", Input).value
            assert offered == str(home / "Documents" / "sheets.pdf"), offered

    run(body)


def test_an_open_chooser_list_says_its_key_in_chinese(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The 街道 chooser's list open, the Chinese footer said Textual's "esc Dismiss menu"."""
    from textual.widgets import Select
    from textual.widgets._footer import FooterKey

    from surveyor.tui.widgets.footer import CatalogFooter

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            chooser = app.screen.query_one("#f-subdistrict", Select)
            chooser.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert chooser.expanded
            footer = app.screen.query_one(CatalogFooter)
            said = {k.key: k.description for k in footer.query(FooterKey)}
            assert said.get("escape") == "收起列表", said
            assert "Dismiss menu" not in said.values()

    run(body)


def test_printing_is_found_from_the_building_list(sample_db: Path, make_app: AppFactory) -> None:
    """Neither the list's footer nor its F1 mentioned exporting or printing: it was in the
    palette only. Its key is in the footer at 80 columns, F1 names it, and it opens the
    export dialog."""
    from textual.widgets._footer import FooterKey

    from surveyor.tui.screens.exports import ExportScreen
    from surveyor.tui.widgets.footer import CatalogFooter

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            footer = app.screen.query_one(CatalogFooter)
            said = {k.key: k.description for k in footer.query(FooterKey)}
            assert said.get("f4") == "导出打印", said
            await pilot.press("f1")
            await settle(app, pilot)
            shown = " ".join(strip.text for strip in app.screen._compositor.render_strips())
            assert "F4 导出和打印" in shown, shown
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("f4")
            await settle(app, pilot)
            assert isinstance(app.screen, ExportScreen)

    run(body)
