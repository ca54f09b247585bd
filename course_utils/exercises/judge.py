"""Judging a student's function against the paper: the verdict and its hint.

`judge(fn, name)` runs fn on an exercise's cases (see `table`) while the course's own
exercise functions are tripwires, and returns a `Verdict`: pass, fail or not_implemented,
with the hint of the most likely mistake, found by comparing fn's outputs with the outputs
of known-wrong variants.  `check` is what a notebook's check cell calls: it prints the
verdict's one line, or raises it as a `CheckFailed`.  Grading reads the verdicts
(`verdicts()`), never the printed text.
"""
import dataclasses
import functools
import re
import threading
import types

import numpy as np

from .. import losses
from . import yours
from .cases import EXERCISES
from .table import NotAvailable, is_release, table

STATUSES = ("pass", "fail", "not_implemented")


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
    execution: int = None                    # the notebook cell (IPython's count while it runs)
    error: CheckFailed = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def passed(self):
        return self.status == "pass"

    def as_dict(self):
        """The verdict as JSON-ready data (what grading reads)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "error"}


class Verdicts(list):
    """Verdicts as JSON-ready dicts, and the number of the cell that asked for them; a notebook
    cell that returns them shows both as JSON (what grading reads)."""

    def __init__(self, verdicts, execution=None):
        super().__init__(verdicts)
        self.execution = execution

    def _repr_json_(self):
        return {"execution": self.execution, "verdicts": list(self)}


_verdicts = []                               # this kernel's verdicts, oldest first


def verdicts():
    """Every verdict given in this process, oldest first (a `Verdicts` list of dicts)."""
    return Verdicts((v.as_dict() for v in _verdicts), _execution_count())


def _execution_count():
    """The number of the notebook cell running now (None outside IPython)."""
    ipython = __import__("sys").modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return getattr(shell, "execution_count", None)


def judge(fn, name, hidden=False, shape_hints=None):
    """fn's Verdict on the cases of exercise `name` (the hidden ones if asked)."""
    try:
        t = table(name, hidden)
        line = _judge(fn, name, t, hidden, shape_hints)
    except NotImplementedYet as err:
        verdict = Verdict(name, "not_implemented", str(err), hidden=hidden, error=err)
    except CheckFailed as err:
        verdict = Verdict(name, "fail", str(err), hidden=hidden, error=err)
    except NotAvailable as err:
        verdict = Verdict(name, "fail", str(err), hidden=hidden, error=CheckFailed(str(err)))
    else:
        saved = yours.save(name, fn) if is_release() and name in EXERCISES else None
        if saved:
            line += f" Saved to {saved.name}: later notebooks use it."
        verdict = Verdict(name, "pass", line, len(t["cases"]), hidden, saved and str(saved))
    verdict.execution = _execution_count()
    _verdicts.append(verdict)
    return verdict


def check(fn, name, hidden=False, shape_hints=None):
    """Print the verdict's one line if fn passes; else raise it (a CheckFailed with the hint)."""
    verdict = judge(fn, name, hidden, shape_hints)
    if not verdict.passed:
        raise verdict.error
    print(verdict.message)


# ---------------------------------------------------------------------------
# No borrowing: during a check, the course's own exercise functions are tripwires.

_guard = threading.local()


def _tripwire(*args, **kwargs):
    """The body the course's exercise functions get during a check (its name is theirs)."""
    return __import__("course_utils.exercises.judge", fromlist=["_called"])._called(
        __import__("sys")._getframe().f_code.co_name, args, kwargs)


def _called(name, args, kwargs):
    """A call of the course's `name`: recorded (and refused) inside a check, else run."""
    borrowed = getattr(_guard, "borrowed", None)
    if borrowed is not None:
        borrowed.append(name)
        raise Borrowed(_borrowed_hint(getattr(_guard, "name", name), name))
    return _originals()[name](*args, **kwargs)


@functools.lru_cache(maxsize=1)
def _originals():
    """Copies of the course's exercise functions, kept while their code is swapped."""
    copies = {}
    for name in EXERCISES:
        f = getattr(losses, name)
        copies[name] = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__,
                                          f.__closure__)
        copies[name].__kwdefaults__ = f.__kwdefaults__
    return copies


