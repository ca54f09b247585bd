"""Grading a class: `--jobs 2` gives the same CSV as `--jobs 1`; a run interrupted with
Ctrl-C and started again gives it too, without grading again what was done; each student
gets a feedback file beside the CSV."""
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NB02, NB04 = "02_content_loss.ipynb", "04_total_loss_and_transfer.ipynb"
STUDENTS = ["ana", "ben", "cat"]


def short(name, mistake=None):
    """A course notebook cut to its set-up, exercise and check cells (the rest only paints:
    the tests grade many copies), with an optional (old, new) mistake in its exercise."""
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown" or c.metadata.get("nbgrader")
                or c.source.startswith("from course_utils")]
    if mistake:
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        cell.source = cell.source.replace(*mistake)
    return nb


def command(subs, out, jobs):
    return [sys.executable, "-m", "course_utils.assignments", "grade", str(subs), str(out),
            "--notebooks", str(NOTEBOOKS), "--jobs", str(jobs)]


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def subs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for student in STUDENTS:
        (folder / student).mkdir()
        mistake = ("0.5 * tf.reduce_sum(", "0.5 * tf.reduce_mean(") if student == "ben" else None
        nbformat.write(short(NB02, mistake), str(folder / student / NB02))
        nbformat.write(short(NB04), str(folder / student / NB04))
    return folder


@pytest.fixture(scope="module")
def one_at_a_time(subs):
    out = subs.parent / "jobs1.csv"
    result = subprocess.run(command(subs, out, 1), cwd=ROOT, capture_output=True, text=True,
                            timeout=3600)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return out, result


def test_two_jobs_give_the_same_csv_as_one(subs, one_at_a_time):
    out = subs.parent / "jobs2.csv"
    result = subprocess.run(command(subs, out, 2), cwd=ROOT, capture_output=True, text=True,
                            timeout=3600)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    rows = rows_of(one_at_a_time[0])
    assert without_seconds(rows_of(out)) == without_seconds(rows)
    assert [r["student"] for r in rows] == [s for s in STUDENTS for _ in range(9)]   # 9 exercises
    assert [(r["status"], r["points"]) for r in rows if r["student"] == "ben"] == \
        [("fail", "0.0")] + [("missing", "0.0")] * 3 + [("pass", "1.0"), ("pass", "2.0")] \
        + [("missing", "0.0")] * 3                                 # no notebooks 03, 05, 06


def test_each_student_gets_a_feedback_file_beside_the_csv(subs, one_at_a_time):
    folder = one_at_a_time[0].with_name("jobs1-feedback")
    assert sorted(p.name for p in folder.iterdir()) == [f"{s}.txt" for s in STUDENTS]
    ben = (folder / "ben.txt").read_text()
    assert ben.startswith("ben: 3 of 17 points")
    assert "content_loss: 0/2 (fail)\n    content_loss: you averaged (tf.reduce_mean)" in ben
    assert "you averaged" not in (folder / "ana.txt").read_text()
    assert f"{folder}" in one_at_a_time[1].stdout


def test_an_interrupted_run_goes_on_where_it_stopped(subs, one_at_a_time):
    out = subs.parent / "interrupted.csv"
    run = subprocess.Popen(command(subs, out, 1), cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 1800
    while not (out.is_file() and len(rows_of(out)) >= 2) and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        time.sleep(0.5)
    os.killpg(run.pid, signal.SIGINT)                       # Ctrl-C in the instructor's terminal
    _, err = run.communicate(timeout=600)
    assert run.returncode == 130 and err.strip().startswith("interrupted") and err.count("\n") <= 2, err
    before = rows_of(out)
    assert 0 < len(before) < 15
    again = subprocess.run(command(subs, out, 1), cwd=ROOT, capture_output=True, text=True,
                           timeout=3600)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    after = rows_of(out)
    assert without_seconds(after) == without_seconds(rows_of(one_at_a_time[0]))
    assert after[:len(before)] == before           # kept as they were: not graded again
    assert "kept from the earlier run" in again.stdout


def test_a_csv_that_is_not_a_grades_csv_stops_grading_before_it_starts(subs, tmp_path):
    out = tmp_path / "other.csv"
    out.write_text("name,mark\nana,3\n")
    result = subprocess.run(command(subs, out, 1), cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "not a grades CSV" in result.stderr and out.read_text() == "name,mark\nana,3\n"
