"""Judging a student's function against the paper: the verdict and its hint.

`judge(fn, name)` runs fn on an exercise's cases (see `table`) while the course's own
exercise functions are tripwires, and returns a `Verdict`: pass, fail or not_implemented,
with the hint of the most likely mistake, found by comparing fn's outputs with the outputs
of known-wrong variants.  `check` is what a notebook's check cell calls: it prints the
verdict's one line, or raises it as a `CheckFailed`.

Judging is two halves that can run in two processes: `outputs` calls fn on the cases'
inputs only — eagerly, then inside `tf.function` with the batch and spatial sizes unknown,
as the training loop runs it — and `compare` loads the expected values after fn has
returned and compares.  The grade command runs `outputs` in a process of its own on the
student's code and `compare` in its own, out of the student's reach.
"""
import contextlib
import dataclasses
import functools
import re
import threading
import types
from typing import NamedTuple

import numpy as np

from .. import colour, losses
from . import loop, yours
from .cases import EXERCISES
from .table import NotAvailable, is_release, table

STATUSES = ("pass", "fail", "not_implemented")

# The comparison's own references, taken when the course is imported: a student's cell that
# later replaces NumPy's functions does not change how a check compares.
_np = types.SimpleNamespace(**{f: getattr(np, f) for f in (
    "asarray", "allclose", "isfinite", "isnan", "all", "abs", "max", "argmax", "unravel_index",
    "shape", "prod", "float64")})


class CheckFailed(AssertionError):
    """The function disagrees with the paper; the message is the hint."""


class NotImplementedYet(CheckFailed):
    """The function still raises NotImplementedError."""


class Borrowed(CheckFailed):
    """The function calls the course's own implementation of the exercise."""


@dataclasses.dataclass
class Verdict:
    """The outcome of one check: status (pass, fail, not_implemented), its one-line message
    (the hint when it failed), how many cases ran, and where a passing function was saved."""
    name: str
    status: str
    message: str
    cases: int = 0
    hidden: bool = False
    saved: str = None
    error: CheckFailed = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def passed(self):
        return self.status == "pass"

    def as_dict(self):
        """The verdict as JSON-ready data (what grading reads)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "error"}


def judge(fn, name, hidden=False, shape_hints=None):
    """fn's Verdict on the cases of exercise `name` (the hidden ones if asked)."""
    try:
        got = outputs(fn, name, inputs(name, hidden))
        verdict = compare(name, got, hidden, shape_hints)
    except NotAvailable as err:
        verdict = Verdict(name, "fail", str(err), hidden=hidden, error=CheckFailed(str(err)))
    except CheckFailed as err:
        verdict = failed(name, err, hidden)
    if verdict.passed:
        saved = yours.save(name, fn) if is_release() and name in yours.WHERE else None
        if saved:
            verdict.message += f" Saved to {saved.name}: later notebooks use it."
            verdict.saved = str(saved)
    return verdict


def failed(name, err, hidden=False):
    """The Verdict of a check that raised err (a CheckFailed or one of its kinds)."""
    status = "not_implemented" if isinstance(err, NotImplementedYet) else "fail"
    return Verdict(name, status, str(err), hidden=hidden, error=err)


def inputs(name, hidden=False):
    """The exercise's cases with their inputs only: no expected or wrong outputs, so that
    nothing the function under test can reach (its callers' frames) holds an answer."""
    return [case._replace(want=None, wrong=None) for case in table(name, hidden)["cases"]]


def compare(name, got, hidden=False, shape_hints=None):
    """The Verdict on `got` (what `outputs` gave), against the expected values, which are
    loaded now, after the function under test has returned."""
    t = table(name, hidden)
    try:
        line = _compare(name, t, got, hidden, shape_hints)
    except CheckFailed as err:
        return failed(name, err, hidden)
    return Verdict(name, "pass", line, len(t["cases"]), hidden)


def check(fn, name, hidden=False, shape_hints=None):
    """Print the verdict's one line if fn passes; else raise it (a CheckFailed with the hint)."""
    verdict = judge(fn, name, hidden, shape_hints)
    if not verdict.passed:
        _restore_ipython_errors()
        raise verdict.error
    print(verdict.message)


