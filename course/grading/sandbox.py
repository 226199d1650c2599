"""Run student code in a bubblewrap sandbox and watch it from outside.

Every run is a fresh ``bwrap`` process tree: its own mount, PID, network, IPC and UTS namespaces, a
read-only view of the system (``/usr``, the Python installation and its virtual environment), a
read-only copy of the public package (``bdl_tf`` and ``course`` without ``course/grading/hidden``),
the run's inputs read-only at ``/grading/in``, one writable folder ``/grading/out`` for the results,
and a private, size-limited ``/tmp`` as home and scratch. Nothing else of the machine is visible: not
the instructors' repository, not the grader's home, not other submissions.

Limits come from the grader, before any student code runs: address space, file size, open files and
core dumps as resource limits of the ``bwrap`` process (inherited by everything inside), the number
of processes with ``prlimit`` as the first command inside, and time by the grader itself, which reads
the driver's progress lines (``start TOKEN`` / ``end TOKEN``) and kills the whole sandbox when a step
runs past its limit. Killing ``bwrap`` ends the sandbox's PID namespace, so no process outlives it.
When the grader runs as root, the sandbox runs as an unprivileged uid of its own (``setpriv``), with
no capabilities and ``no_new_privs``, so the process limit applies and setuid programs give nothing.

:mod:`course.grading.inside` is the driver that runs in the sandbox; this module never imports or
runs student code, and reads what a sandbox wrote only as size-capped JSON and ``.npy`` files
without pickles.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course.syllabus import REPO_ROOT

INSTALL_HINT = (
    "the grader runs every submission in a bubblewrap sandbox, and bwrap is not available here{detail}. "
    "Install it (Debian/Ubuntu: 'sudo apt-get install bubblewrap'; Fedora: 'sudo dnf install bubblewrap'), "
    "or pass --no-sandbox to grade trusted submissions without isolation."
)
INSIDE_IN, INSIDE_OUT, INSIDE_PACKAGE = "/grading/in", "/grading/out", "/grading/package"
UID_BASE = 61000
"""Root grades with sandboxes running as uid UID_BASE + slot (one uid per parallel slot)."""
MAX_RECORD_BYTES = 64 * 1024
"""Largest JSON record of one step the grader reads."""
MAX_PROGRESS_BYTES = 4 * 1024 * 1024
"""A progress file larger than this is a submission flooding it: the sandbox is killed."""
POLL_SECONDS = 0.02
_LAUNCHER = (
    "import json, os, resource, sys\n"
    "for kind, value in json.loads(sys.argv[1]):\n"
    "    resource.setrlimit(kind, (value, value))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here, and --no-sandbox was not given."""


class GraderError(RuntimeError):
    """The grader itself failed (not a submission): a sandbox could not start its driver."""


@dataclass(frozen=True)
class Limits:
    """What one sandbox may use. ``idle`` is the time allowed between steps and before the first."""

    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    tmp_bytes: int = 256 * 1024**2
    open_files: int = 256
    max_values: int = 1_000_000
    idle: float = 60.0


@dataclass
class Run:
    """What the grader saw of one sandbox run: the steps started and ended (in order), the step that
    was running when it ended (``culprit``), whether the grader killed it for time, and its exit code."""

    out: Path
    started: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)
    culprit: str | None = None
    killed: bool = False
    returncode: int | None = None
    log: str = ""

    def record(self, token: str) -> dict | None:
        """The step's JSON record if it is a small JSON object, else None."""
        path = self.out / f"{token}.json"
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_RECORD_BYTES:
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            return None
        return data if isinstance(data, dict) else None

    def arrays(self, token: str, count: int, max_values: int) -> list[np.ndarray] | None:
        """The step's ``count`` float64 arrays (``TOKEN.0.npy`` ...), read without pickles, or None."""
        arrays = []
        for index in range(count):
            array = _read_npy(self.out / f"{token}.{index}.npy", max_values)
            if array is None:
                return None
            arrays.append(array)
        return arrays


