"""L-BFGS for the pixels, inside TensorFlow, in float32, in the box [0, 255].

Nocedal & Wright, *Numerical Optimization* (2006), Algorithm 7.4 (the two-loop recursion) and
7.5 (L-BFGS), with the box handled by **projection** (Bertsekas 1982's two-metric projection,
as in Schmidt's minConf_TMP):

1. pixels at a bound whose gradient pushes them further out are *held*: their gradient is
   set to 0 before the recursion and their step to 0 after it;
2. the quasi-Newton step −H ∇L on the others (H the L-BFGS inverse Hessian from the last m
   pairs (s, y), the two-loop recursion), projected into the box: d = clip(x − H ∇L) − x;
3. x(t) = x + t d, which stays in the box for t in (0, 1]: t = 1 first, then shorter (Moré &
   Thuente's cubic or quadratic choice, as L-BFGS-B's line search makes it) until Armijo's
   condition L(x(t)) ≤ L(x) + c₁ t ∇Lᵀd holds; s = t d, y = ∇L(x(t)) − ∇L(x).

With no pairs yet (H = I) the first step is L-BFGS-B's first step exactly: the projected
x − ∇L, then the same shortening.

Why projection and not a bounded reparametrisation (x = 127.5 (1 + tanh u)): the
reparametrised problem is another objective, whose gradient vanishes where pixels
saturate (and in style transfer many do), so its losses at equal evaluations are not
L-BFGS-B's; projection optimises the course's own L_total over the same box, takes a
full step wherever no pixel is at a bound, and agrees with L-BFGS-B's losses at equal
evaluations (tests/test_lbfgs.py).  (Unbounded L-BFGS clipped at the end loses 7 % of the loss: docs/performance.md.)

All vectors are float32 and stay where TensorFlow computes (the GPU, if there is one): the
recursion is 4m vector operations, where SciPy's L-BFGS-B spends 25-180 ms an iteration in
double precision on the CPU: about a tenth of that (measured, docs/performance.md).
`optimizer="lbfgs-scipy"` runs SciPy's L-BFGS-B instead, for comparison.
"""
import numpy as np
import tensorflow as tf

LOW, HIGH = 0.0, 255.0
ARMIJO = 1e-4                   # c₁: the decrease asked of a step, as a share of the slope's
MAX_TRIES = 20                  # evaluations in one line search before giving up


@tf.function(autograph=False, reduce_retracing=True)
def direction(g, x, S, Y, rho, newest, count):
    """d = P(x − H ∇L) − x: the quasi-Newton step, projected into the box; and ∇Lᵀd.

    H ∇L comes from the two-loop recursion on the free pixels (those not held at a bound).

    S, Y: (m, n) tensors (the variables' values) holding the pairs s_i, y_i in a ring, `newest` its last slot and
    `count` the pairs held; rho_i = 1 / s_iᵀy_i.  H₀ = γI with γ = sᵀy / yᵀy of the newest pair.
    """
    free = tf.cast(~(((x <= LOW) & (g > 0)) | ((x >= HIGH) & (g < 0))), tf.float32)
    q = g * free
    m = tf.shape(S)[0]
    slot = lambda i: tf.math.floormod(newest - i, m)            # i = 0: the newest pair

    def newest_first(i, q, a):
        j = slot(i)
        a_i = tf.gather(rho, j) * tf.reduce_sum(tf.gather(S, j) * q)
        return i + 1, q - a_i * tf.gather(Y, j), a.write(i, a_i)

    _, q, a = tf.while_loop(lambda i, q, a: i < count, newest_first,
                            (tf.constant(0), q, tf.TensorArray(tf.float32, size=count)))
    y = tf.gather(Y, slot(0))
    gamma = tf.where(count > 0, tf.math.divide_no_nan(1.0, tf.gather(rho, slot(0)) *
                                                      tf.reduce_sum(y * y)), 1.0)

    def oldest_first(i, r):
        j = slot(i)
        b = tf.gather(rho, j) * tf.reduce_sum(tf.gather(Y, j) * r)
        return i - 1, r + (a.read(i) - b) * tf.gather(S, j)

    _, r = tf.while_loop(lambda i, r: i >= 0, oldest_first, (count - 1, gamma * q))
    d = tf.clip_by_value(x - r * free, LOW, HIGH) - x            # the step, projected into the box
    return d, tf.reduce_sum(g * d)


@tf.function(autograph=False, reduce_retracing=True)
def _step(x, d, t):
    """x + t d for t in (0, 1]: inside the box, since x and x + d are; and the step t d."""
    s = t * d
    return x + s, s


