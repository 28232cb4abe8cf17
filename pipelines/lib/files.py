"""Writing files so that a reader, or a kill at any instant, sees the old version or the new one, never neither.

Everything the pipeline hands over (the analytics database, the Parquet export) is written beside its final
name, flushed to disk, and swapped in with one rename. Files and folders are readable by their owner and group
only (``FILE_MODE``, ``FOLDER_MODE``): the marts describe people.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path

FILE_MODE = 0o640
FOLDER_MODE = 0o750
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: Path) -> None:
    """Makes the renames inside `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restrict(path: Path) -> None:
    """Owner and group only: FOLDER_MODE for a folder and FILE_MODE for each file in it, or FILE_MODE for a file."""
    if path.is_dir():
        path.chmod(FOLDER_MODE)
        for child in path.iterdir():
            restrict(child)
    elif path.exists():
        path.chmod(FILE_MODE)


def replace_file(staged: Path, target: Path) -> None:
    """Moves the finished file `staged` over `target` in one rename, durably."""
    restrict(staged)
    fsync_file(staged)
    os.replace(staged, target)
    fsync_folder(target.parent)


def swap_folder(staged: Path, target: Path) -> None:
    """Puts the finished folder `staged` at `target` in one step, then removes the folder it replaced.

    Linux exchanges the two folders atomically (renameat2 with RENAME_EXCHANGE), so `target` exists at every
    instant; where that call is missing, the old folder is renamed aside first, and ``recover_folder`` puts it back
    if the process died between the two renames.
    """
    restrict(staged)
    for file in staged.iterdir():
        fsync_file(file)
    fsync_folder(staged)
    aside = target.with_name(target.name + ".previous")
    shutil.rmtree(aside, ignore_errors=True)
    if not target.exists():
        staged.rename(target)
    elif _exchange(staged, target):
        aside = staged
    else:
        target.rename(aside)
        staged.rename(target)
    fsync_folder(target.parent)
    shutil.rmtree(aside, ignore_errors=True)


def recover_folder(target: Path) -> None:
    """Puts back the previous folder if a process died after moving it aside and before moving the new one in."""
    aside = target.with_name(target.name + ".previous")
    if not target.exists() and aside.is_dir():
        aside.rename(target)


def _exchange(first: Path, second: Path) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))
