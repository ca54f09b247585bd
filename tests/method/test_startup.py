"""A quiet start: importing course_utils first keeps TensorFlow's C++ start-up lines off
stderr, while real warnings and errors still get there.  Each case runs in a fresh
interpreter without TF_CPP_MIN_LOG_LEVEL, as a student's would."""
import os
import subprocess
import sys
import textwrap

import pytest

ENV = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "COURSE_PRESET")}


def python(code, timeout=300):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def test_tensorflow_imported_after_course_utils_starts_quietly():
    proc = python("""
        import course_utils
        import tensorflow as tf
        print(len(tf.config.list_physical_devices()))
        print(float(tf.function(lambda x: 2 * x)(tf.ones(3))[0]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1] == "2.0"               # it computes
    assert proc.stderr == ""


def test_importing_course_utils_alone_does_not_load_tensorflow():
    proc = python("import sys, course_utils.assets; print('tensorflow' in sys.modules)")
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "False", "")


def test_real_lines_pass_the_filter_and_chatter_does_not():
    proc = python("""
        import os, warnings
        from course_utils.startup import filtered_stderr
        with filtered_stderr():
            os.write(2, b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on.\\n")
            os.write(2, b"E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: x\\n")
            os.write(2, b"E0000 00:00:1.0 1 something.cc:1] a real problem\\n")
            warnings.warn("a real warning")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "a real problem" in proc.stderr and "a real warning" in proc.stderr
    assert "oneDNN" not in proc.stderr and "cuInit" not in proc.stderr


def test_a_bad_argument_is_still_its_one_line():
    proc = subprocess.run([sys.executable, "-m", "course_utils", "stylize", "--size", "big"],
                          env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "--size" in proc.stderr


def test_a_notebook_kernel_shows_no_start_up_lines(monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)      # the kernel inherits this
    import nbformat
    code = "import course_utils\nimport tensorflow as tf\ntf.config.list_physical_devices()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    assert [o for o in nb.cells[0].outputs if o.get("name") == "stderr"] == []


def test_every_notebook_imports_course_utils_before_tensorflow():
    import json
    from pathlib import Path
    for path in sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "code")
        assert "import tensorflow" in code and "from course_utils import" in code
        assert code.index("from course_utils import") < code.index("import tensorflow"), path.name


def test_a_python_without_a_tensorflow_wheel_is_one_line_at_import():
    from course_utils.startup import NEWEST_PYTHON, check_python
    newer = (NEWEST_PYTHON[0], NEWEST_PYTHON[1] + 1)
    with pytest.raises(ImportError) as err:
        check_python(newer, find_spec=lambda name: None)
    assert str(err.value) == (f"the course needs TensorFlow, which has no wheel for Python "
                              f"{newer[0]}.{newer[1]} yet: use Python 3.10 to 3.13 (as Colab and "
                              f"Kaggle do)")
    assert check_python(newer, find_spec=lambda name: object()) is None   # a TensorFlow after all
    assert check_python(NEWEST_PYTHON, find_spec=lambda name: None) is None


def run_command_from(folder, module_name):
    """`startup.run_command(module_name)` in a fresh interpreter, with `folder` on its path."""
    return python(f"""
        import sys
        sys.path.insert(0, {str(folder)!r})
        from course_utils.startup import run_command
        sys.exit(run_command({module_name!r}))
    """)


def test_ctrl_c_while_a_command_loads_is_one_line(tmp_path):
    # The command's module gets Ctrl-C (a real SIGINT) while it imports, as when a user presses
    # Ctrl-C during the seconds TensorFlow takes to load.
    (tmp_path / "loading_command.py").write_text(
        "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\ndef main():\n    return 0\n")
    proc = run_command_from(tmp_path, "loading_command")
    assert proc.returncode == 130
    assert proc.stderr == "interrupted before it finished; no file is left half-written\n"
    assert proc.stdout == ""


def test_a_command_that_loads_runs_its_main(tmp_path):
    (tmp_path / "loaded_command.py").write_text("def main():\n    print('ran')\n    return 3\n")
    proc = run_command_from(tmp_path, "loaded_command")
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "ran\n", "")
