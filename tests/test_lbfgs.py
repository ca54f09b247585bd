"""L-BFGS in TensorFlow (`lbfgs`): its recursion is BFGS's inverse Hessian, it keeps the box, and
on the course's objective it ends where SciPy's L-BFGS-B ends after as many evaluations."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import lbfgs, train


def dense_inverse_hessian(pairs, n):
    """H from the BFGS update H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, oldest pair first,
    from H₀ = γI (γ = sᵀy / yᵀy of the newest pair), as Nocedal & Wright's Eq. 7.19."""
    s, y = pairs[-1]
    H = (s @ y) / (y @ y) * np.eye(n)
    for s, y in pairs:
        rho = 1.0 / (s @ y)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


def test_two_loop_recursion_is_the_bfgs_inverse_hessian():
    rng = np.random.default_rng(0)
    n, memory = 12, 4
    A = rng.normal(size=(n, n))
    A = A @ A.T + n * np.eye(n)                  # the Hessian of a convex quadratic
    pairs = [(s, A @ s) for s in rng.normal(size=(6, n))]       # six pairs into a ring of four
    S = tf.Variable(tf.zeros((memory, n)))
    Y = tf.Variable(tf.zeros((memory, n)))
    rho = tf.Variable(tf.zeros((memory,)))
    for k, (s, y) in enumerate(pairs):
        lbfgs._remember(S, Y, rho, tf.constant(k % memory), tf.constant(s, tf.float32),
                        tf.constant(y, tf.float32), tf.constant(s @ y, tf.float32))
    g = rng.normal(size=n) * 0.1
    x = np.full(n, 128.0)                        # far from the box's walls: no pixel held or clipped
    d, slope = lbfgs.direction(tf.constant(g, tf.float32), tf.constant(x, tf.float32), S, Y, rho,
                               tf.constant((len(pairs) - 1) % memory), tf.constant(memory))
    expected = -dense_inverse_hessian(pairs[-memory:], n) @ g
    np.testing.assert_allclose(d.numpy(), expected, rtol=1e-3, atol=1e-5)
    assert float(slope) == pytest.approx(g @ expected, rel=1e-3)


def test_a_quadratic_ends_at_its_minimum_in_the_box():
    """f(x) = ½ Σ a_i (x_i − c_i)²: the minimiser in [0, 255] is clip(c); a quarter of c is outside."""
    rng = np.random.default_rng(1)
    a = tf.constant(rng.uniform(0.5, 5.0, (1, 8, 8, 3)), tf.float32)
    c = tf.constant(rng.uniform(-100, 355, (1, 8, 8, 3)), tf.float32)

    def value_and_grad(x):
        return 0.5 * tf.reduce_sum(a * (x - c) ** 2), a * (x - c)

    seen = []
    x, f = lbfgs.minimize(value_and_grad, np.full((1, 8, 8, 3), 128.0, np.float32), steps=60,
                          memory=5, on_evaluation=lambda x, value: seen.append(x.numpy()))
    np.testing.assert_allclose(x.numpy(), np.clip(c.numpy(), 0, 255), atol=0.05)
    assert all(v.min() >= 0 and v.max() <= 255 for v in seen)
    assert f == pytest.approx(float(value_and_grad(tf.clip_by_value(c, 0, 255))[0]), abs=1e-2)


def test_it_stops_at_a_stationary_point_of_the_box():
    """All pixels pushed against a wall: nothing to do after the first step, no NaN."""
    def value_and_grad(x):
        return tf.reduce_sum(x), tf.ones_like(x)   # downhill is towards 0, everywhere

    steps = []
    x, f = lbfgs.minimize(value_and_grad, np.full((1, 4, 4, 3), 9.0, np.float32), steps=10,
                          on_step=lambda: steps.append(1))
    assert np.all(x.numpy() == 0) and f == 0 and len(steps) == 1


PAIRS = [("tubingen", "starry_night"), ("tubingen", "the_scream"), ("tubingen", "composition_vii")]


@pytest.mark.parametrize("size", [48, 64])
@pytest.mark.parametrize("content, style", PAIRS)
def test_agrees_with_scipys_lbfgs_b_at_equal_evaluations(monkeypatch, content, style, size):
    """The course's objective (float32, colour start, memory 20): SciPy's L-BFGS-B runs 50
    iterations; then ours runs until it has made as many evaluations."""
    seen = []
    original = train._Tracker.evaluated
    monkeypatch.setattr(train._Tracker, "evaluated",
                        lambda self, x, t: (seen.append((float(np.min(x)), float(np.max(x)))),
                                            original(self, x, t)))
    common = dict(size=size, init="colour", lbfgs_memory=20, precision="float32", progress=False)
    scipy = train.stylize(content, style, optimizer="lbfgs-scipy", steps=50, every=50, **common)
    budget = scipy.history[-1]["evaluations"]
    ours = train.stylize(content, style, optimizer="lbfgs", steps=3 * 50, every=1,
                         callback=lambda step, image, h: h[-1]["evaluations"] >= budget, **common)
    assert ours.history[-1]["evaluations"] == budget
    totals = [h["total"] for h in ours.history]
    assert np.all(np.isfinite(totals)) and totals == sorted(totals, reverse=True)
    assert min(lo for lo, _ in seen) >= 0 and max(hi for _, hi in seen) <= 255
    assert ours.best_loss == pytest.approx(scipy.best_loss, rel=TOLERANCE)
