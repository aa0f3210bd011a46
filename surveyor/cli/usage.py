"""Command-line usage errors (a missing argument, an unknown option or command, a value of the
wrong type) said in the asked language, in the CLI's own "error: …" form.

Typer (through Click) words them in English inside a box, even under ``--lang zh``. The CLI
runs Typer without its standalone handling and words them here. Click builds each message
from a few fixed English sentences, so they are recognised by pattern; one not known is
said as Click wrote it, after 「错误：」."""

from __future__ import annotations

import re
from typing import Any

import typer


def usage_error_class() -> type[Exception]:
    """Click's ``UsageError``, whichever Click Typer uses (its own copy since 0.25, else the
    ``click`` package): the base of the public ``typer.BadParameter``."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _said(english: str, zh: str) -> tuple[re.Pattern[str], str]:
    return re.compile(english), zh


def _invalid(detail: str, zh: str) -> tuple[re.Pattern[str], str]:
    """A value Click refused for an option or argument; ``{0}`` is its name."""
    return _said(r"Invalid value for '?(.+?)'?: " + detail, zh)


#: Click's English sentences and their Chinese, in the order they are tried. ``{0}``… are the
#: pattern's groups, quotes stripped.
_ZH: list[tuple[re.Pattern[str], str]] = [
    _said(r"Missing (?:argument|parameter) '(.+?)'\.?", "缺少参数 {0}"),
    _said(r"Missing option '(.+?)'\.?", "缺少选项 {0}"),
    _said(r"No such option: (\S+?)\s+Did you mean (\S+?)\?", "没有 {0} 这个选项；是否要用 {1}？"),
    _said(r"No such option: (\S+?)\s+\(Possible options: (.+)\)", "没有 {0} 选项；相近的有 {1}"),
    _said(r"No such option: (\S+)", "没有 {0} 这个选项"),
    _said(r"No such command '(.+?)'\.\s+Did you mean (.+?)\?", "没有 {0} 这个命令；是否要用 {1}？"),
    _said(r"No such command '(.+?)'\.", "没有 {0} 这个命令"),
    _said(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", "多余的参数 {0}"),
    _said(r"Option '(.+?)' requires an argument\.", "选项 {0} 后面要给一个值"),
    _said(r"Option '(.+?)' does not take a value\.", "选项 {0} 不带值"),
    # Typer 0.29 words a type error as pydantic does, without the value.
    _invalid(r"Input should be a valid integer.*", "{0} 应为整数"),
    _invalid(r"Input should be a valid number.*", "{0} 应为数字"),
    _invalid(r"Input should be a valid boolean.*", "{0} 应为 true 或 false"),
    _invalid(r"'?(.+?)'? is not a valid integer\.?", "{0} 应为整数，不是 {1}"),
    _invalid(r"'?(.+?)'? is not a valid float\.?", "{0} 应为数字，不是 {1}"),
    _invalid(r"'?(.+?)'? is not a valid boolean\.?", "{0} 应为 true 或 false，不是 {1}"),
    _invalid(r"'?(.+?)'? is not one of (.+?)\.?", "{0} 应为 {2} 之一，不是 {1}"),
    _invalid(r"(?:File|Path|Directory) '(.+?)' does not exist\.?", "{0}：{1} 不存在"),
    _invalid(r"(?:File|Path) '(.+?)' is a directory\.?", "{0}：{1} 是文件夹，不是文件"),
    _invalid(r"Directory '(.+?)' is a file\.?", "{0}：{1} 是文件，不是文件夹"),
    _invalid(r"(.+)", "{0} 的值无效：{1}"),
]


def _plain(text: str) -> str:
    """A group as said in Chinese: no quotes, a list joined with 、."""
    return text.replace("'", "").replace(", ", "、")


def message_in(exc: Exception, lang: str) -> str:
    """The usage error's sentence in ``lang``, without Click's final full stop."""
    english = str(exc.format_message() if hasattr(exc, "format_message") else exc).strip()
    english = " ".join(english.split())
    if lang == "zh":
        for pattern, zh in _ZH:
            found = pattern.fullmatch(english)
            if found:
                return zh.format(*(_plain(g) for g in found.groups()))
    return english.rstrip(".")


def usage_lines(exc: Exception, lang: str) -> list[str]:
    """What is printed for a usage error: the command's usage line, the sentence, and where
    the full help is (English only, said so in Chinese)."""
    ctx: Any = getattr(exc, "ctx", None)
    said = message_in(exc, lang)
    if ctx is None:
        return [f"错误：{said}" if lang == "zh" else f"error: {said}"]
    usage = ctx.get_usage().strip()
    path = ctx.command_path
    if lang == "zh":
        usage = usage.replace("Usage:", "用法：", 1).replace("用法： ", "用法：", 1)
        return [usage, f"错误：{said}", f"用 {path} --help 查看全部选项（说明为英文）"]
    return [usage, f"error: {said}", f"Try '{path} --help' for help."]
