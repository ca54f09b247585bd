"""The answer key: the reference answers to the exercises, as data for the checks.

For each exercise: test cases (inputs and a label), the reference output from `losses`,
and the output of every known mistake (NumPy formulas below, each with its hint).  The
full course computes these tables when a check runs; the student release stores them
(answers.json, written by `python -m course_utils.assignments release`) and leaves this
module — and its formulas — out, with the rest of the classroom sub-package.  Notebook 4's
optimisation step and notebooks 6 and 7's exercises (luminance recombination, guided Gram
matrix) are here too.

Notation (Gatys, Ecker & Bethge 2015): a layer has N filters and M = H * W positions;
its features form the N x M matrix F, and G = F F^T is N x N.
"""
import numpy as np
import tensorflow as tf

from .. import colour, losses, masks
from ..exercises import loop
from ..exercises.cases import GRADED, Case, encode

# ---------------------------------------------------------------------------
# The paper's quantities in NumPy (float64), for the catalogues of mistakes.

def _matrix(F):
    """The paper's N x M matrix F of a (1, H, W, N) or (H, W, N) feature map."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 4:
        F = F[0]
    return F.reshape(-1, F.shape[-1]).T


def _gram(F):
    """G = F F^T (Eq. 3), N x N."""
    F = _matrix(F)
    return F @ F.T


def _sizes(F):
    """(N, M): number of filters and number of positions."""
    return _matrix(F).shape


# ---------------------------------------------------------------------------
# Eq. 1: content loss.

CONTENT_MISTAKES = [
    (lambda F, P: 0.5 * np.mean((F - P) ** 2),
     "you averaged (tf.reduce_mean) where Eq. 1 sums: use tf.reduce_sum over all entries."),
    (lambda F, P: np.mean((F - P) ** 2),
     "you averaged (tf.reduce_mean) where Eq. 1 sums: use tf.reduce_sum over all entries, "
     "and keep the factor ½."),
    (lambda F, P: np.sum((F - P) ** 2),
     "the factor ½ is missing: L_content = ½ Σ (F − P)²."),
    (lambda F, P: 0.5 * np.sum(F - P) ** 2,
     "you squared the sum, ½ (Σ (F − P))²; Eq. 1 sums the squares: "
     "square each difference first, then sum."),
    (lambda F, P: np.sum(F - P) ** 2,
     "you squared the sum, (Σ (F − P))², and dropped the ½; Eq. 1 is ½ Σ (F − P)²: "
     "square each difference first, then sum."),
    (lambda F, P: 0.5 * np.sqrt(np.sum((F - P) ** 2)),
     "you took a square root (a norm such as tf.norm); Eq. 1 has none: ½ Σ (F − P)²."),
    (lambda F, P: np.sqrt(np.sum((F - P) ** 2)),
     "you took a square root (a norm such as tf.norm); Eq. 1 has none: ½ Σ (F − P)²."),
    (lambda F, P: 0.5 * np.sum(np.abs(F - P)),
     "you summed absolute differences |F − P|; Eq. 1 squares them: ½ Σ (F − P)²."),
    (lambda F, P: 0.5 * np.sum(F - P),
     "the differences are not squared: L_content = ½ Σ (F − P)²."),
]


def _content_cases(seed=1, shapes=((1, 4, 3, 5), (4, 3, 5), (1, 2, 7, 3), (2, 1, 6)),
                   edge=(1, 3, 4, 2)):
    """(F, P) pairs: batched, unbatched, non-square, N > M, F = 0, F = P."""
    rng = np.random.default_rng(seed)
    cases = [_case(_features(rng, s), _features(rng, s), label=f"F and P of shape {s}")
             for s in shapes]
    P = _features(rng, edge)
    cases.append(_case(tf.zeros_like(P), P, label=f"F = 0 and P of shape {tuple(P.shape)}"))
    cases.append(_case(P, P, label=f"F = P of shape {tuple(P.shape)}"))
    return cases


# ---------------------------------------------------------------------------
# Eq. 3: Gram matrix.

GRAM_MISTAKES = [
    (lambda F: _gram(F) / _sizes(F)[1],
     "your G is divided by M = H·W (the number of positions); Eq. 3 is the plain sum "
     "G = F Fᵀ — the normalisation comes later, in the style loss E_l."),
    (lambda F: _gram(F) / _sizes(F)[0],
     "your G is divided by N (the number of filters); Eq. 3 is the plain sum G = F Fᵀ."),
    (lambda F: _gram(F) / np.prod(_sizes(F)),
     "your G is divided by N·M; Eq. 3 is the plain sum G = F Fᵀ — "
     "the normalisation comes later, in the style loss E_l."),
    (lambda F: _gram(F[0]),
     "on unbatched (H, W, N) features you dropped the first image row (F[0]); "
     "drop the batch axis only when F has 4 dimensions (1, H, W, N)."),
    (lambda F: np.cov(_matrix(F), bias=True) * _sizes(F)[1],
     "you subtracted the mean of each filter (a covariance); "
     "the Gram matrix uses the raw features: G = F Fᵀ."),
]


def _gram_cases(seed=3, shapes=((1, 4, 3, 5), (4, 3, 5), (1, 2, 7, 3), (3, 1, 6), (2, 5, 4)),
                edge=(1, 3, 4, 2)):
    """Feature maps: batched, unbatched, non-square, N > M, all zeros."""
    rng = np.random.default_rng(seed)
    cases = [_case(F, label=_features_label(F))
             for F in (_features(rng, s) for s in shapes)]
    F = tf.zeros(edge)
    cases.append(_case(F, label="all-zero " + _features_label(F)))
    return cases


# ---------------------------------------------------------------------------
# Eq. 4: style loss of one layer.

def _squared_error_over(norm):
    """E_l with Σ (G − A)² divided by norm(N, M) instead of 4 N² M²."""
    def mistake(F, A):
        N, M = _sizes(F)
        return np.sum((_gram(F) - A) ** 2) / norm(N, M)
    return mistake


def _gram_divided_by(scale):
    """E_l computed from G / scale(N, M) instead of the unnormalised G."""
    def mistake(F, A):
        N, M = _sizes(F)
        return np.sum((_gram(F) / scale(N, M) - A) ** 2) / (4 * N**2 * M**2)
    return mistake


def _style_sum_over(combine):
    """E_l with Σ (G − A)² replaced by combine(G − A)."""
    def mistake(F, A):
        N, M = _sizes(F)
        return combine(_gram(F) - A) / (4 * N**2 * M**2)
    return mistake


STYLE_LAYER_MISTAKES = [
    (_squared_error_over(lambda N, M: N**2 * M**2),
     "the 4 is missing: E_l = Σ (G − A)² / (4 N² M²)."),
    (_squared_error_over(lambda N, M: 2 * N**2 * M**2),
     "you divided by 2 N² M²; Eq. 4 divides by 4 N² M² = (2 N M)²."),
    (_squared_error_over(lambda N, M: N * M),
     "you divided by N·M; Eq. 4 divides by 4 N² M²: square N and M, and keep the 4."),
    (_squared_error_over(lambda N, M: 4 * N * M),
     "you divided by 4 N M; N and M must be squared: 4 N² M²."),
    (_squared_error_over(lambda N, M: 2 * N * M),
     "you divided by 2 N M; the factor is 1 / (2 N M)², squared as a whole."),
    (_squared_error_over(lambda N, M: 1),
     "Σ (G − A)² is not normalised: divide it by 4 N² M²."),
    (_squared_error_over(lambda N, M: N**2),
     "you averaged (tf.reduce_mean) over the N × N entries instead of dividing the sum "
     "by 4 N² M²."),
    (_squared_error_over(lambda N, M: 4 * N**4 * M**2),
     "you divided by 4 N⁴ M², two factors of N too many: either you averaged "
     "(tf.reduce_mean) before dividing by 4 N² M² (Eq. 4 sums Σ (G − A)²), or you took M "
     "as the tensor size H·W·N (M = H·W is the number of positions)."),
    (_gram_divided_by(lambda N, M: M),
     "your G is divided by M (is your gram_matrix normalised?); the target A is the "
     "unnormalised Gram matrix F Fᵀ, so G must be too."),
    (_gram_divided_by(lambda N, M: N),
     "your G is divided by N (is your gram_matrix normalised?); the target A is the "
     "unnormalised Gram matrix F Fᵀ, so G must be too."),
    (_gram_divided_by(lambda N, M: N * M),
     "your G is divided by N·M (is your gram_matrix normalised?); the target A is the "
     "unnormalised Gram matrix F Fᵀ, so G must be too."),
    (_style_sum_over(lambda D: np.sum(D) ** 2),
     "you squared the sum, (Σ (G − A))²; Eq. 4 sums the squared differences Σ (G − A)²."),
    (_style_sum_over(np.sum),
     "the differences G − A are not squared: E_l = Σ (G − A)² / (4 N² M²)."),
]


def _style_layer_cases(seed=4, shapes=((1, 4, 3, 5), (4, 3, 5), (3, 1, 6))):
    """(F, A) pairs, A a Gram target: random, A = G (zero loss), F = 0, A = 0."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape in shapes:
        F, S = _features(rng, shape, 10.0), _features(rng, shape, 10.0)
        cases.append(_style_case(F, losses.gram_matrix(S)))
    F = _features(rng, (1, 2, 7, 3), 10.0)
    cases.append(_style_case(F, losses.gram_matrix(F), "A = G of "))
    F, S = tf.zeros((1, 3, 4, 2)), _features(rng, (1, 3, 4, 2), 10.0)
    cases.append(_style_case(F, losses.gram_matrix(S), "all-zero "))
    F = _features(rng, (1, 5, 2, 4), 10.0)
    cases.append(_style_case(F, tf.zeros((4, 4)), "A = 0 and "))
    return cases


