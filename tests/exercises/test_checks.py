"""The exercise checks accept every correct form of the paper's losses and
reject the usual wrong ones with the right hint."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import checks, colour, control_checks, losses
from course_utils.classroom import answers
from course_utils.exercises import cases, table


CHECKS = {
    "content_loss": checks.check_content_loss,
    "gram_matrix": checks.check_gram_matrix,
    "style_layer_loss": checks.check_style_layer_loss,
    "style_loss": checks.check_style_loss,
    "total_loss": checks.check_total_loss,
    "train_step": checks.check_train_step,
    "balanced_weights": checks.check_balanced_weights,
    "with_chroma": control_checks.check_with_chroma,
    "guided_gram_matrix": control_checks.check_guided_gram_matrix,
}


# ---------------------------------------------------------------------------
# Helpers for writing student-like implementations.

def _drop_batch(F):
    return F[0] if len(F.shape) == 4 else F


def _X(F):
    """Features as the M x N matrix (one row per position)."""
    F = tf.convert_to_tensor(F)
    return tf.reshape(F, (-1, F.shape[-1]))


def _NM(F):
    """(N, M) as float tensors: they work inside tf.function too, where H and W are unknown."""
    N = tf.cast(tf.shape(F)[-1], tf.float32)
    return N, tf.cast(tf.size(F), tf.float32) / N


def _gram(F):
    X = _X(F)
    return tf.matmul(X, X, transpose_a=True)


def _style_over(denominator, gram=_gram):
    """E_l = Σ (G − A)² / denominator(N, M), G from the given gram function."""
    def style_layer_loss(F, A):
        N, M = _NM(F)
        return tf.reduce_sum(tf.square(gram(F) - A)) / denominator(N, M)
    return style_layer_loss


def _style_sum(layer_loss, combine):
    """A style_loss built from a per-layer loss and a combination of the w_l E_l."""
    def style_loss(features, targets, weights):
        return combine([w * layer_loss(F, A) for F, A, w in zip(features, targets, weights)],
                       weights)
    return style_loss


def _raise(error):
    def fn(*args, **kwargs):
        raise error
    return fn


def _all_weights(layer_losses, weights):
    return sum(layer_losses)


# ---------------------------------------------------------------------------
# Correct implementations, in many equivalent forms.

def gram_einsum(F):
    X = _drop_batch(tf.convert_to_tensor(F))
    return tf.einsum("hwi,hwj->ij", X, X)


def gram_transpose_b(F):
    Fm = tf.transpose(_X(F))                      # the paper's N x M matrix
    return tf.matmul(Fm, Fm, transpose_b=True)


def gram_numpy(F):
    F = np.asarray(F)
    X = F.reshape(-1, F.shape[-1])
    return X.T @ X


def gram_tensordot(F):
    X = _X(F)
    return tf.tensordot(X, X, axes=[[0], [0]])


def style_2NM_squared(F, A):
    N, M = _NM(F)
    return tf.reduce_sum((A - gram_einsum(F)) ** 2) * (1.0 / (2 * N * M)) ** 2


def style_numpy(F, A):
    F = np.asarray(F, dtype=np.float64)
    N, M = F.shape[-1], F.size // F.shape[-1]
    return np.sum((gram_numpy(F) - np.asarray(A)) ** 2) / (4 * N**2 * M**2)


def style_reduce_mean(F, A):
    N, M = _NM(F)
    return tf.reduce_mean(tf.square(_gram(F) - A)) / (4 * M**2)


def style_layer(F, A):
    """E_l written out (the tests' own, not the course's)."""
    N, M = _NM(F)
    return tf.reduce_sum(tf.square(_gram(F) - A)) / (4 * N**2 * M**2)


def style_loss_loop(features, targets, weights):
    loss = 0.0
    for F, A, w in zip(features, targets, weights):
        loss += w * style_layer(F, A)
    return loss


def style_loss_stack(features, targets, weights):
    E = tf.stack([style_layer(F, A) for F, A in zip(features, targets)])
    return tf.reduce_sum(E * tf.constant(weights, tf.float32))


def style_loss_numpy(features, targets, weights):
    return float(sum(w * style_numpy(F, A) for F, A, w in zip(features, targets, weights)))


def total_loss_keywords_reordered(content, style, alpha, beta, tv_weight=0.0, tv=0.0):
    return tf.add(alpha * content, beta * style) + tv_weight * tv


def train_step(x, optimizer, loss_fn):
    with tf.GradientTape() as tape:
        loss = loss_fn(x)
    optimizer.apply_gradients([(tape.gradient(loss, x), x)])
    x.assign(tf.clip_by_value(x, 0.0, 255.0))
    return loss


def train_step_min_max(x, optimizer, loss_fn):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(tf.convert_to_tensor(x))
    grads = tape.gradient(loss, [x])
    optimizer.apply_gradients(zip(grads, [x]))
    x.assign(tf.minimum(tf.maximum(x, 0.0), 255.0))
    return loss


def train_step_numpy_clip(x, optimizer, loss_fn):
    """Right values eagerly; .numpy() on the variable fails inside tf.function."""
    with tf.GradientTape() as tape:
        loss = loss_fn(x)
    optimizer.apply_gradients([(tape.gradient(loss, x), x)])
    x.assign(np.clip(x.numpy(), 0, 255))
    return loss


YIQ = tf.constant(colour.RGB_TO_YIQ, tf.float32)


def with_chroma(Y, photo):
    yiq = tf.einsum("...c,dc->...d", tf.cast(photo, tf.float32), YIQ)
    yiq = tf.concat([tf.cast(Y, tf.float32)[..., None], yiq[..., 1:]], axis=-1)
    return tf.einsum("...c,dc->...d", yiq, tf.linalg.inv(YIQ))


def with_chroma_tensordot(Y, photo):
    """Y plus the photo's luminance difference, added to every channel (C⁻¹'s first column)."""
    Y_photo = tf.tensordot(photo, YIQ[0], axes=1)
    return photo + (Y - Y_photo)[..., None] * tf.linalg.inv(YIQ)[:, 0]


def with_chroma_numpy(Y, photo):
    yiq = np.asarray(photo, np.float64) @ colour.RGB_TO_YIQ.T
    yiq[..., 0] = Y
    return yiq @ np.linalg.inv(colour.RGB_TO_YIQ).T


def balanced_weights_loop(E):
    """Python over the layers: fine inside tf.function too, as E's length is known."""
    n = E.shape[0]
    total = tf.reduce_sum(E) / n
    return tf.stack([total / (n * E[k]) for k in range(n)])


