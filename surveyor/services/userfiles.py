"""Text files people hand to Surveyor: registers saved from Excel, lists of building codes.

They come from Windows as often as not, so they are read the same way everywhere: UTF-8 (with
or without the byte-order mark Excel and Notepad put first), else GB18030, the superset of the
GBK that Chinese Windows saves in. A file that is neither is one sentence, not a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from surveyor.errors import SurveyorError, cannot_read

#: First lines of a building list that are a column header, not a building (lower-cased).
LIST_HEADERS = frozenset(
    {"code", "codes", "building", "building_code", "id", "编号", "楼栋编号", "楼栋"}
)


def read_user_text(path: Path) -> str:
    """The text of a file a person saved: UTF-8 (a BOM dropped), else GB18030."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise cannot_read(path, exc) from exc
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SurveyorError(
        f"{path}: cannot read the file as UTF-8 or GB18030 text",
        zh=f"{path}：无法按 UTF-8 或 GB18030 编码读取该文件",
    )


@dataclass(frozen=True)
class ListedBuilding:
    """One building named in a list file, with where it was named (``file:line``) so that an
    unknown code can be found and fixed in the file."""

    ref: str
    where: str


def read_building_list(path: Path) -> list[ListedBuilding]:
    """The building codes (or ids) of a list file, one a line.

    Blank lines are skipped, and so is a first line that is a column header (编号, code): a
    list copied out of a spreadsheet column carries both.
    """
    listed: list[ListedBuilding] = []
    for number, line in enumerate(read_user_text(path).splitlines(), start=1):
        text = line.strip()
        if not text or (not listed and text.lower() in LIST_HEADERS):
            continue
        listed.append(ListedBuilding(text, f"{path}:{number}"))
    return listed