def _style_case(F, A, prefix=""):
    return _case(F, A, label=f"{prefix}{_features_label(F)} and A of shape {tuple(A.shape)}")


# ---------------------------------------------------------------------------
# Eq. 5: style loss over layers.

def _E(F, A):
    """E_l (Eq. 4) in NumPy."""
    N, M = _sizes(F)
    return np.sum((_gram(F) - A) ** 2) / (4 * N**2 * M**2)


def _per_layer(mistake):
    """Σ_l w_l E'_l where E' is a wrong style_layer_loss."""
    return lambda Fs, As, ws: sum(w * mistake(F, A) for F, A, w in zip(Fs, As, ws))


STYLE_MISTAKES = [
    (lambda Fs, As, ws: sum(_E(F, A) for F, A in zip(Fs, As)),
     "the weights w_l are missing: L_style = Σ_l w_l E_l."),
    (lambda Fs, As, ws: sum(w * _E(F, A) for F, A, w in zip(Fs, As, ws)) / len(Fs),
     "you divided by the number of layers; Eq. 5 sums w_l E_l without averaging."),
    (lambda Fs, As, ws: sum(_E(F, A) for F, A in zip(Fs, As)) / len(Fs),
     "you averaged E_l over the layers and left out the weights: L_style = Σ_l w_l E_l."),
    (lambda Fs, As, ws: sum(w * _E(F, A) for F, A, w in zip(Fs, As, ws)) / sum(ws),
     "you divided by Σ w_l; Eq. 5 does not normalise the weights: L_style = Σ_l w_l E_l."),
    (lambda Fs, As, ws: ws[0] * _E(Fs[0], As[0]),
     "only the first layer counts: is your `return` inside the loop?"),
    (lambda Fs, As, ws: ws[-1] * _E(Fs[-1], As[-1]),
     "only the last layer counts: accumulate (loss += w * E, or tf.add_n) "
     "instead of overwriting."),
] + [
    (_per_layer(mistake),
     f"the per-layer losses E_l are wrong — {hint} "
     "Run check_style_layer_loss(style_layer_loss) first.")
    for mistake, hint in STYLE_LAYER_MISTAKES
]


