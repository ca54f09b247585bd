"""Your losses: in the student release, the later notebooks run on the functions you wrote.

Each check cell that passes saves your function into my_losses.py beside your notebooks
(or in $COURSE_STUDENT_DIR), and the release's `losses.content_loss`, `gram_matrix`,
`style_layer_loss`, `style_loss` and `total_loss` — and notebook 6's `colour.with_chroma`
and notebook 7's `masks.guided_gram_matrix` — are the functions below, which call the saved
ones: the pictures of notebooks 3 to 7 are painted by your functions.  The full course does not use
this module (its `losses`, `colour` and `masks` hold the course's own answers).
"""
import ast
import importlib.util
import inspect
import os
import re
import textwrap
from numbers import Number
from pathlib import Path

import numpy as np

from .. import files

FILE = "my_losses.py"
MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|YOUR CODE)\s*$")
WHERE = {"content_loss": "notebook 02", "gram_matrix": "notebook 03",
         "style_layer_loss": "notebook 03", "style_loss": "notebook 03",
         "total_loss": "notebook 04", "with_chroma": "notebook 06",
         "guided_gram_matrix": "notebook 07"}
HEADER = ('"""Your losses, saved by the check cells of the course when they passed.\n\n'
          'Run a check cell again to replace a function here."""\n'
          "import numpy as np\nimport tensorflow as tf\n\n"
          "from course_utils.colour import RGB_TO_YIQ    # notebook 06's name for C\n")


def path():
    """Where your functions are saved: $COURSE_STUDENT_DIR, else the working directory."""
    return Path(os.environ.get("COURSE_STUDENT_DIR") or os.getcwd()) / FILE


def save(name, fn):
    """Save fn's source as `name` into my_losses.py; its path, or None without a source."""
    source = _source(fn, name)
    if source is None:
        return None
    functions = _saved_sources()
    functions[name] = source
    text = HEADER + "".join(f"\n\n{functions[n]}" for n in WHERE if n in functions)
    files.write_atomically(path(), text)
    return path()


def _source(fn, name):
    """fn's source as a top-level function named `name`, or None (a lambda, a builtin...)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn)).rstrip() + "\n"
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    source = "".join(line for line in source.splitlines(keepends=True)
                     if not MARKER.match(line))
    if tree.body[0].name != name:
        source += f"\n\n{name} = {tree.body[0].name}\n"
    return source


def _saved_sources():
    """{name: source} of the functions my_losses.py holds now."""
    try:
        text = path().read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return {}
    lines = text.splitlines(keepends=True)
    return {node.name: "".join(lines[node.lineno - 1 - len(node.decorator_list):node.end_lineno])
            for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in WHERE}


_loaded = {}


def saved(name):
    """Your saved function `name`; NotImplementedError saying where to write it if none is."""
    file = path()
    try:
        stamp = (str(file), file.stat().st_mtime_ns)
    except OSError:
        stamp = None
    if stamp is not None and stamp not in _loaded:
        spec = importlib.util.spec_from_file_location("my_losses", file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded.clear()
        _loaded[stamp] = module
    fn = getattr(_loaded.get(stamp), name, None)
    if fn is None:
        raise NotImplementedError(
            f"{name} is yours to write: implement it in {WHERE[name]} and run its check "
            f"cell; a passing check saves it to {file}, and the course then uses it.")
    return fn


def has(name):
    try:
        saved(name)
        return True
    except NotImplementedError:
        return False


# ---------------------------------------------------------------------------
# The release's losses: yours.

def content_loss(F, P):
    """L_content (Eq. 1), as you wrote it in notebook 02."""
    return saved("content_loss")(F, P)


def gram_matrix(F):
    """G = F Fᵀ (Eq. 3), as you wrote it in notebook 03."""
    return saved("gram_matrix")(F)


def style_layer_loss(F, A):
    """E_l (Eq. 4), as you wrote it in notebook 03."""
    return saved("style_layer_loss")(F, A)


def style_loss(features, targets, weights):
    """L_style = Σ_l w_l E_l (Eq. 5), as you wrote it in notebook 03."""
    return saved("style_loss")(features, targets, weights)


def total_loss(content, style, alpha, beta, tv=0.0, tv_weight=0.0):
    """L_total (Eq. 7), as you wrote it in notebook 04.

    Before notebook 04, runs with one weighted term only — notebook 02's reconstructions
    (β = 0), notebook 03's textures (α = 0) — need no sum: their objective is that term.
    """
    if has("total_loss"):
        return saved("total_loss")(content, style, alpha, beta, tv, tv_weight)
    weights = (alpha, beta, tv_weight)
    if sum(isinstance(w, Number) and w != 0 for w in weights) > 1:
        return saved("total_loss")(content, style, alpha, beta, tv, tv_weight)   # raises: yours
    import tensorflow as tf                      # weights as tensors (a traced run): the largest
    return tf.reduce_max(tf.stack([             # weighted term, which is that one term when the
        tf.cast(w, tf.float32) * tf.cast(x, tf.float32)          # others' weights are 0
        for w, x in zip(weights, (content, style, tv))]))


# Notebooks 6 and 7's, which the release's `colour` and `masks` use.

def with_chroma(Y, photo):
    """The RGB picture with luminance Y and the photo's chroma, as you wrote it in notebook 06
    (as float64 NumPy, as the course's colour functions pass pictures)."""
    return np.asarray(saved("with_chroma")(Y, photo), np.float64)


def guided_gram_matrix(F, m):
    """G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²), as you wrote it in notebook 07."""
    return saved("guided_gram_matrix")(F, m)