def guided_gram_matrix(F, m):
    X = _X(F) * tf.reshape(m, (-1, 1))
    return tf.matmul(X, X, transpose_a=True) / tf.reduce_mean(tf.square(m))


def guided_numpy(F, m):
    X = np.asarray(_drop_batch(F)).reshape(-1, F.shape[-1]) * np.asarray(m).reshape(-1, 1)
    return X.T @ X / np.mean(np.square(m))


CORRECT = [
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(tf.square(F - P))),
    ("content_loss", lambda F, P: tf.reduce_sum((P - F) ** 2) / 2),
    ("content_loss", lambda F, P: tf.nn.l2_loss(F - P)),
    ("content_loss", lambda F, P: 0.5 * tf.norm(F - P) ** 2),
    ("content_loss", lambda F, P: 0.5 * keras.ops.sum(keras.ops.square(F - P))),
    ("gram_matrix", _gram),
    ("gram_matrix", gram_einsum),
    ("gram_matrix", gram_transpose_b),
    ("gram_matrix", gram_tensordot),
    ("gram_matrix", lambda F: keras.ops.matmul(keras.ops.transpose(_X(F)), _X(F))),
    ("style_layer_loss", style_layer),
    ("style_layer_loss", style_2NM_squared),
    ("style_layer_loss", style_reduce_mean),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2, gram=gram_tensordot)),
    ("style_loss", style_loss_loop),
    ("style_loss", style_loss_stack),
    ("style_loss", _style_sum(style_layer, lambda terms, w: tf.add_n(terms))),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s + tv_weight * tv),
    ("total_loss", total_loss_keywords_reordered),
    ("train_step", train_step),
    ("train_step", train_step_min_max),
    ("with_chroma", with_chroma),
    ("with_chroma", with_chroma_tensordot),
    ("guided_gram_matrix", guided_gram_matrix),
    ("balanced_weights", lambda E: tf.reduce_mean(E) / (tf.cast(tf.size(E), tf.float32) * E)),
    ("balanced_weights", balanced_weights_loop),
]


