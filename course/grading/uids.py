"""Unprivileged uids for the sandboxes of a root grader, unique across grader instances.

A root grader runs each parallel sandbox as a uid of its own (``setpriv --reuid``), so that the
process limit (counted per uid) and file permissions separate them. Two graders on one machine must
not pick the same uids: each uid is leased with an exclusive ``flock`` on a lock file, held until the
grading ends (the kernel releases it if the grader dies).
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

UID_BASE = 61000
UID_COUNT = 1000
"""Sandboxes run as uids in [UID_BASE, UID_BASE + UID_COUNT)."""
LOCK_FOLDERS = ("/run/lock", "/var/lock", "/tmp")


class NoFreeUid(RuntimeError):
    """Every sandbox uid is leased by other graders on this machine."""


class UidLease:
    """``count`` sandbox uids held by this grader until :meth:`release`."""

    def __init__(self, count: int, folder: Path | None = None):
        folder = folder or next(Path(f) for f in LOCK_FOLDERS if os.path.isdir(f) and os.access(f, os.W_OK))
        self.uids: list[int] = []
        self._files: list[int] = []
        for uid in range(UID_BASE, UID_BASE + UID_COUNT):
            if len(self.uids) == count:
                return
            fd = os.open(folder / f"bdl-tf-sandbox-uid-{uid}.lock",
                         os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uids.append(uid)
            self._files.append(fd)
        self.release()
        raise NoFreeUid(f"all {UID_COUNT} sandbox uids from {UID_BASE} are in use by other graders")

    def release(self) -> None:
        for fd in self._files:
            os.close(fd)
        self._files, self.uids = [], []
