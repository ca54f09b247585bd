"""Submissions that try to earn notebook 03's gram_matrix points without the work: a
gram_matrix that returns zeros, beside each way a student's cells could fake the check.
Each scores 0 through the grade command, which judges out of the student's reach; the
honest solution scores full points.  The same notebooks run in a kernel as nbgrader runs
them show which cheats the in-kernel check cells stop too (the instructors' page lists them)."""
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NB03 = "03_gram_matrix_and_style_loss.ipynb"

ZEROS = '''
    return tf.zeros((F.shape[-1], F.shape[-1]))
'''
PASS_LINE = "✓ gram_matrix matches the paper's Eq. 3 on 6 test cases."

# name: (what replaces the solution in the gram_matrix cell, code after the function,
#        whether the in-kernel check cell stops it)
CHEATS = {
    "rebinds_checks": (ZEROS, f'''
class _Passes:
    def __getattr__(self, name):
        return lambda fn, hidden=False: print("{PASS_LINE}")
checks = _Passes()
''', True),
    "replaces_check_functions": (ZEROS, f'''
import course_utils.checks
for _name in dir(course_utils.checks):
    if _name.startswith("check_"):
        setattr(course_utils.checks, _name, lambda fn, hidden=False: print("{PASS_LINE}"))
''', False),
    "custom_exception_handler": (ZEROS, f'''
def _swallow(shell, etype, value, tb, tb_offset=None):
    print("{PASS_LINE}")
get_ipython().set_custom_exc((Exception,), _swallow)
''', True),
    "replaced_traceback_display": (ZEROS, f'''
get_ipython().showtraceback = lambda *args, **kwargs: print("{PASS_LINE}")
''', True),
    "patched_comparisons": (ZEROS, '''
import numpy
numpy.allclose = lambda *args, **kwargs: True
numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.broadcast(a, b).shape, bool)
numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
tf.debugging.assert_near = lambda *args, **kwargs: None
tf.experimental.numpy.allclose = lambda *args, **kwargs: True
''', True),
    "walks_the_stack": ('''
    import sys
    frame = sys._getframe(1)
    while frame is not None:                     # the checker's frames: a case holding `want`
        for value in list(frame.f_locals.values()):
            for case in value if isinstance(value, list) else [value]:
                if getattr(case, "want", None) is not None and getattr(case, "args", (None,))[0] is F:
                    return case.want
        frame = frame.f_back
    return tf.zeros((F.shape[-1], F.shape[-1]))
''', "", True),
    "looks_up_the_answer_table": ('''
    from course_utils.exercises.table import table

    def lookup(F):
        for hidden in (False, True):
            try:
                cases = table("gram_matrix", hidden)["cases"]
            except Exception:
                continue
            for case in cases:
                if case.args[0].shape == F.shape and bool(tf.reduce_all(case.args[0] == F)):
                    return tf.constant(case.want, tf.float32)
        return tf.zeros((F.shape[-1], F.shape[-1]))
    if tf.executing_eagerly():
        return lookup(F)
    return tf.py_function(lookup, [F], tf.float32)     # the values, also inside tf.function
''', "", False),
}


def cheating(solution, after):
    """Notebook 03 cut to its set-up, exercise and check cells (the rest only paints), with
    the gram_matrix solution replaced and `after` added to that cell."""
    nb = nbformat.read(str(NOTEBOOKS / NB03), as_version=4)
    keep = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" or meta or cell.source.startswith("from course_utils"):
            keep.append(cell)
    nb.cells = keep
    if solution is not None:
        cell = next(c for c in nb.cells if c.source.startswith("def gram_matrix"))
        head, _, rest = cell.source.partition("    ### BEGIN SOLUTION\n")
        _, _, tail = rest.partition("    ### END SOLUTION")
        body = textwrap.indent(textwrap.dedent(solution).strip("\n"), "    ")
        cell.source = head + body + tail + "\n" + after
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("cheats")
    for name, (solution, after, _) in {**CHEATS, "honest": (None, "", None)}.items():
        (subs / name).mkdir()
        nbformat.write(cheating(solution, after), str(subs / name / NB03))
    out = subs.parent / "grades.csv"
    result = subprocess.run([sys.executable, "-m", "course_utils.assignments", "grade", str(subs),
                             str(out), "--notebooks", str(NOTEBOOKS)],
                            cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr
    import csv
    with open(out, newline="") as f:
        return {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}


def test_the_honest_solution_scores_full_points(graded):
    for exercise, points in (("gram_matrix", 2), ("style_layer_loss", 3), ("style_loss", 2)):
        row = graded[("honest", exercise)]
        assert row["status"] == "pass" and float(row["points"]) == points, row


@pytest.mark.parametrize("cheat", CHEATS)
def test_each_cheat_scores_zero_on_gram_matrix(cheat, graded):
    row = graded[(cheat, "gram_matrix")]
    assert row["status"] == "fail" and float(row["points"]) == 0, row


def test_a_table_lookup_is_caught_as_borrowing(graded):
    message = graded[("looks_up_the_answer_table", "gram_matrix")]["message"]
    assert "calls the course's own gram_matrix" in message


def _in_kernel(nb, cwd):
    """The notebook run as nbgrader's autograde runs it: one kernel, errors allowed; whether
    the gram_matrix check cell ended in an error (what nbgrader scores 0)."""
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "ex03_gram_matrix_check")
    return any(o.output_type == "error" for o in cell.outputs)


@pytest.mark.parametrize("cheat", CHEATS)
def test_which_cheats_the_check_cells_stop_in_the_kernel(cheat, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PRESET", "ci")
    solution, after, stopped = CHEATS[cheat]
    assert _in_kernel(cheating(solution, after), tmp_path) is stopped