def gram_python_sizes(F):
    """Python arithmetic on F.shape: fine eagerly, None * None inside tf.function."""
    F = _drop_batch(F)
    M, N = F.shape[0] * F.shape[1], F.shape[2]
    X = tf.reshape(F, (M, N))
    return tf.matmul(X, X, transpose_a=True)


# Right values when called directly, but they break inside tf.function, where the training
# loop runs the losses: each fails its check with the graph-mode hint.
EAGER_ONLY = [
    ("content_loss", lambda F, P: 0.5 * np.sum((np.asarray(F) - np.asarray(P)) ** 2), "NumPy"),
    ("content_loss", lambda F, P: float(0.5 * tf.reduce_sum(tf.square(F - P))), "float()"),
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(tf.square(F - P)).numpy(), ".numpy()"),
    ("gram_matrix", gram_numpy, "NumPy"),
    ("gram_matrix", lambda F: gram_numpy(_drop_batch(np.asarray(F, np.float64))), "float64 NumPy"),
    ("gram_matrix", gram_python_sizes, "Python arithmetic on F.shape"),
    ("style_layer_loss", style_numpy, "NumPy"),
    ("style_loss", style_loss_numpy, "NumPy"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0:
        float(a) * float(c) + float(b) * float(s) + float(tv_weight) * float(tv), "float()"),
]


@pytest.mark.parametrize("name, fn", [
    ("with_chroma", with_chroma_numpy), ("guided_gram_matrix", guided_numpy),
    ("balanced_weights", lambda E: np.mean(E) / (len(E) * np.asarray(E))),
    ("balanced_weights", lambda E: tf.reduce_mean(E) / (len(E) * E))])          # len(): eager only
def test_notebook_6s_exercises_fail_eager_only_versions_with_the_graph_mode_hint(name, fn, capsys):
    with pytest.raises(checks.CheckFailed) as info:
        CHECKS[name](fn)
    assert str(info.value).startswith(f"{name} works when called directly but fails inside "
                                      "tf.function")
    assert capsys.readouterr().out == ""


def test_a_step_that_only_works_eagerly_fails_with_the_graph_mode_hint(capsys):
    with pytest.raises(checks.CheckFailed) as info:
        checks.check_train_step(train_step_numpy_clip)
    message = str(info.value)
    assert message.startswith("train_step works when called directly but fails inside tf.function")
    assert "no .numpy()" in message and "x.assign" in message
    assert capsys.readouterr().out == ""


def train_step_clipping_first(x, optimizer, loss_fn):
    x.assign(tf.clip_by_value(x, 0.0, 255.0))
    with tf.GradientTape() as tape:
        loss = loss_fn(x)
    optimizer.apply_gradients([(tape.gradient(loss, x), x)])
    return loss


def step_returning(value):
    def step(x, optimizer, loss_fn):
        train_step(x, optimizer, loss_fn)
        return value(x, loss_fn)
    return step


@pytest.mark.parametrize("fn, phrase", [
    (step_returning(lambda x, loss_fn: None), "returned None"),
    (step_returning(lambda x, loss_fn: loss_fn(x)), "before the update"),
    (step_returning(lambda x, loss_fn: tf.zeros(3)), "one number"),
    (train_step_clipping_first, "clipped to 0 … 255 before the update"),
])
def test_a_step_must_return_the_loss_of_the_image_it_was_given(fn, phrase):
    with pytest.raises(checks.CheckFailed, match=phrase):
        checks.check_train_step(fn)


@pytest.mark.parametrize("name, fn, how", EAGER_ONLY)
def test_a_function_that_only_works_eagerly_fails_with_the_graph_mode_hint(name, fn, how, capsys):
    with pytest.raises(checks.CheckFailed) as info:
        CHECKS[name](fn)
    message = str(info.value)
    assert message.startswith(f"{name} works when called directly but fails inside tf.function")
    assert "no .numpy()" in message and "NumPy" in message
    assert ("tf.shape(F)" in message) == (name != "total_loss")     # sizes matter for feature maps
    assert capsys.readouterr().out == ""


def test_a_function_that_gives_other_values_in_graph_mode_fails_with_its_hint():
    def gram_zero_when_traced(F):
        if F.shape[-2] is None:                 # unknown width: only while traced
            return tf.zeros((F.shape[-1], F.shape[-1]))
        return _gram(F)
    with pytest.raises(checks.CheckFailed, match="gives other values inside tf.function"):
        checks.check_gram_matrix(gram_zero_when_traced)