STYLE_LAYOUTS = [([(1, 4, 3, 5), (1, 2, 7, 3)], [0.5, 2.0]),
                 ([(1, 6, 4, 3), (1, 3, 2, 5), (1, 1, 3, 8)], [1.0, 0.25, 4.0]),
                 ([(4, 3, 5), (3, 1, 6)], [0.3, 0.7]),
                 ([(1, 5, 2, 4)], [2.0]),
                 ([(1, 3, 4, 2), (1, 2, 2, 6)], [0.0, 3.0])]


def _style_cases(seed=5, layouts=STYLE_LAYOUTS):
    """(features, targets, weights) lists: 1 to 3 layers, batched and unbatched."""
    rng = np.random.default_rng(seed)
    cases = []
    for shapes, weights in layouts:
        Fs = [_features(rng, s, 10.0) for s in shapes]
        As = [losses.gram_matrix(_features(rng, s, 10.0)) for s in shapes]
        cases.append(_case(Fs, As, weights,
                           label=f"{len(shapes)} layer(s) of shapes {shapes}, weights {weights}"))
    Fs = [_features(rng, s, 10.0) for s in [(1, 4, 3, 5), (1, 2, 7, 3)]]
    As = [losses.gram_matrix(Fs[0]), losses.gram_matrix(_features(rng, (1, 2, 7, 3), 10.0))]
    cases.append(_case(Fs, As, [1.5, 0.5],
                       label="2 layers, the first with A = G, weights [1.5, 0.5]"))
    return cases


