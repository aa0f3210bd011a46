"""Finding and registering an embeddable TrueType CJK font for the printed outputs.

reportlab's built-in CID fonts (STSong-Light) are not embedded: a printer or viewer without an
Adobe-GB1 font shows empty boxes. So every PDF embeds a subset of a TrueType font. It comes
through the project's own install (the ``paperang-p2-fonts-cjk`` wheel ships wqy-microhei), or
from a system TrueType CJK font found at run time; ``--font`` overrides both. reportlab cannot
embed CFF-flavoured OpenType (``.otf``), so those are refused with a clear message.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from surveyor.errors import SurveyorError

#: The name the font is registered under in reportlab.
FONT_NAME = "SurveyorCJK"
FONT_ENV_VAR = "SURVEYOR_CJK_FONT"
#: Characters every sheet prints; a font without them is not a CJK font for our purposes.
_PROBE = "南开区普查改造需求"
_SYSTEM_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
# Known TrueType CJK families, best first (file-name fragments, lower case).
_SYSTEM_NAMES = (
    "wqy-microhei",
    "wqy-zenhei",
    "droidsansfallback",
    "notosanscjk",
    "notosanssc",
    "uming",
    "ukai",
    "simhei",
    "simsun",
    "msyh",
)


@dataclass(frozen=True)
class FontChoice:
    """The font file used, and where it came from (shown by ``--verbose`` and in docs)."""

    path: Path
    origin: str  # "option", "environment", "package" or "system"
    subfont: int = 0


def _packaged_font() -> Path | None:
    """wqy-microhei from the ``paperang-p2-fonts-cjk`` wheel, a project dependency."""
    spec = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "fonts" / "wqy-microhei.ttc"
        if candidate.is_file():
            return candidate
    return None


def _system_font() -> Path | None:
    """The best known TrueType CJK font installed on this machine, if any."""
    found: dict[str, Path] = {}
    for base in _SYSTEM_DIRS:
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            if path.suffix.lower() not in (".ttf", ".ttc"):
                continue
            name = path.name.lower().replace(" ", "").replace("_", "-")
            for fragment in _SYSTEM_NAMES:
                if fragment in name.replace("-", "") or fragment in name:
                    found.setdefault(fragment, path)
    for fragment in _SYSTEM_NAMES:
        if fragment in found:
            return found[fragment]
    return None


def find_font(override: Path | None = None) -> FontChoice:
    """The font to embed: ``--font``, then $SURVEYOR_CJK_FONT, the packaged one, a system one."""
    if override is not None:
        return FontChoice(_checked_path(override), "option")
    env = os.environ.get(FONT_ENV_VAR)
    if env:
        return FontChoice(_checked_path(Path(env)), "environment")
    packaged = _packaged_font()
    if packaged is not None:
        return FontChoice(packaged, "package")
    system = _system_font()
    if system is not None:
        return FontChoice(system, "system")
    raise SurveyorError(
        "no TrueType CJK font found; reinstall Surveyor (it depends on paperang-p2-fonts-cjk), "
        "install one (e.g. Debian fonts-wqy-microhei) or pass --font PATH.ttf",
        zh="找不到 TrueType 中文字体：请重新安装 Surveyor（它依赖 paperang-p2-fonts-cjk），"
        "安装一种中文字体（如 Debian 的 fonts-wqy-microhei），或用 --font 路径.ttf 指定",
    )


def _checked_path(path: Path) -> Path:
    """Refuse what reportlab cannot embed, before any page is drawn."""
    if not path.is_file():
        raise SurveyorError(f"font file {path} not found", zh=f"找不到字体文件 {path}")
    suffix = path.suffix.lower()
    if suffix == ".otf":
        raise SurveyorError(
            f"{path} is an OpenType/CFF font, which reportlab cannot embed; "
            "use a TrueType font (.ttf or .ttc)",
            zh=f"{path} 是 OpenType/CFF 字体，无法嵌入 PDF；请使用 TrueType 字体（.ttf 或 .ttc）",
        )
    if suffix not in (".ttf", ".ttc"):
        raise SurveyorError(
            f"{path} is not a TrueType font (.ttf or .ttc)",
            zh=f"{path} 不是 TrueType 字体（.ttf 或 .ttc）",
        )
    return path


@lru_cache(maxsize=4)
def register_font(path: str, subfont: int = 0) -> str:
    """Register the font with reportlab once per process; returns the registered name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        font = TTFont(FONT_NAME, path, subfontIndex=subfont)
    except TTFError as exc:
        raise SurveyorError(
            f"cannot use font {path}: {exc}", zh=f"无法使用字体 {path}：{exc}"
        ) from None
    missing = [ch for ch in _PROBE if ord(ch) not in font.face.charToGlyph]
    if missing:
        raise SurveyorError(
            f"font {path} has no Chinese glyphs (e.g. '{missing[0]}')",
            zh=f"字体 {path} 不含中文字形（例如「{missing[0]}」）",
        )
    pdfmetrics.registerFont(font)
    return FONT_NAME


def missing_glyphs(text: str, font: str = FONT_NAME) -> str:
    """The characters of ``text`` the registered ``font`` has no glyph for, once each, in
    order: they print as blanks (wqy-microhei lacks CJK Extension A/B, "𡒄", "𠮷").

    A lookup in the face's character map, a dict: ASCII text (which every CJK font covers)
    is passed at once, so checking a building's few printed answers costs next to nothing.
    """
    if text.isascii():
        return ""
    from reportlab.pdfbase.pdfmetrics import getFont

    cmap = getFont(font).face.charToGlyph
    return "".join(dict.fromkeys(ch for ch in text if ord(ch) not in cmap and not ch.isspace()))


def setup_font(override: Path | None = None) -> FontChoice:
    """Find and register the CJK font; raises SurveyorError with a sentence if impossible."""
    choice = find_font(override)
    register_font(str(choice.path), choice.subfont)
    return choice