@pytest.mark.parametrize("name, fn", CORRECT)
def test_correct_implementation_passes_with_one_line(name, fn, capsys):
    assert CHECKS[name](fn) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("✓ ") and name in lines[0] and "test cases" in lines[0]


# ---------------------------------------------------------------------------
# Wrong implementations, each with a key phrase of the hint it must get.

def content_batched_only(F, P):
    _, H, W, N = F.shape
    return 0.5 * tf.reduce_sum(tf.square(F - P))


def gram_keeps_batch(F):
    X = tf.reshape(F, (1, -1, F.shape[-1]))
    return tf.matmul(X, X, transpose_a=True)


def gram_transposed(F):
    X = _X(F)
    return tf.matmul(X, X, transpose_b=True)


def gram_always_first(F):
    return _gram(F[0])


def gram_covariance(F):
    X = _X(F)
    X = X - tf.reduce_mean(X, axis=0)
    return tf.matmul(X, X, transpose_a=True)


def style_size_as_M(F, A):
    N = float(F.shape[-1])
    M = float(tf.size(F))
    return tf.reduce_sum(tf.square(_gram(F) - A)) / (4 * N**2 * M**2)


def total_without_tv(content, style, alpha, beta):
    return alpha * content + beta * style


WRONG = [
    # content_loss, Eq. 1
    ("content_loss", lambda F, P: 0.5 * tf.reduce_mean(tf.square(F - P)), "you averaged"),
    ("content_loss", lambda F, P: tf.reduce_mean(tf.square(F - P)), "keep the factor ½"),
    ("content_loss", lambda F, P: tf.reduce_sum(tf.square(F - P)), "factor ½ is missing"),
    ("content_loss", lambda F, P: 0.5 * tf.square(tf.reduce_sum(F - P)), "squared the sum"),
    ("content_loss", lambda F, P: tf.square(tf.reduce_sum(F - P)), "and dropped the ½"),
    ("content_loss", lambda F, P: 0.5 * tf.norm(F - P), "square root"),
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(tf.abs(F - P)), "absolute differences"),
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(F - P), "are not squared"),
    ("content_loss", lambda F, P: 0.5 * tf.square(F - P), "single number"),
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(tf.square(F - P), axis=-1),
     "single number"),
    ("content_loss", lambda F, P: tf.reduce_sum(tf.square(F - P)) / (2 * tf.reduce_max(F))
     * tf.reduce_max(F), "NaN"),
    ("content_loss", lambda F, P: None, "forget the `return`"),
    ("content_loss", lambda F, P: "0.5", "not a number"),
    ("content_loss", content_batched_only, "handle both"),
    ("content_loss", _raise(NotImplementedError("return ½ Σ (F − P)²")),
     "still raises NotImplementedError"),
    ("content_loss", lambda F, P: 0.5 * tf.reduce_sum(tf.square(F - P)) + 1.0, "got/expected"),
    # gram_matrix, Eq. 3
    ("gram_matrix", lambda F: _gram(F) / _NM(F)[1], "divided by M ="),
    ("gram_matrix", lambda F: _gram(F) / _NM(F)[0], "divided by N (the number of filters)"),
    ("gram_matrix", lambda F: _gram(F) / (_NM(F)[0] * _NM(F)[1]), "divided by N·M"),
    ("gram_matrix", gram_always_first, "dropped the first image row"),
    ("gram_matrix", gram_covariance, "covariance"),
    ("gram_matrix", gram_transposed, "M × M = 12 × 12"),
    ("gram_matrix", gram_keeps_batch, "kept the batch axis"),
    ("gram_matrix", lambda F: tf.matmul(F, F, transpose_a=True), "Reshape the features"),
    ("gram_matrix", lambda F: _gram(F) * tf.reduce_max(F) / tf.reduce_max(F), "NaN"),
    ("gram_matrix", lambda F: _gram(F) + tf.eye(F.shape[-1]), "got/expected"),
    # style_layer_loss, Eq. 4
    ("style_layer_loss", _style_over(lambda N, M: N**2 * M**2), "the 4 is missing"),
    ("style_layer_loss", _style_over(lambda N, M: 2 * N**2 * M**2), "divided by 2 N² M²"),
    ("style_layer_loss", _style_over(lambda N, M: N * M), "divided by N·M;"),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N * M), "divided by 4 N M;"),
    ("style_layer_loss", _style_over(lambda N, M: 2 * N * M), "squared as a whole"),
    ("style_layer_loss", _style_over(lambda N, M: 1.0), "is not normalised"),
    ("style_layer_loss", lambda F, A: tf.reduce_mean(tf.square(_gram(F) - A)),
     "over the N × N entries"),
    ("style_layer_loss", lambda F, A: tf.reduce_mean(tf.square(_gram(F) - A))
     / (4 * _NM(F)[0] ** 2 * _NM(F)[1] ** 2), "averaged (tf.reduce_mean) before dividing"),
    ("style_layer_loss", style_size_as_M, "tensor size H·W·N"),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2,
                                     gram=lambda F: _gram(F) / _NM(F)[1]),
     "your G is divided by M"),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2,
                                     gram=lambda F: _gram(F) / _NM(F)[0]),
     "your G is divided by N "),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2,
                                     gram=lambda F: _gram(F) / (_NM(F)[0] * _NM(F)[1])),
     "your G is divided by N·M"),
    ("style_layer_loss", lambda F, A: tf.square(tf.reduce_sum(_gram(F) - A))
     / (4 * _NM(F)[0] ** 2 * _NM(F)[1] ** 2), "squared the sum"),
    ("style_layer_loss", lambda F, A: tf.reduce_sum(_gram(F) - A)
     / (4 * _NM(F)[0] ** 2 * _NM(F)[1] ** 2), "G − A are not squared"),
    ("style_layer_loss", lambda F, A: tf.square(_gram(F) - A)
     / (4 * _NM(F)[0] ** 2 * _NM(F)[1] ** 2), "single number"),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2, gram=gram_transposed),
     "raised InvalidArgumentError"),
    ("style_layer_loss", lambda F, A: 1.5 * style_layer(F, A),
     "got/expected = 1.5"),
    # style_loss, Eq. 5
    ("style_loss", lambda Fs, As, ws: tf.add_n([style_layer(F, A)
                                               for F, A in zip(Fs, As)]),
     "weights w_l are missing"),
    ("style_loss", _style_sum(style_layer, lambda t, w: sum(t) / len(t)),
     "number of layers"),
    ("style_loss", lambda Fs, As, ws: tf.reduce_mean([style_layer(F, A)
                                                     for F, A in zip(Fs, As)]),
     "left out the weights"),
    ("style_loss", _style_sum(style_layer, lambda t, w: sum(t) / sum(w)),
     "divided by Σ w_l"),
    ("style_loss", _style_sum(style_layer, lambda t, w: t[0]),
     "`return` inside the loop"),
    ("style_loss", _style_sum(style_layer, lambda t, w: t[-1]),
     "instead of overwriting"),
    ("style_loss", _style_sum(_style_over(lambda N, M: N**2 * M**2), _all_weights),
     "per-layer losses E_l are wrong — the 4 is missing"),
    ("style_loss", _style_sum(style_layer, lambda t, w: tf.stack(t)),
     "single number"),
    ("style_loss", lambda Fs, As, ws: 3.0 * style_loss_loop(Fs, As, ws), "got/expected = 3"),
    # total_loss, Eq. 7
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: b * c + a * s + tv_weight * tv,
     "swapped"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + s + tv_weight * tv,
     "β is missing"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: c + b * s + tv_weight * tv,
     "α is missing"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s,
     "total-variation term"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s + tv,
     "without its weight"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0:
        (a * c + b * s) / (a + b) + tv_weight * tv, "divided by α + β"),
    ("total_loss", total_without_tv, "unexpected keyword argument"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: tf.stack([a * c, b * s]),
     "single number"),
    ("total_loss", lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s * s,
     "got/expected"),
]


