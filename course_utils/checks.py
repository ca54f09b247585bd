"""Immediate checks for the exercise cells, against the paper's equations.

Each ``check_*`` runs your function on a handful of random and edge-case inputs
(batched (1, H, W, N) and unbatched (H, W, N) feature maps, N != M, H != W, all
zeros, ...) and compares it with the expected outputs.  If they agree it prints one
line; if not it raises a `CheckFailed` (an AssertionError) naming the most likely
mistake, found by comparing your output with the outputs of known-wrong variants.

    check_content_loss(content_loss)
    check_content_loss(content_loss, hidden=True)    # the instructor's extra cases

The expected outputs come from `answers` (computed from the course's `losses`), or,
in the student release, from the answers.json stored beside this module; there a
function that passes is also saved for the later notebooks (see `yours`).  A function
that calls the course's own losses fails: the check would only test the course.
"""
import functools
import json
import os
import re
import threading
import types
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from . import losses

EXERCISES = ("content_loss", "gram_matrix", "style_layer_loss", "style_loss", "total_loss")
STORED = Path(__file__).with_name("answers.json")


class Case(NamedTuple):
    """Arguments for the function under test, how to name them, and what it should give
    (`want`) or would give with each known mistake (`wrong`)."""
    args: tuple
    kwargs: dict
    label: str
    want: object = None
    wrong: list = None


class CheckFailed(AssertionError):
    """The function disagrees with the paper; the message is the hint."""


class NotImplementedYet(CheckFailed):
    """The function still raises NotImplementedError."""


class Borrowed(CheckFailed):
    """The function calls the course's own implementation of the exercise."""


def check_content_loss(fn, hidden=False):
    """Check fn(F, P) against Eq. 1: L_content = ½ Σ_ij (F_ij − P_ij)²."""
    _check(fn, "content_loss", hidden)


def check_gram_matrix(fn, hidden=False):
    """Check fn(F) against Eq. 3: G_ij = Σ_k F_ik F_jk = F Fᵀ, an N × N matrix."""
    _check(fn, "gram_matrix", hidden)


def check_style_layer_loss(fn, hidden=False):
    """Check fn(F, A) against Eq. 4: E_l = Σ_ij (G_ij − A_ij)² / (4 N² M²), G = F Fᵀ."""
    _check(fn, "style_layer_loss", hidden)


def check_style_loss(fn, hidden=False):
    """Check fn(features, targets, weights) against Eq. 5: L_style = Σ_l w_l E_l."""
    _check(fn, "style_loss", hidden)


def check_total_loss(fn, hidden=False):
    """Check fn(content, style, alpha, beta, tv=0, tv_weight=0) against Eq. 7:
    L_total = α L_content + β L_style (+ tv_weight · L_tv)."""
    _check(fn, "total_loss", hidden)


# ---------------------------------------------------------------------------
# Where the expected values come from.

def table(name, hidden=False):
    """The cases of one exercise with their expected and wrong outputs (see `answers`)."""
    if not STORED.is_file():
        return _computed(name, hidden)
    if not hidden:
        return _stored(str(STORED))[name]
    graders = os.environ.get("COURSE_HIDDEN_ANSWERS", "")
    if not graders or not Path(graders).is_file():
        raise CheckFailed(f"{name}: the hidden test cases are not part of the student "
                          "release; they run when your work is graded.")
    return _stored(graders)[name]


@functools.lru_cache(maxsize=None)
def _computed(name, hidden):
    from . import answers
    return answers.table(name, hidden)


@functools.lru_cache(maxsize=4)
def _stored(path):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: {**t, "cases": [_decoded(c) for c in t["cases"]]} for name, t in data.items()}


def _decoded(case):
    """A stored case: inputs as float32 tensors, outputs as float64 arrays."""
    return Case(tuple(_tensors(a) for a in case["args"]),
                {k: _tensors(v) for k, v in case["kwargs"].items()}, case["label"],
                _array(case["want"]), [None if w is None else _array(w) for w in case["wrong"]])


def _array(x):
    return np.asarray(x["values"], np.float64).reshape(x["shape"])


def _tensors(x):
    if isinstance(x, dict):
        return tf.constant(_array(x), dtype=x["dtype"])
    if isinstance(x, list):
        return [_tensors(v) for v in x]
    return x


# ---------------------------------------------------------------------------
# No borrowing: during a check, the course's own exercise functions are tripwires.

_guard = threading.local()


def _tripwire(*args, **kwargs):
    """The body the course's exercise functions get during a check (its name is theirs)."""
    return __import__("course_utils.checks", fromlist=["_called"])._called(
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

def _check(fn, name, hidden=False):
    """Compare fn with the expected outputs; print one line or raise a hint."""
    t = table(name, hidden)
    cases, equation = t["cases"], t["equation"]
    gots = []
    for case in cases:
        got = _output(fn, name, case)
        if got.shape != case.want.shape:
            raise CheckFailed(_SHAPE_HINTS[t["answer"]](name, case, got.shape, case.want.shape))
        gots.append(got)
    if not all(_close(got, case.want) for got, case in zip(gots, cases)):
        raise CheckFailed(_diagnosis(name, equation, cases, gots, t["hints"]))
    kind = "hidden test cases" if hidden else "test cases"
    line = f"✓ {name} matches the paper's {equation} on {len(cases)} {kind}."
    if STORED.is_file():
        from . import yours
        saved = yours.save(name, fn)
        line += f" Saved to {saved.name}: later notebooks use it." if saved else ""
    print(line)
    return None


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


_SHAPE_HINTS = {"scalar": _scalar_shape_hint, "gram": _gram_shape_hint}


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


