"""No submission can stop, stretch or skew the grading of a class.

One batch through ``python -m course grade --jobs 2``: submissions whose JSON, metadata, messages,
time, disk, memory, processes or CPU use are hostile, beside an honest and a blank one. The batch
must always write its complete table (exit code 0), the honest and blank submissions must get
exactly the rows they get when graded alone, every attack costs at most its own question (or its
own notebook when the file itself is unusable), no file or process is left, and the host's disk
does not grow by what the sandboxes wrote. The classic attacks (the key, the network, escaping,
killing the grader) are in ``test_grading_hostile.py``; this file reuses its notebooks.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
from test_grading_hostile import (
    EXERCISE,
    FORMULA_QUESTIONS,
    _attack_answer,
    _blank,
    _cell,
    _sandbox_processes,
    _solution,
)

from course.checks import EXERCISES
from course.grading.report import read_csv
from course.grading.sandbox import Limits, Sandbox
from course.syllabus import REPO_ROOT

TIMEOUT, CASE_TIMEOUT, MEMORY_GIB = 10, 3, 3
NLL, MI = "uncertainty.gaussian_nll", "uncertainty.mutual_information"
SPLIT = "uncertainty.regression_split"

# the plan's step tokens, and a function that writes bytes to every pipe the process holds (the result
# channel among them), as a cell that forges reports would
_TOKENS = """
import json, os, stat
plan = json.load(open("/grading/in/plan.json"))
def to_pipes(data):
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass
"""


def _attacks():
    """student -> (attacked question or None, answer-cell source or None, extra cells, notebook metadata)."""
    return {
        # metadata of every type where the grader reads a dict
        "meta_types": (None, None, [], {"bdl_tf": ["not", "a", "dict"]}),
        "cell_meta_string": (NLL, "CELL_METADATA", [], {}),
        # a message the CSV writer cannot encode, control characters, a spreadsheet formula, 20 KB
        "surrogate": (NLL, _attack_answer(NLL, "raise ValueError('\\ud800 =cmd|\\x1b[31m' + 'x' * 20000)"), [], {}),
        # a folder chain 3000 deep and 20,000 files where it can write, then the real answer
        "deep_tree": (NLL, _attack_answer(NLL, """
import os
for top in ("/tmp", "/grading/out", "/grading"):
    try:
        fd = os.open(top, os.O_RDONLY)
        for _ in range(3000):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        os.symlink("/etc/passwd", "link", dir_fd=fd)
        os.close(fd)
        for i in range(20000):
            open(f"{top}/f{i}", "w").close()
    except OSError:
        pass
return False
"""), [], {}),
        # 2 GiB wherever it can write: the host's disk must not see it
        "disk_filler": (NLL, _attack_answer(NLL, """
import os
written = 0
block = b"x" * (1 << 20)
for top in ("/tmp", "/grading/out", "/grading", "/var/tmp", "/dev/shm"):
    try:
        with open(f"{top}/fill", "wb") as handle:
            for _ in range(2048):
                handle.write(block)
                written += len(block)
    except OSError:
        pass
return written >= 2 * 2**30
"""), [], {}),
        # three processes of 1.2 GiB each, started when the answer cell loads: under --memory 3 the sandbox
        # as a whole must not get 3.6 GiB (each process alone is far below the per-process limit)
        "memory_split": (NLL, _attack_answer(NLL, "return _ALL_ALLOCATED", prelude="""
import subprocess, sys
_code = "import numpy as np, time; a = np.ones(12 * 2**30 // 80); print(a.sum(), flush=True); time.sleep(2)"
_children = [subprocess.Popen([sys.executable, "-c", _code], stdout=subprocess.PIPE) for _ in range(3)]
_ALL_ALLOCATED = all(child.wait() == 0 and child.stdout.read().strip() for child in _children)
"""), [], {}),
        # 40 spinning processes beside the honest neighbour (ab_ runs beside aa_honest)
        "ab_spinners": (None, None, ["import subprocess, sys, time\n"
                                     "for _ in range(40):\n"
                                     "    subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
                                     "time.sleep(60)"], {}),
        # a cell that reports its own end and the next cells' starts, then spins: the clock is the grader's
        # (the grader's clock then blames the cell after it, which is the answer cell of gaussian_nll)
        "clock_forger": (NLL, None, [_TOKENS + """
import time
to_pipes(b"".join(b"end %s 15\\n{\\"error\\": null}start %s 0\\n" % (c["token"].encode(), c["token"].encode())
                  for c in plan["cells"]))
started = time.time()
while time.time() - started < 120:
    pass
"""], {}),
        # the answer cell raises in the notebook run; a later cell forges its record as fine
        "record_forger": (SPLIT, "def regression_uncertainty(*args):\n    return None\n\nraise RuntimeError('this answer cell fails')",
                          [], {}),
        # answers read what an earlier answer of the same submission left (builtins, a module, /tmp)
        "state_reader": (MI, _attack_answer(MI, """
