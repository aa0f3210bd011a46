"""Register import: bad rows are reported by number and nothing is imported, unless --skip-bad."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.services.register import import_register
from surveyor.store import models
from surveyor.store.db import Store, init_store, open_store

HEADER = "街道,社区,小区名称,楼号,门牌地址\n"
GOOD = [
    "万兴街道,宜宾里社区,宜宾东里,1号楼,南开区宜宾道1号",
    "万兴,宜宾里社区,宜宾东里,2号楼,南开区宜宾道3号",
    "xuefu,学府社区,观景里,5,南开区观景路5号",
]


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(models.Building.__table__)
        ).scalar_one()


def _answers(store: Store) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        return [dict(a) for (a,) in conn.execute(sa.select(models.Building.__table__.c.answers))]


def _write(
    tmp_path: Path, rows: list[str], name: str = "register.csv", encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding=encoding)
    return path


def test_good_register_imports_and_is_idempotent(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    path = _write(tmp_path, GOOD)
    report = import_register(sqlite_store, form, path, author="甲")
    assert (report.imported, report.problems) == (3, [])
    again = import_register(sqlite_store, form, path, author="甲")
    assert (again.imported, again.already_present) == (0, 3)
    assert _count(sqlite_store) == 3
    with sqlite_store.engine.connect() as conn:
        subs = sorted(
            r[0] for r in conn.execute(sa.select(models.Building.__table__.c.subdistrict))
        )
    assert subs == ["wanxing", "wanxing", "xuefu"]


def test_bad_rows_block_the_whole_import(sqlite_store: Store, form: Form, tmp_path: Path) -> None:
    rows = [
        *GOOD,
        "火星街道,x社区,某里,1号楼,某地址",
        "万兴街道,宜宾里社区,,3号楼,南开区宜宾道5号",
        "万兴街道,宜宾里社区,宜宾东里,1号楼,南开区宜宾道1号",
    ]
    path = _write(tmp_path, rows)
    report = import_register(sqlite_store, form, path, author="甲")
    assert [(p.row, p.field) for p in report.problems] == [
        (5, "subdistrict"),
        (6, "compound_name"),
        (7, "building_no"),
    ]
    assert "not one of the options" in report.problems[0].message.en
    assert "same building as row 2" in report.problems[2].message.en
    assert report.problems[2].message.zh == "与第 2 行是同一栋楼"
    assert report.imported == 0
    assert _count(sqlite_store) == 0

    skipped = import_register(sqlite_store, form, path, author="甲", skip_bad=True)
    assert (skipped.imported, skipped.skipped_bad) == (3, 3)
    assert _count(sqlite_store) == 3


def test_missing_column_is_named(sqlite_store: Store, form: Form, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("街道,楼号,门牌地址\n万兴街道,1号楼,x\n", encoding="utf-8")
    from surveyor.errors import SurveyorError

    with pytest.raises(SurveyorError) as caught:
        import_register(sqlite_store, form, path, author="甲")
    assert caught.value.message == (
        f"{path}:1: missing column(s): 小区名称 (accepted: compound_name, compound, 小区名称, 小区)"
    )
    assert caught.value.text("zh") == (
        f"{path}：第 1 行：缺少列：小区名称（可用列名：compound_name、compound、小区名称、小区）"
    )


@pytest.mark.parametrize(
    "header", ["街道,小区,小区名称,楼号,门牌地址", "街道,compound,楼号,门牌地址,小区名称"]
)
def test_two_headers_for_one_column_are_refused(tmp_path: Path, header: str) -> None:
    """小区 (empty) and 小区名称 (filled): the first won silently, and the row was refused
    for an empty 小区名称 it had filled ("第 2 行：小区名称：为空")."""
    db = tmp_path / "s.db"
    init_store(db, role="laptop", inspector="甲").close()
    cells = {
        "街道": "万兴街道",
        "楼号": "1号楼",
        "门牌地址": "南开区宜宾道1号",
        "小区名称": "宜宾东里",
    }
    path = tmp_path / "r.csv"
    names = header.split(",")
    path.write_text(header + "\n" + ",".join(cells.get(n, "") for n in names) + "\n", "utf-8")
    first, second = [n for n in names if n in ("小区", "compound", "小区名称")]
    a, b = names.index(first) + 1, names.index(second) + 1
    run = ["surveyor", "register", "import", "--db", str(db), str(path)]
    zh = subprocess.run([*run, "--lang", "zh"], capture_output=True, text=True)
    assert zh.returncode == 2
    assert zh.stderr.strip().splitlines() == [
        f"错误：{path}：第 1 行：第 {a} 列（{first}）和第 {b} 列（{second}）都是小区名称列，"
        "请只保留一列"
    ]
    en = subprocess.run(run, capture_output=True, text=True)
    assert en.returncode == 2 and "Traceback" not in en.stderr
    assert (
        f"{path}:1: columns {a} ({first}) and {b} ({second}) are both the 小区名称 column; "
        "keep one" in en.stderr
    )
    store = open_store(db)
    assert _count(store) == 0
    store.close()


def test_gbk_csv_and_xlsx(sqlite_store: Store, form: Form, tmp_path: Path) -> None:
    gbk = _write(tmp_path, GOOD[:1], name="gbk.csv", encoding="gb18030")
    assert import_register(sqlite_store, form, gbk, author="甲").imported == 1
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["subdistrict", "community", "compound_name", "building_no", "address"])
    sheet.append(["学府街道", "学府社区", "观景里", "6号楼", "南开区观景路6号"])
    sheet.append(["学府街道", "学府社区", "观景里", 7, "南开区观景路7号"])  # a number cell
    xlsx = tmp_path / "reg.xlsx"
    book.save(xlsx)
    assert import_register(sqlite_store, form, xlsx, author="甲").imported == 2
    assert _count(sqlite_store) == 3


def test_xlsx_number_and_date_cells_are_read_as_typed(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """A 楼号 cell holding 4.0 was imported as "4.0" (apart from 4号楼 in sorting and the
    duplicate checks); 1-2 typed into a column Excel formats as dates became 2 January and was
    refused only for its length. The number is read as typed, the date said as such."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["subdistrict", "community", "compound_name", "building_no", "address"])
    sheet.append(["学府街道", "学府社区", "观景里", 4.0, "南开区观景路4号"])
    sheet.append(
        ["学府街道", "学府社区", "观景里", datetime.datetime(2024, 1, 2), "南开区观景路5号"]
    )
    xlsx = tmp_path / "reg.xlsx"
    book.save(xlsx)
    report = import_register(sqlite_store, form, xlsx, author="甲")
    assert report.imported == 0 and [(p.row, p.field) for p in report.problems] == [
        (3, "building_no")
    ]
    said = report.problems[0].message
    assert said.zh == "Excel 把它存成了日期（2024-01-02）；请把该列设为文本格式后重新输入"
    report = import_register(sqlite_store, form, xlsx, author="甲", skip_bad=True)
    assert report.imported == 1
    numbers = [a.get("building_no") for a in _answers(sqlite_store)]
    assert numbers == ["4"], numbers


