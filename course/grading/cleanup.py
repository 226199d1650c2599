"""Remove a folder tree that a submission may have shaped: no recursion, no link followed.

A sandbox run in ``--no-sandbox`` mode writes its scratch files on the host, and whatever made them
is hostile: folders thousands deep (a recursive removal hits Python's recursion limit and paths
longer than ``PATH_MAX``), symbolic links to the instructor's files, FIFOs, folders without
permissions, hundreds of thousands of files. :func:`remove_tree` works through directory file
descriptors only, and moves every sub-folder up to the top before emptying it, so neither the depth
nor the length of a path ever matters and nothing is opened through a link.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def remove_tree(path) -> None:
    """Remove ``path`` (a folder, or a link or file, which is unlinked) and all it holds."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        path.unlink()
        return
    top = os.open(path, _OPEN_FOLDER)
    try:
        os.fchmod(top, 0o700)
        moved = 0
        while True:
            with os.scandir(top) as entries:
                names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
            if not names:
                break
            for name, is_folder in names:
                if not is_folder:
                    os.unlink(name, dir_fd=top)
                    continue
                moved = _empty_into(top, name, moved)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(path)


def _empty_into(top: int, name: str, moved: int) -> int:
    """Unlink the files of the folder ``name`` (in ``top``) and move its folders up into ``top``."""
    folder = os.open(name, _OPEN_FOLDER, dir_fd=top)
    try:
        os.fchmod(folder, 0o700)
        with os.scandir(folder) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        for child, is_folder in names:
            if is_folder:
                moved += 1
                os.rename(child, f".removing-{moved}", src_dir_fd=folder, dst_dir_fd=top)
            else:
                os.unlink(child, dir_fd=folder)
    finally:
        os.close(folder)
    return moved