import builtins, os, numpy
return getattr(builtins, "_stash", False) or getattr(numpy, "_stash", False) or os.path.exists("/tmp/stash")
"""), [], {}),
    }


def _record_forgery():
    """A later cell that sends an 'ok' record for every cell of the plan."""
    return _TOKENS + """
for cell in plan["cells"]:
    to_pipes(b"end %s 15\\n{\\"error\\": null}" % cell["token"].encode())
"""


def _unusable_files(folder):
    """Files that are no usable notebook: each costs only its own submission."""
    solution = json.loads(nbformat.writes(_solution()))
    cases = {
        "not_json": b"{not json",
        "huge": b'{"cells": [], "x": "' + b"y" * (33 * 1024**2) + b'"}',
        "deep_json": b"[" * 100_000 + b"]" * 100_000,
        "source_int": None,
        "cells_dict": None,
    }
    bad_source = json.loads(json.dumps(solution))
    bad_source["cells"][3]["source"] = 12345
    bad_cells = json.loads(json.dumps(solution))
    bad_cells["cells"] = {"a": 1}
    cases["source_int"] = json.dumps(bad_source).encode()
    cases["cells_dict"] = json.dumps(bad_cells).encode()
    for student, data in cases.items():
        (folder / student).mkdir()
        (folder / student / f"{EXERCISE}.ipynb").write_bytes(data)
    fifo = folder / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / f"{EXERCISE}.ipynb")
    return sorted([*cases, "fifo"])


def _write_attack(folder, student, grade_id, source, extra_cells, metadata):
    notebook = _solution()
    notebook.metadata.update(metadata)
    if source == "CELL_METADATA":
        _cell(notebook, grade_id).metadata["bdl_tf"] = "string metadata"
    elif source is not None:
        _cell(notebook, grade_id).source = source
    setup = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("bdl_tf", {}).get("setup"))
    for offset, cell in enumerate(extra_cells, start=1):
        notebook.cells.insert(setup + offset, nbformat.v4.new_code_cell(cell))
    if student == "record_forger":
        notebook.cells.append(nbformat.v4.new_code_cell(_record_forgery()))
    if student == "state_reader":  # the answer before it leaves state behind (and keeps its own marks)
        _cell(notebook, NLL).source += "\n\nimport builtins as _b, numpy as _n\n_b._stash = _n._stash = True\nopen('/tmp/stash', 'w').close()\n"
    (folder / student).mkdir()
    nbformat.write(notebook, folder / student / f"{EXERCISE}.ipynb")


def _grade(folder, out, jobs):
    command = [sys.executable, "-m", "course", "grade", str(folder), "--out", str(out), "--jobs", str(jobs),
               "--timeout", str(TIMEOUT), "--case-timeout", str(CASE_TIMEOUT), "--memory", str(MEMORY_GIB)]
    env = {**os.environ, "BDL_TF_QUICK": "1"}
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False, timeout=900)
    return done, time.monotonic() - started


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    alone, folder = base / "alone", base / "batch"
    for target in (alone, folder):
        for student, notebook in (("aa_honest", _solution()), ("blank", _blank())):
            (target / student).mkdir(parents=True)
            nbformat.write(notebook, target / student / f"{EXERCISE}.ipynb")
    attacks = _attacks()
    for student, attack in attacks.items():
        _write_attack(folder, student, *attack)
    unusable = _unusable_files(folder)
    alone_run, _ = _grade(alone, base / "alone.csv", 1)
    assert alone_run.returncode == 0, alone_run.stderr[-3000:]
    disk_before = shutil.disk_usage(base).used
    temp_before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    done, seconds = _grade(folder, base / "batch.csv", 2)
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    return {
        "done": done, "seconds": seconds, "attacks": attacks, "unusable": unusable,
        "rows": {(r.student, r.question): r for r in read_csv(base / "batch.csv")} if done.returncode == 0 else {},
        "alone": {(r.student, r.question): r for r in read_csv(base / "alone.csv")},
        "disk_growth": shutil.disk_usage(base).used - disk_before, "left": _sandbox_processes(),
        "temp_left": set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - temp_before,
    }


def test_the_batch_writes_its_complete_table(batch):
    assert batch["done"].returncode == 0, batch["done"].stderr[-3000:] + batch["done"].stdout[-3000:]
    students = {student for student, _ in batch["rows"]}
    assert students == {"aa_honest", "blank", *batch["attacks"], *batch["unusable"]}


def test_honest_and_blank_keep_exactly_their_marks(batch):
    for student in ("aa_honest", "blank"):
        for question in EXERCISES[EXERCISE]:
            key = (student, question.grade_id)
            assert batch["rows"][key] == batch["alone"][key], (batch["rows"][key], batch["alone"][key])
    assert all(batch["rows"][("aa_honest", q.grade_id)].points == batch["rows"][("aa_honest", q.grade_id)].max_points
               for q in FORMULA_QUESTIONS)


@pytest.mark.parametrize("student", [name for name in _attacks()])
def test_an_attack_costs_at_most_its_own_question(batch, student):
    grade_id = batch["attacks"][student][0]
    for question in FORMULA_QUESTIONS:
        row = batch["rows"][(student, question.grade_id)]
        if question.grade_id == grade_id:
            assert row.points == 0 and row.reason, row
        else:
            assert row.points == row.max_points > 0, row


@pytest.mark.parametrize("student", ["not_json", "huge", "deep_json", "source_int", "cells_dict", "fifo"])
def test_an_unusable_file_costs_its_own_notebook_only(batch, student):
    rows = [row for (name, _), row in batch["rows"].items() if name == student]
    assert rows and all(row.points == 0 and row.reason for row in rows), rows


def test_reasons_are_clean_and_say_what_happened(batch):
    rows = batch["rows"]
    surrogate = rows[("surrogate", NLL)].reason
    assert len(surrogate) <= 500 and "\\ud800" in surrogate and "\x1b" not in surrogate, surrogate
    assert rows[("record_forger", SPLIT)].reason.startswith("the answer cell raised RuntimeError"), rows[("record_forger", SPLIT)]
    assert rows[("cell_meta_string", NLL)].reason.startswith("answer cell missing"), rows[("cell_meta_string", NLL)]
    # a child refused its memory (wrong values), or the kernel killed the driver itself (crashed, out of memory)
    memory = rows[("memory_split", NLL)].reason
    assert any(word in memory for word in ("wrong values", "out of memory", "crashed")), memory


def test_nothing_is_left_and_the_disk_does_not_fill(batch):
    assert batch["left"] == [], batch["left"]
    assert not [name for name in batch["temp_left"] if name.startswith("bdl-tf-grade-")], batch["temp_left"]
    assert batch["disk_growth"] < 256 * 1024**2, batch["disk_growth"]  # the 2 GiB and 20,000 files stayed in tmpfs


def test_a_forged_clock_cannot_stretch_a_step(tmp_path):
    """A step that reports its own end and the next steps' starts, then spins, is stopped by the grader's
    clock: it runs on the following steps' clocks at most, never past the run's total."""
    plan = {"phase": "notebook", "cells": [
        {"token": "a1", "source": _TOKENS + """