def test_cli_register_import_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    init_store(db, role="laptop", inspector="甲").close()
    bad = _write(tmp_path, [*GOOD, "火星街道,x社区,某里,1号楼,某地址"])
    run = subprocess.run(
        ["surveyor", "register", "import", "--db", str(db), str(bad)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert f"{bad}:row 5: field 'subdistrict':" in run.stderr
    assert "nothing was imported" in run.stderr
    assert "Traceback" not in run.stderr
    ok = subprocess.run(
        ["surveyor", "register", "import", "--db", str(db), "--skip-bad", str(bad)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "imported 3 building(s)" in ok.stdout


def test_cli_register_import_in_chinese(tmp_path: Path) -> None:
    """A supervisor reading Chinese gets each bad row by its column's label, in Chinese."""
    db = tmp_path / "s.db"
    init_store(db, role="laptop", inspector="甲").close()
    bad = _write(
        tmp_path, [*GOOD, "火星街道,x社区,某里,1号楼,某地址", "万兴街道,x社区,,2号楼,某地址"]
    )
    zh = ["surveyor", "register", "import", "--db", str(db), "--lang", "zh"]
    refused = subprocess.run([*zh, str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert f"{bad}：第 5 行：街道：「火星街道」不是有效选项" in refused.stderr
    assert f"{bad}：第 6 行：小区名称：为空" in refused.stderr
    assert "错误：2 行有错；未导入任何楼栋" in refused.stderr
    store = open_store(db)
    assert _count(store) == 0
    store.close()
    ok = subprocess.run([*zh, "--skip-bad", str(bad)], capture_output=True, text=True)
    assert ok.returncode == 0 and "导入 3 栋楼；0 栋已存在；跳过有错的 2 行" in ok.stdout
    wrong = subprocess.run([*zh, str(tmp_path / "reg.txt")], capture_output=True, text=True)
    assert "楼栋清单须为 .csv 或 .xlsx 文件" in wrong.stderr


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path: Path) -> None:
    """An address with an unquoted comma used to be imported without its end ("2门" lost)."""
    db = tmp_path / "s.db"
    init_store(db, role="laptop", inspector="甲").close()
    path = _write(
        tmp_path,
        [
            "长虹街道,长虹社区,南丰新村,1号楼,南开区华苑东路22号,2门",
            "长虹街道,长虹社区,南丰新村,2号楼,南开区华苑东路24号,,",  # Excel's trailing commas
        ],
    )
    cmd = ["surveyor", "register", "import", "--db", str(db), str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{path}:row 2: 6 cells but the header has 5" in run.stderr
    assert "row 3" not in run.stderr
    assert "Traceback" not in run.stderr
    store = open_store(db)
    assert _count(store) == 0
    store.close()
    zh = subprocess.run([*cmd, "--lang", "zh"], capture_output=True, text=True)
    assert f"{path}：第 2 行：有 6 个单元格，但表头只有 5 列" in zh.stderr
    skipped = subprocess.run([*cmd, "--skip-bad"], capture_output=True, text=True)
    assert skipped.returncode == 0, skipped.stderr
    assert "imported 1 building(s); 0 already present; 1 bad row(s) skipped" in skipped.stdout


def test_an_xlsx_row_wider_than_its_header_is_refused(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["街道", "社区", "小区名称", "楼号", "门牌地址"])
    sheet.append(["长虹街道", "长虹社区", "南丰新村", "1号楼", "南开区华苑东路22号", "2门"])
    sheet.append(["长虹街道", "长虹社区", "南丰新村", "2号楼", "南开区华苑东路24号"])
    xlsx = tmp_path / "reg.xlsx"
    book.save(xlsx)
    report = import_register(sqlite_store, form, xlsx, author="甲")
    assert [(p.row, p.field, p.message.en) for p in report.problems] == [
        (2, None, "6 cells but the header has 5")
    ]
    assert _count(sqlite_store) == 0


def test_cli_register_import_names_rows_at_a_place_a_building_already_has(
    tmp_path: Path,
) -> None:
    """A row at the place of a building already here (its 小区 and 楼号 in another 街道, say)
    was imported without a word; on a laptop the pair was flagged only at the merge. It is
    still imported (the register is the official list), and each such row is named with the
    building. (The same 楼号 at the same address is that building: already present.)
    Other buildings of a compound that gives one 门牌 to all (新苑里 1号楼 and 2号楼 at 咸阳路
    48号) are no such rows: "row 4: building … (新苑里 1号楼) is already here" was said of
    2号楼."""
    db = tmp_path / "s.db"
    init_store(db, role="laptop", inspector="甲").close()
    first = _write(tmp_path, GOOD, name="first.csv")
    cmd = ["surveyor", "register", "import", "--db", str(db)]
    assert subprocess.run([*cmd, str(first)], capture_output=True, text=True).returncode == 0
    store = open_store(db)
    with store.engine.connect() as conn:
        code = conn.execute(
            sa.select(models.Building.__table__.c.code).where(
                models.Building.__table__.c.address == "南开区宜宾道1号"
            )
        ).scalar_one()
    store.close()
    later = _write(
        tmp_path,
        [
            "学府街道,学府社区,宜宾东里,1栋,南开区学府路1号",  # row 2 above, another 街道
            "长虹街道,长虹社区,新苑里,1号楼,南开区咸阳路48号",
            "长虹街道,长虹社区,新苑里,2号楼,南开区咸阳路48号",  # the row above's address
            "长虹街道,长虹社区,新苑里,3号楼,南开区咸阳路50号",
        ],
        name="later.csv",
    )
    run = subprocess.run([*cmd, str(later)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "imported 4 building(s)" in run.stdout
    lines = run.stderr.splitlines()
    assert lines[0] == (
        f"{later}:row 2: building {code} (宜宾东里 1号楼, 南开区宜宾道1号) is already here; "
        "imported (a central flags the two as a possible duplicate)"
    )
    assert len(lines) == 1, lines
    zh = subprocess.run([*cmd, "--lang", "zh", str(later)], capture_output=True, text=True)
    assert zh.returncode == 0 and "导入 0 栋楼；4 栋已存在" in zh.stdout  # nothing new: no note
    assert zh.stderr == ""


def test_a_register_writing_its_building_numbers_another_way_adds_nothing(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """An updated register from the district wrote 2号楼 as 2: each of its rows was imported
    again beside the building it names ("building … is already here; imported"), and the
    database held every building twice. The same 楼号 (``building_number_key``) in the same
    街道 and 小区, or at the same address, is a building already present."""
    first = _write(tmp_path, GOOD, name="first.csv")
    assert import_register(sqlite_store, form, first, author="甲").imported == 3
    later = _write(
        tmp_path,
        [
            "万兴街道,宜宾里社区,宜宾东里,1,南开区宜宾道1号",  # 1号楼 written 1
            "万兴街道,宜宾里社区,宜宾东里,2栋,南开区宜宾道3号",  # 2号楼 written 2栋
            "学府街道,学府社区,观景里,5号楼,南开区观景路5号",  # 5 written 5号楼
            "万兴街道,宜宾里社区,宜宾东里小区,1号,南开区 宜宾道 1号",  # the 小区 another way
            "万兴街道,宜宾里社区,宜宾东里,3号楼,南开区宜宾道5号",  # a new building
        ],
        name="later.csv",
    )
    report = import_register(sqlite_store, form, later, author="甲")
    assert (report.imported, report.already_present) == (1, 4), report
    assert (report.problems, report.same_place) == ([], [])
    assert _count(sqlite_store) == 4


def test_a_number_with_leading_zeros_or_di_is_the_building_already_there(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """A register's 楼号 01 or 第2栋 imported a second 1号楼 / 2号楼 at the same address."""
    first = _write(tmp_path, GOOD, name="first.csv")
    assert import_register(sqlite_store, form, first, author="甲").imported == 3
    later = _write(
        tmp_path,
        [
            "万兴街道,宜宾里社区,宜宾东里,01,南开区宜宾道1号",
            "万兴街道,宜宾里社区,宜宾东里,第2栋,南开区宜宾道3号",
        ],
        name="later.csv",
    )
    report = import_register(sqlite_store, form, later, author="甲")
    assert (report.imported, report.already_present) == (0, 2), report
    assert _count(sqlite_store) == 3


def test_one_building_written_twice_in_a_register_is_one_bad_row(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """8号楼 and 8 of one 小区 in one file were two buildings."""
    path = _write(
        tmp_path,
        [
            "学府街道,学府社区,观景里,8号楼,南开区观景路8号",
            "学府街道,学府社区,观景里,8,南开区观景路8号",
            "学府街道,学府社区,观景里,9,南开区观景路9号",
        ],
    )
    report = import_register(sqlite_store, form, path, author="甲")
    assert [(p.row, p.field, p.message.en) for p in report.problems] == [
        (3, "building_no", "same building as row 2")
    ]
    assert _count(sqlite_store) == 0


def test_a_csv_building_number_excel_made_a_date_is_refused(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """1-2 typed into a CSV opened in Excel is saved as 2-Jan (English Excel), 1月2日 or
    2024/1/2 (Chinese Excel), or the date's serial number 45293; all four were imported as
    楼号 (the .xlsx path already refused such cells). 2-1 as typed (building 2, unit 1) is a
    楼号 and is kept."""
    numbers = ["2-Jan", "1月2日", "2024/1/2", "45293", "2-1"]
    rows = [f"学府街道,学府社区,观景里,{n},南开区观景路{i}号" for i, n in enumerate(numbers)]
    path = _write(tmp_path, rows)
    report = import_register(sqlite_store, form, path, author="甲")
    assert [(p.row, p.field) for p in report.problems] == [(r, "building_no") for r in (2, 3, 4, 5)]
    said = report.problems[0].message
    assert said.en == (
        "2-Jan looks like a date Excel made of the 楼号; format the column as text in Excel, "
        "retype the 楼号 and save again"
    )
    assert said.zh == (
        "2-Jan 看起来是 Excel 把楼号变成的日期；请在 Excel 中把该列设为文本格式，"
        "重新输入楼号后再保存"
    )
    assert _count(sqlite_store) == 0
    kept = import_register(sqlite_store, form, path, author="甲", skip_bad=True)
    assert (kept.imported, kept.skipped_bad) == (1, 4)
    assert [a.get("building_no") for a in _answers(sqlite_store)] == ["2-1"]


@pytest.mark.parametrize(
    ("separator", "en", "zh"), [("\t", "tabs", "制表符"), (";", "semicolons", "分号")]
)
def test_a_register_not_separated_by_commas_says_so(
    sqlite_store: Store, form: Form, tmp_path: Path, separator: str, en: str, zh: str
) -> None:
    """A tab- or semicolon-separated file was refused for missing every column
    ("缺少列：街道…") although its header names them all."""
    from surveyor.errors import SurveyorError

    path = tmp_path / "r.csv"
    lines = [HEADER.strip(), GOOD[0]]
    path.write_text("\n".join(line.replace(",", separator) for line in lines) + "\n", "utf-8")
    with pytest.raises(SurveyorError) as caught:
        import_register(sqlite_store, form, path, author="甲")
    assert caught.value.message == (
        f"{path}:1: the columns are separated by {en}; a register's columns must be separated "
        'by commas (in Excel, save it as "CSV UTF-8 (Comma delimited)")'
    )
    assert caught.value.text("zh") == (
        f"{path}：第 1 行：各列以{zh}分隔；楼栋清单的各列须以逗号分隔"
        "（在 Excel 中另存为「CSV UTF-8（逗号分隔）」）"
    )
    assert _count(sqlite_store) == 0


def _building_reads(store: Store, form: Form, path: Path) -> int:
    """How many SELECTs on the building table importing ``path`` into ``store`` runs."""
    reads = 0

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal reads
        if statement.lstrip().upper().startswith("SELECT") and " building" in statement:
            reads += 1

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert import_register(store, form, path, author="甲").problems == []
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    return reads


def test_import_reads_the_buildings_once_however_long_the_register(
    form: Form, tmp_path: Path
) -> None:
    """Each row's same-building check was a query scanning the building list (its 小区 has
    no index of its own): a 20,000-row register took minutes to import, growing with the
    square of its length. The buildings are read once, whatever the rows."""

    def rows(n: int) -> list[str]:
        return [
            f"学府街道,学府社区,观景里{i // 10},{i % 10}号楼,南开区观景路{i}号" for i in range(n)
        ]

    reads = []
    for n in (5, 40):
        store = init_store(tmp_path / f"{n}.db", role="laptop", inspector="甲")
        try:
            reads.append(_building_reads(store, form, _write(tmp_path, rows(n), f"{n}.csv")))
            assert _count(store) == n
        finally:
            store.close()
    assert reads[0] == reads[1], reads


def test_rows_at_the_place_of_a_building_imported_or_found_before_are_named(
    sqlite_store: Store, form: Form, tmp_path: Path
) -> None:
    """What the import names in ``same_place`` is what ``survey.same_building`` answers: a
    row of 小区 and 楼号 imported a few rows above (in another 街道) counts, a building
    found on site without a 楼号 at the row's address counts (by its address), a deleted
    building does not."""
    from surveyor.services.survey import create_building
    from surveyor.sync.actions import delete_building

    base = {"district": "nankai", "subdistrict": "xuefu", "community": "学府社区"}
    unnumbered = create_building(
        sqlite_store,
        form,
        base | {"compound_name": "观景里", "address": "南开区观景路20号"},
        author="甲",
    )
    gone = create_building(
        sqlite_store,
        form,
        base | {"compound_name": "新苑里", "building_no": "4号楼", "address": "南开区咸阳路4号"},
        author="甲",
    )
    delete_building(sqlite_store, form, gone.code, author="甲")
    path = _write(
        tmp_path,
        [
            "万兴街道,宜宾里社区,宜宾东里,1号楼,南开区宜宾道1号",
            "学府街道,学府社区,宜宾东里,1栋,南开区学府路1号",  # row 2's 小区 and 楼号
            "学府街道,学府社区,观景里,7号楼,南开区观景路20号",  # the unnumbered one's address
            "长虹街道,长虹社区,新苑里,4,南开区咸阳路8号",  # the deleted one's 小区 and 楼号
        ],
    )
    report = import_register(sqlite_store, form, path, author="甲")
    assert (report.imported, report.problems) == (4, [])
    with sqlite_store.engine.connect() as conn:
        row_2 = conn.execute(
            sa.select(models.Building.__table__.c.code).where(
                models.Building.__table__.c.address == "南开区宜宾道1号"
            )
        ).scalar_one()
    named = [(row, same.code, same.same_address) for row, same in report.same_place]
    assert named == [(3, row_2, False), (4, unnumbered.code, True)]


def test_the_bulk_same_building_check_answers_as_the_query(sqlite_store: Store, form: Form) -> None:
    """``SameBuildings`` (read once, for a bulk write) finds what ``same_building`` (one
    query) finds, for buildings of one 门牌, 楼号 spelled several ways, one without a 楼号,
    a deleted one, and a building the write itself created."""
    from surveyor.services.survey import SameBuildings, create_building, same_building, writer
    from surveyor.sync.actions import delete_building

    base = {"district": "nankai", "subdistrict": "xuefu", "community": "学府社区"}
    places = [
        ("新苑里", "1号楼", "南开区咸阳路48号"),
        ("新苑里", "2号楼", "南开区咸阳路48号"),
        ("新苑里", None, "南开区咸阳路50号"),
        ("天大北五村", "13", "南开区卫津路94号"),
        ("天大北五村", "14号楼", "南开区卫津路96号"),
    ]
    for compound, number, address in places:
        answers = base | {"compound_name": compound, "address": address}
        create_building(
            sqlite_store, form, answers | ({"building_no": number} if number else {}), author="甲"
        )
    gone = create_building(
        sqlite_store,
        form,
        base | {"compound_name": "观景里", "building_no": "8", "address": "南开区观景路8号"},
        author="甲",
    )
    delete_building(sqlite_store, form, gone.code, author="甲")
    probes = [
        {"compound_name": compound, "building_no": number, "address": address}
        for compound in ("新苑里", "天大北五村", "观景里", "别的小区")
        for number in ("1号楼", "2", "3栋", "13#", "１４号楼", "8")
        for address in ("南开区 咸阳路48号", "南开区咸阳路50号", "南开区观景路8号", "别处1号")
    ]
    with writer(sqlite_store, form, "甲") as w:
        here = SameBuildings(w.conn)
        new = base | {"compound_name": "观景里", "building_no": "2", "address": "南开区观景路2号"}
        here.add(w.create(new), new)
        found = [(here.find(p), same_building(w.conn, p)) for p in probes]
    assert all(bulk == query for bulk, query in found)
    assert sum(query is not None for _, query in found) > len(probes) // 3
