"""The paper's losses against independent NumPy implementations, and Eq. 6's gradient."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import losses

SHAPES = [(1, 5, 7, 3), (4, 6, 8), (1, 1, 1, 2), (1, 3, 2, 16)]


def rng(seed=0):
    return np.random.default_rng(seed)


def np_gram(F):
    F = F.reshape(-1, F.shape[-1]).T          # the paper's F: N x M
    return F @ F.T


def np_E(F, A):
    N, M = F.shape[-1], F.reshape(-1, F.shape[-1]).shape[0]
    return ((np_gram(F) - A) ** 2).sum() / (4 * N**2 * M**2)


@pytest.mark.parametrize("shape", SHAPES)
def test_content_loss_is_half_the_sum_of_squares(shape):
    F, P = rng().normal(size=(2,) + shape).astype(np.float32)
    np.testing.assert_allclose(losses.content_loss(F, P), 0.5 * ((F - P) ** 2).sum(), rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_gram_matrix_matches_numpy(shape):
    F = rng(1).normal(size=shape).astype(np.float32)
    G = losses.gram_matrix(F).numpy()
    assert G.shape == (shape[-1], shape[-1])
    np.testing.assert_allclose(G, np_gram(F), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_style_layer_loss_matches_numpy(shape):
    F = rng(2).normal(size=shape).astype(np.float32)
    A = np_gram(rng(3).normal(size=shape).astype(np.float32))
    np.testing.assert_allclose(losses.style_layer_loss(F, A), np_E(F, A), rtol=1e-5)


def test_style_loss_is_the_weighted_sum_of_layer_losses():
    r = rng(4)
    Fs = [r.normal(size=(1, 4, 4, n)).astype(np.float32) for n in (3, 5)]
    As = [np_gram(r.normal(size=(1, 4, 4, n)).astype(np.float32)) for n in (3, 5)]
    w = [0.3, 2.0]
    expected = sum(wl * np_E(F, A) for wl, F, A in zip(w, Fs, As))
    np.testing.assert_allclose(losses.style_loss(Fs, As, w), expected, rtol=1e-5)


def test_style_loss_refuses_lists_of_different_lengths():
    F = np.ones((1, 2, 2, 3), np.float32)
    with pytest.raises(ValueError, match="as many weights as layers"):
        losses.style_loss([F, F], [np_gram(F)] * 2, [1.0])


def test_total_variation_and_total_loss():
    x = rng(5).uniform(0, 255, size=(1, 6, 5, 3)).astype(np.float32)
    tv = ((x[:, 1:] - x[:, :-1]) ** 2).sum() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum()
    np.testing.assert_allclose(losses.total_variation_loss(x), tv, rtol=1e-5)
    np.testing.assert_allclose(losses.total_variation_loss(x[0]), tv, rtol=1e-5)
    assert losses.total_loss(2.0, 3.0, alpha=0.5, beta=10.0) == pytest.approx(31.0)
    assert losses.total_loss(2.0, 3.0, 0.5, 10.0, tv=4.0, tv_weight=0.25) == pytest.approx(32.0)


def test_gram_is_symmetric_positive_semidefinite():
    G = losses.gram_matrix(rng(6).normal(size=(1, 9, 7, 12)).astype(np.float32)).numpy()
    np.testing.assert_allclose(G, G.T, rtol=1e-6)
    assert np.linalg.eigvalsh(G.astype(np.float64)).min() > -1e-3 * np.abs(G).max()


def test_gram_ignores_where_features_are():
    """Style is statistics, not layout: permuting the M positions leaves G unchanged."""
    F = rng(7).normal(size=(8, 6, 10)).astype(np.float32)
    flat = F.reshape(-1, 10)
    shuffled = flat[rng(8).permutation(len(flat))].reshape(F.shape)
    np.testing.assert_allclose(losses.gram_matrix(shuffled), losses.gram_matrix(F), rtol=1e-5, atol=1e-4)
    assert not np.allclose(shuffled, F)


def test_autodiff_gradient_of_E_matches_the_papers_equation_6():
    """dE_l/dF = (1 / (N^2 M^2)) * F^T (G - A), the paper's Eq. 6 (F above zero)."""
    F = rng(9).uniform(0.1, 2.0, size=(1, 5, 4, 6)).astype(np.float32)
    A = np_gram(rng(10).uniform(0.1, 2.0, size=(1, 5, 4, 6)).astype(np.float32))
    x = tf.constant(F)
    with tf.GradientTape() as tape:
        tape.watch(x)
        E = losses.style_layer_loss(x, A)
    grad = tape.gradient(E, x).numpy().reshape(-1, 6)      # M x N, i.e. (dE/dF)^T
    Ft = F.reshape(-1, 6)
    N, M = 6, Ft.shape[0]
    analytic = Ft @ (np_gram(F) - A) / (N**2 * M**2)
    np.testing.assert_allclose(grad, analytic, rtol=1e-4, atol=1e-9)


def test_autodiff_gradient_of_content_loss_is_F_minus_P():
    F, P = rng(11).normal(size=(2, 1, 3, 3, 4)).astype(np.float32)
    x = tf.constant(F)
    with tf.GradientTape() as tape:
        tape.watch(x)
        L = losses.content_loss(x, P)
    np.testing.assert_allclose(tape.gradient(L, x), F - P, rtol=1e-5)