@pytest.mark.parametrize("name, fn, phrase", WRONG)
def test_wrong_implementation_gets_the_right_hint(name, fn, phrase, capsys):
    with pytest.raises(AssertionError) as info:
        CHECKS[name](fn)
    message = str(info.value)
    assert phrase in message
    assert message.startswith(name)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------
# Every entry of every catalogue is reachable: an implementation that makes
# exactly that mistake gets exactly that hint (no entry shadows another).

def _as_student(mistake):
    """A NumPy mistake from a catalogue, called the way a student's function is."""
    return lambda *args, **kwargs: mistake(*answers._numpy(args), **answers._numpy(kwargs))


CATALOGUES = [
    (name, mistake, hint)
    for name, table in [("content_loss", answers.CONTENT_MISTAKES),
                        ("gram_matrix", answers.GRAM_MISTAKES),
                        ("style_layer_loss", answers.STYLE_LAYER_MISTAKES),
                        ("style_loss", answers.STYLE_MISTAKES),
                        ("total_loss", answers.TOTAL_MISTAKES),
                        ("with_chroma", answers.CHROMA_MISTAKES),
                        ("guided_gram_matrix", answers.GUIDED_MISTAKES),
                        ("balanced_weights", answers.WEIGHT_MISTAKES)]
    for mistake, hint in table
] + [("train_step", step, hint) for step, hint in answers.STEP_VARIANTS]