def _restore_ipython_errors():
    """Undo what a cell may have done so that a failing check would not show as an error
    (IPython's custom exception handlers, a replaced traceback display): a check that
    fails must fail the cell, for the student and for nbgrader."""
    ipython = __import__("sys").modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is None:
        return
    shell.custom_exceptions = ()
    for method in ("showtraceback", "_showtraceback", "CustomTB", "run_cell", "run_code"):
        vars(shell).pop(method, None)


# ---------------------------------------------------------------------------
# No borrowing: during a check, the course's own exercise functions are tripwires.

_guard = threading.local()


def _tripwire(*args, **kwargs):
    """The body the course's exercise functions get during a check (its name is theirs)."""
    return __import__("course_utils.exercises.judge", fromlist=["_called"])._called(
        __import__("sys")._getframe().f_code.co_name, args, kwargs)


_forbidden = False                           # set for good by `forbid_borrowing`


def forbid_borrowing():
    """From now on, in this process, the course's exercise functions refuse to run, inside a
    check or not: the grader's process for a student's code calls this before running it."""
    global _forbidden
    _originals()
    for f in _course_functions().values():
        f.__code__ = _tripwire.__code__.replace(co_name=f.__name__)
    _forbidden = True


def _called(name, args, kwargs):
    """A call of the course's `name`: recorded (and refused) inside a check, else run."""
    borrowed = getattr(_guard, "borrowed", None)
    if borrowed is None and _forbidden:
        raise Borrowed(_borrowed_hint(name, name))
    if borrowed is not None:
        borrowed.append(name)
        raise Borrowed(_borrowed_hint(getattr(_guard, "name", name), name))
    return _originals()[name](*args, **kwargs)


@functools.lru_cache(maxsize=1)
def _originals():
    """Copies of the course's exercise functions, kept while their code is swapped."""
    copies = {}
    for name, f in _course_functions().items():
        copies[name] = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__,
                                          f.__closure__)
        copies[name].__kwdefaults__ = f.__kwdefaults__
    return copies


def _course_functions():
    """{name: function} of the course's own answers to the exercises: the five losses, and
    notebook 6's luminance recombination (notebook 7's guided Gram matrix calls gram_matrix)."""
    return {**{n: getattr(losses, n) for n in EXERCISES}, "with_chroma": colour.with_chroma}


def _call_guarded(fn, name, case):
    """fn on case while every course exercise function refuses to run: (its output, the
    course functions it called), however it reached them (module attribute or imported name)."""
    _originals()
    functions = list(_course_functions().values())
    saved = [f.__code__ for f in functions]
    borrowed = _guard.borrowed = []
    _guard.name = name
    try:
        for f in functions:
            f.__code__ = _tripwire.__code__.replace(co_name=f.__name__)
        try:
            return fn(*case.args, **case.kwargs), borrowed
        except Borrowed:
            return None, borrowed
    finally:
        for f, code in zip(functions, saved):
            f.__code__ = code
        _guard.borrowed = None


def _borrowed_hint(name, used):
    where = _originals()[used].__module__ if used in _originals() else "course_utils.losses"
    return (f"{name} calls the course's own {used} ({where}.{used}): "
            f"write {name} yourself from the equation — the check cannot test the course's "
            "code in place of yours.")


# ---------------------------------------------------------------------------
# The machinery shared by every check.

class Outputs(NamedTuple):
    """What a function gave on an exercise's cases: its outputs called directly (float64
    arrays), and inside tf.function (arrays, or the hint of its failure there, a str)."""
    eager: list
    graph: object


# Exercises whose function is not called on a case's inputs but run by a harness, which
# hands back plain outputs: the optimisation step, run on an image variable (`loop`).
RUNNERS = {"train_step": loop.run}


def outputs(fn, name, cases):
    """fn's Outputs on the cases' inputs; raise a CheckFailed hint if fn is unusable
    (not implemented, raises, borrows the course's function, returns no finite numbers)."""
    run = RUNNERS.get(name)
    if run is not None:
        eager = [_output(functools.partial(run, fn), name, case) for case in cases]
    else:
        eager = [_output(fn, name, case) for case in cases]
    with _quiet_retracing():
        if run is not None:
            return Outputs(eager, _graph_runs(functools.partial(run, fn, graph=True), name, cases))
        return Outputs(eager, _graph_outputs(fn, name, cases))