def _call_guarded(fn, name, case):
    """fn on case while every course exercise function refuses to run: (its output, the
    course functions it called), however it reached them (module attribute or imported name)."""
    _originals()
    functions = [getattr(losses, n) for n in EXERCISES]
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
    return (f"{name} calls the course's own {used} (course_utils.losses.{used}): "
            f"write {name} yourself from the equation — the check cannot test the course's "
            "code in place of yours.")


# ---------------------------------------------------------------------------
# The machinery shared by every check.

def _judge(fn, name, t, hidden, shape_hints=None):
    """Compare fn with the table's expected outputs; the line a pass prints, or raise a hint."""
    cases, equation = t["cases"], t["equation"]
    gots = []
    for case in cases:
        got = _output(fn, name, case)
        if got.shape != case.want.shape:
            hint = (shape_hints or SHAPE_HINTS)[t["answer"]]
            raise CheckFailed(hint(name, case, got.shape, case.want.shape))
        gots.append(got)
    if not all(_close(got, case.want) for got, case in zip(gots, cases)):
        raise CheckFailed(_diagnosis(name, equation, cases, gots, t["hints"]))
    kind = "hidden test cases" if hidden else "test cases"
    return f"✓ {name} matches the paper's {equation} on {len(cases)} {kind}."


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
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"{name} returned {_first_non_finite(got)} for {case.label}: "
                          "a division by zero, or 0/0, somewhere? All-zero features "
                          "make any sum or norm of F zero: divide only by sizes "
                          "such as N and M.")
    return got


def _numbers(out):
    """out (tensor, array or number) as a float64 array; None if it holds no numbers."""
    try:
        got = np.asarray(out)
    except (TypeError, ValueError):
        return None
    return got.astype(np.float64) if got.dtype.kind in "iuf" else None


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
    value = got[~np.isfinite(got)].flat[0]
    return "NaN" if np.isnan(value) else str(value)


def _scalar_shape_hint(name, case, got_shape, want_shape):
    """A loss is one number; say so when fn returns an array."""
    return (f"{name} returned an array of shape {got_shape} for {case.label}, but a loss "
            "is a single number: sum over every axis (tf.reduce_sum with no axis argument).")


def _sizes(shape):
    """(N, M): filters and positions of a (1, H, W, N) or (H, W, N) feature map."""
    return shape[-1], int(np.prod(shape[-3:-1]))


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


SHAPE_HINTS = {"scalar": _scalar_shape_hint, "gram": _gram_shape_hint, "rgb": _rgb_shape_hint}


def _close(got, want):
    """Equal shapes and values, within float32 rounding; False if want is None."""
    if want is None or np.shape(got) != np.shape(want):
        return False
    atol = 1e-6 + 1e-5 * float(np.max(np.abs(want), initial=0.0))
    return bool(np.allclose(got, want, rtol=1e-4, atol=atol))


def _diagnosis(name, equation, cases, gots, hints):
    """The hint of the first mistake that reproduces fn's output on every case."""
    for k, hint in enumerate(hints):
        if all(_close(got, c.wrong[k]) for got, c in zip(gots, cases)):
            return f"{name}: {hint}"
    case, got = next((c, g) for c, g in zip(cases, gots) if not _close(g, c.want))
    return _mismatch_hint(name, equation, case, got, case.want)


def _mismatch_hint(name, equation, case, got, want):
    """Shapes, expected vs got and their ratio, where the difference is largest."""
    at = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
    where = f" at [{', '.join(str(int(i)) for i in at)}]" if want.ndim else ""
    g, w = float(got[at]), float(want[at])
    ratio = f"{g / w:.4g}" if w != 0 else "undefined, since 0 was expected"
    return (f"{name} does not match {equation} for {case.label}{where}: expected {w:.6g}, "
            f"got {g:.6g} (got/expected = {ratio}). None of the usual mistakes explains "
            f"this; compare your code with {equation} term by term.")


