"""Grade a folder of submissions without a grading tool.

    python -m course_utils.assignments grade SUBMISSIONS OUT.csv [--timeout SECONDS]

SUBMISSIONS holds one folder per student with their notebooks.  For each student and
each notebook with exercises, only the notebook is copied into a clean temporary
folder (a student's own course_utils or my_losses.py cannot shadow the course's), its
check cells are put back as the course wrote them (plus the hidden tests), and it runs
whole in a fresh kernel with the `ci` preset and a time limit: a notebook that does not
finish, or whose kernel dies, loses the exercises from there on.  What the kernel printed
or decided is not read.  Each exercise is judged out of the student's reach (`isolated`):
a fresh process runs the student's exercise cells with the notebook's imports and
definitions and calls the function on the cases' inputs; this process then loads the
expected values and compares.  Each exercise is one row of the CSV:

    student, notebook, exercise, points, max_points, status, message, seconds

status is pass, fail, error, timeout, missing or not_implemented; message is the first
line of the check's hint.  A summary table goes to stdout, a progress bar to stderr when
it is a terminal.  Exit code 2 (and one line) only when grading cannot start.
"""
import csv
import io
import os
import re
import sys
import tempfile
import time
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import nbformat

from ..exercises import judge
from ..files import write_atomically
from . import handout, isolated
from .markers import read_notebook

STATUSES = ("pass", "fail", "not_implemented", "error", "timeout", "missing")
MARK = "course_grade_id"                  # cell metadata that finds a check cell after the run
CASE_SETS = (("visible", False), ("hidden", True))


@dataclass
class Row:
    student: str
    notebook: str
    exercise: str
    points: float
    max_points: float
    status: str
    message: str
    seconds: float


@dataclass
class Exercise:
    notebook: str
    name: str
    grade_id: str
    points: float
    source: str                           # the check cell as the course wrote it, + hidden tests
    function: str                         # the name of the student's function it checks


def exercises(notebook_dir):
    """Every graded check of the course's notebooks, in notebook and cell order."""
    found = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        for cell, meta in handout.grade_cells(read_notebook(path)):
            match = handout.CHECK_CALL.search(cell.source)
            name = match["name"] if match else meta["grade_id"]
            found.append(Exercise(path.name, name, meta["grade_id"], float(meta.get("points", 0)),
                                  handout.with_hidden_tests(cell.source),
                                  match["fn"] if match else name))
    return found


# ---------------------------------------------------------------------------
# One notebook of one student.

def grade_notebook(path, checks, workdir, timeout):
    """Rows (without the student) for the exercises `checks` of one submitted notebook."""
    if not path.is_file():
        return [_row(c, "missing", f"no {c.notebook} in the submission") for c in checks]
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as err:
        message = f"not a readable notebook: {_first_line(err)}"
        return [_row(c, "error", message) for c in checks]
    absent = _restore_checks(nb, checks)
    target = Path(workdir) / path.name
    nbformat.write(nb, str(target))
    seconds, stopped = _execute(nb, target.parent, timeout)
    placed = [c for c in checks if c.grade_id not in absent]
    where = {c.grade_id: next(i for i, cell in enumerate(nb.cells)
                              if cell.metadata.get(MARK) == c.grade_id) for c in placed}
    functions = {c.function for c in checks}
    results = isolated.run(
        [isolated.request(c.grade_id, c.function, c.name,
                          isolated.program([cell.source for cell in nb.cells[:where[c.grade_id]]
                                            if cell.cell_type == "code"], functions),
                          CASE_SETS) for c in placed], workdir, timeout)
    rows = []
    for check in checks:
        if check.grade_id in absent:
            rows.append(_row(check, "error", "the check cell is missing and the exercise cell "
                                             "could not be found"))
            continue
        index = where[check.grade_id]
        rows.append(_outcome(check, results[check.grade_id], seconds.get(index), stopped, index))
    return rows


def _restore_checks(nb, checks):
    """Put each check cell back as the course wrote it (found by its grade_id, else inserted
    after the exercise's cell); the grade_ids that could not be placed."""
    absent = set()
    for check in checks:
        cell = _find(nb, lambda c: _grade_id(c) == check.grade_id)
        if cell is None:
            exercise = _find(nb, lambda c: re.search(rf"^def {check.name}\(", c.source, re.M))
            if exercise is None:
                absent.add(check.grade_id)
                continue
            cell = nbformat.v4.new_code_cell()
            nb.cells.insert(nb.cells.index(exercise) + 1, cell)
        cell.source, cell.outputs, cell.execution_count = check.source, [], None
        cell.metadata[MARK] = check.grade_id
    return absent