@pytest.mark.parametrize("name, mistake, hint", CATALOGUES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CATALOGUES)])
def test_each_catalogued_mistake_gets_its_own_hint(name, mistake, hint):
    student = mistake if name == "train_step" else _as_student(mistake)   # steps are in TF
    with pytest.raises(AssertionError) as info:
        CHECKS[name](student)
    assert str(info.value) == f"{name}: {hint}"


# ---------------------------------------------------------------------------
# The details of the failure messages.

def test_exception_is_wrapped_with_the_original_as_cause():
    error = TypeError("unsupported operand")
    with pytest.raises(AssertionError) as info:
        checks.check_content_loss(_raise(error))
    assert "content_loss raised TypeError" in str(info.value)
    assert "unsupported operand" in str(info.value)
    assert info.value.__cause__ is error


def test_unknown_mistake_shows_shapes_values_and_ratio():
    with pytest.raises(AssertionError) as info:
        checks.check_content_loss(lambda F, P: 1.5 * tf.reduce_sum(tf.square(F - P)))
    message = str(info.value)
    assert "shape (1, 4, 3, 5)" in message
    assert "expected " in message and "got " in message
    assert "got/expected = 3" in message


def test_unknown_gram_mistake_names_the_entry_and_sizes():
    with pytest.raises(AssertionError) as info:
        checks.check_gram_matrix(lambda F: _gram(F) + tf.eye(F.shape[-1]))
    assert "(N = 5, M = 12)" in str(info.value)
    assert " at [" in str(info.value)


def test_test_cases_include_both_layouts_and_rectangular_maps():
    shapes = [tuple(c.args[0].shape) for c in answers._gram_cases()]
    assert any(len(s) == 4 for s in shapes) and any(len(s) == 3 for s in shapes)
    assert all(s[-1] != int(np.prod(s[-3:-1])) for s in shapes)        # N != M
    assert any(s[-3] != s[-2] for s in shapes)                           # H != W
    assert any(not np.any(c.args[0]) for c in answers._gram_cases())      # all zeros


# ---------------------------------------------------------------------------
# No borrowing: a function that calls the course's own answer fails, however it calls it.

from course_utils.losses import gram_matrix as imported_gram  # noqa: E402


def gram_hiding_the_borrow(F):
    try:
        return losses.gram_matrix(F)
    except Exception:
        return _gram(F)


BORROWED = [
    ("content_loss", lambda F, P: losses.content_loss(F, P), "content_loss"),
    ("gram_matrix", lambda F: losses.gram_matrix(F), "gram_matrix"),
    ("gram_matrix", lambda F: imported_gram(F), "gram_matrix"),
    ("gram_matrix", gram_hiding_the_borrow, "gram_matrix"),
    ("style_layer_loss", _style_over(lambda N, M: 4 * N**2 * M**2, gram=losses.gram_matrix),
     "gram_matrix"),
    ("style_loss", lambda Fs, As, ws: losses.style_loss(Fs, As, ws), "style_loss"),
    ("style_loss", _style_sum(losses.style_layer_loss, lambda t, w: tf.add_n(t)),
     "style_layer_loss"),
    ("total_loss", losses.total_loss, "total_loss"),
]


@pytest.mark.parametrize("name, fn, used", BORROWED)
def test_calling_the_course_reference_fails_with_a_clear_message(name, fn, used, capsys):
    with pytest.raises(checks.Borrowed) as info:
        CHECKS[name](fn)
    assert str(info.value).startswith(f"{name} calls the course's own {used} ")
    assert isinstance(info.value, AssertionError)
    assert capsys.readouterr().out == ""