@tf.function(autograph=False, reduce_retracing=True)
def _dot(a, b):
    return tf.reduce_sum(a * b)


def _remember(S, Y, rho, j, s, y, sy):
    """Keep the pair (s, y) in slot j of the ring (three eager scatters, no trace: a traced
    function would be keyed on the variables themselves)."""
    S.scatter_update(tf.IndexedSlices(s[None], j[None]))
    Y.scatter_update(tf.IndexedSlices(y[None], j[None]))
    rho.scatter_update(tf.IndexedSlices((1.0 / sy)[None], j[None]))


def _shorter(t, f, slope, f_t, slope_t):
    """The next, shorter step after t failed: Moré & Thuente's (L-BFGS-B's) choice when the
    loss rose: the cubic through f, f_t and their slopes (per unit t) if it is nearer 0 than
    the parabola through f, its slope and f_t, else halfway between them; in [t/1000, t/2]."""
    quadratic = t * slope / (2 * (slope - (f_t - f) / t))       # the parabola's minimiser
    d1 = slope + slope_t - 3 * (f_t - f) / t
    d2 = d1 * d1 - slope * slope_t
    cubic = quadratic                                            # no real cubic minimiser
    if d2 >= 0:
        d2 = d2 ** 0.5
        cubic = t - t * (slope_t + d2 - d1) / (slope_t - slope + 2 * d2)   # Nocedal & Wright Eq. 3.59
    new = cubic if abs(cubic) < abs(quadratic) else cubic + (quadratic - cubic) / 2
    return min(max(new, t / 1000), t / 2) if new == new else t / 2


def minimize(value_and_grad, x0, steps, memory=20, on_evaluation=None, on_step=None):
    """Minimise a function of an image in [0, 255] with `steps` L-BFGS iterations.

    value_and_grad(x) -> (L, ∇L) for x shaped like x0 (float32 tensors; L a scalar, or a dict
    whose "total" is); on_evaluation(x, L) after every evaluation, on_step() after every
    iteration (either may raise to stop).  Stops early after 3·steps evaluations, or when no
    step decreases L.
    Returns (x, L) of the last accepted iterate.
    """
    shape, n = x0.shape, int(np.prod(x0.shape))
    flat = lambda v: tf.reshape(v, (n,))

    def evaluate(x):
        image = tf.reshape(x, shape)
        value, g = value_and_grad(image)
        loss = value["total"] if isinstance(value, dict) else value
        if on_evaluation is not None:
            on_evaluation(image, value)
        return float(loss), flat(g)

    S = tf.Variable(tf.zeros((memory, n)), trainable=False)
    Y = tf.Variable(tf.zeros((memory, n)), trainable=False)
    rho = tf.Variable(tf.zeros((memory,)), trainable=False)
    newest, count, evaluations = memory - 1, 0, 1
    x = tf.clip_by_value(flat(tf.constant(x0, tf.float32)), LOW, HIGH)
    f, g = evaluate(x)
    for _ in range(steps):
        d, slope = direction(g, x, S.value(), Y.value(), rho.value(), tf.constant(newest),
                             tf.constant(count))
        slope = float(slope)
        if not slope < 0:                         # not a descent direction: forget, go downhill
            count = 0
            d, slope = direction(g, x, S.value(), Y.value(), rho.value(), tf.constant(newest),
                                 tf.constant(0))
            slope = float(slope)
            if not slope < 0:
                break                             # a stationary point of the box: done
        t = 1.0                                   # with no pairs yet: x − ∇L projected, L-BFGS-B's first
        for _try in range(MAX_TRIES):
            x_t, s = _step(x, d, tf.constant(t, tf.float32))
            f_t, g_t = evaluate(x_t)
            evaluations += 1
            decrease = t * slope                  # ∇Lᵀ(x(t) − x), the first-order change
            if f_t <= f + ARMIJO * decrease:
                break
            t = _shorter(t, f, slope, f_t, float(_dot(g_t, d)))
            if evaluations >= 3 * steps:
                break
        else:
            break
        if f_t > f:                               # the line search found nothing lower
            break
        y = g_t - g
        sy = float(_dot(s, y))
        if sy > 1e-10 * float(_dot(y, y)):        # keep only pairs of positive curvature
            newest = (newest + 1) % memory
            count = min(count + 1, memory)
            _remember(S, Y, rho, tf.constant(newest), s, y, tf.constant(sy, tf.float32))
        x, f, g = x_t, f_t, g_t
        if on_step is not None:
            on_step()
        if evaluations >= 3 * steps:
            break
    return tf.reshape(x, shape), f
