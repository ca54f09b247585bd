"""A student's exercise functions, run where they cannot reach the checker.

The grade command does not trust what a student's kernel printed or decided: whatever a
notebook's cells did before a check ran (rebinding `checks`, replacing the course's check
functions, an IPython exception handler, patched NumPy, a function that reads the
checker's frames) is in force in that kernel.  Instead, for each exercise, `run` starts a
fresh Python (`python -m course_utils.classroom.isolated REQUESTS RESULTS`) that executes
only the code the exercise needs — `program`: the import statements and function and class
definitions of the cells before its check, and the cells that define an exercise whole —
and calls the student's function on the cases' *inputs* (`judge.outputs`: directly, then
inside tf.function).  That process never holds an expected value; it writes the outputs,
and the grader loads the expected values and compares (`judge.compare`) in its own
process, which never runs a line of the student's code.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from ..exercises import cases as case_data
from ..exercises import judge
from ..files import write_atomically

# What the grader's processes for student code must not inherit.
PRIVATE_ENV = ("PYTHONPATH", "COURSE_STUDENT_DIR", "COURSE_HIDDEN_ANSWERS")
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def student_env():
    """The environment of the processes that run student code: the `ci` preset, no
    hidden answers, no student folder, no PYTHONPATH, no display."""
    env = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
    env.update(COURSE_PRESET="ci", MPLBACKEND="Agg")
    return env


def program(cell_sources, functions):
    """The statements (as source) that give an exercise's function without the rest of
    the notebook: from every code cell, its imports and function and class definitions;
    from a cell that defines one of `functions` at top level, every statement (a helper or
    a constant beside the function).  IPython's syntax (magics) is made Python first."""
    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    statements = []
    for source in cell_sources:
        try:
            tree = ast.parse(transform(source))
        except (SyntaxError, ValueError):
            continue
        whole = any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.name in functions for node in tree.body)
        statements += [ast.unparse(node) for node in tree.body
                       if whole or isinstance(node, DEFINITIONS)]
    return statements


def request(key, function, exercise, statements, case_sets):
    """One exercise for the isolated process: run `statements`, then `function` on each
    named set of cases (their inputs only), judged as `exercise`."""
    return {"key": key, "function": function, "exercise": exercise, "statements": statements,
            "cases": {kind: case_data.encode(judge.inputs(exercise, hidden))
                      for kind, hidden in case_sets}}


def run(asked_for, workdir, timeout):
    """{key: {kind: Outputs or a failed Verdict}} for each request, or a status string
    ("timeout", or "error: ...") for those the process did not finish."""
    workdir = Path(workdir)
    asked, answered = workdir / "isolated-asked.json", workdir / "isolated-results.json"
    write_atomically(asked, json.dumps(asked_for))
    answered.unlink(missing_ok=True)
    stopped = None
    try:
        with open(os.devnull, "wb") as quiet:
            done = subprocess.run([sys.executable, "-m", __name__, str(asked), str(answered)],
                                  cwd=workdir, env=student_env(), stdin=subprocess.DEVNULL,
                                  stdout=quiet, stderr=quiet, timeout=timeout)
        if done.returncode != 0:
            stopped = (f"error: the process running your exercise functions stopped "
                       f"(exit code {done.returncode}: out of memory, or a crash)")
    except subprocess.TimeoutExpired:
        stopped = "timeout"
    try:
        results = json.loads(answered.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results = {}
    return {r["key"]: _decoded(results[r["key"]], r["exercise"]) if r["key"] in results
            else stopped or "error: no result" for r in asked_for}


def _decoded(result, exercise):
    out = {}
    for kind, got in result.items():
        if "status" in got:
            out[kind] = judge.Verdict(exercise, got["status"], got["message"],
                                      error=judge.CheckFailed(got["message"]))
        else:
            graph = got["graph"]
            out[kind] = judge.Outputs([case_data.array(a) for a in got["eager"]],
                                      graph if isinstance(graph, str)
                                      else [case_data.array(a) for a in graph])
    return out


# ---------------------------------------------------------------------------
# The isolated process.

def _serve(asked, answered):
    """Run each request's statements and its function; write the outputs after each."""
    asked_for = json.loads(Path(asked).read_text(encoding="utf-8"))
    judge.forbid_borrowing()                 # before any student code: no course answers here
    results = {}
    for r in asked_for:
        results[r["key"]] = _outputs(r)
        write_atomically(Path(answered), json.dumps(results))


def _outputs(r):
    namespace = {"__name__": "__main__"}
    for statement in r["statements"]:
        try:
            exec(compile(statement, "<your notebook>", "exec"), namespace)
        except BaseException:                # a statement that needs the rest of the notebook
            continue
    fn, name = namespace.get(r["function"]), r["exercise"]
    result = {}
    for kind, data in r["cases"].items():
        if not callable(fn):
            message = (f"{name}: no function {r['function']} is defined by the notebook's "
                       "cells before its check (the grader runs the exercise cells on their "
                       "own, with the notebook's imports and definitions).")
            result[kind] = {"status": "fail", "message": message}
            continue
        try:
            got = judge.outputs(fn, name, case_data.decode_cases(data))
        except judge.CheckFailed as err:
            verdict = judge.failed(name, err)
            result[kind] = {"status": verdict.status, "message": verdict.message}
            continue
        result[kind] = {"eager": case_data.encode(got.eager),
                        "graph": got.graph if isinstance(got.graph, str)
                        else case_data.encode(got.graph)}
    return result


if __name__ == "__main__":
    _serve(*sys.argv[1:3])