# ---------------------------------------------------------------------------
# Eq. 7: total loss.

TOTAL_MISTAKES = [
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: b * c + a * s + tv_weight * tv,
     "α and β are swapped: α weights the content loss, β the style loss."),
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + s + tv_weight * tv,
     "β is missing: L_total = α L_content + β L_style."),
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: c + b * s + tv_weight * tv,
     "α is missing: L_total = α L_content + β L_style."),
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s,
     "the total-variation term tv_weight · tv is missing."),
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: a * c + b * s + tv,
     "tv is added without its weight: the term is tv_weight · tv."),
    (lambda c, s, a, b, tv=0.0, tv_weight=0.0: (a * c + b * s) / (a + b) + tv_weight * tv,
     "you divided by α + β; Eq. 7 is the plain weighted sum α L_content + β L_style."),
]


TOTAL_NUMBERS = [(2.0, 3.0, 1.0, 10.0), (5.0, 0.5, 1e-3, 1.0), (1.5, 4.0, 1.0, 1e4),
                 (0.0, 2.0, 5.0, 3.0)]
TOTAL_TV_NUMBERS = [(2.0, 3.0, 1.0, 10.0, 7.0, 0.1), (1.0, 0.5, 2.0, 0.5, 3.0, 4.0)]


def _total_cases(numbers=TOTAL_NUMBERS, with_tv=TOTAL_TV_NUMBERS):
    """Scalar losses and weights, with and without the total-variation term."""
    cases = [_case(tf.constant(c), tf.constant(s), a, b,
                   label=f"content = {c}, style = {s}, alpha = {a}, beta = {b}")
             for c, s, a, b in numbers]
    for c, s, a, b, tv, tw in with_tv:
        cases.append(_case(tf.constant(c), tf.constant(s), a, b, tv=tf.constant(tv), tv_weight=tw,
                           label=f"content = {c}, style = {s}, alpha = {a}, beta = {b}, "
                                 f"tv = {tv}, tv_weight = {tw}"))
    return cases


# ---------------------------------------------------------------------------
# The guided Gram matrix G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²)  (Gatys et al. 2017).


def _masked(F, m):
    """The N x M matrix of F ∘ m (m: H x W, broadcast over the filters)."""
    return _matrix(F) * np.asarray(m, np.float64).reshape(1, -1)