@contextlib.contextmanager
def _quiet_retracing():
    """Without TensorFlow's warning that a function is traced again: the graph-mode cases
    trace one function per shape on purpose (a check writes nothing to stderr)."""
    import tensorflow as tf
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _compare(name, t, got, hidden, shape_hints=None):
    """Compare fn's outputs with the table's expected ones; the line a pass prints, or
    raise a hint."""
    cases, equation = t["cases"], t["equation"]
    if len(got.eager) != len(cases):
        raise CheckFailed(f"{name}: {len(got.eager)} outputs for {len(cases)} test cases.")
    gots = [_numbers(g) for g in got.eager]
    for got_one, case in zip(gots, cases):
        if got_one is None or got_one.shape != case.want.shape:
            hint = (shape_hints or SHAPE_HINTS)[t["answer"]]
            raise CheckFailed(hint(name, case, _np.shape(got_one), case.want.shape))
    if not all(_close(got_one, case.want) for got_one, case in zip(gots, cases)):
        raise CheckFailed(_diagnosis(name, equation, cases, gots, t["hints"]))
    if isinstance(got.graph, str):
        raise CheckFailed(got.graph)
    for graph, case in zip(got.graph, cases):
        if not _close(_numbers(graph), case.want):
            raise CheckFailed(_graph_values_hint(name, case))
    kind = "hidden test cases" if hidden else "test cases"
    source = "the paper's " if equation.startswith("Eq.") else ""     # the rest go beyond it
    return (f"✓ {name} matches {source}{equation} on {len(cases)} {kind}, "
            "called directly and inside tf.function.")


def _output(fn, name, case):
    """fn's value on case as a float64 array; raise a hint if it is unusable."""
    try:
        out, borrowed = _call_guarded(fn, name, case)
    except NotImplementedError as err:
        raise NotImplementedYet(
            f"{name} still raises NotImplementedError: replace the "
            "`raise NotImplementedError(...)` line with your implementation.") from err
    except Exception as err:
        raise CheckFailed(_raised_hint(name, case, err)) from err
    if borrowed:
        raise Borrowed(_borrowed_hint(name, borrowed[0]))
    if out is None:
        raise CheckFailed(f"{name} returned None: did you forget the `return` statement?")
    got = _numbers(out)
    if got is None:
        raise CheckFailed(f"{name} returned a {type(out).__name__}, not a number "
                          "or a tensor of numbers.")
    if not _np.all(_np.isfinite(got)):
        raise CheckFailed(f"{name} returned {_first_non_finite(got)} for {case.label}: "
                          "a division by zero, or 0/0, somewhere? All-zero features "
                          "make any sum or norm of F zero: divide only by sizes "
                          "such as N and M.")
    return got


# ---------------------------------------------------------------------------
# Graph mode: the training loop calls the losses inside tf.function, where a feature map's
# batch and spatial sizes may be unknown (None) while the function is traced.

def _graph_outputs(fn, name, cases):
    """fn's outputs on the cases inside tf.function, every feature map's batch and spatial
    sizes unknown at tracing and numbers as tensors; a hint (str) at the first failure."""
    import tensorflow as tf
    traced, results = {}, []
    for case in cases:
        leaves, specs, rebuild, key = _symbolic(case)
        if key not in traced:
            traced[key] = tf.function(_traced(fn, rebuild), input_signature=specs,
                                      autograph=False)
        try:
            out, _ = _call_guarded(traced[key], name, case._replace(args=tuple(leaves), kwargs={}))
            got = _numbers(out)
        except Exception as err:                 # NotImplementedError too: .numpy() raises it
            return _graph_hint(name, case, err)
        if got is None:
            return _graph_hint(name, case, TypeError(f"it returned a {type(out).__name__}"))
        results.append(got)
    return results


def _graph_runs(run, name, cases):
    """A harness's outputs on the cases with the function called inside tf.function; a
    hint (str) at the first failure."""
    results = []
    for case in cases:
        try:
            out, _ = _call_guarded(run, name, case)
        except Exception as err:
            return _graph_hint(name, case, err)
        results.append(_numbers(out))
    return results


