"""The course runner on tiny notebooks written here: statuses, the table, exit codes, build outputs."""
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.__main__ import main
from course.runner import output_paths, run_notebook


def _write(path, *sources):
    cells = [new_markdown_cell("# tiny")] + [new_code_cell(source) for source in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    (folder / "data.txt").write_text("42")
    good = _write(
        folder / "good.ipynb",
        "import os, sys\nprint('quick', os.environ.get('BDL_TF_QUICK'))",
        f"print('same exe', sys.executable == {sys.executable!r})\nprint('data', open('data.txt').read())",  # cwd = notebook's folder
    )
    bad = _write(folder / "bad.ipynb", "x = 1", "raise ValueError('boom')", "print('never')")
    return good, bad


def _outputs(path):
    nb = nbformat.read(path, as_version=4)
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def test_run_reports_the_failing_cell_and_exits_non_zero(notebooks, tmp_path, capsys):
    good, bad = notebooks
    build = tmp_path / "build"
    code = main(["run", "--quick", "--build-dir", str(build), str(good), str(bad)])
    out = capsys.readouterr().out
    assert code == 1
    table = out[out.index("notebook  "):].splitlines()
    good_row = next(line for line in table if "good.ipynb" in line)
    bad_row = next(line for line in table if "bad.ipynb" in line)
    assert good_row.split()[1] == "passed"
    assert float(good_row.split()[2]) > 0
    assert bad_row.split()[1] == "failed"
    assert "cell 3: ValueError: boom" in bad_row  # markdown cell 1, code cells 2 and 3
    assert "2 notebook(s): 1 passed, 1 not passed" in out

    for notebook in (good, bad):
        executed, html = output_paths(notebook, build)
        assert executed.is_file() and html.is_file() and executed.with_suffix(".kernel.log").is_file()
        assert executed.parent == build / "nbs"
    text = _outputs(output_paths(good, build)[0])
    assert "quick 1" in text
    assert "same exe True" in text
    assert "data 42" in text
    bad_text = _outputs(output_paths(bad, build)[0])
    assert "never" not in bad_text  # execution stops at the failing cell
    assert "boom" in output_paths(bad, build)[1].read_text()


def test_all_passing_exits_zero_and_without_quick_the_environment_is_inherited(notebooks, tmp_path, capsys, monkeypatch):
    good, _ = notebooks
    monkeypatch.delenv("BDL_TF_QUICK", raising=False)
    assert main(["run", "--build-dir", str(tmp_path / "b"), str(good)]) == 0
    assert "1 notebook(s): 1 passed, 0 not passed" in capsys.readouterr().out
    assert "quick None" in _outputs(output_paths(good, tmp_path / "b")[0])


def test_a_hanging_cell_times_out_and_a_missing_notebook_is_reported(tmp_path):
    slow = _write(tmp_path / "slow.ipynb", "import time\ntime.sleep(30)")
    result = run_notebook(slow, tmp_path / "build", timeout=2)
    assert result.status == "failed" and result.failed_cell == 2
    assert "CellTimeoutError" in result.error and result.seconds < 25
    missing = run_notebook(tmp_path / "nope.ipynb", tmp_path / "build")
    assert missing.status == "missing" and not missing.passed


def test_runner_sets_the_variable_bdl_tf_reads():
    from bdl_tf._config import QUICK_ENV_VAR
    from course import runner

    assert runner.QUICK_ENV_VAR == QUICK_ENV_VAR


def test_bad_command_line_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--timeout", "0"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main([])


@pytest.mark.parametrize("source, shown", [
    ("import sys\nprint('WARNING: All log messages before absl::InitializeLog() is called', file=sys.stderr)", "absl"),
    ("print('E0000 00:00:1796194818.296827    3187 cuda_platform.cc:52] failed call to cuInit')", "cuInit"),
    ("print('no network: <urlopen error [Errno -2] Name or service not known>')", "urlopen"),
    ("import os\nprint('cache in', os.path.expanduser('~/.cache/bdl_tf'))", "cache in"),
    ("import warnings\nwarnings.warn('careful')", "careful"),  # a warning shows the file's path
])
def test_start_up_chatter_network_errors_and_machine_paths_fail_the_notebook(tmp_path, source, shown):
    noisy = _write(tmp_path / "noisy.ipynb", "x = 1", source)
    result = run_notebook(noisy, tmp_path / "build", quick=True)
    assert result.status == "failed" and result.failed_cell == 3, result
    assert "must not see" in result.error and shown in result.error


def test_course_start_silences_tensorflow_and_says_device_and_mode(tmp_path):
    lecture_start = _write(tmp_path / "start.ipynb", "from course.notebook import start\n\nstart()",
                           "import tensorflow as tf\nprint(float(tf.reduce_sum(tf.ones(3))))")
    result = run_notebook(lecture_start, tmp_path / "build", quick=True, timeout=120)
    assert result.passed, result.error
    text = _outputs(result.executed)
    assert "TensorFlow 2." in text and "CPU only" in text and "quick mode (BDL_TF_QUICK=1)" in text
    assert "%env BDL_TF_QUICK=0" in text and "3.0" in text
