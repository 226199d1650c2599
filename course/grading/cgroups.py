"""Kernel limits for a whole sandbox: total memory, process count and a fair CPU share (cgroups).

Resource limits (``RLIMIT_AS``, ``RLIMIT_NPROC``) count per process or per uid; a sandbox is a tree
of processes. A control group per sandbox run bounds the tree as a whole, whatever it forks:

- memory: ``memory.max`` (v2) / ``memory.limit_in_bytes`` (v1), the page cache and the sandbox's
  tmpfs ``/tmp`` included: past it the kernel's OOM killer ends a process of that sandbox only;
- processes: ``pids.max``;
- CPU: an equal weight per sandbox (``cpu.weight`` / ``cpu.shares``), so a sandbox spinning 40
  processes gets the same share of a busy machine as its neighbour running one.

The grader needs write access to a cgroup hierarchy with these controllers: root on a cgroup v1
machine, or a delegated cgroup v2 subtree (``systemd-run --scope -p Delegate=yes ...``). Where there
is none, :func:`detect` says why and the grader falls back to per-process limits (see docs/grading.md).
"""
from __future__ import annotations

import itertools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")


def _mounts(mountinfo: str) -> list[tuple[str, str, set[str]]]:
    """``[(mount point, fstype, super options)]`` of the cgroup file systems in ``mountinfo``."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4].replace("\\040", " "), tail[0], set(tail[2].split(","))))
    return found


def _own_paths(proc_cgroup: str) -> dict[str, str]:
    """``{controller or "": path}`` from ``/proc/self/cgroup`` ("" is the v2 hierarchy)."""
    paths = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    return paths


@dataclass
class Group:
    """One sandbox run's cgroup (one folder per v1 hierarchy, one in v2)."""

    folders: tuple[Path, ...]
    v2: bool

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to join this group (before it forks anything)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def pids(self) -> set[int]:
        found = set()
        for folder in self.folders:
            try:
                found.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def out_of_memory(self) -> bool:
        """Whether the kernel refused memory to this sandbox (its limit was reached)."""
        for folder in self.folders:
            for name, key in (("memory.events", "oom_kill"), ("memory.failcnt", None)):
                try:
                    text = (folder / name).read_text()
                except OSError:
                    continue
                counts = dict(line.split() for line in text.splitlines() if line.strip()) if key else {None: text}
                if int(counts.get(key, "0") or 0) > 0:
                    return True
        return False

    def remove(self, wait: float = 5.0) -> None:
        """Kill whatever still runs in the group, then remove its folders."""
        if self.v2:
            try:
                (self.folders[0] / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + wait
        while True:
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            removed = True
            for folder in self.folders:
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    removed = False
            if removed or time.monotonic() > deadline:
                return
            time.sleep(0.02)


class Cgroups:
    """Creates a :class:`Group` per sandbox run under a parent group of this grader's own."""

    def __init__(self, parents: tuple[Path, ...], v2: bool):
        self.parents, self.v2 = parents, v2
        self._numbers = itertools.count(1)  # next() on it is atomic: sandboxes start from several threads

    def create(self, *, memory_bytes: int, processes: int) -> Group:
        number = next(self._numbers)
        folders = []
        try:
            for parent in self.parents:
                folder = parent / f"run-{number}"
                folder.mkdir()
                folders.append(folder)
                self._limit(folder, memory_bytes, processes)
        except OSError:
            Group(tuple(folders), self.v2).remove(wait=0)
            raise
        return Group(tuple(folders), self.v2)

    def _limit(self, folder: Path, memory_bytes: int, processes: int) -> None:
        files = [(folder / "pids.max", str(processes))] if (folder / "pids.max").exists() else []
        if self.v2:
            files += [(folder / "memory.max", str(memory_bytes)), (folder / "memory.swap.max", "0"),
                      (folder / "cpu.weight", "100")]
        elif (folder / "memory.limit_in_bytes").exists():
            files += [(folder / "memory.limit_in_bytes", str(memory_bytes)),
                      (folder / "memory.memsw.limit_in_bytes", str(memory_bytes))]
        elif (folder / "cpu.shares").exists():
            files += [(folder / "cpu.shares", "1024")]
        for path, value in files:
            if path.exists():
                path.write_text(value)

    def close(self) -> None:
        for parent in self.parents:
            for child in parent.glob("run-*"):
                Group((child,), self.v2).remove(wait=1.0)
            try:
                parent.rmdir()
            except OSError:
                pass


def detect(mountinfo_path: str = "/proc/self/mountinfo", cgroup_path: str = "/proc/self/cgroup") -> tuple[Cgroups | None, str]:
    """``(Cgroups, "")`` where this process may create groups with the memory, pids and cpu
    controllers under its own, else ``(None, why not)``."""
    try:
        mounts = _mounts(Path(mountinfo_path).read_text())
        own = _own_paths(Path(cgroup_path).read_text())
    except OSError as error:
        return None, f"cannot read the cgroup mounts ({error})"
    name = f"bdl-tf-grade-{os.getpid()}-{secrets.token_hex(4)}"
    reasons = []
    for point, fstype, options in mounts:
        if fstype == "cgroup2" and "" in own:
            made, why = _make_v2(Path(point), own[""], name)
            if made:
                return made, ""
            reasons.append(why)
    v1 = {}
    for point, fstype, options in mounts:
        for controller in CONTROLLERS:
            if fstype == "cgroup" and controller in options and controller in own:
                v1.setdefault(controller, Path(point) / own[controller].lstrip("/"))
    if "memory" not in v1 or "pids" not in v1:
        reasons.append("no cgroup v1 memory and pids hierarchies")
        return None, "; ".join(reasons)
    parents = []
    try:
        for base in dict.fromkeys(v1.values()):
            parent = base / name
            parent.mkdir(mode=0o755)
            parents.append(parent)
    except OSError as error:
        for parent in parents:
            parent.rmdir()
        return None, "; ".join(reasons + [f"cannot create a cgroup v1 group ({error.strerror})"])
    return Cgroups(tuple(parents), v2=False), ""


def _make_v2(mount: Path, own: str, name: str) -> tuple[Cgroups | None, str]:
    here = mount / own.lstrip("/")
    try:
        available = set((here / "cgroup.controllers").read_text().split())
    except OSError as error:
        return None, f"cgroup v2: {error.strerror}"
    missing = [c for c in CONTROLLERS if c not in available]
    if missing:
        return None, f"cgroup v2 does not delegate {', '.join(missing)} to this process"
    try:
        enabled = set((here / "cgroup.subtree_control").read_text().split())
        if not set(CONTROLLERS) <= enabled:
            (here / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
        parent = here / name
        parent.mkdir(mode=0o755)
        try:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
        except OSError:
            parent.rmdir()
            raise
    except OSError as error:
        return None, f"cgroup v2: cannot enable {', '.join(CONTROLLERS)} below {here} ({error.strerror})"
    return Cgroups((parent,), v2=True), ""
