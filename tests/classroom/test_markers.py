"""Student notebooks hide the solutions behind runnable stubs, and `solve`
puts exactly the solutions back."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.classroom import cli, markers

REPO = Path(__file__).resolve().parents[2]

TODO = 'return ½ Σ (F − P)² as a scalar ("sum", not mean; a \\ is fine)'
CONTENT_CELL = f'''def content_loss(F, P):
    """L_content = ½ Σ (F − P)²."""
    # TODO: {TODO}
    ### BEGIN SOLUTION
    d = [f - p for f, p in zip(F, P)]
    return 0.5 * sum(x * x for x in d)
    ### END SOLUTION'''
NESTED_CELL = '''class Gram:
    def matrix(self, F):
        ### BEGIN SOLUTION
        return [[a * b for b in F] for a in F]
        ### END SOLUTION


def weights():
    # TODO: return the weights w_l
    ### BEGIN SOLUTION
    return [0.2] * 5
    ### END SOLUTION
print(weights())'''
SOLUTION_LINES = ["d = [f - p", "return 0.5 * sum", "[[a * b for b in F]", "return [0.2] * 5"]


def _notebook(*sources, outputs=True):
    """A notebook of a markdown cell and code cells with outputs."""
    cells = [new_markdown_cell("# Losses\nImplement Eq. 1.")]
    for n, source in enumerate(sources, start=1):
        cell = new_code_cell(source, execution_count=n, metadata={"tags": [f"t{n}"]})
        if outputs:
            cell.outputs = [new_output("stream", name="stdout", text=f"out {n}\n")]
        cells.append(cell)
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                            "display_name": "Python 3",
                                                            "language": "python"}})
    return nb


def _save(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _code(path):
    return [c.source for c in nbformat.read(str(path), as_version=4).cells
            if c.cell_type == "code"]


def _cli(*args):
    """Run the module in a fresh interpreter, as CI does."""
    return subprocess.run([sys.executable, "-m", "course_utils.assignments", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def _main(capsys, *args):
    """Run the CLI in this process (faster): exit code and stderr."""
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture
def source(tmp_path):
    return _save(_notebook(CONTENT_CELL, "print('no exercise here')", NESTED_CELL),
                 tmp_path / "src" / "01_losses.ipynb")


@pytest.fixture
def student(source, tmp_path):
    [path] = markers.make_student([source], tmp_path / "student")
    return path


# ---------------------------------------------------------------------------
# The student build.

def test_student_notebook_has_no_solution_line(student):
    code = "\n".join(_code(student))
    for line in SOLUTION_LINES:
        assert line not in code
    assert "SOLUTION" not in code


def test_student_notebook_shows_the_todo_and_raises(student):
    cell = _code(student)[0]
    assert f"    # TODO: {TODO}\n" in cell
    assert "    raise NotImplementedError(" in cell


def test_stub_defines_a_function_that_raises_the_todo(student):
    namespace = {}
    exec(_code(student)[0], namespace)
    with pytest.raises(NotImplementedError) as info:
        namespace["content_loss"]([1.0], [0.0])
    assert str(info.value) == TODO


def test_nested_stubs_keep_their_indentation_and_default_todo(student):
    namespace = {}
    cell = _code(student)[2]
    assert '        raise NotImplementedError("write your code here")\n' in cell
    with pytest.raises(NotImplementedError, match="return the weights w_l"):
        exec(cell, namespace)                      # the cell calls weights()
    with pytest.raises(NotImplementedError, match="write your code here"):
        namespace["Gram"]().matrix([1.0])


def test_strip_solutions_replaces_the_block_at_its_indentation():
    source = ("def f():\n    # TODO: say \"hi\"\n    ### BEGIN SOLUTION\n    return 1\n"
              "    ### END SOLUTION\n")
    assert markers.strip_solutions(source) == (
        "def f():\n"
        '    # TODO: say "hi"\n'
        "    ### BEGIN YOUR CODE\n"
        '    raise NotImplementedError("say \\"hi\\"")\n'
        "    ### END YOUR CODE\n")


def test_strip_solutions_leaves_code_without_exercise_alone():
    source = "x = 1\n# a comment\n"
    assert markers.strip_solutions(source) == source


def test_student_outputs_are_stripped_and_metadata_kept(source, student):
    original, built = (nbformat.read(str(p), as_version=4) for p in (source, student))
    nbformat.validate(built)
    assert built.metadata == original.metadata
    for cell, before in zip(built.cells, original.cells):
        assert cell.metadata == before.metadata
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert built.cells[0].source == original.cells[0].source        # markdown untouched
    assert _code(student)[1] == "print('no exercise here')"


def test_notebook_without_exercises_is_copied_unchanged(tmp_path):
    plain = _save(_notebook("x = 1", "print(x)"), tmp_path / "src" / "00_intro.ipynb")
    [built] = markers.make_student([plain], tmp_path / "student")
    assert built.read_bytes() == plain.read_bytes()
    [solved] = markers.fill_solutions(tmp_path / "student", tmp_path / "src",
                                          tmp_path / "solved")
    assert solved.read_bytes() == plain.read_bytes()


def test_outdir_and_its_parents_are_created_and_no_temp_file_is_left(source, tmp_path):
    outdir = tmp_path / "a" / "b" / "student"
    assert markers.make_student([source], outdir) == [outdir / source.name]
    assert [p.name for p in outdir.iterdir()] == [source.name]


def test_refuses_to_overwrite_the_source(source):
    with pytest.raises(markers.AssignmentError, match="refusing to overwrite"):
        markers.make_student([source], source.parent)
    assert "### BEGIN SOLUTION" in _code(source)[0]


def test_malformed_marker_is_refused_rather_than_leaked(tmp_path):
    bad = _save(_notebook("#### begin solution\nsecret = 1\n### END SOLUTION"),
                tmp_path / "bad.ipynb")
    with pytest.raises(markers.AssignmentError, match="cell 2: line 1: malformed"):
        markers.make_student([bad], tmp_path / "out")


def test_the_old_hint_on_the_marker_line_is_refused(tmp_path):
    bad = _save(_notebook("def f():\n    ### BEGIN SOLUTION: a hint\n    return 1\n"
                          "    ### END SOLUTION"), tmp_path / "bad.ipynb")
    with pytest.raises(markers.AssignmentError, match="# TODO: <hint>' line above"):
        markers.make_student([bad], tmp_path / "out")


def test_hidden_tests_are_removed_from_the_student_build(tmp_path):
    check = ("checks.check_gram_matrix(gram_matrix)\n### BEGIN HIDDEN TESTS\n"
             "checks.check_gram_matrix(gram_matrix, hidden=True)\n### END HIDDEN TESTS")
    source = _save(_notebook(CONTENT_CELL, check), tmp_path / "src" / "03.ipynb")
    [built] = markers.make_student([source], tmp_path / "student")
    assert _code(built)[1] == "checks.check_gram_matrix(gram_matrix)"


def test_unmatched_hidden_tests_marker_is_refused(tmp_path):
    bad = _save(_notebook("x = 1\n### BEGIN HIDDEN TESTS\ny = 2"), tmp_path / "bad.ipynb")
    with pytest.raises(markers.AssignmentError, match="BEGIN HIDDEN TESTS without"):
        markers.make_student([bad], tmp_path / "out")


# ---------------------------------------------------------------------------
# Solving the student build.

def test_solve_restores_the_source_code_exactly(source, student, tmp_path):
    [solved] = markers.fill_solutions(student.parent, source.parent, tmp_path / "solved")
    assert _code(solved) == _code(source)
    notebook = nbformat.read(str(solved), as_version=4)
    assert all(c.outputs == [] for c in notebook.cells if c.cell_type == "code")


def test_cli_student_then_solve_round_trip(source, tmp_path):
    built = _cli("student", tmp_path / "student", source)
    assert built.returncode == 0, built.stderr
    assert "SOLUTION" not in "\n".join(_code(tmp_path / "student" / source.name))
    solved = _cli("solve", tmp_path / "student", source.parent, tmp_path / "solved")
    assert solved.returncode == 0, solved.stderr
    assert _code(tmp_path / "solved" / source.name) == _code(source)


def test_solve_refuses_different_numbers_of_exercises(source, student, tmp_path, capsys):
    nb = nbformat.read(str(student), as_version=4)
    nb.cells[3].source = "def weights():\n    return [0.2] * 5"
    nbformat.write(nb, str(student))
    code, err = _main(capsys, "solve", student.parent, source.parent, tmp_path / "solved")
    assert code == 2 and err.count("\n") == 1
    assert "1 exercise stub(s)" in err and "3 solution block(s)" in err
    assert not (tmp_path / "solved").exists()


def test_solve_needs_a_source_notebook_of_the_same_name(student, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, err = _main(capsys, "solve", student.parent, tmp_path / "empty", tmp_path / "solved")
    assert code == 2 and "no source notebook" in err


# ---------------------------------------------------------------------------
# Errors: one line on stderr, exit code 2.

@pytest.mark.parametrize("cell, where", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1", "cell 2: line 2: ### BEGIN SOLUTION without"),
    ("def f():\n    return 1\n    ### END SOLUTION", "cell 2: line 3: ### END SOLUTION without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "cell 2: line 2: ### BEGIN"),
])
def test_unmatched_markers_exit_2_with_one_line(cell, where, tmp_path, capsys):
    bad = _save(_notebook(cell), tmp_path / "src" / "bad.ipynb")
    code, err = _main(capsys, "student", tmp_path / "out", bad)
    assert code == 2 and err.count("\n") == 1
    assert "bad.ipynb" in err and where in err
    assert not (tmp_path / "out").exists()


def test_module_run_exits_2_with_one_line_on_unmatched_markers(tmp_path):
    good = _save(_notebook(CONTENT_CELL), tmp_path / "src" / "good.ipynb")
    bad = _save(_notebook("x = 1", "### END SOLUTION"), tmp_path / "src" / "bad.ipynb")
    result = _cli("student", tmp_path / "out", good, bad)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "bad.ipynb, cell 3: line 1: ### END SOLUTION without" in result.stderr
    assert not (tmp_path / "out").exists()                   # nothing half-written


def test_no_notebooks_found_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "NOTEBOOK_DIR", tmp_path / "notebooks")
    assert cli.main(["student", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no notebooks found" in err


def test_no_student_notebooks_found(tmp_path, capsys):
    (tmp_path / "student").mkdir()
    code, err = _main(capsys, "solve", tmp_path / "student", tmp_path, tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "no notebooks found" in err


def test_missing_notebook_argument_is_named(tmp_path, capsys):
    code, err = _main(capsys, "student", tmp_path / "out", tmp_path / "nope.ipynb")
    assert code == 2 and err.count("\n") == 1 and "nope.ipynb" in err


def test_usage_error_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["teleport"])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
