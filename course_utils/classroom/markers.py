"""Notebook markers: the students' notebooks from the solution notebooks, and back.

In a solution notebook each exercise is a block of code-cell lines between the
markers nbgrader uses, with the hint for the student on a comment line above:

    # TODO: <what to do, shown to the student>
    ### BEGIN SOLUTION
    ...the solution...
    ### END SOLUTION

`make_student` replaces every block, at the marker's indentation, by

    ### BEGIN YOUR CODE
    raise NotImplementedError("<what to do>")
    ### END YOUR CODE

removes every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block, and
strips the outputs of notebooks that have exercises (notebooks without exercises are
copied byte for byte).  `fill_solutions` puts the solutions back into the stubs, matching
notebooks by file name and blocks by order: a student who solved everything, whose
notebooks CI runs under nbval.  The command line is `classroom.cli`.
"""
import json
import re
from pathlib import Path

import nbformat

from ..files import write_all

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
        refuse_overwrite(path, target, outputs)
        outputs[target] = _student_notebook(path)
    return write_all(outputs)


def _student_notebook(path):
    """The student notebook's text, or the original bytes if it has no exercise."""
    nb = read_notebook(path)
    changed = False
    for index, cell in code_cells(nb):
        stripped = _in_cell(path, index, strip_solutions, cell.source)
        changed = changed or stripped != cell.source
        cell.source = stripped
    if not changed:
        return path.read_bytes()
    for _, cell in code_cells(nb):
        cell.outputs, cell.execution_count = [], None
    return notebook_bytes(nb)


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
        refuse_overwrite(path, target, outputs)
        refuse_overwrite(source, target, outputs)
        outputs[target] = _solved_notebook(path, source)
    return write_all(outputs)


def _solved_notebook(path, source):
    """The student notebook's text with the source's solutions in its stubs."""
    solutions = _blocks_in(source, read_notebook(source), BEGIN_SOLUTION, END_SOLUTION, "SOLUTION")
    nb = read_notebook(path)
    stubs = _blocks_in(path, nb, BEGIN_STUB, END_STUB, "YOUR CODE")
    if len(stubs) != len(solutions):
        raise AssignmentError(f"{path}: {len(stubs)} exercise stub(s), but {source} has "
                              f"{len(solutions)} solution block(s)")
    if not stubs:
        return path.read_bytes()
    solutions = iter(solutions)
    for _, cell in code_cells(nb):
        cell.source = _fill(cell.source, solutions)
    return notebook_bytes(nb)


def _blocks_in(path, nb, begin, end, what):
    """Every Block of the notebook's code cells, in order."""
    return [piece
            for index, cell in code_cells(nb)
            for piece in _in_cell(path, index, _blocks, cell.source, begin, end, what)
            if isinstance(piece, Block)]


def _in_cell(path, index, fn, *args):
    """fn(*args), naming the notebook and cell (counted from 1) in any error."""
    try:
        return fn(*args)
    except AssignmentError as err:
        raise AssignmentError(f"{path}, cell {index + 1}: {err}") from None


def code_cells(nb):
    return [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def notebook_bytes(nb):
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def read_notebook(path):
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise AssignmentError(f"no such notebook: {path}") from None
    except Exception as err:
        raise AssignmentError(f"{path}: not a readable notebook ({err})") from None


def refuse_overwrite(source, target, outputs):
    if target in outputs:
        raise AssignmentError(f"two notebooks would both be written to {target}")
    if target.resolve() == Path(source).resolve():
        raise AssignmentError(f"refusing to overwrite {source} with its own output")