GUIDED_MISTAKES = [
    (lambda F, m: _gram(_masked(F, m).T[None]),
     "G[m] is not normalised: divide (F ∘ m)(F ∘ m)ᵀ by mean(m²), so that an all-ones "
     "mask gives the plain Gram matrix F Fᵀ."),
    (lambda F, m: _gram(_masked(F, m).T[None]) / np.mean(m),
     "you divided by mean(m); the mask enters G twice (once in each factor F ∘ m), so "
     "divide by mean(m²)."),
    (lambda F, m: _gram(_masked(F, m).T[None]) / np.sum(np.square(m)),
     "you divided by Σ m² (a sum); divide by mean(m²) = Σ m² / M, so that an all-ones mask "
     "gives F Fᵀ, not F Fᵀ / M."),
    (lambda F, m: _gram(_masked(F, m).T[None]) / np.mean(m) ** 2,
     "you divided by mean(m)²; the normalisation is the mean of the squared mask, mean(m²)."),
    (lambda F, m: _masked(F, m) @ _matrix(F).T / np.mean(m),
     "only one factor is masked, (F ∘ m) Fᵀ: mask both, G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²)."),
    (lambda F, m: _masked(F, m) @ _matrix(F).T / np.mean(np.square(m)),
     "only one factor is masked, (F ∘ m) Fᵀ: mask both, G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²)."),
    (lambda F, m: _gram(F) * np.mean(np.square(m)),
     "you multiplied the plain Gram matrix by a number; the mask must weight each position: "
     "F ∘ m multiplies column k of F by m_k."),
    (lambda F, m: _gram(F),
     "the mask is ignored: G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²)."),
]


GUIDED_LAYOUTS = [((1, 4, 3, 5), "soft"), ((4, 3, 5), "soft"), ((1, 2, 7, 3), "binary"),
                  ((3, 5, 6), "ones"), ((1, 6, 4, 2), "corner")]


def _guided_cases(seed=11, layouts=GUIDED_LAYOUTS):
    """(F, m): batched and unbatched, soft, binary, all-ones and mostly-zero masks."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape, kind in layouts:
        F = _features(rng, shape)
        H, W = shape[-3], shape[-2]
        m = {"soft": rng.uniform(0, 1, (H, W)), "binary": rng.uniform(0, 1, (H, W)) > 0.4,
             "ones": np.ones((H, W)), "corner": np.pad(np.ones((2, 2)), ((0, H - 2), (0, W - 2)))}[kind]
        m = tf.constant(np.asarray(m, np.float32))
        cases.append(_case(F, m, label=f"{_features_label(F)} and a {kind} mask m of shape {(H, W)}"))
    return cases


# ---------------------------------------------------------------------------
# Luminance recombination: the RGB picture with luminance Y and the photo's chroma.

def _yiq(x):
    return np.asarray(x, np.float64) @ colour.RGB_TO_YIQ.T


def _replace_y(Y, photo, inverse=colour.YIQ_TO_RGB):
    yiq = _yiq(photo)
    yiq[..., 0] = Y
    return yiq @ inverse.T


CHROMA_MISTAKES = [
    (lambda Y, photo: np.asarray(photo, np.float64),
     "you returned the photo unchanged: its chroma is right, but the luminance must be Y."),
    (lambda Y, photo: np.repeat(np.asarray(Y, np.float64)[..., None], 3, axis=-1),
     "you returned the grey picture (Y, Y, Y): put the photo's chroma back — convert the "
     "photo to YIQ, replace its Y channel by Y, convert back to RGB."),
    (lambda Y, photo: np.clip(_replace_y(Y, photo), 0, 255),
     "you clipped to 0 … 255; return the exact recombination (clipping changes the chroma, "
     "and the caller clips when it saves a picture)."),
    (lambda Y, photo: _replace_y(Y, photo, colour.RGB_TO_YIQ),
     "you converted back with the forward matrix (RGB → YIQ) again; YIQ → RGB is its "
     "inverse, np.linalg.inv(RGB_TO_YIQ)."),
    (lambda Y, photo: _replace_y(Y, photo, colour.RGB_TO_YIQ.T),
     "you converted back with the transpose of RGB → YIQ; the matrix is not orthogonal: "
     "YIQ → RGB is its inverse, np.linalg.inv(RGB_TO_YIQ)."),
    (lambda Y, photo: _yiq(_replace_y(Y, photo)),
     "you returned YIQ values: convert back to RGB at the end."),
    (lambda Y, photo: np.asarray(photo, np.float64) + (np.asarray(Y) - np.mean(photo, -1))[..., None],
     "your luminance is the plain mean (R + G + B) / 3; Y = 0.299 R + 0.587 G + 0.114 B "
     "(the first row of RGB_TO_YIQ)."),
    (lambda Y, photo: _replace_y(np.asarray(Y) + _yiq(photo)[..., 0], photo),
     "you added Y to the photo's luminance; replace it: the result's luminance must be Y."),
]


def _chroma_cases(seed=12, shapes=((4, 5), (3, 3), (6, 2))):
    """(Y, photo): random pictures, a grey photo, a Y far outside the photo's range."""
    rng = np.random.default_rng(seed)
    picture = lambda x: tf.constant(np.asarray(x, np.float32))            # noqa: E731
    cases = []
    for shape in shapes:
        Y, photo = rng.uniform(40, 215, shape), rng.uniform(0, 255, shape + (3,))
        cases.append(_case(picture(Y), picture(photo), label=f"Y of shape {shape} and an RGB photo"))
    grey = np.repeat(rng.uniform(0, 255, (4, 4, 1)), 3, axis=-1)
    cases.append(_case(picture(rng.uniform(0, 255, (4, 4))), picture(grey),
                       label="a grey photo (I = Q = 0)"))
    cases.append(_case(picture(np.full((3, 4), 250.0)), picture(rng.uniform(0, 255, (3, 4, 3))),
                       label="a bright Y = 250 whose recombination leaves 0 … 255"))
    return cases


