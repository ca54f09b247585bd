"""nbgrader itself (the PyPI package) on the course that `assignments nbgrader` writes:
generate_assignment, then autograde a solved, an unsolved and a mistaken submission."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POINTS = {"ex02_content_loss_check": 2, "ex03_gram_matrix_check": 2,
          "ex03_style_layer_loss_check": 3, "ex03_style_loss_check": 2,
          "ex04_total_loss_check": 1, "ex04_train_step_check": 2, "ex05_balanced_weights_check": 1,
          "ex06_with_chroma_check": 2, "ex07_guided_gram_matrix_check": 2}


def run(args, cwd):
    """A command as an instructor types it: no preset set by the caller (nbgrader's
    NBGRADER_EXECUTION and the course config choose `ci`), the venv's tools on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_PRESET", "PYTHONPATH")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


def _submit(course, student, notebooks):
    folder = course / "submitted" / student / "losses"
    folder.mkdir(parents=True)
    for path in notebooks:
        shutil.copy(path, folder / path.name)


def _check_cell(path, grade_id):
    nb = nbformat.read(str(path), as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    built = run([sys.executable, "-m", "course_utils.assignments", "nbgrader", str(course),
                 "--notebooks", str(ROOT / "notebooks")], ROOT)
    assert built.returncode == 0, built.stderr
    generated = run([BIN / "nbgrader", "generate_assignment", "losses"], course)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    source = sorted((course / "source" / "losses").glob("*.ipynb"))
    released = sorted((course / "release" / "losses").glob("*.ipynb"))
    _submit(course, "solved", source)
    _submit(course, "unsolved", released)
    # A known mistake in content_loss: the mean instead of the sum (only notebook 02 handed in).
    mistaken = course / "mistaken.ipynb"
    nb = nbformat.read(str(source[0]), as_version=4)
    cell = next(c for c in nb.cells if "def content_loss" in c.source)
    cell.source = cell.source.replace("0.5 * tf.reduce_sum(", "0.5 * tf.reduce_mean(")
    nbformat.write(nb, str(mistaken))
    _submit(course, "mistaken", [])
    shutil.copy(mistaken, course / "submitted" / "mistaken" / "losses" / source[0].name)
    start = time.monotonic()
    graded = run([BIN / "nbgrader", "autograde", "losses", "--create"], course)
    print(f"nbgrader autograde: {time.monotonic() - start:.0f} s")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return course, graded


def _score(course, student, grade_id):
    notebook = {"02": "02_content_loss", "03": "03_gram_matrix_and_style_loss",
                "04": "04_total_loss_and_transfer", "05": "05_experiments", "06": "06_colour_and_scale",
                "07": "07_regions_blends_and_stages"}[grade_id[2:4]]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nst-course") as gb:
        grade = gb.find_grade(grade_id, notebook, "losses", student)
        return grade.score, grade.max_score


def test_generate_assignment_keeps_the_hints_and_hides_solutions_and_hidden_tests(graded):
    course, _ = graded
    for path in (course / "release" / "losses").glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text
        assert "# TODO: " in text
    package = course / "release" / "losses" / "course_utils"
    assert (package / "answers.json").is_file() and not (package / "classroom").exists()
    assert not (course / "release" / "losses" / "hidden_answers.json").exists()


def test_solved_notebooks_get_full_marks(graded):
    course, _ = graded
    for grade_id, points in POINTS.items():
        assert _score(course, "solved", grade_id) == (points, points), grade_id
    executed = course / "autograded" / "solved" / "losses" / "03_gram_matrix_and_style_loss.ipynb"
    outputs = _check_cell(executed, "ex03_gram_matrix_check").outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert "on 6 test cases" in text and "hidden test cases" in text      # the hidden tests ran
    assert all(o.output_type == "stream" and o.name == "stdout" for o in outputs)


def test_the_unsolved_release_gets_zero(graded):
    course, _ = graded
    for grade_id in POINTS:
        assert _score(course, "unsolved", grade_id)[0] == 0, grade_id


def test_a_known_mistake_gets_zero_on_that_exercise_with_its_hint(graded):
    course, _ = graded
    assert _score(course, "mistaken", "ex02_content_loss_check") == (0, 2)
    executed = course / "autograded" / "mistaken" / "losses" / "02_content_loss.ipynb"
    [error] = [o for o in _check_cell(executed, "ex02_content_loss_check").outputs
               if o.output_type == "error"]
    assert error.ename == "CheckFailed" and "you averaged (tf.reduce_mean)" in error.evalue
