"""What an instructor hands out: a student release, or an nbgrader course directory.

`student_release` writes the student edition (`editions.STUDENT`; `publish` tags it): the
student notebooks, their first cells offering and installing this edition, and beside them a
copy of the package with no answers (with what pip and Binder need to install it): `losses`
keeps only what is not an exercise and takes the five exercise functions from
`exercises.yours` (the student's own, saved by their passing checks), as `colour` and `masks`
take notebook 6's `with_chroma` and notebook 7's `guided_gram_matrix`; this instructors' sub-package
(`classroom`) is left out as a whole, and the checks read answers.json — test inputs,
expected outputs and the outputs of the known mistakes, computed from the reference now.

`nbgrader_course` writes a ready nbgrader course: nbgrader_config.py, and
source/<ASSIGNMENT>/ with the exercise notebooks (their check cells followed by hidden
tests) and the same answer-free package; the hidden cases' answers stay at the course
root, outside what students receive.
"""
import ast
import json
import os
import re
from importlib import metadata
from pathlib import Path

from .. import editions, release
from ..exercises import cases, table
from ..files import write_all
from . import answers
from .markers import AssignmentError, make_student, notebook_bytes, read_notebook, refuse_overwrite

PACKAGE = Path(__file__).resolve().parent.parent          # course_utils
INSTRUCTORS = Path(__file__).resolve().parent              # course_utils/classroom: left out
# Notebooks left out of the student release (none: the checks of notebooks 06 and 07 read
# stored tables too, so their references, which would give away gram_matrix, stay in the
# answer key).
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

STUDENT_README = """# Neural style transfer, step by step: the student edition

This is the student edition of the course [Neural style transfer, step by step]({repository})
({tag}): its notebooks with a `TODO` where each solution was, and beside them a `course_utils`
package that holds no answers (the course with its solutions is that repository at {tag}).

Open a notebook on Colab, Kaggle or Binder from its links below (or in its first cell), or in
Jupyter from this folder: the `course_utils` beside the notebooks is the one they use
(`pip install .` installs it).  Each exercise cell has a `TODO`; the cell after it checks your
function against the paper's equation and names the most likely mistake.  A check that
passes saves your function into `my_losses.py`, and from then on the course's training
loop uses it: the pictures of the later notebooks are painted by your losses.

{notebooks}"""

# The student edition's pyproject.toml: the package without its instructors' room, the course's
# own dependencies (as the installed distribution gives them) and JSON data (answers.json).
PYPROJECT = """# The student edition of the course package (python -m course_utils.assignments release).
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = {name}
version = {version}
description = "Neural style transfer, step by step: the student edition (no answers)"
readme = "README.md"
requires-python = {python}
dependencies = {dependencies}

[project.optional-dependencies]
lab = {lab}

[tool.setuptools]
packages = {packages}

[tool.setuptools.package-data]
{data}
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
# A cell may take longer than nbgrader's 30 s: notebook 05's Figure 3 makes its 20 small
# transfers in one cell (when it made 25, they took about 35 s under `ci` on a loaded 2-core
# machine).
c.Execute.timeout = 300
'''


def has_student_edition(notebook) -> bool:
    """Whether the student release has the notebook (a file name)."""
    return notebook not in NOT_RELEASED


def student_release(outdir, notebook_dir) -> list[Path]:
    """Write the student edition into outdir: notebooks, answer-free package, README, and
    pyproject.toml and binder/ (the course's) so that pip and Binder install it."""
    outdir, notebook_dir = Path(outdir), Path(notebook_dir)
    notebooks = [p for p in sorted(notebook_dir.glob("*.ipynb")) if has_student_edition(p.name)]
    if not notebooks:
        raise AssignmentError(f"no notebooks found in {notebook_dir}")
    binder = notebook_dir.resolve().parent / "binder"
    if not (binder / "postBuild").is_file():
        raise AssignmentError(f"no {binder}/postBuild: run this in the course's checkout")
    written = make_student(notebooks, outdir)
    first_cells = {path: notebook_bytes(editions.with_first_cells(read_notebook(path), path.name,
                                                                  editions.STUDENT))
                   for path in written}
    package = write_package(outdir / "course_utils")
    readme = STUDENT_README.format(repository=release.REPOSITORY, tag=release.TAG, notebooks="".join(
        f"- `{p.name}`:\n{editions.badge_links(p.name, editions.STUDENT)}" for p in notebooks))
    files = {**first_cells, outdir / "README.md": readme.encode("utf-8"),
             outdir / "pyproject.toml": pyproject(package, outdir).encode("utf-8")}
    binder_files = {outdir / "binder" / p.name: p for p in sorted(binder.iterdir()) if p.is_file()}
    files.update({target: p.read_bytes() for target, p in binder_files.items()})
    written += package + [p for p in write_all(files) if p not in first_cells]
    for target, p in binder_files.items():
        if os.access(p, os.X_OK):                  # postBuild: Binder runs it
            target.chmod(target.stat().st_mode | 0o111)
    return written


def pyproject(package_files, root) -> str:
    """The student edition's pyproject.toml for the package files written under root."""
    requires = metadata.requires(release.DISTRIBUTION) or []
    extra = {r: re.search(r";.*\bextra\s*==\s*[\"']([\w-]+)[\"']", r) for r in requires}
    lab = [r.split(";")[0].strip() for r in requires if extra[r] and extra[r][1] == "lab"]
    packages = sorted(".".join(p.parent.relative_to(root).parts) for p in package_files
                      if p.name == "__init__.py")
    data = {}
    for path in package_files:
        if path.suffix == ".json":                 # belongs to the nearest package above it
            home = next(d for d in path.parents if (d / "__init__.py") in package_files)
            data.setdefault(".".join(home.relative_to(root).parts), []).append(
                path.relative_to(home).as_posix())
    return PYPROJECT.format(
        name=json.dumps(release.DISTRIBUTION), version=json.dumps(release.VERSION),
        python=json.dumps(metadata.metadata(release.DISTRIBUTION)["Requires-Python"]),
        dependencies=json.dumps([r for r in requires if not extra[r]]), lab=json.dumps(lab),
        packages=json.dumps(packages),
        data="".join(f"{json.dumps(k)} = {json.dumps(sorted(v))}\n" for k, v in sorted(data.items())))


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