def _traced(fn, rebuild):
    def call(*tensors):
        args, kwargs = rebuild(tensors)
        return fn(*args, **kwargs)
    return call


def _symbolic(case):
    """(the tensors to feed, their TensorSpecs, a function from those tensors back to
    (args, kwargs) of the case, a key for one trace) — a feature map (rank 3 or 4) keeps only its number of
    filters known; a number given directly becomes a scalar tensor, one inside a list stays."""
    import tensorflow as tf
    leaves, specs = [], []

    def spec_of(x):
        x = tf.convert_to_tensor(x, tf.float32) if isinstance(x, (int, float)) else x
        shape = list(x.shape)
        if len(shape) >= 3:
            shape = [None] * (len(shape) - 1) + shape[-1:]
        leaves.append(x)
        specs.append(tf.TensorSpec(shape, x.dtype))
        return len(leaves) - 1

    def plan(x, top):
        if isinstance(x, list):
            return [plan(v, False) for v in x]
        if isinstance(x, tf.Tensor) or (top and isinstance(x, (int, float))):
            return ("tensor", spec_of(x))
        return ("constant", x)

    args = [plan(a, True) for a in case.args]
    kwargs = {k: plan(v, True) for k, v in case.kwargs.items()}

    def build(p, x):
        if isinstance(p, list):
            return [build(v, x) for v in p]
        return x[p[1]] if p[0] == "tensor" else p[1]

    rebuild = lambda x: ([build(p, x) for p in args],                     # noqa: E731
                         {k: build(p, x) for k, p in kwargs.items()})
    return leaves, specs, rebuild, repr((specs, args, kwargs))


def _graph_hint(name, case, err):
    message = re.sub(r"\{\{.*?\}\}\s*", "", str(err))
    message = (message.strip().splitlines() or [""])[0][:300]
    if name in RUNNERS:
        return (f"{name} works when called directly but fails inside tf.function, where the "
                f"training loop runs it ({case.label}): {type(err).__name__}: {message} — "
                "write it with TensorFlow operations: no .numpy(), float() or NumPy on the "
                "loss or the image, and change the image with x.assign(...).")
    if not _has_pictures(case):               # only numbers and short vectors: all sizes known
        return (f"{name} works when called directly but fails inside tf.function, where the "
                f"training loop runs it ({case.label}): {type(err).__name__}: {message} — "
                "write it with TensorFlow operations on tensors: no .numpy(), NumPy, float() "
                "or len(); sizes from tf.size(E) or E.shape.")
    return (f"{name} works when called directly but fails inside tf.function, where the "
            f"training loop runs it ({case.label}, with the batch, height and width unknown "
            f"while it is traced): {type(err).__name__}: {message} — write it with "
            "TensorFlow operations on tensors: no .numpy() or NumPy, and sizes from "
            "tf.shape(F) or tf.size(F), not Python arithmetic on F.shape (which may hold None).")


def _has_pictures(case):
    """Whether the case has a feature map or picture (rank 3 or 4), whose sizes the
    graph-mode call leaves unknown."""
    arrays = [a for arg in case.args for a in (arg if isinstance(arg, list) else [arg])]
    return any(getattr(a, "ndim", 0) >= 3 for a in arrays)


def _graph_values_hint(name, case):
    return (f"{name} gives other values inside tf.function, where the training loop runs it, "
            f"than when called directly ({case.label}): does it decide something from F.shape "
            "or a Python value that is unknown (None) while it is traced? Use tf.shape(F).")


def _numbers(out):
    """out (tensor, array or number) as a float64 array; None if it holds no numbers."""
    try:
        got = _np.asarray(out)
    except (TypeError, ValueError, NotImplementedError):
        return None
    return got.astype(_np.float64) if got.dtype.kind in "iuf" else None


def _raised_hint(name, case, err):
    """'your function raised TypeError: ...' with the inputs that caused it."""
    message = re.sub(r"\{\{.*?\}\}\s*", "", str(err))       # TensorFlow's op prefix
    message = (message.strip().splitlines() or [""])[0][:300]
    hint = f"{name} raised {type(err).__name__} on {case.label}: {message}"
    if _has_unbatched_features(case):
        hint += (" — features come with or without the batch axis, (1, H, W, N) or "
                 "(H, W, N): handle both.")
    return hint