# ---------------------------------------------------------------------------
# The optimisation step: L = loss_fn(x) on a tape, Adam's update of x, clip to the box.
# Each step (right or wrong) is run by the same harness, `loop.run`, on a case's data.

def _step(grad_sign=1.0, apply=True, box=loop.BOX, clip=True, by_hand=False):
    """An optimisation step, the course's (the defaults) or with one known mistake (a
    step that clips before the update is caught by `loop.run`: its loss is not x's)."""
    def step(x, optimizer, loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn(x)
        g = tape.gradient(loss, x)
        if by_hand:
            x.assign_sub(optimizer.learning_rate * g)
        elif apply:
            optimizer.apply_gradients([(grad_sign * g, x)])
        if clip:
            x.assign(tf.clip_by_value(x, *box))
        return loss
    return step


def _run_with(step):
    return lambda x0, target, learning_rate, steps: loop.run(step, x0, target, learning_rate, steps)


# Each wrong step, as a student writes it, with its hint.
STEP_VARIANTS = [
    (_step(clip=False),
     "the image left the pixel box: after the update, clip it to 0 … 255, "
     "x.assign(tf.clip_by_value(x, 0.0, 255.0)), as train.py does."),
    (_step(box=(0.0, 1.0)),
     "you clipped to [0, 1]; the course's images are in 0 … 255 (VGG's preprocessing "
     "happens inside the objective): clip to 0.0 … 255.0."),
    (_step(grad_sign=-1.0),
     "the loss went up: apply the gradient itself, optimizer.apply_gradients([(grad, x)]) "
     "— the optimizer subtracts it (it minimises); do not negate it."),
    (_step(apply=False),
     "the image did not move: apply the gradient with optimizer.apply_gradients([(grad, x)])."),
    (_step(by_hand=True),
     "you updated x by hand (x − lr · grad, plain gradient descent); let the optimizer "
     "(Adam) apply the gradient: optimizer.apply_gradients([(grad, x)])."),
]
STEP_MISTAKES = [(_run_with(step), hint) for step, hint in STEP_VARIANTS]


STEP_LAYOUTS = [((1, 3, 4, 3), 20.0, 1), ((1, 3, 4, 3), 20.0, 3), ((4, 2, 3), 50.0, 2),
                ((1, 2, 2, 3), 5.0, 4)]


def _step_cases(seed=16, layouts=STEP_LAYOUTS):
    """(x0, target, learning rate, steps): start images in the box, targets partly outside
    it (so that clipping matters), one to four steps."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape, lr, steps in layouts:
        x0 = rng.uniform(0, 255, shape).astype(np.float32)
        target = rng.uniform(-100, 355, shape).astype(np.float32)
        cases.append(_case(tf.constant(x0), tf.constant(target), lr, steps,
                           label=f"{steps} step(s) of Adam (learning rate {lr:g}) from an image "
                                 f"of shape {shape}"))
    return cases


# ---------------------------------------------------------------------------
# Notebook 5's balanced layer weights: w_l ∝ 1/E_l over a layer set S, normalised so that
# Σ_S w_l E_l stays the equal-weight total Σ_S E_l / |S|.

def _balanced(E):
    E = np.asarray(E, np.float64)
    return np.mean(E) / (len(E) * E)


WEIGHT_MISTAKES = [
    (lambda E: 1.0 / np.asarray(E, np.float64),
     "your w_l are 1/E_l, not normalised: scale them so that Σ_l w_l E_l is the equal-weight "
     "total Σ_l E_l / |S|, i.e. w_l = (Σ_k E_k / |S|) / (|S| E_l)."),
    (lambda E: (1.0 / np.asarray(E, np.float64)) / np.sum(1.0 / np.asarray(E, np.float64)),
     "your weights sum to 1 (w_l = (1/E_l) / Σ_k 1/E_k); here the normalisation keeps the "
     "total Σ_l w_l E_l equal to the equal-weight one, Σ_l E_l / |S|."),
    (lambda E: np.mean(E) / np.asarray(E, np.float64),
     "your Σ_l w_l E_l is |S| times the equal-weight total: divide by |S| once more, "
     "w_l = (Σ_k E_k / |S|) / (|S| E_l)."),
    (lambda E: np.sum(E) / (len(E) ** 2 * np.asarray(E, np.float64)) / len(E),
     "your weights are |S| times too small: w_l = (Σ_k E_k / |S|) / (|S| E_l)."),
    (lambda E: np.full(len(E), 1.0 / len(E)),
     "these are the equal weights 1/|S|; balanced weights are proportional to 1/E_l."),
    (lambda E: np.asarray(E, np.float64) * np.mean(E) / np.sum(np.square(E)),
     "your w_l grow with E_l; balanced weights are proportional to 1/E_l, so that every "
     "w_l E_l is the same."),
]


def _weight_cases(seed=20, sizes=(1, 2, 3, 5, 5), equal=(3, 3.0)):
    """E_l of 1 to 5 layers, spread over several orders of magnitude as in notebook 5, and
    `equal` = (count, value): layers with equal E_l, whose weights are the equal 1/|S|."""
    rng = np.random.default_rng(seed)
    cases = []
    for n in sizes:
        E = 10.0 ** rng.uniform(-2, 6, n)
        cases.append(_case(tf.constant(E, tf.float32),
                           label=f"E_l of {n} layer(s), {', '.join(f'{e:.3g}' for e in E)}"))
    count, value = equal
    cases.append(_case(tf.constant([value] * count), label=f"{count} equal E_l = {value:g}"))
    return cases


# ---------------------------------------------------------------------------
# Building test inputs.

def _case(*args, label, **kwargs):
    return Case(args, kwargs, label)


def _features(rng, shape, scale=1.0):
    """Non-negative random features (like ReLU outputs) as a float32 tensor."""
    return tf.constant(rng.uniform(0.0, scale, shape), dtype=tf.float32)


def _features_label(F):
    N, M = _sizes(F)
    batched = "" if len(F.shape) == 4 else "unbatched "
    return f"{batched}features of shape {tuple(F.shape)} (N = {N}, M = {M})"


# ---------------------------------------------------------------------------
# The tables: each exercise's cases with the reference output and every mistake's output.

EXERCISES = {
    # name: (equation, reference, visible cases, hidden cases, mistakes, shape of the answer)
    "content_loss": ("Eq. 1", losses.content_loss, _content_cases,
                     lambda: _content_cases(11, [(1, 5, 2, 4), (3, 6, 2)], (2, 2, 3)),
                     CONTENT_MISTAKES, "scalar"),
    "gram_matrix": ("Eq. 3", losses.gram_matrix, _gram_cases,
                    lambda: _gram_cases(13, [(1, 6, 2, 3), (2, 3, 7), (1, 1, 5, 9)], (2, 2, 3)),
                    GRAM_MISTAKES, "gram"),
    "style_layer_loss": ("Eq. 4", losses.style_layer_loss, _style_layer_cases,
                         lambda: _style_layer_cases(14, [(1, 6, 2, 3), (2, 3, 7)]),
                         STYLE_LAYER_MISTAKES, "scalar"),
    "style_loss": ("Eq. 5", losses.style_loss, _style_cases,
                   lambda: _style_cases(15, [([(1, 3, 5, 2), (2, 2, 7)], [0.1, 5.0]),
                                             ([(1, 2, 6, 4)], [0.5])]),
                   STYLE_MISTAKES, "scalar"),
    "total_loss": ("Eq. 7", losses.total_loss, _total_cases,
                   lambda: _total_cases([(3.0, 7.0, 0.5, 2.0), (0.25, 8.0, 1e-2, 1e2)],
                                        [(4.0, 1.0, 0.3, 3.0, 2.0, 0.5)]),
                   TOTAL_MISTAKES, "scalar"),
    "train_step": ("optimisation step (Adam, box 0 … 255)", _run_with(_step()), _step_cases,
                   lambda: _step_cases(17, [((1, 2, 3, 3), 10.0, 2), ((3, 3, 3), 30.0, 3)]),
                   STEP_MISTAKES, "rgb"),
    "balanced_weights": ("w_l ∝ 1/E_l with Σ w_l E_l = Σ E_l / |S|", _balanced, _weight_cases,
                         lambda: _weight_cases(21, (4, 2), (2, 0.5)), WEIGHT_MISTAKES, "vector"),
    # Notebook 7:
    "guided_gram_matrix": ("guided Gram matrix (Gatys et al. 2017)", masks.guided_gram_matrix,
                           _guided_cases,
                           lambda: _guided_cases(18, [((1, 3, 5, 4), "soft"), ((2, 6, 3), "binary"),
                                                      ((1, 4, 4, 2), "corner")]),
                           GUIDED_MISTAKES, "gram"),
    "with_chroma": ("luminance recombination (Gatys et al. 2017, §5)", colour.with_chroma,
                    _chroma_cases, lambda: _chroma_cases(19, [(5, 3), (2, 4)]),
                    CHROMA_MISTAKES, "rgb"),
}


def table(name, hidden=False):
    """{equation, answer, hints, cases}: the cases (visible, or the hidden ones) of one
    exercise, each with `want` (the reference output) and `wrong` (each mistake's output)."""
    equation, reference, visible, extra, mistakes, answer = EXERCISES[name]
    if hidden and extra is None:
        raise ValueError(f"{name} has no hidden test cases")
    cases = [_solved(c, reference, mistakes) for c in (extra() if hidden else visible())]
    return dict(equation=equation, answer=answer, hints=[hint for _, hint in mistakes],
                cases=cases)


def _solved(case, reference, mistakes):
    want = np.asarray(reference(*case.args, **case.kwargs), dtype=np.float64)
    return case._replace(want=want, wrong=[_wrong_value(m, case) for m, _ in mistakes])


def _wrong_value(mistake, case):
    """mistake on case's arguments in float64 NumPy; None if it does not apply."""
    try:
        return np.asarray(mistake(*_numpy(case.args), **_numpy(case.kwargs)), np.float64)
    except Exception:
        return None


def _numpy(x):
    """Tensors (also inside lists, tuples and dicts) -> float64 NumPy arrays."""
    if isinstance(x, dict):
        return {k: _numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_numpy(v) for v in x)
    return np.asarray(x, dtype=np.float64)


def stored(hidden=False):
    """The graded exercises' tables as JSON-ready data (what the student release stores)."""
    return {name: encode(table(name, hidden)) for name in GRADED}