to_pipes(b'end a1 15\\n{"error": null}start a2 0\\nend a2 15\\n{"error": null}start a3 0\\nstart a1 0\\n')
while True:
    pass
"""},
        {"token": "a2", "source": "x = 1"}, {"token": "a3", "source": "x = 2"}]}
    with Sandbox(tmp_path, limits=Limits(between=1.0)) as box:
        started = time.monotonic()
        run = box.run({"plan.json": json.dumps(plan).encode()}, {"a1": 2.0, "a2": 2.0, "a3": 2.0})
        seconds = time.monotonic() - started
    assert run.killed and seconds < 6 + 1 + 3, (run, seconds)  # its own 2 s, at most 2 + 2 s more, start-up
    assert run.record("a1") == {"error": None} and run.culprit is not None


def test_the_submissions_total_time_is_the_graders(tmp_path):
    plan = {"phase": "notebook", "cells": [{"token": f"c{i}", "source": "import time\ntime.sleep(1.5)"} for i in range(6)]}
    with Sandbox(tmp_path) as box:
        started = time.monotonic()
        run = box.run({"plan.json": json.dumps(plan).encode()}, {f"c{i}": 5.0 for i in range(6)},
                      deadline=time.monotonic() + 3.0)
        seconds = time.monotonic() - started
    assert run.killed and "total time limit" in run.why and seconds < 4.5, (run, seconds)


def test_the_whole_sandbox_has_one_memory_limit(tmp_path):
    """Three processes of 300 MiB each under a 512 MiB limit: with control groups the sandbox as a whole
    is refused; without them (a machine that does not delegate cgroups) the documented fallback."""
    code = ("import subprocess, sys\n"
            "c = 'import numpy as np, time; a = np.ones(300 * 2**20 // 8); time.sleep(2)'\n"
            "ps = [subprocess.Popen([sys.executable, '-c', c]) for _ in range(3)]\n"
            "codes = [p.wait() for p in ps]\n"
            "assert all(code == 0 for code in codes), codes")
    plan = {"phase": "notebook", "cells": [{"token": "m1", "source": code}]}
    with Sandbox(tmp_path, limits=Limits(memory_bytes=512 * 1024**2)) as box:
        if box.cgroups is None:
            pytest.skip(f"no control groups here: {box.cgroup_note}")
        run = box.run({"plan.json": json.dumps(plan).encode()}, {"m1": 60.0})
    failed = run.record("m1") is None or run.record("m1").get("error") is not None
    assert failed and (run.out_of_memory or "m1" not in run.ended), run