def _read_npy(path: Path, max_values: int) -> np.ndarray | None:
    """A float64 ``.npy`` file of at most ``max_values`` values, else None. The header is checked
    before anything is allocated (a forged shape cannot make the grader reserve terabytes), and
    nothing is unpickled."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 8 * max_values + 65536:
            return None
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            size = 1
            for length in shape:
                size *= length
            if dtype != np.dtype("<f8") or size > max_values or path.stat().st_size - handle.tell() != 8 * size:
                return None
            values = np.fromfile(handle, dtype=dtype, count=size)
    except (OSError, ValueError, TypeError, SyntaxError, RecursionError, MemoryError):  # a forged header
        return None
    return values.reshape(shape, order="F" if fortran else "C")


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
    """Starts sandboxes for one grading run. ``isolated=False`` is ``--no-sandbox``: the same driver
    and limits, without isolation (trusted submissions only)."""

    def __init__(self, workdir: Path, *, limits: Limits | None = None, quick: bool = True, isolated: bool = True,
                 root: Path = REPO_ROOT):
        self.limits, self.quick, self.isolated = limits or Limits(), quick, isolated
        self.workdir = Path(workdir)
        self.workdir.chmod(0o755)
        self.as_root = os.geteuid() == 0
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
        self.package = stage_package(self.workdir / "package", root)
        self._runs = 0

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
            return [*driver, str(run_dir / "in"), str(run_dir / "out")], env
        env = self._environment(INSIDE_PACKAGE, "/tmp")
        # the private /tmp first: a Python or virtual environment that lives under /tmp is bound over it
        command = [self.bwrap, *self._namespaces(),
                   "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
                   *_system_mounts(), "--perms", "0755", "--dir", "/grading",
                   "--ro-bind", str(self.package), INSIDE_PACKAGE,
                   "--ro-bind", str(run_dir / "in"), INSIDE_IN,
                   "--bind", str(run_dir / "out"), INSIDE_OUT,
                   *self._devices(), "--chdir", "/tmp", "--clearenv"]
        for name, value in env.items():
            command += ["--setenv", name, value]
        command += ["--", "prlimit", f"--nproc={self.limits.processes}", "--"]
        if self.as_root:
            uid = str(UID_BASE + slot)
            command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                        "--inh-caps=-all", "--bounding-set=-all", "--"]
        return [*command, *driver, INSIDE_IN, INSIDE_OUT], None

    def _limited(self, command: list[str]) -> list[str]:
        """``command`` started by a small launcher that sets the resource limits, then execs it: bwrap
        and everything inside inherit them (no ``preexec_fn``, which is unsafe with threads)."""
        limits = self.limits
        values = [[resource.RLIMIT_AS, limits.memory_bytes], [resource.RLIMIT_FSIZE, limits.file_bytes],
                  [resource.RLIMIT_NOFILE, limits.open_files], [resource.RLIMIT_CORE, 0]]
        return [sys.executable, "-S", "-E", "-c", _LAUNCHER, json.dumps(values), *command]

    def run(self, inputs: dict[str, bytes], steps: dict[str, float], *, slot: int = 0) -> Run:
        """Run the driver on ``inputs`` (file name -> content, read-only inside) in a fresh sandbox.

        ``steps`` maps each step token the driver may report to its time limit in seconds; progress
        lines for other tokens, repeated lines and lines out of order are ignored."""
        self._runs += 1
        run_dir = Path(tempfile.mkdtemp(prefix=f"run-{self._runs}-", dir=self.workdir))
        run_dir.chmod(0o755)
        (run_dir / "in").mkdir(mode=0o755)
        for name, content in inputs.items():
            (run_dir / "in" / name).write_bytes(content)
        _open_up(run_dir / "in")
        out = run_dir / "out"
        out.mkdir(mode=0o700)
        progress = out / "progress"
        progress.touch()
        if self.isolated and self.as_root:
            for path in (out, progress):
                os.chown(path, UID_BASE + slot, UID_BASE + slot)
        command, env = self._command(run_dir, slot)
        result = Run(out)
        with open(run_dir / "sandbox.log", "wb") as log:
            process = subprocess.Popen(self._limited(command), stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, env=env, cwd=run_dir, start_new_session=True)
            self._watch(process, progress, steps, result)
        result.returncode = process.returncode
        result.log = (run_dir / "sandbox.log").read_bytes()[-4000:].decode("utf-8", "replace")
        return result

    def _watch(self, process, progress: Path, steps: dict[str, float], result: Run) -> None:
        position, pending, since = 0, b"", time.monotonic()
        current = None
        with open(progress, "rb") as handle:
            while True:
                finished = process.poll() is not None
                if os.fstat(handle.fileno()).st_size > MAX_PROGRESS_BYTES:  # the file itself, whatever the name
                    self._kill(process, result)
                    break
                handle.seek(position)
                chunk = handle.read()
                position += len(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    parts = line.decode("ascii", "replace").split()
                    if len(parts) != 2 or parts[1] not in steps:
                        continue
                    kind, token = parts
                    if kind == "start" and token not in result.started:
                        result.started.append(token)
                        current, since = token, time.monotonic()
                    elif kind == "end" and token == current:
                        result.ended.add(token)
                        current, since = None, time.monotonic()
                if finished:
                    break
                limit = steps[current] if current else self.limits.idle
                if time.monotonic() - since > limit:
                    self._kill(process, result)
                    break
                time.sleep(POLL_SECONDS)
        process.wait()
        unfinished = [token for token in result.started if token not in result.ended]
        result.culprit = current or (unfinished[-1] if unfinished else None)
        if result.culprit is None and result.killed and result.started:
            result.culprit = result.started[-1]  # idle after a step that claimed to end: it is still that step

    @staticmethod
    def _kill(process, result: Run) -> None:
        result.killed = True
        process.kill()  # bwrap's death ends the sandbox's PID namespace (--die-with-parent)
