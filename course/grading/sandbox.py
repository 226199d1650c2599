"""Run student code in a bubblewrap sandbox and watch it from outside.

Every run is a fresh ``bwrap`` process tree: its own mount, PID, network, IPC and UTS namespaces, a
read-only view of the system (``/usr``, the Python installation and its virtual environment), a
read-only copy of the public package (``bdl_tf`` and ``course`` without ``course/grading/hidden``),
the run's inputs read-only at ``/grading/in``, and a private, size-limited ``/tmp`` as home and
scratch: the only place it can write. Nothing else of the machine is visible: not the instructors'
repository, not the grader's home, not other submissions, and no folder of the host is writable.

Results come back on a pipe (:mod:`course.grading.channel`), never through the host's disk, and the
sandbox's own output (prints, errors) on a second pipe of which the grader keeps the last lines.

Limits come from the grader and the kernel, before any student code runs: a control group per run
bounds the whole sandbox's memory and processes and gives it an equal CPU share
(:mod:`course.grading.cgroups`, where the machine allows it); address space, file size, open files
and core dumps are resource limits of the ``bwrap`` process (inherited by everything inside); the
process count also by ``prlimit`` as the first command inside; and time by the grader's own clock.
The grader knows the order of the steps of the plan it wrote: a step's clock starts when the
driver reports that step's start, a report for any other token is ignored, and the time between
steps is short, so nothing the sandbox writes can extend a limit or reset a clock that is running
(see :meth:`Sandbox.run`). Killing ``bwrap`` ends the sandbox's PID namespace, so no process outlives
it, and the run's control group is emptied and removed after it.
When the grader runs as root, the sandbox runs as an unprivileged uid of its own, leased for this
grading run and unique across graders on the machine (:mod:`course.grading.uids`), with no
capabilities and ``no_new_privs``, so the process limit applies and setuid programs give nothing.

:mod:`course.grading.inside` is the driver that runs in the sandbox; this module never imports or
runs student code, and reads what a sandbox sent only as size-capped JSON and ``.npy`` data
without pickles.
"""
from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course.grading import cgroups
from course.grading.channel import Flood, Reader, parse_array, parse_record
from course.grading.cleanup import remove_tree
from course.grading.uids import UidLease
from course.syllabus import REPO_ROOT

INSTALL_HINT = (
    "the grader runs every submission in a bubblewrap sandbox, and bwrap is not available here{detail}. "
    "Install it (Debian/Ubuntu: 'sudo apt-get install bubblewrap'; Fedora: 'sudo dnf install bubblewrap'), "
    "or pass --no-sandbox to grade trusted submissions without isolation."
)
INSIDE_IN, INSIDE_PACKAGE = "/grading/in", "/grading/package"
MAX_PARTS = 16
"""A step returns at most this many arrays (a model question's probe returns a few)."""
LOG_BYTES = 4000
"""How much of a sandbox's own output (the end of it) the grader keeps, for its error messages."""
POLL_SECONDS = 0.5
OUT_OF_TIME = "the submission's total time limit was reached"
_LAUNCHER = (
    "import json, os, resource, sys\n"
    "limits, groups = json.loads(sys.argv[1])\n"
    "for path in groups:\n"
    "    with open(path, 'w') as handle:\n"
    "        handle.write(str(os.getpid()))\n"
    "for kind, value in limits:\n"
    "    resource.setrlimit(kind, (value, value))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here, and --no-sandbox was not given."""


class GraderError(RuntimeError):
    """The grader itself failed (not a submission): a sandbox could not start its driver."""


@dataclass(frozen=True)
class Limits:
    """What one sandbox run may use.

    ``memory_bytes`` bounds the whole sandbox where control groups are available (and each process's
    address space in any case); ``idle`` is the time allowed before the first step (start-up),
    ``between`` the time between two steps (nothing runs there but the driver)."""

    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    tmp_bytes: int = 256 * 1024**2
    open_files: int = 256
    max_values: int = 1_000_000
    idle: float = 60.0
    between: float = 10.0
    cgroups: bool = True


@dataclass
class Run:
    """What the grader saw of one sandbox run: the steps started and ended (in plan order), each
    ended step's record and arrays as they arrived (the first report of a step counts, once), the
    step that was running when it ended (``culprit``), why the grader killed it, and its exit code."""

    started: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)
    records: dict[str, dict | None] = field(default_factory=dict)
    parts: dict[str, list] = field(default_factory=dict)
    culprit: str | None = None
    killed: bool = False
    why: str = ""
    out_of_memory: bool = False
    returncode: int | None = None
    log: str = ""

    def record(self, token: str) -> dict | None:
        """The step's JSON record if it was a small JSON object, else None."""
        return self.records.get(token)

    def arrays(self, token: str, count: int) -> list[np.ndarray] | None:
        """The step's ``count`` float64 arrays, or None if it sent another number or a malformed one."""
        parts = self.parts.get(token, [])
        if len(parts) != count or any(part is None for part in parts):
            return None
        return list(parts)

    def ended_by(self) -> str:
        """Why the sandbox ended, as a phrase for grade reasons (after "the ... ")."""
        if self.killed:
            return self.why or "was stopped"
        memory = " (out of memory: the sandbox's limit was reached)" if self.out_of_memory else ""
        if self.returncode == 0:  # the driver finished, but not what the grader saw start (a forged report)
            return "ended its sandbox before its result came back (exit code 0)"
        return f"crashed its sandbox (exit code {self.returncode}){memory}"


