"""The package as an installed copy uses it: from a directory with no checkout, by its commands.

Under `make test` the package is installed editable; `make test-compat` runs this module
again against a wheel installed into each leg's environment (NST_INSTALLED_FROM_WHEEL=1),
where it also checks that nothing is imported from the checkout.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FROM_WHEEL = os.environ.get("NST_INSTALLED_FROM_WHEEL") == "1"


def run(args, cwd, timeout=300):
    """A command in a clean environment: no PYTHONPATH, no preset or log level from the caller."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "COURSE_PRESET", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_package_and_its_manifest_come_from_the_install(tmp_path):
    code = ("import json, course_utils, course_utils.assets as a; "
            "print(json.dumps([course_utils.__file__, sorted(a.manifest())]))")
    proc = run([sys.executable, "-c", code], tmp_path)
    assert proc.returncode == 0, proc.stderr
    where, names = json.loads(proc.stdout)
    assert {"tubingen", "starry_night", "vgg19_weights"} <= set(names)
    if FROM_WHEEL:
        assert Path(where).parent != ROOT / "course_utils", f"imported from the checkout: {where}"
        assert "site-packages" in Path(where).parts


def test_fetch_then_stylize_from_a_directory_without_the_course(tmp_path):
    fetch = run([sys.executable, "-m", "course_utils", "fetch"], tmp_path)
    assert fetch.returncode == 0, fetch.stderr
    assert "vgg19_weights" in fetch.stdout
    stylize = run([BIN / "nst-course", "stylize", "tubingen", "starry_night", "--preset", "ci",
                   "-o", "x.png"], tmp_path)
    assert stylize.returncode == 0, stylize.stderr
    assert stylize.stderr == ""              # a good run: no TensorFlow start-up lines, no bar
    assert Image.open(tmp_path / "x.png").format == "PNG"
    assert "wrote x.png" in stylize.stdout


def test_the_widgets_module_imports(tmp_path):
    proc = run([sys.executable, "-c", "import course_utils.widgets as w; print(w.StylePanel.__name__)"],
               tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "StylePanel"


def test_the_assignments_commands_on_a_copy_of_a_notebook(tmp_path):
    shutil.copy(ROOT / "notebooks" / "03_gram_matrix_and_style_loss.ipynb", tmp_path)
    module = [sys.executable, "-m", "course_utils.assignments"]
    student = run(module + ["student", "out", "03_gram_matrix_and_style_loss.ipynb"], tmp_path)
    assert student.returncode == 0, student.stderr
    text = (tmp_path / "out" / "03_gram_matrix_and_style_loss.ipynb").read_text()
    assert "NotImplementedError" in text and "BEGIN SOLUTION" not in text
    solve = run(module + ["solve", "out", ".", "solved"], tmp_path)
    assert solve.returncode == 0, solve.stderr
    assert "BEGIN SOLUTION" in (tmp_path / "solved" / "03_gram_matrix_and_style_loss.ipynb").read_text()