def _find(nb, predicate):
    return next((c for c in nb.cells if c.cell_type == "code" and predicate(c)), None)


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _execute(nb, cwd, timeout):
    """Run every cell in a fresh kernel at cwd within `timeout` seconds in all:
    ({cell index: seconds}, None | ("timeout", index) | ("error", index, message))."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    env = isolated.student_env()
    client = NotebookClient(nb, timeout=timeout, allow_errors=True,
                            kernel_manager_class=_current_env_kernel_manager(),
                            resources={"metadata": {"path": str(cwd)}})
    seconds, deadline = {}, time.monotonic() + timeout
    index = 0
    try:
        with open(os.devnull, "wb") as quiet, \
                client.setup_kernel(cwd=str(cwd), env=env, stdout=quiet, stderr=quiet):
            for index, cell in enumerate(nb.cells):
                left = deadline - time.monotonic()
                if left <= 0:
                    return seconds, ("timeout", index)
                client.timeout = max(1, int(left))
                start = time.monotonic()
                client.execute_cell(cell, index)
                seconds[index] = time.monotonic() - start
    except CellTimeoutError:
        return seconds, ("timeout", index)
    except DeadKernelError:
        return seconds, ("error", index, "the kernel died (out of memory, or a crash)")
    except Exception as err:
        return seconds, ("error", index, f"the notebook could not run: {_first_line(err)}")
    return seconds, None


def _current_env_kernel_manager():
    """A kernel manager class whose kernel is this interpreter's ipykernel (as nbval's
    --nbval-current-env), whatever kernelspecs the machine has."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager      # nbclient's kind: never blocks

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f",
                                    "{connection_file}"], display_name="Python 3",
                              language="python", resource_dir="")

    class Manager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("kernel_spec_manager", ThisPython())
            super().__init__(**kwargs)

    return Manager


def _outcome(check, result, seconds, stopped, index):
    """The row of one exercise: the notebook's run stopped before its check cell, or the
    verdicts on what the student's function gave out of reach (visible, then hidden cases)."""
    if stopped is not None and index >= stopped[1]:
        if stopped[0] == "timeout":
            return _row(check, "timeout", "the notebook did not finish within the time limit",
                        seconds)
        return _row(check, "error", stopped[2], seconds)
    if result == "timeout":
        return _row(check, "timeout", f"{check.function} did not return within the time limit",
                    seconds)
    if isinstance(result, str):
        return _row(check, "error", result.removeprefix("error: "), seconds)
    for kind, hidden in CASE_SETS:
        got = result[kind]
        verdict = got if isinstance(got, judge.Verdict) else judge.compare(check.name, got, hidden)
        if not verdict.passed:
            return _row(check, verdict.status, _first_line(verdict.message), seconds)
    return _row(check, "pass", "", seconds, points=check.points)


def _row(check, status, message, seconds=None, points=0.0):
    return Row("", check.notebook, check.name, points, check.points, status, message,
               round(seconds or 0.0, 2))


def _first_line(text):
    lines = str(text).strip().splitlines()
    return lines[0][:400] if lines else ""


# ---------------------------------------------------------------------------
# Every student.

def grade(submissions, notebook_dir, timeout, progress=None):
    """Rows for every student folder × course exercise, in a stable order."""
    checks = exercises(notebook_dir)
    by_notebook = {}
    for check in checks:
        by_notebook.setdefault(check.notebook, []).append(check)
    students = sorted(p for p in Path(submissions).iterdir() if p.is_dir())
    rows = []
    for student in students:
        for notebook, its_checks in by_notebook.items():
            with tempfile.TemporaryDirectory(prefix="nst-grade-") as workdir:
                for row in grade_notebook(student / notebook, its_checks, workdir, timeout):
                    row.student = student.name
                    rows.append(row)
            if progress:
                progress()
    return rows


def write_csv(rows, path):
    """The rows as CSV with a header, written atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([f.name for f in fields(Row)])
    writer.writerows(astuple(row) for row in rows)
    write_atomically(Path(path), text.getvalue())


def summary(rows):
    """One line per student: points out of the maximum, and how many of each status."""
    shown = [s for s in STATUSES if any(r.status == s for r in rows)]
    width = max([len("student")] + [len(r.student) for r in rows])
    lines = [f"{'student':<{width}}  {'points':>9}  " + "  ".join(f"{s:>7}" for s in shown)]
    for student in dict.fromkeys(r.student for r in rows):
        mine = [r for r in rows if r.student == student]
        points = f"{sum(r.points for r in mine):g}/{sum(r.max_points for r in mine):g}"
        counts = "  ".join(f"{sum(r.status == s for r in mine):>{max(7, len(s))}}" for s in shown)
        lines.append(f"{student:<{width}}  {points:>9}  {counts}")
    return "\n".join(lines)


def _cannot_start(submissions, notebook_dir, timeout):
    """Why grading cannot start, or None."""
    if not Path(submissions).is_dir():
        return f"no such folder of submissions: {submissions}"
    if not any(p.is_dir() for p in Path(submissions).iterdir()):
        return f"{submissions} holds no student folders (one folder per student)"
    if not exercises(notebook_dir):
        return f"no notebooks with graded exercises in {notebook_dir}"
    if not timeout > 0:
        return f"--timeout must be a positive number of seconds, not {timeout}"
    try:
        import nbclient  # noqa: F401
    except ImportError:
        return "nbclient is not installed: pip install nbclient (or the course's [dev] extra)"
    from .. import assets
    try:
        for name in assets.manifest():
            assets.fetch(name)
    except assets.AssetError as err:
        return f"{_first_line(err)} (run `python -m course_utils fetch` first)"
    return None


def main(submissions, csv_path, notebook_dir, timeout):
    """Grade every submission, write the CSV, print the summary; the exit code."""
    problem = _cannot_start(submissions, notebook_dir, timeout)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from tqdm.auto import tqdm

    units = sum(1 for p in Path(submissions).iterdir() if p.is_dir()) * \
        len({c.notebook for c in exercises(notebook_dir)})
    with tqdm(total=units, unit="notebook", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        rows = grade(submissions, notebook_dir, timeout, progress=lambda: bar.update(1))
    write_csv(rows, csv_path)
    print(summary(rows))
    print(f"wrote {csv_path} ({len(rows)} rows)")
    return 0
