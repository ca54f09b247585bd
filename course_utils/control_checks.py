"""Immediate checks for notebook 6's exercises: the guided Gram matrix and the luminance
recombination, in the style of `checks` (its machinery, its kind of hints).

    check_guided_gram_matrix(guided_gram_matrix)
    check_with_chroma(with_chroma)
"""
import numpy as np
import tensorflow as tf

from . import checks, colour, masks
from .answers import _case, _features, _features_label, _gram, _matrix, _solved
from .checks import _gram_shape_hint


def _check(fn, name, equation, reference, cases, mistakes, shape_hint):
    """`checks`' comparison of fn with reference on cases, for an exercise outside the five
    (computed here, not stored: these references are not held back from a release)."""
    cases = [_solved(case, reference, mistakes) for case in cases]
    gots = []
    for case in cases:
        got = checks._output(fn, name, case)
        if got.shape != case.want.shape:
            raise checks.CheckFailed(shape_hint(name, case, got.shape, case.want.shape))
        gots.append(got)
    if not all(checks._close(got, case.want) for got, case in zip(gots, cases)):
        raise checks.CheckFailed(checks._diagnosis(name, equation, cases, gots,
                                                   [hint for _, hint in mistakes]))
    print(f"✓ {name} matches the paper's {equation} on {len(cases)} test cases.")

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


def _guided_cases():
    """(F, m): batched and unbatched, soft, binary, all-ones and mostly-zero masks."""
    rng = np.random.default_rng(11)
    cases = []
    for shape, kind in [((1, 4, 3, 5), "soft"), ((4, 3, 5), "soft"), ((1, 2, 7, 3), "binary"),
                        ((3, 5, 6), "ones"), ((1, 6, 4, 2), "corner")]:
        F = _features(rng, shape)
        H, W = shape[-3], shape[-2]
        m = {"soft": rng.uniform(0, 1, (H, W)), "binary": rng.uniform(0, 1, (H, W)) > 0.4,
             "ones": np.ones((H, W)), "corner": np.pad(np.ones((2, 2)), ((0, H - 2), (0, W - 2)))}[kind]
        m = tf.constant(np.asarray(m, np.float32))
        cases.append(_case(F, m, label=f"{_features_label(F)} and a {kind} mask m of shape {(H, W)}"))
    return cases


def check_guided_gram_matrix(fn):
    """Check fn(F, m) against G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²), an N × N matrix."""
    _check(fn, "guided_gram_matrix", "guided Gram matrix (Gatys et al. 2017)", masks.guided_gram_matrix,
           _guided_cases(), GUIDED_MISTAKES, _gram_shape_hint)


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
    (lambda Y, photo: np.clip(colour.with_chroma(Y, photo), 0, 255),
     "you clipped to 0 … 255; return the exact recombination (clipping changes the chroma, "
     "and the caller clips when it saves a picture)."),
    (lambda Y, photo: _replace_y(Y, photo, colour.RGB_TO_YIQ),
     "you converted back with the forward matrix (RGB → YIQ) again; YIQ → RGB is its "
     "inverse, np.linalg.inv(RGB_TO_YIQ)."),
    (lambda Y, photo: _replace_y(Y, photo, colour.RGB_TO_YIQ.T),
     "you converted back with the transpose of RGB → YIQ; the matrix is not orthogonal: "
     "YIQ → RGB is its inverse, np.linalg.inv(RGB_TO_YIQ)."),
    (lambda Y, photo: _yiq(colour.with_chroma(Y, photo)),
     "you returned YIQ values: convert back to RGB at the end."),
    (lambda Y, photo: np.asarray(photo, np.float64) + (np.asarray(Y) - np.mean(photo, -1))[..., None],
     "your luminance is the plain mean (R + G + B) / 3; Y = 0.299 R + 0.587 G + 0.114 B "
     "(the first row of RGB_TO_YIQ)."),
    (lambda Y, photo: _replace_y(np.asarray(Y) + _yiq(photo)[..., 0], photo),
     "you added Y to the photo's luminance; replace it: the result's luminance must be Y."),
]


def _chroma_cases():
    """(Y, photo): random pictures, a grey photo, a Y far outside the photo's range."""
    rng = np.random.default_rng(12)
    cases = []
    for shape in [(4, 5), (3, 3), (6, 2)]:
        Y, photo = rng.uniform(40, 215, shape), rng.uniform(0, 255, shape + (3,))
        cases.append(_case(Y, photo, label=f"Y of shape {shape} and an RGB photo"))
    grey = np.repeat(rng.uniform(0, 255, (4, 4, 1)), 3, axis=-1)
    cases.append(_case(rng.uniform(0, 255, (4, 4)), grey, label="a grey photo (I = Q = 0)"))
    cases.append(_case(np.full((3, 4), 250.0), rng.uniform(0, 255, (3, 4, 3)),
                       label="a bright Y = 250 whose recombination leaves 0 … 255"))
    return cases


def _chroma_shape_hint(name, case, got_shape, want_shape):
    return (f"{name} returned shape {got_shape} for {case.label}; it must return an RGB "
            f"picture of shape {want_shape}: the photo's shape.")


def check_with_chroma(fn):
    """Check fn(Y, photo): the RGB picture whose luminance is Y and whose chroma is the photo's."""
    _check(fn, "with_chroma", "luminance recombination (Gatys et al. 2017, §5)", colour.with_chroma,
           _chroma_cases(), CHROMA_MISTAKES, _chroma_shape_hint)