def _has_unbatched_features(case):
    arrays = [a for arg in case.args for a in (arg if isinstance(arg, list) else [arg])]
    return any(getattr(a, "ndim", 0) == 3 for a in arrays)


def _first_non_finite(got):
    value = got[~_np.isfinite(got)].flat[0]
    return "NaN" if _np.isnan(value) else str(value)


def _scalar_shape_hint(name, case, got_shape, want_shape):
    """A loss is one number; say so when fn returns an array."""
    return (f"{name} returned an array of shape {got_shape} for {case.label}, but a loss "
            "is a single number: sum over every axis (tf.reduce_sum with no axis argument).")


def _sizes(shape):
    """(N, M): filters and positions of a (1, H, W, N) or (H, W, N) feature map."""
    return shape[-1], int(_np.prod(shape[-3:-1]))


def _gram_shape_hint(name, case, got_shape, want_shape):
    """Name the usual wrong shapes of G: M x M, a kept batch axis, no reshape."""
    N, M = _sizes(tuple(case.args[0].shape))
    if got_shape == (M, M):
        return (f"{name}: your Gram matrix is M × M = {M} × {M} (positions × positions) for "
                f"{case.label}; it must be N × N = {N} × {N} (filters × filters). You multiplied "
                "in the wrong order: with the features reshaped to an M × N matrix X, "
                "G = Xᵀ X, e.g. tf.matmul(X, X, transpose_a=True).")
    if got_shape == (1, N, N):
        return (f"{name}: your Gram matrix has shape {got_shape} for {case.label}: it kept the "
                f"batch axis. Drop it (F[0] when F has 4 dimensions) to return an N × N matrix.")
    return (f"{name}: expected an N × N = {N} × {N} matrix for {case.label}, got shape "
            f"{got_shape}. Reshape the features to an M × N matrix (one row per position) "
            "before multiplying.")


def _rgb_shape_hint(name, case, got_shape, want_shape):
    """A picture keeps the photo's shape."""
    return (f"{name} returned shape {got_shape} for {case.label}; it must return an RGB "
            f"picture of shape {want_shape}: the photo's shape.")


def _vector_shape_hint(name, case, got_shape, want_shape):
    """One number per layer."""
    return (f"{name} returned shape {got_shape} for {case.label}; it must return one weight "
            f"per layer, shape {want_shape}.")


SHAPE_HINTS = {"scalar": _scalar_shape_hint, "gram": _gram_shape_hint, "rgb": _rgb_shape_hint,
               "vector": _vector_shape_hint}


def _close(got, want):
    """Equal shapes and values, within float32 rounding; False if want is None."""
    if want is None or got is None or _np.shape(got) != _np.shape(want):
        return False
    atol = 1e-6 + 1e-5 * float(_np.max(_np.abs(want), initial=0.0))
    return bool(_np.allclose(got, want, rtol=1e-4, atol=atol))


def _diagnosis(name, equation, cases, gots, hints):
    """The hint of the first mistake that reproduces fn's output on every case."""
    for k, hint in enumerate(hints):
        if all(_close(got, c.wrong[k]) for got, c in zip(gots, cases)):
            return f"{name}: {hint}"
    case, got = next((c, g) for c, g in zip(cases, gots) if not _close(g, c.want))
    return _mismatch_hint(name, equation, case, got, case.want)


def _mismatch_hint(name, equation, case, got, want):
    """Shapes, expected vs got and their ratio, where the difference is largest."""
    at = _np.unravel_index(_np.argmax(_np.abs(got - want)), want.shape)
    where = f" at [{', '.join(str(int(i)) for i in at)}]" if want.ndim else ""
    g, w = float(got[at]), float(want[at])
    ratio = f"{g / w:.4g}" if w != 0 else "undefined, since 0 was expected"
    return (f"{name} does not match {equation} for {case.label}{where}: expected {w:.6g}, "
            f"got {g:.6g} (got/expected = {ratio}). None of the usual mistakes explains "
            f"this; compare your code with {equation} term by term.")


