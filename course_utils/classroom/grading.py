"""Grade a folder of submissions without a grading tool.

    python -m course_utils.assignments grade SUBMISSIONS OUT.csv [--jobs N] [--timeout SECONDS]

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
line of the check's hint.  Beside OUT.csv, OUT-feedback/<student>.txt tells each student
their points and the hint of each exercise they missed.  Notebooks are graded `--jobs` at a
time, each in a process of its own with a memory limit; rows keep one stable order, and
OUT.csv is rewritten after each notebook, so a run stopped half-way goes on from there when
started again (the notebooks it holds are not graded again).  A summary table goes to stdout, a progress bar to stderr when
it is a terminal.  Exit code 2 (and one line) only when grading cannot start.
"""
import csv
import io
import multiprocessing
import os
import re
import resource
import signal
import sys
import tempfile
import threading
import time
from multiprocessing.connection import wait
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import nbformat

from ..exercises import judge
from ..files import write_all, write_atomically
from . import handout, isolated
from .markers import read_notebook

STATUSES = ("pass", "fail", "not_implemented", "error", "timeout", "missing")
MARK = "course_grade_id"                  # cell metadata that finds a check cell after the run
CASE_SETS = (("visible", False), ("hidden", True))
MEMORY_GB = 8.0                           # each grading process's address space (and its kernel's)


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

def _limit(memory_gb):
    """A grading process's start: its address space (and that of the kernel and the
    function process it starts) limited to memory_gb; its stdout and stderr quiet
    (TensorFlow's log); a process group of its own, so that Ctrl-C reaches only the grade
    command, which stops its graders (`_stop`); SIGTERM ends it through its `finally`
    blocks, which shut its kernel down and remove its temporary folder."""
    if memory_gb:
        limit = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)


def _leave(signum, frame):
    raise SystemExit(128 + signum)


def _grader(answer, memory_gb, student, notebook, checks, timeout):
    """What a grading process does: one student's one notebook, its rows sent back."""
    _limit(memory_gb)
    try:
        with tempfile.TemporaryDirectory(prefix="nst-grade-") as workdir:
            rows = grade_notebook(Path(student) / notebook, checks, workdir, timeout)
        answer.send(("rows", rows))
    except Exception as err:
        answer.send(("error", _first_line(err)))


def _stop(processes, grace=10.0):
    """End the grading processes and what they started: SIGTERM to each one's group, then
    SIGKILL to whatever is left after `grace` seconds."""
    def signal_all(sig):
        for process in processes:
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):  # not yet in a group of its own
                try:
                    os.kill(process.pid, sig)
                except ProcessLookupError:
                    pass

    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    if any(process.is_alive() for process in processes):
        signal_all(signal.SIGKILL)
        for process in processes:
            process.join(5)


def _start_deaf_to_ctrl_c(process):
    """Start a grading process that ignores SIGINT from birth: until its `_limit` puts it in
    a group of its own it shares the terminal's, and a Ctrl-C there would print a half
    traceback from its start-up.  (A disposition of SIG_IGN is kept across exec, and Python
    leaves SIGINT ignored when it starts so.)"""
    if threading.current_thread() is not threading.main_thread():
        process.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, previous)


def _graded(units, jobs, memory_gb, timeout):
    """(student, notebook, rows or an error message) for each unit = (student folder,
    notebook, checks) as each finishes: every notebook in a fresh process of its own, `jobs`
    at a time.  A process that dies (its memory limit, a crash) costs only its own notebook;
    on Ctrl-C every running process is stopped before KeyboardInterrupt goes on."""
    context = multiprocessing.get_context("spawn")
    waiting, running = list(units), {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                student, notebook, checks = waiting.pop(0)
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_grader, daemon=True, args=(
                    writer, memory_gb, student, notebook, checks, timeout))
                _start_deaf_to_ctrl_c(process)
                writer.close()
                running[reader] = (process, student, notebook)
            for reader in wait(list(running)):
                process, student, notebook = running.pop(reader)
                try:
                    kind, value = reader.recv()
                except EOFError:                        # it died before it could answer
                    kind, value = "error", None
                reader.close()
                process.join()
                if kind == "error":
                    value = ("the grading process stopped (out of its memory limit of "
                             f"{memory_gb:g} GB, or a crash)" + (f": {value}" if value else ""))
                yield student, notebook, value
    except BaseException:
        _stop([process for process, _, _ in running.values()])
        raise


