"""Build the students' notebooks from the solution notebooks, and back; hand them out.

In a solution notebook each exercise is a block of code-cell lines between the
markers nbgrader uses, with the hint for the student on a comment line above:

    # TODO: <what to do, shown to the student>
    ### BEGIN SOLUTION
    ...the solution...
    ### END SOLUTION

``student`` replaces every block, at the marker's indentation, by

    ### BEGIN YOUR CODE
    raise NotImplementedError("<what to do>")
    ### END YOUR CODE

removes every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block, and
strips the outputs of notebooks that have exercises (notebooks without exercises are
copied byte for byte).  ``solve`` puts the solutions back into the stubs, matching
notebooks by file name and blocks by order: a student who solved everything, whose
notebooks CI runs under nbval.  ``release``, ``nbgrader`` (see `handout`) and
``grade`` (see `grading`) are the instructor's three routes.

    python -m course_utils.assignments student OUTDIR [NOTEBOOK ...]
    python -m course_utils.assignments solve STUDENT_DIR SOURCE_DIR OUTDIR
    python -m course_utils.assignments release OUTDIR
    python -m course_utils.assignments nbgrader COURSE_DIR
    python -m course_utils.assignments grade SUBMISSIONS OUT.csv
"""
import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path("notebooks")       # of the course checkout the command runs in (an installed
                                       # package has no notebooks of its own)

BEGIN_SOLUTION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^[ \t]*### END SOLUTION\s*$")
BEGIN_STUB = re.compile(r"^(?P<indent>[ \t]*)### BEGIN YOUR CODE\s*$")
END_STUB = re.compile(r"^[ \t]*### END YOUR CODE\s*$")
ANY_SOLUTION_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)\s*SOLUTION", re.IGNORECASE)
TODO = re.compile(r"^[ \t]*# TODO:(?P<todo>.*)$")
BEGIN_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^[ \t]*### END HIDDEN TESTS\s*$")

DEFAULT_TODO = "write your code here"


class AssignmentError(ValueError):
    """A problem with the notebooks that the CLI reports in one line."""


# ---------------------------------------------------------------------------
# One cell's source.

def strip_solutions(source: str) -> str:
    """The cell source with every solution block replaced by a stub, hidden tests removed."""
    pieces = []
    for piece in _blocks(strip_hidden_tests(source), BEGIN_SOLUTION, END_SOLUTION, "SOLUTION"):
        pieces.extend(_stub(piece) if isinstance(piece, Block) else [piece])
    return "\n".join(pieces)


def strip_hidden_tests(source: str) -> str:
    """The cell source without its ### BEGIN/END HIDDEN TESTS blocks."""
    return "\n".join(piece for piece in _blocks(source, BEGIN_HIDDEN, END_HIDDEN, "HIDDEN TESTS")
                     if not isinstance(piece, Block))


def _stub(block):
    """The lines a student sees instead of a solution block."""
    todo = block.todo or DEFAULT_TODO
    return [f"{block.indent}### BEGIN YOUR CODE",
            f"{block.indent}raise NotImplementedError({json.dumps(todo, ensure_ascii=False)})",
            f"{block.indent}### END YOUR CODE"]


def _fill(source, solutions):
    """The student cell source with each stub replaced by next(solutions)'s lines."""
    pieces = []
    for piece in _blocks(source, BEGIN_STUB, END_STUB, "YOUR CODE"):
        pieces.extend(next(solutions).lines if isinstance(piece, Block) else [piece])
    return "\n".join(pieces)


class Block:
    """Lines from a BEGIN marker to its END marker, both included."""

    def __init__(self, lines, indent, todo, number):
        self.lines, self.indent, self.todo, self.number = lines, indent, todo, number


def _blocks(source, begin, end, what):
    """Split source into plain lines and Blocks between begin and end markers."""
    pieces, block = [], None
    for number, line in enumerate(source.split("\n"), start=1):
        start = begin.match(line)
        if block is None and start:
            hint = TODO.match(pieces[-1]) if pieces and isinstance(pieces[-1], str) else None
            block = Block([line], start.groupdict().get("indent", ""),
                          hint["todo"].strip() if hint else "", number)
        elif block is None and end.match(line):
            raise AssignmentError(f"line {number}: ### END {what} without ### BEGIN {what}")
        elif block is not None and start:
            raise AssignmentError(f"line {number}: ### BEGIN {what} inside another block "
                                  f"(no ### END {what} before it)")
        elif block is not None:
            block.lines.append(line)
            if end.match(line):
                pieces.append(block)
                block = None
        else:
            _refuse_malformed(line, number, what)
            pieces.append(line)
    if block is not None:
        raise AssignmentError(f"line {block.number}: ### BEGIN {what} without ### END {what}")
    return pieces


def _refuse_malformed(line, number, what):
    """A solution marker that is almost right would leak the solution: refuse it."""
    if what == "SOLUTION" and ANY_SOLUTION_MARKER.match(line):
        raise AssignmentError(f"line {number}: malformed marker {line.strip()!r} (write exactly "
                              "'### BEGIN SOLUTION' or '### END SOLUTION'; the hint goes on a "
                              "'# TODO: <hint>' line above)")


# ---------------------------------------------------------------------------
# Whole notebooks.

def make_student(src_paths, outdir) -> list[Path]:
    """Write the student version of each solution notebook into outdir."""
    src_paths = [Path(p) for p in src_paths]
    if not src_paths:
        raise AssignmentError("no notebooks found")
    outdir = Path(outdir)
    outputs = {}
    for path in src_paths:
        target = outdir / path.name
        _refuse_overwrite(path, target, outputs)
        outputs[target] = _student_notebook(path)
    return _write_all(outputs)


