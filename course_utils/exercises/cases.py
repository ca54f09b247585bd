"""The exercises' names, their test cases, and the stored tables' format.

A table is {equation, answer, hints, cases}; each `Case` holds the arguments of the function
under test, a label, the reference output (`want`) and each known mistake's output (`wrong`).
`encode` turns tables into JSON data (a student release's answers.json), `decode` back.
"""
from typing import NamedTuple

import numpy as np
import tensorflow as tf

# The five exercises of the paper, in the order of the notebooks: the student's own losses,
# which the release's later notebooks run on.
EXERCISES = ("content_loss", "gram_matrix", "style_layer_loss", "style_loss", "total_loss")
# Every graded exercise (a release stores their tables): the paper's five, the optimisation
# step (notebook 04), the balanced layer weights (notebook 05), the luminance recombination
# (notebook 06) and the guided Gram matrix (notebook 07).
GRADED = EXERCISES + ("train_step", "balanced_weights", "with_chroma", "guided_gram_matrix")


class Case(NamedTuple):
    """Arguments for the function under test, how to name them, and what it should give
    (`want`) or would give with each known mistake (`wrong`)."""
    args: tuple
    kwargs: dict
    label: str
    want: object = None
    wrong: list = None


def decode(data):
    """Stored tables (JSON data) -> tables with float32 tensor inputs and float64 outputs."""
    return {name: {**t, "cases": decode_cases(t["cases"])} for name, t in data.items()}


def decode_cases(data):
    """Stored cases (JSON data) -> Cases; a case stored without outputs (inputs only, as
    the grader sends them to a student's code) keeps want and wrong None."""
    return [_decoded(c) for c in data]


def _decoded(case):
    return Case(tuple(_tensors(a) for a in case["args"]),
                {k: _tensors(v) for k, v in case["kwargs"].items()}, case["label"],
                array(case["want"]),
                None if case["wrong"] is None else [array(w) for w in case["wrong"]])


def array(x):
    """A stored array ({"shape", "values"}) as float64 NumPy; None stays None."""
    if x is None:
        return None
    return np.asarray(x["values"], np.float64).reshape(x["shape"])


def _tensors(x):
    if isinstance(x, dict):
        return tf.constant(array(x), dtype=x["dtype"])
    if isinstance(x, list):
        return [_tensors(v) for v in x]
    return x


def encode(x):
    """Tables -> JSON: tensors and arrays become {"shape", "values"} (float32 inputs
    exactly, float64 outputs to 17 digits); cases become dicts."""
    if hasattr(x, "_asdict"):
        return {k: encode(v) for k, v in x._asdict().items()}
    if isinstance(x, dict):
        return {k: encode(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    if isinstance(x, (tf.Tensor, np.ndarray)):
        a = np.asarray(x)
        return {"shape": list(a.shape), "dtype": str(a.dtype),
                "values": a.astype(np.float64).ravel().tolist()}
    return x
