"""The grade command on a folder of submissions: solved, unsolved, a known mistake, a
borrowed reference, a corrupt file, an endless loop and a crashing kernel each give
their row, and only a grading that cannot start exits 2."""
import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.classroom import grading, markers

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NB02, NB03, NB04, NB05, NB06, NB07 = (
    "02_content_loss.ipynb", "03_gram_matrix_and_style_loss.ipynb",
    "04_total_loss_and_transfer.ipynb", "05_experiments.ipynb", "06_colour_and_scale.ipynb",
    "07_regions_blends_and_stages.ipynb")
EXERCISES = [(NB02, "content_loss", 2.0), (NB03, "gram_matrix", 2.0),
             (NB03, "style_layer_loss", 3.0), (NB03, "style_loss", 2.0),
             (NB04, "total_loss", 1.0), (NB04, "train_step", 2.0), (NB05, "balanced_weights", 1.0),
             (NB06, "with_chroma", 2.0), (NB07, "guided_gram_matrix", 2.0)]


def grade(submissions, out, timeout):
    return subprocess.run([sys.executable, "-m", "course_utils.assignments", "grade",
                           str(submissions), str(out), "--timeout", str(timeout),
                           "--notebooks", str(NOTEBOOKS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)


def edited(name, old, new):
    """The course's notebook `name` with a piece of its (first) exercise cell replaced."""
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    return nb


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def student_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    markers.make_student([NOTEBOOKS / n for n in (NB02, NB03, NB04, NB05, NB06, NB07)], out)
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory, student_build):
    subs = tmp_path_factory.mktemp("submissions")
    for name in (NB02, NB03, NB04, NB05, NB06, NB07):
        (subs / "ada_solved").mkdir(exist_ok=True)
        (subs / "ada_solved" / name).write_bytes((NOTEBOOKS / name).read_bytes())
        (subs / "bob_unsolved").mkdir(exist_ok=True)
        (subs / "bob_unsolved" / name).write_bytes((student_build / name).read_bytes())
    (subs / "cy_mistaken").mkdir()
    nbformat.write(edited(NB02, "0.5 * tf.reduce_sum(", "0.5 * tf.reduce_mean("),
                   str(subs / "cy_mistaken" / NB02))
    (subs / "cy_mistaken" / "course_utils").mkdir()               # cannot shadow the course's
    (subs / "cy_mistaken" / "course_utils" / "__init__.py").write_text("raise SystemExit('no')")
    (subs / "dee_borrowed").mkdir()
    nbformat.write(edited(NB03, "    F = tf.convert_to_tensor(F, tf.float32)\n    if F.shape",
                          "    return losses.gram_matrix(F)\n    if F.shape"),
                   str(subs / "dee_borrowed" / NB03))
    (subs / "eve_corrupt").mkdir()
    (subs / "eve_corrupt" / NB02).write_text('{"cells": [ this is not json')
    out = subs.parent / "grades.csv"
    result = grade(subs, out, timeout=600)
    return result, rows_of(out)


def by(rows, student):
    return {(r["notebook"], r["exercise"]): r for r in rows if r["student"] == student}


def test_the_csv_has_one_row_per_student_and_exercise_in_a_stable_order(graded):
    result, rows = graded
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""                               # not a terminal: no progress bar
    students = ["ada_solved", "bob_unsolved", "cy_mistaken", "dee_borrowed", "eve_corrupt"]
    assert [(r["student"], r["notebook"], r["exercise"]) for r in rows] == \
        [(s, n, e) for s in students for n, e, _ in EXERCISES]
    assert list(rows[0]) == ["student", "notebook", "exercise", "points", "max_points",
                             "status", "message", "seconds"]


def test_solved_notebooks_pass_with_full_points(graded):
    for (notebook, exercise, points) in EXERCISES:
        row = by(graded[1], "ada_solved")[(notebook, exercise)]
        assert row["status"] == "pass", row
        assert float(row["points"]) == float(row["max_points"]) == points


def test_unsolved_notebooks_are_not_implemented(graded):
    for row in by(graded[1], "bob_unsolved").values():
        assert (row["status"], float(row["points"])) == ("not_implemented", 0.0), row
        assert "NotImplementedError" in row["message"]


def test_a_known_mistake_fails_with_its_hint_and_the_rest_is_missing(graded):
    rows = by(graded[1], "cy_mistaken")
    row = rows[(NB02, "content_loss")]
    assert row["status"] == "fail" and float(row["points"]) == 0
    assert row["message"].startswith("content_loss: you averaged (tf.reduce_mean)")
    assert all(r["status"] == "missing" for k, r in rows.items() if k[0] != NB02)


def test_a_borrowed_reference_fails(graded):
    rows = by(graded[1], "dee_borrowed")
    row = rows[(NB03, "gram_matrix")]
    assert row["status"] == "fail"
    assert row["message"].startswith("gram_matrix calls the course's own gram_matrix")


def test_a_corrupt_notebook_is_an_error_row(graded):
    row = by(graded[1], "eve_corrupt")[(NB02, "content_loss")]
    assert row["status"] == "error" and "not a readable notebook" in row["message"]


def test_the_summary_table_lists_every_student(graded):
    out = graded[0].stdout
    assert "ada_solved" in out and "17/17" in out
    assert out.splitlines()[0].split()[:2] == ["student", "points"]


def test_an_endless_loop_times_out_and_a_crashing_kernel_is_an_error(tmp_path):
    subs = tmp_path / "subs"
    (subs / "loop").mkdir(parents=True)
    nbformat.write(edited(NB02, "    return 0.5 * tf.reduce_sum(tf.square(F - P))",
                          "    while True:\n        pass"), str(subs / "loop" / NB02))
    (subs / "crash").mkdir()
    nbformat.write(edited(NB02, "    return 0.5 * tf.reduce_sum(tf.square(F - P))",
                          "    import os; os._exit(1)"), str(subs / "crash" / NB02))
    result = grade(subs, tmp_path / "g.csv", timeout=25)
    assert result.returncode == 0, result.stderr
    rows = rows_of(tmp_path / "g.csv")
    assert by(rows, "loop")[(NB02, "content_loss")]["status"] == "timeout"
    crash = by(rows, "crash")[(NB02, "content_loss")]
    assert crash["status"] == "error" and "kernel died" in crash["message"]


@pytest.mark.parametrize("make, phrase", [
    (lambda p: p / "nowhere", "no such folder of submissions"),
    (lambda p: p, "holds no student folders"),
])
def test_grading_that_cannot_start_exits_2_with_one_line(make, phrase, tmp_path):
    result = grade(make(tmp_path), tmp_path / "g.csv", timeout=10)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and phrase in result.stderr
    assert not (tmp_path / "g.csv").exists()


def test_missing_assets_stop_grading_before_it_starts(tmp_path, monkeypatch, capsys):
    from course_utils import assets
    (tmp_path / "ada").mkdir()

    def missing(name, quiet=True):
        raise assets.AssetError(f"{name} is not in the cache and cannot be downloaded")
    monkeypatch.setattr(assets, "fetch", missing)
    assert grading.main(tmp_path, tmp_path / "g.csv", NOTEBOOKS, 10) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "course_utils fetch" in err


def test_exercises_come_from_the_course_notebooks_with_hidden_tests():
    found = grading.exercises(NOTEBOOKS)
    assert [(e.notebook, e.name, e.points) for e in found] == EXERCISES
    assert all("hidden=True" in e.source for e in found)
    assert sum(e.points for e in found) == 17


def test_ctrl_c_early_in_the_grade_command_is_one_line(tmp_path):
    # Half a second in, the command is still loading (TensorFlow alone takes longer): startup's
    # run_command answers; on a machine fast enough to be grading already, the grader's own line.
    import shutil
    import signal
    import time
    (tmp_path / "subs" / "s1").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / NB02, tmp_path / "subs" / "s1")
    proc = subprocess.Popen([sys.executable, "-m", "course_utils.assignments", "grade",
                             str(tmp_path / "subs"), str(tmp_path / "out.csv")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert err.strip().startswith("interrupted") and "\n" not in err.strip(), err
    assert not (tmp_path / "out.csv").exists() or (tmp_path / "out.csv").read_text().startswith("student,")