def _probe(command: list[str]) -> str | None:
    """None if ``command`` (a bwrap call running ``true``) works, else what went wrong."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit code {done.returncode}")


def _system_mounts() -> list[str]:
    """Read-only binds of the system and of this Python (its installation and virtual environment)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "ld.so.conf", "localtime"):
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    made = set()
    for prefix in sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}):
        if not prefix.startswith("/usr/") and prefix != "/usr":
            for parent in reversed(Path(prefix).parents[:-1]):  # traversable by the sandbox's uid
                if str(parent) not in made:
                    made.add(str(parent))
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", prefix, prefix]
    return args


def gpu_devices(dev: Path = Path("/dev")) -> list[str]:
    """The NVIDIA device nodes under ``dev`` (``nvidia0``, ``nvidiactl``, ``nvidia-uvm``...), sorted."""
    return sorted(str(path) for path in dev.glob("nvidia*") if not path.is_dir())


def stage_package(destination: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the public package (``bdl_tf``, ``course`` without ``course/grading/hidden``) to ``destination``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    hidden = (Path(root) / "course" / "grading" / "hidden").resolve()

    def skip(folder, names):
        return set(ignore(folder, names)) | ({"hidden"} if Path(folder).resolve() == hidden.parent else set())

    for package in ("bdl_tf", "course"):
        shutil.copytree(Path(root) / package, destination / package, ignore=skip)
    if (destination / "course" / "grading" / "hidden").exists():
        raise GraderError("the answer key was copied into the sandbox's package")
    _open_up(destination)
    return destination


def _open_up(folder: Path) -> None:
    """World-readable (the sandbox's uid is not the grader's)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


class Sandbox:
    """Starts sandboxes for one grading run, ``slots`` at a time. ``isolated=False`` is
    ``--no-sandbox``: the same driver and limits, without isolation (trusted submissions only).
    Use it as a context manager (or call :meth:`close`): it holds uids, control groups and a folder."""

    def __init__(self, workdir: Path, *, limits: Limits | None = None, quick: bool = True, isolated: bool = True,
                 root: Path = REPO_ROOT, slots: int = 1):
        self.limits, self.quick, self.isolated = limits or Limits(), quick, isolated
        self.workdir = Path(workdir)
        self.workdir.chmod(0o755)
        self.as_root = os.geteuid() == 0
        self.uids: list[int] = []
        self._lease: UidLease | None = None
        self.cgroups: cgroups.Cgroups | None = None
        self.cgroup_note = "control groups not used" if not (isolated and self.limits.cgroups) else ""
        if isolated:
            self.bwrap = shutil.which("bwrap")
            if self.bwrap is None:
                raise SandboxUnavailable(INSTALL_HINT.format(detail=" (no 'bwrap' on PATH)"))
            for tool in ("prlimit",) + (("setpriv",) if self.as_root else ()):
                if shutil.which(tool) is None:
                    raise SandboxUnavailable(INSTALL_HINT.format(detail=f" (no '{tool}' on PATH: install util-linux)"))
            problem = _probe([self.bwrap, *self._namespaces(), *_system_mounts(), "true"])
            if problem:
                raise SandboxUnavailable(INSTALL_HINT.format(detail=f" (bwrap fails: {problem})"))
            if self.as_root:
                self._lease = UidLease(slots)
                self.uids = self._lease.uids
            if self.limits.cgroups:
                self.cgroups, self.cgroup_note = cgroups.detect()
        self.package = stage_package(self.workdir / "package", root)
        self._runs = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Give back the uids and remove the control groups."""
        if self.cgroups is not None:
            self.cgroups.close()
            self.cgroups = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    def _devices(self) -> list[str]:
        """``--dev-bind`` arguments for the GPU device nodes (``/dev/nvidia*``) of this machine, and
        nothing else of its /dev: model questions train on the GPU when there is one."""
        args = []
        for device in gpu_devices():
            args += ["--dev-bind", device, device]
        return args

    def _namespaces(self) -> list[str]:
        # as root no user namespace: the sandbox's uid must be a real one for the process limit to count
        user = [] if self.as_root else ["--unshare-user"]
        return [*user, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev"]

    def _environment(self, package: str, home: str) -> dict:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "USER": "student", "LANG": "C.UTF-8",
            "PYTHONPATH": package, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "TMPDIR": home, "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib", "IPYTHONDIR": f"{home}/.ipython",
            "KERAS_HOME": f"{home}/.keras",
            "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        if self.quick:
            env["BDL_TF_QUICK"] = "1"
        return env

    def _command(self, run_dir: Path, slot: int) -> tuple[list[str], dict | None]:
        driver = [sys.executable, "-m", "course.grading.inside"]
        if not self.isolated:
            scratch = run_dir / "tmp"
            scratch.mkdir()
            env = self._environment(str(self.package), str(scratch))
            return [*driver, str(run_dir / "in")], env
        env = self._environment(INSIDE_PACKAGE, "/tmp")
        # the private /tmp first: a Python or virtual environment that lives under /tmp is bound over it
        command = [self.bwrap, *self._namespaces(),
                   "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
                   *_system_mounts(), "--perms", "0755", "--dir", "/grading",
                   "--ro-bind", str(self.package), INSIDE_PACKAGE,
                   "--ro-bind", str(run_dir / "in"), INSIDE_IN,
                   *self._devices(), "--chdir", "/tmp", "--clearenv"]
        for name, value in env.items():
            command += ["--setenv", name, value]
        command += ["--", "prlimit", f"--nproc={self.limits.processes}", "--"]
        if self.as_root:
            uid = str(self.uids[slot])
            command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                        "--inh-caps=-all", "--bounding-set=-all", "--"]
        return [*command, *driver, INSIDE_IN], None

    def _launcher(self, command: list[str], groups: list[str]) -> list[str]:
        """``command`` started by a small launcher that joins the run's control groups and sets the
        resource limits, then execs it: bwrap and everything inside inherit both (no ``preexec_fn``,
        which is unsafe with threads)."""
        limits = self.limits
        values = [[resource.RLIMIT_AS, limits.memory_bytes], [resource.RLIMIT_FSIZE, limits.file_bytes],
                  [resource.RLIMIT_NOFILE, limits.open_files], [resource.RLIMIT_CORE, 0]]
        return [sys.executable, "-S", "-E", "-c", _LAUNCHER, json.dumps([values, groups]), *command]

    def run(self, inputs: dict[str, bytes], steps: dict[str, float], *, slot: int = 0,
            deadline: float | None = None) -> Run:
        """Run the driver on ``inputs`` (file name -> content, read-only inside) in a fresh sandbox.

        ``steps`` maps each step token of the plan, in the plan's order, to its time limit in seconds.
        The grader's clock decides: a step may run for its limit from the moment the driver reports
        its start; only the start of the next step of the plan and the end of the running one count
        (reports for other tokens, repeated or out of order, are ignored); before the first step the
        driver has ``Limits.idle`` seconds, between steps ``Limits.between``. A step that reports its
        end early and goes on running does so on the next step's clock, never past the run's total,
        and the whole run stops at ``deadline`` (a ``time.monotonic()`` value: the submission's own
        time limit), whatever it reports."""
        self._runs += 1
        run_dir = Path(tempfile.mkdtemp(prefix=f"run-{self._runs}-", dir=self.workdir))
        run_dir.chmod(0o755)
        (run_dir / "in").mkdir(mode=0o755)
        for name, content in inputs.items():
            (run_dir / "in" / name).write_bytes(content)
        _open_up(run_dir / "in")
        command, env = self._command(run_dir, slot)
        group = None
        if self.cgroups is not None:
            group = self.cgroups.create(memory_bytes=self.limits.memory_bytes, processes=self.limits.processes)
        result = Run()
        try:
            process = subprocess.Popen(self._launcher(command, group.procs_files if group else []),
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env=env, cwd=run_dir, start_new_session=True)
            with process:
                self._watch(process, steps, result, deadline)
            result.returncode = process.returncode
        finally:
            if group is not None:
                result.out_of_memory = group.out_of_memory()
                group.remove()
            remove_tree(run_dir)
        return result

    def _watch(self, process, steps: dict[str, float], result: Run, deadline: float | None) -> None:
        order = list(steps)
        max_values = self.limits.max_values
        reader = Reader(max_array_bytes=8 * max_values + 4096)
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ, "channel")
        selector.register(process.stderr, selectors.EVENT_READ, "log")
        log = bytearray()
        position, running, since = 0, False, time.monotonic()
        values = 0  # values received for the running step
        try:
            while True:
                now = time.monotonic()
                limit = steps[order[position]] if running else self.limits.idle if position == 0 else self.limits.between
                remaining = since + limit - now
                if deadline is not None and deadline - now < remaining:
                    if deadline <= now:
                        self._kill(process, result, f"was stopped: {OUT_OF_TIME}")
                        break
                    remaining = deadline - now
                if remaining <= 0:
                    what = f"did not finish within {limit:g} s" if running else f"did not go on to its next step within {limit:g} s"
                    self._kill(process, result, what)
                    break
                exited = process.poll() is not None
                events = selector.select(timeout=0 if exited else min(remaining, POLL_SECONDS)) if selector.get_map() else []
                if not events and not selector.get_map() and not exited:
                    time.sleep(min(remaining, POLL_SECONDS))  # both pipes closed: only the clock is left
                for key, _ in events:
                    data = os.read(key.fileobj.fileno(), 1 << 16)
                    if not data:
                        selector.unregister(key.fileobj)
                    elif key.data == "log":
                        log += data
                        del log[:-LOG_BYTES]
                    else:
                        for kind, token, payload in reader.feed(data):
                            current = order[position] if position < len(order) else None
                            if kind == "start" and not running and token == current:
                                result.started.append(token)
                                running, since, values = True, time.monotonic(), 0
                            elif kind == "array" and running and token == current:
                                parts = result.parts.setdefault(token, [])
                                array = parse_array(payload, max_values - values) if len(parts) < MAX_PARTS else None
                                values += 0 if array is None else array.size
                                parts.append(array)
                            elif kind == "end" and running and token == current:
                                result.records[token] = parse_record(payload)
                                result.ended.add(token)
                                running, since, position = False, time.monotonic(), position + 1
                if exited and not events:
                    break
        except Flood as flood:
            self._kill(process, result, f"was stopped: it flooded the grader ({flood})")
        finally:
            selector.close()
        process.wait()
        result.log = log.decode("utf-8", "replace")
        unfinished = [token for token in result.started if token not in result.ended]
        result.culprit = unfinished[-1] if unfinished else None
        if result.culprit is None and result.killed and result.started:
            result.culprit = result.started[-1]  # idle after a step that claimed to end: it is still that step

    @staticmethod
    def _kill(process, result: Run, why: str) -> None:
        result.killed, result.why = True, why
        process.kill()  # bwrap's death ends the sandbox's PID namespace (--die-with-parent)
