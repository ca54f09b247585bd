"""What an instructor hands out: a student release, or an nbgrader course directory.

`student_release` writes the student notebooks and, beside them, a copy of the package with
no answers: `losses` keeps only what is not an exercise and takes the five exercise
functions from `exercises.yours` (the student's own, saved by their passing checks), as
`colour` and `masks` take notebook 6's `with_chroma` and `guided_gram_matrix`; this
instructors' sub-package (`classroom`) is left out as a whole, and the checks read
answers.json — test inputs, expected outputs and the outputs of the known mistakes,
computed from the reference now.

`nbgrader_course` writes a ready nbgrader course: nbgrader_config.py, and
source/<ASSIGNMENT>/ with the exercise notebooks (their check cells followed by hidden
tests) and the same answer-free package; the hidden cases' answers stay at the course
root, outside what students receive.
"""
import ast
import json
import re
from pathlib import Path

from ..exercises import cases, table
from ..files import write_all
from . import answers
from .markers import AssignmentError, make_student, notebook_bytes, read_notebook, refuse_overwrite

PACKAGE = Path(__file__).resolve().parent.parent          # course_utils
INSTRUCTORS = Path(__file__).resolve().parent              # course_utils/classroom: left out
# Notebooks left out of the student release (none: notebook 06's checks read stored tables
# too, so their references, which would give away gram_matrix, stay in the answer key).
NOT_RELEASED = set()
ASSIGNMENT = "losses"
HIDDEN_ANSWERS = "hidden_answers.json"
# The modules whose exercise functions a release takes from `exercises.yours`:
# {file: (the exercises, helpers that would give half of one away)}.
YOURS = {"losses.py": (cases.EXERCISES, ("_as_matrix",)),
         "colour.py": (("with_chroma",), ()),
         "masks.py": (("guided_gram_matrix",), ())}
CHECK_CALL = re.compile(r"^(?P<call>(?:control_)?checks\.check_(?P<name>\w+))\((?P<fn>\w+)\)\s*$",
                        re.M)

STUDENT_README = """# Neural style transfer, step by step: your notebooks

Open the notebooks in this folder (Jupyter, from this folder: the `course_utils` beside
them is the one they use).  Each exercise cell has a `TODO`; the cell after it checks your
function against the paper's equation and names the most likely mistake.  A check that
passes saves your function into `my_losses.py`, and from then on the course's training
loop uses it: the pictures of the later notebooks are painted by your losses.
"""

CONFIG = '''"""nbgrader's configuration for the course (python -m course_utils.assignments nbgrader)."""
import os

c = get_config()  # noqa: F821  (nbgrader provides it)
HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "nst-course"
# The kernels nbgrader starts inherit these: the `ci` preset (nbgrader sets NBGRADER_EXECUTION,
# which selects it too) and the answers of the hidden tests, which students never receive.
os.environ.setdefault("COURSE_PRESET", "ci")
os.environ.setdefault("COURSE_HIDDEN_ANSWERS", os.path.join(HERE, "{hidden}"))
# A cell may take longer than nbgrader's 30 s: notebook 05's Figure 3 makes its 25 small
# transfers in one cell (about 35 s under `ci` on a loaded 2-core machine).
c.Execute.timeout = 300
'''


def student_release(outdir, notebook_dir) -> list[Path]:
    """Write the student release into outdir: notebooks, answer-free package, README."""
    outdir = Path(outdir)
    notebooks = [p for p in sorted(Path(notebook_dir).glob("*.ipynb")) if p.name not in NOT_RELEASED]
    if not notebooks:
        raise AssignmentError(f"no notebooks found in {notebook_dir}")
    written = make_student(notebooks, outdir)
    written += write_package(outdir / "course_utils")
    return written + write_all({outdir / "README.md": STUDENT_README.encode("utf-8")})


def write_package(target) -> list[Path]:
    """The answer-free copy of the package in target (a directory named course_utils): its
    Python and JSON files, without the classroom sub-package."""
    target = Path(target)
    files = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and INSTRUCTORS not in path.parents:
            files[target / path.relative_to(PACKAGE)] = path.read_bytes()
    for module, (names, helpers) in YOURS.items():
        files[target / module] = release_module((PACKAGE / module).read_text("utf-8"), names, helpers)
    files[target / table.STORED_NAME] = _json(answers.stored())
    return write_all(files)


def release_module(source, names, helpers=()) -> bytes:
    """A module's source without the exercise functions `names` (and `helpers`, which would
    give half of one away); the exercises come from `yours` instead."""
    drop = set(names) | set(helpers)
    lines = source.splitlines(keepends=True)
    for node in reversed(ast.parse(source).body):
        if isinstance(node, ast.FunctionDef) and node.name in drop:
            start = node.lineno - 1 - len(node.decorator_list)
            del lines[start:node.end_lineno]
    text = re.sub(r"\n{3,}", "\n\n\n", "".join(lines)).rstrip() + "\n"
    text += ("\n\n# Student release: these exercises are yours, saved by your passing checks "
             "(see exercises/yours.py).\nfrom .exercises.yours import (  # noqa: E402,F401  (upward: the "
             f"point)\n    {', '.join(names)})\n")
    return text.encode("utf-8")


def _json(data):
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------
# nbgrader.

def nbgrader_course(course_dir, notebook_dir) -> list[Path]:
    """Write an nbgrader course: config, source/<ASSIGNMENT>/ (exercise notebooks with hidden
    tests, the answer-free package), and the hidden cases' answers at the course root."""
    course_dir = Path(course_dir)
    source = course_dir / "source" / ASSIGNMENT
    exercise_notebooks = [p for p in sorted(Path(notebook_dir).glob("*.ipynb"))
                          if grade_cells(read_notebook(p))]
    if not exercise_notebooks:
        raise AssignmentError(f"no notebooks with exercises found in {notebook_dir}")
    files = {source / p.name: _with_hidden_tests(p) for p in exercise_notebooks}
    files[course_dir / "nbgrader_config.py"] = CONFIG.replace("{hidden}", HIDDEN_ANSWERS).encode()
    files[course_dir / HIDDEN_ANSWERS] = _json(answers.stored(hidden=True))
    for target in files:
        refuse_overwrite(Path(notebook_dir) / target.name, target, {})
    return write_all(files) + write_package(source / "course_utils")


def grade_cells(nb):
    """[(cell, its nbgrader metadata)] of the notebook's graded (check) cells, in order."""
    return [(cell, cell.metadata["nbgrader"]) for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")]


def with_hidden_tests(source):
    """A check cell's source followed by the same check on the hidden cases."""
    match = CHECK_CALL.search(source)
    if match is None or "### BEGIN HIDDEN TESTS" in source:
        return source
    return (source.rstrip("\n") + "\n### BEGIN HIDDEN TESTS\n"
            f"{match['call']}({match['fn']}, hidden=True)\n### END HIDDEN TESTS")


def _with_hidden_tests(path):
    nb = read_notebook(path)
    for cell, _ in grade_cells(nb):
        cell.source = with_hidden_tests(cell.source)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook_bytes(nb)