def _student_notebook(path):
    """The student notebook's text, or the original bytes if it has no exercise."""
    nb = _read(path)
    changed = False
    for index, cell in _code_cells(nb):
        stripped = _in_cell(path, index, strip_solutions, cell.source)
        changed = changed or stripped != cell.source
        cell.source = stripped
    if not changed:
        return path.read_bytes()
    for _, cell in _code_cells(nb):
        cell.outputs, cell.execution_count = [], None
    return _notebook_bytes(nb)


def fill_solutions(student_dir, source_dir, outdir) -> list[Path]:
    """Write each student notebook with its stubs filled from the source notebook."""
    student_dir, source_dir, outdir = Path(student_dir), Path(source_dir), Path(outdir)
    student_paths = sorted(student_dir.glob("*.ipynb"))
    if not student_paths:
        raise AssignmentError(f"no notebooks found in {student_dir}")
    outputs = {}
    for path in student_paths:
        source = source_dir / path.name
        if not source.is_file():
            raise AssignmentError(f"{path}: no source notebook {source}")
        target = outdir / path.name
        _refuse_overwrite(path, target, outputs)
        _refuse_overwrite(source, target, outputs)
        outputs[target] = _solved_notebook(path, source)
    return _write_all(outputs)


def _solved_notebook(path, source):
    """The student notebook's text with the source's solutions in its stubs."""
    solutions = _blocks_in(source, _read(source), BEGIN_SOLUTION, END_SOLUTION, "SOLUTION")
    nb = _read(path)
    stubs = _blocks_in(path, nb, BEGIN_STUB, END_STUB, "YOUR CODE")
    if len(stubs) != len(solutions):
        raise AssignmentError(f"{path}: {len(stubs)} exercise stub(s), but {source} has "
                              f"{len(solutions)} solution block(s)")
    if not stubs:
        return path.read_bytes()
    solutions = iter(solutions)
    for _, cell in _code_cells(nb):
        cell.source = _fill(cell.source, solutions)
    return _notebook_bytes(nb)


def _blocks_in(path, nb, begin, end, what):
    """Every Block of the notebook's code cells, in order."""
    return [piece
            for index, cell in _code_cells(nb)
            for piece in _in_cell(path, index, _blocks, cell.source, begin, end, what)
            if isinstance(piece, Block)]


def _in_cell(path, index, fn, *args):
    """fn(*args), naming the notebook and cell (counted from 1) in any error."""
    try:
        return fn(*args)
    except AssignmentError as err:
        raise AssignmentError(f"{path}, cell {index + 1}: {err}") from None


def _code_cells(nb):
    return [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def _notebook_bytes(nb):
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _read(path):
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise AssignmentError(f"no such notebook: {path}") from None
    except Exception as err:
        raise AssignmentError(f"{path}: not a readable notebook ({err})") from None


def _refuse_overwrite(source, target, outputs):
    if target in outputs:
        raise AssignmentError(f"two notebooks would both be written to {target}")
    if target.resolve() == Path(source).resolve():
        raise AssignmentError(f"refusing to overwrite {source} with its own output")


# ---------------------------------------------------------------------------
# Writing.

def _write_all(outputs):
    """Write every {path: bytes} atomically; the paths, in order."""
    for path, data in outputs.items():
        _write_atomic(path, data)
    return list(outputs)


def _write_atomic(path, data):
    """Write bytes to a temporary file next to path, then rename it onto path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())          # as open() would make it, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------
# Command line.

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    parser = _Parser(prog="python -m course_utils.assignments",
                     description="Build student notebooks, fill them back with solutions, "
                                 "hand them out (release, nbgrader) and grade them.")
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student notebooks into OUTDIR")
    student.add_argument("outdir", type=Path)
    student.add_argument("notebooks", nargs="*", type=Path,
                         help=f"solution notebooks (default: {NOTEBOOK_DIR}/*.ipynb)")
    solve = commands.add_parser("solve", help="fill student notebooks with the solutions")
    solve.add_argument("student_dir", type=Path)
    solve.add_argument("source_dir", type=Path)
    solve.add_argument("outdir", type=Path)
    release = commands.add_parser("release", help="write what students receive into OUTDIR: "
                                  "notebooks and a package with no answers")
    release.add_argument("outdir", type=Path)
    course = commands.add_parser("nbgrader", help="write an nbgrader course directory")
    course.add_argument("course_dir", type=Path)
    grade = commands.add_parser("grade", help="run every student's notebooks and write a CSV")
    grade.add_argument("submissions", type=Path, help="one folder per student")
    grade.add_argument("csv", type=Path, help="the CSV to write")
    grade.add_argument("--timeout", type=float, default=600.0,
                       help="seconds each notebook may run (default: 600)")
    for command in (release, course, grade):
        command.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                             help=f"the solution notebooks' folder (default: {NOTEBOOK_DIR})")
    return parser


def main(argv=None):
    """Run the CLI; return the exit code (2 and one line on stderr on errors)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "grade":
            from . import grading
            return grading.main(args.submissions, args.csv, args.notebooks, args.timeout)
        written = _build(args)
    except (AssignmentError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    package = [p for p in written if p.parent.name == "course_utils"]
    for path in written:
        if path not in package:
            print(f"wrote {path}")
    if package:
        print(f"wrote {package[0].parent}/ (the package without answers, {len(package)} files)")
    return 0


def _build(args):
    if args.command == "student":
        notebooks = args.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
        if not notebooks:
            raise AssignmentError(f"no notebooks found in {NOTEBOOK_DIR}")
        return make_student(notebooks, args.outdir)
    if args.command == "solve":
        return fill_solutions(args.student_dir, args.source_dir, args.outdir)
    from . import handout
    if args.command == "release":
        return handout.release(args.outdir, args.notebooks)
    return handout.nbgrader_course(args.course_dir, args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
