"""Writing outputs atomically: a temporary file (or folder) beside the target, renamed at the end.

A failed, cancelled or interrupted export therefore never leaves a partial file under the name
the user asked for, and an unwritable path is reported before any work is done.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from surveyor.errors import DISK_FULL_ERRNOS, SurveyorError, cannot_write
from surveyor.paths import missing_folder, remove_stale_temps


def check_target(out: Path, *, folder: bool = False, replace: bool = True) -> None:
    """Refuse, in one sentence, an output path that cannot be written, or (unless
    ``replace``) a file that is already there: a sheet printed last week is not overwritten
    by a slip of the command line."""
    parent = out.parent if str(out.parent) else Path(".")
    if why := missing_folder(out):
        raise SurveyorError(f"cannot write {out}: {why[0]}", zh=f"无法写入 {out}：{why[1]}")
    if not replace and not folder and out.is_file():
        raise SurveyorError(
            f"{out} already exists; nothing was written (choose another name; "
            "on the command line, --force replaces it)",
            zh=f"{out} 已存在，未写入（请换一个文件名；命令行中 --force 可覆盖）",
        )
    if folder:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise SurveyorError(
                f"cannot write into {out}: it exists and is not an empty folder",
                zh=f"无法写入 {out}：它已存在且不是空文件夹",
            )
    elif out.is_dir():
        raise SurveyorError(
            f"cannot write {out}: it is a folder", zh=f"无法写入 {out}：这是一个文件夹"
        )
    if not os.access(parent, os.W_OK):
        raise SurveyorError(
            f"cannot write {out}: folder {parent} is not writable",
            zh=f"无法写入 {out}：文件夹 {parent} 不可写",
        )
    try:  # the only sure test (root passes os.access; some file systems refuse anyway)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise cannot_write(out, exc) from None


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sweep_stale_parts(out: Path) -> None:
    """Remove what a killed export of ``out`` left an hour or more ago: the hidden
    ``.<name>.xxxxxxxx.part`` file or folder (``tempfile``'s 8 random characters)."""
    remove_stale_temps(out.parent, re.compile(rf"\.{re.escape(out.name)}\.[a-z0-9_]{{8}}\.part"))


@contextmanager
def atomic_file(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; it becomes ``out`` only if the block succeeds."""
    check_target(out)
    sweep_stale_parts(out)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give normal permissions
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in DISK_FULL_ERRNOS:  # "cannot access: No space left on device"
            raise cannot_write(out, exc) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Like ``atomic_file`` for a folder of files (``--split``)."""
    check_target(out, folder=True)
    sweep_stale_parts(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    except OSError as exc:
        raise cannot_write(out, exc, into=True) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in DISK_FULL_ERRNOS:
            raise cannot_write(out, exc, into=True) from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