def test_the_course_functions_work_again_after_a_refused_borrow():
    with pytest.raises(checks.Borrowed):
        checks.check_gram_matrix(lambda F: losses.gram_matrix(F))
    F = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    np.testing.assert_allclose(losses.gram_matrix(F), gram_numpy(F))
    np.testing.assert_allclose(imported_gram(F), gram_numpy(F))


def test_other_threads_keep_the_course_functions_during_a_check():
    import threading
    results = []
    F = np.ones((1, 2, 2, 3), np.float32)

    def student(F_):
        worker = threading.Thread(target=lambda: results.append(losses.gram_matrix(F).numpy()))
        worker.start()
        worker.join()
        return _gram(F_)

    checks.check_gram_matrix(student)
    np.testing.assert_allclose(results[0], np.full((3, 3), 4.0))


# ---------------------------------------------------------------------------
# Hidden cases, and the stored answers of the student release.

@pytest.mark.parametrize("name, fn", [(n, f) for n, f in CORRECT if f is not None][::4]
                         + CORRECT[-7:])
def test_hidden_cases_pass_a_correct_function(name, fn, capsys):
    CHECKS[name](fn, hidden=True)
    assert "hidden test cases" in capsys.readouterr().out


def test_hidden_cases_differ_from_the_visible_ones():
    for name in cases.GRADED:
        visible = {c.label for c in checks.table(name)["cases"]}
        hidden = {c.label for c in checks.table(name, hidden=True)["cases"]}
        assert hidden and not hidden <= visible, name


def test_a_mistake_also_fails_the_hidden_cases():
    with pytest.raises(checks.CheckFailed, match="divided by M ="):
        checks.check_gram_matrix(lambda F: _gram(F) / _NM(F)[1], hidden=True)


def test_unimplemented_is_its_own_kind_of_failure():
    with pytest.raises(checks.NotImplementedYet):
        checks.check_total_loss(_raise(NotImplementedError()))


@pytest.fixture
def stored_answers(tmp_path, monkeypatch):
    """checks reading answers.json as in the student release (nothing saved: no cwd file)."""
    path = tmp_path / "answers.json"
    import json
    path.write_text(json.dumps(answers.stored()), encoding="utf-8")
    monkeypatch.setattr(table, "stored_path", lambda: path)
    monkeypatch.setenv("COURSE_STUDENT_DIR", str(tmp_path / "student"))
    monkeypatch.delenv("COURSE_HIDDEN_ANSWERS", raising=False)
    yield path


@pytest.mark.parametrize("name, fn, phrase", WRONG[::3])
def test_stored_answers_give_the_same_hints(name, fn, phrase, stored_answers):
    with pytest.raises(AssertionError, match=None) as info:
        CHECKS[name](fn)
    assert phrase in str(info.value)


@pytest.mark.parametrize("name, fn", CORRECT[::3] + CORRECT[-7:])
def test_stored_answers_pass_correct_functions(name, fn, stored_answers, capsys):
    CHECKS[name](fn)
    assert capsys.readouterr().out.startswith(f"✓ {name} matches")


def test_stored_answers_hold_no_hidden_cases(stored_answers):
    with pytest.raises(checks.CheckFailed, match="not part of the student release"):
        checks.check_gram_matrix(_gram, hidden=True)


def test_stored_hidden_answers_are_read_from_where_the_grader_says(stored_answers, tmp_path,
                                                                  monkeypatch, capsys):
    import json
    hidden = tmp_path / "hidden.json"
    hidden.write_text(json.dumps(answers.stored(hidden=True)), encoding="utf-8")
    monkeypatch.setenv("COURSE_HIDDEN_ANSWERS", str(hidden))
    checks.check_gram_matrix(_gram, hidden=True)
    assert "hidden test cases" in capsys.readouterr().out
    with pytest.raises(checks.CheckFailed, match="covariance"):
        checks.check_gram_matrix(gram_covariance, hidden=True)


def test_notebook_6s_exercises_refuse_the_course_functions():
    with pytest.raises(checks.Borrowed, match=r"course_utils\.colour\.with_chroma"):
        control_checks.check_with_chroma(lambda Y, photo: colour.with_chroma(Y, photo))
    from course_utils import masks
    with pytest.raises(checks.Borrowed, match="gram_matrix"):
        control_checks.check_guided_gram_matrix(masks.guided_gram_matrix)
    assert colour.with_chroma(np.zeros((1, 1)), np.zeros((1, 1, 3))).shape == (1, 1, 3)
