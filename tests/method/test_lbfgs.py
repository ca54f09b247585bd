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


def test_the_direction_is_the_bfgs_inverse_hessians():
    """H ∇L from the pairs kept (six pushed into a ring of four) is the dense BFGS update's."""
    rng = np.random.default_rng(0)
    n, memory = 12, 4
    A = rng.normal(size=(n, n))
    A = A @ A.T + n * np.eye(n)                  # the Hessian of a convex quadratic
    pairs = [(s, A @ s) for s in rng.normal(size=(6, n))]       # six pairs into a ring of four
    kept = lbfgs.Pairs(memory, n)
    for s, y in pairs:
        kept.remember(tf.constant(s, tf.float32), tf.constant(y, tf.float32))
    g = rng.normal(size=n) * 0.1
    x = np.full(n, 128.0)                        # far from the box's walls: no pixel held or clipped
    for count in (memory, 2):                    # the ring full, and after the last two only
        kept.count = count
        d, slope = kept.direction(tf.constant(g, tf.float32), tf.constant(x, tf.float32))
        expected = -dense_inverse_hessian(pairs[-count:], n) @ g
        np.testing.assert_allclose(d.numpy(), expected, rtol=1e-3, atol=1e-5)
        assert float(slope) == pytest.approx(g @ expected, rel=1e-3)
    kept.forget()
    d, _ = kept.direction(tf.constant(g, tf.float32), tf.constant(x, tf.float32))
    np.testing.assert_allclose(d.numpy(), -g, atol=1e-5)          # no pairs: H = I


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
    np.testing.assert_allclose(x.numpy(), np.clip(c.numpy(), 0, 255), atol=0.5)   # of 100s at the start
    assert all(v.min() >= 0 and v.max() <= 255 for v in seen)
    assert f == pytest.approx(float(value_and_grad(tf.clip_by_value(c, 0, 255))[0]), abs=0.5)


def test_it_stops_at_a_stationary_point_of_the_box():
    """Every pixel pushed against a wall it reaches in the first step: nothing to do after it."""
    def value_and_grad(x):
        return tf.reduce_sum(x), tf.ones_like(x)   # downhill is towards 0, everywhere

    steps = []
    x, f = lbfgs.minimize(value_and_grad, np.full((1, 4, 4, 3), 0.5, np.float32), steps=10,
                          on_step=lambda: steps.append(1))
    assert np.all(x.numpy() == 0) and f == 0 and len(steps) == 1


PAIRS = [("tubingen", "starry_night"), ("tubingen", "the_scream"), ("tubingen", "composition_vii")]
STEPS = 150       # SciPy's iterations; fewer, and the two paths still differ by up to 6 % (50 steps)


# Issue 21 asks for 1 % on three pairs at two sizes (docs/performance.md has every figure):
# 128 and 160 px hold it in every environment tried (this machine's, Colab's, Kaggle's and the
# floor pins).  Smaller pictures part on rounding: at 96 px the floor pins (TensorFlow 2.16.1)
# gave 1.0108 where the others stayed within 1 %, and at 48 and 64 px the final losses scatter
# by up to 3 % either way after 150 steps, as do two forms of the same H (the two-loop
# recursion and the compact form, equal to 1e-6) from each other.
@pytest.mark.parametrize("size", [128, 160])
def test_agrees_with_scipys_lbfgs_b_at_equal_evaluations(monkeypatch, size):
    """The course's objective (float32, colour start, memory 20), three pairs: SciPy's L-BFGS-B
    runs STEPS iterations, then ours runs until it has made as many evaluations.  Each final
    loss is within 1 % of SciPy's; the box holds, no NaN, the loss never rises."""
    seen = []
    original = train.Tracker.evaluated
    monkeypatch.setattr(train.Tracker, "evaluated",
                        lambda self, x, t: (seen.append((float(np.min(x)), float(np.max(x)))),
                                            original(self, x, t)))
    common = dict(size=size, init="colour", lbfgs_memory=20, precision="float32", progress=False)
    ratios = []
    for content, style in PAIRS:
        scipy = train.stylize(content, style, optimizer="lbfgs-scipy", steps=STEPS, every=STEPS, **common)
        budget = scipy.history[-1]["evaluations"]
        ours = train.stylize(content, style, optimizer="lbfgs", steps=3 * STEPS, every=1,
                             callback=lambda step, image, h: h[-1]["evaluations"] >= budget, **common)
        assert ours.history[-1]["evaluations"] == budget
        totals = [h["total"] for h in ours.history]
        assert np.all(np.isfinite(totals)) and totals == sorted(totals, reverse=True)
        ratios.append(ours.best_loss / scipy.best_loss)
    assert min(lo for lo, _ in seen) >= 0 and max(hi for _, hi in seen) <= 255
    assert max(abs(r - 1) for r in ratios) <= 0.01, ratios


def test_a_warm_start_is_the_first_image_evaluated(monkeypatch):
    """stylize(start=picture): the picture, resized to the run's size, is where it starts."""
    seen = []
    original = train.Tracker.evaluated
    monkeypatch.setattr(train.Tracker, "evaluated",
                        lambda self, x, t: (seen.append(np.array(x)), original(self, x, t)))
    small = train.stylize("tubingen", "starry_night", size=32, steps=3, every=3, progress=False)
    r = train.stylize("tubingen", "starry_night", size=64, steps=2, every=2, progress=False,
                      start=small.best_image)
    first = seen[small.history[-1]["evaluations"]][0]          # the second run's first evaluation
    assert first.shape == r.image.shape
    np.testing.assert_allclose(first, train._resized(small.best_image, r.image), atol=1e-3)


def test_a_start_that_is_not_a_picture_is_one_clear_error():
    with pytest.raises(ValueError, match="start must be a picture"):
        train.stylize("tubingen", "starry_night", size=32, steps=1, progress=False,
                      start=np.zeros((8, 8)))