def grade(submissions, notebook_dir, timeout, jobs=1, memory_gb=MEMORY_GB, kept=(),
          progress=None, save=None):
    """Rows for every student folder × course exercise, in a stable order (students by
    name, then the course's exercises).  Each notebook is graded in a process of its own
    with a memory limit, `jobs` at a time; the `kept` rows of an earlier run that cover a
    whole notebook are kept and that notebook is not graded again.  save(rows so far) after
    each notebook, progress() too."""
    by_notebook = {}
    for check in exercises(notebook_dir):
        by_notebook.setdefault(check.notebook, []).append(check)
    students = sorted(p for p in Path(submissions).iterdir() if p.is_dir())
    units = [(s.name, n) for s in students for n in by_notebook]
    done = {}
    for row in kept:
        done.setdefault((row.student, row.notebook), []).append(row)
    done = {unit: rows for unit, rows in done.items() if unit in units and
            [r.exercise for r in rows] == [c.name for c in by_notebook[unit[1]]]}

    def ordered():
        return [row for unit in units if unit in done for row in done[unit]]

    todo = [(str(Path(submissions) / s), n, by_notebook[n]) for s, n in units if (s, n) not in done]
    for folder, notebook, rows in _graded(todo, jobs, memory_gb, timeout):
        student = Path(folder).name
        if isinstance(rows, str):
            rows = [_row(c, "error", rows) for c in by_notebook[notebook]]
        for row in rows:
            row.student = student
        done[(student, notebook)] = rows
        if save:
            save(ordered())
        if progress:
            progress()
    return ordered()


def write_csv(rows, path):
    """The rows as CSV with a header, written atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([f.name for f in fields(Row)])
    writer.writerows(astuple(row) for row in rows)
    write_atomically(Path(path), text.getvalue())


def read_csv(path):
    """The rows of a CSV this command wrote (an earlier, maybe interrupted, run); [] if
    there is none.  Raises ValueError if the file is not one."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != [f.name for f in fields(Row)]:
            raise ValueError(f"{path} exists but is not a grades CSV of this command "
                             "(move it away, or name another file)")
        return [Row(r["student"], r["notebook"], r["exercise"], float(r["points"]),
                    float(r["max_points"]), r["status"], r["message"], float(r["seconds"]))
                for r in reader]


def feedback_dir(csv_path):
    """The folder beside the CSV that holds one feedback file per student."""
    csv_path = Path(csv_path)
    return csv_path.with_name(f"{csv_path.stem}-feedback")


def feedback(rows):
    """{student: the text of their feedback file}: points, then each exercise with its
    status and, for each one not passed, the hint."""
    texts = {}
    for student in dict.fromkeys(r.student for r in rows):
        mine = [r for r in rows if r.student == student]
        lines = [f"{student}: {sum(r.points for r in mine):g} of "
                 f"{sum(r.max_points for r in mine):g} points", ""]
        for r in mine:
            lines.append(f"{r.notebook}  {r.exercise}: {r.points:g}/{r.max_points:g} ({r.status})")
            if r.status != "pass" and r.message:
                lines.append(f"    {r.message}")
        texts[student] = "\n".join(lines) + "\n"
    return texts


def write_feedback(rows, folder):
    """One feedback file per student (<student>.txt) in folder; the paths."""
    folder = Path(folder)
    return write_all({folder / f"{student}.txt": text.encode("utf-8")
                      for student, text in feedback(rows).items()})


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


def _cannot_start(submissions, notebook_dir, timeout, jobs, memory_gb):
    """Why grading cannot start, or None."""
    if not Path(submissions).is_dir():
        return f"no such folder of submissions: {submissions}"
    if not any(p.is_dir() for p in Path(submissions).iterdir()):
        return f"{submissions} holds no student folders (one folder per student)"
    if not exercises(notebook_dir):
        return f"no notebooks with graded exercises in {notebook_dir}"
    if not timeout > 0:
        return f"--timeout must be a positive number of seconds, not {timeout}"
    if not jobs >= 1:
        return f"--jobs must be at least 1, not {jobs}"
    if not memory_gb > 0:
        return f"--memory must be a positive number of GB, not {memory_gb}"
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


def default_jobs():
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main(submissions, csv_path, notebook_dir, timeout, jobs=None, memory_gb=MEMORY_GB):
    """Grade every submission (going on from csv_path's rows if it holds an earlier run's),
    write the CSV and the feedback files, print the summary; the exit code."""
    jobs = default_jobs() if jobs is None else jobs
    problem = _cannot_start(submissions, notebook_dir, timeout, jobs, memory_gb)
    try:
        kept = [] if problem else read_csv(csv_path)
    except (OSError, ValueError) as err:
        problem = _first_line(err)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from tqdm.auto import tqdm

    units = sum(1 for p in Path(submissions).iterdir() if p.is_dir()) * \
        len({c.notebook for c in exercises(notebook_dir)})
    with tqdm(total=units, unit="notebook", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        try:
            rows = grade(submissions, notebook_dir, timeout, jobs, memory_gb, kept,
                         progress=lambda: bar.update(1), save=lambda r: write_csv(r, csv_path))
        except KeyboardInterrupt:
            print(f"\ninterrupted: {csv_path} holds the notebooks graded so far; the same "
                  "command goes on from there", file=sys.stderr)
            return 130
    write_csv(rows, csv_path)
    folder = feedback_dir(csv_path)
    write_feedback(rows, folder)
    print(summary(rows))
    again = len({(r.student, r.notebook) for r in kept})
    kept_note = f", {again} notebooks kept from the earlier run" if again else ""
    print(f"wrote {csv_path} ({len(rows)} rows{kept_note}) and one feedback file per student "
          f"in {folder}/")
    return 0
