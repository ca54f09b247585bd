"""L-BFGS for the pixels, inside TensorFlow, in float32, in the box [0, 255].

Nocedal & Wright, *Numerical Optimization* (2006), Algorithm 7.5 (L-BFGS), with the inverse
Hessian in Byrd, Nocedal & Schnabel's (1994) compact form (as L-BFGS-B keeps it) and the box
handled by **projection** (Bertsekas 1982's two-metric projection, as in Schmidt's minConf_TMP):

1. pixels at a bound whose gradient pushes them further out are *held*: their gradient is
   set to 0 before H is applied and their step to 0 after it;
2. the quasi-Newton step −H ∇L on the others (H the L-BFGS inverse Hessian from the last m
   pairs (s, y)), projected into the box: d = clip(x − H ∇L) − x;
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

All vectors are float32 and stay where TensorFlow computes (the GPU, if there is one); only
the m × m matrices of the compact form are float64.  An iteration reads the pairs seven times
(four products for H ∇L, three to keep SYᵀ and YYᵀ), where SciPy's L-BFGS-B spends
25-180 ms an iteration in double precision on the CPU (measured, docs/performance.md).
`optimizer="lbfgs-scipy"` runs SciPy's L-BFGS-B instead, for comparison.
"""
import numpy as np
import tensorflow as tf

LOW, HIGH = 0.0, 255.0
ARMIJO = 1e-4                   # c₁: the decrease asked of a step, as a share of the slope's
MAX_TRIES = 20                  # evaluations in one line search before giving up


@tf.function(autograph=False, reduce_retracing=True)
def direction(g, x, S, Y, SY, YY, newest, count):
    """d = P(x − H ∇L) − x: the quasi-Newton step, projected into the box; and ∇Lᵀd.

    H ∇L on the free pixels (those not held at a bound), with H in Byrd, Nocedal & Schnabel's
    (1994) compact form, as L-BFGS-B writes it: with the pairs oldest first as the rows of S
    and Y, H = γI + [Sᵀ γYᵀ] [[R⁻ᵀ(D + γYYᵀ)R⁻¹, −R⁻ᵀ], [−R⁻¹, 0]] [S; γY], where R is the
    upper triangle of SYᵀ (R_ij = s_iᵀy_j, i ≤ j), D its diagonal and γ = sᵀy / yᵀy of the
    newest pair: the same H as the two-loop recursion, in four matrix-vector products over
    the pairs instead of 4m vector operations one after another.

    S, Y: (m, n) tensors holding the pairs in a ring, `newest` its last slot and `count` the
    pairs held; SY, YY: (m, m) float64, s_iᵀy_j and y_iᵀy_j by slot (`Pairs` keeps them).
    """
    free = tf.cast(~(((x <= LOW) & (g > 0)) | ((x >= HIGH) & (g < 0))), tf.float32)
    q = g * free
    m = tf.shape(S)[0]

    def quasi_newton():
        held = tf.math.floormod(newest - count + 1 + tf.range(count), m)     # oldest first
        a = tf.cast(tf.gather(tf.linalg.matvec(S, q), held), tf.float64)[:, None]
        b = tf.cast(tf.gather(tf.linalg.matvec(Y, q), held), tf.float64)[:, None]
        sy = tf.gather(tf.gather(SY, held), held, axis=1)
        yy = tf.gather(tf.gather(YY, held), held, axis=1)
        R = tf.linalg.band_part(sy, 0, -1)
        gamma = sy[-1, -1] / yy[-1, -1]
        w = tf.linalg.triangular_solve(R, a, lower=False)                     # R⁻¹ Sq
        p = tf.linalg.triangular_solve(R, tf.linalg.diag_part(sy)[:, None] * w + gamma * (yy @ w)
                                       - gamma * b, lower=False, adjoint=True)
        on_slots = lambda v: tf.scatter_nd(held[:, None], tf.cast(v[:, 0], tf.float32), [m])
        return (tf.cast(gamma, tf.float32) * q + tf.linalg.matvec(S, on_slots(p), transpose_a=True)
                - tf.linalg.matvec(Y, on_slots(gamma * w), transpose_a=True))

    r = tf.cond(count > 0, quasi_newton, lambda: q)                            # H₀ = I at first
    d = tf.clip_by_value(x - r * free, LOW, HIGH) - x            # the step, projected into the box
    return d, tf.reduce_sum(g * d)


@tf.function(autograph=False, reduce_retracing=True)
def _products(S, Y, SY, YY, s, y, j):
    """SY and YY after slot j of the ring took (s, y): column j of SY is S y, its row j is
    Y s (so SY_jj = sᵀy), row and column j of YY are Y y."""
    m = tf.shape(S)[0]
    slots = tf.range(m)
    column = tf.stack([slots, tf.fill([m], j)], axis=1)
    row = tf.stack([tf.fill([m], j), slots], axis=1)
    f64 = lambda v: tf.cast(v, tf.float64)
    SY = tf.tensor_scatter_nd_update(SY, column, f64(tf.linalg.matvec(S, y)))
    SY = tf.tensor_scatter_nd_update(SY, row, f64(tf.linalg.matvec(Y, s)))
    Yy = f64(tf.linalg.matvec(Y, y))
    YY = tf.tensor_scatter_nd_update(tf.tensor_scatter_nd_update(YY, column, Yy), row, Yy)
    return SY, YY


class Pairs:
    """L-BFGS's memory: the last m pairs s = x_{k+1} − x_k, y = ∇L_{k+1} − ∇L_k of n pixels,
    in a ring of float32 variables, with their products SYᵀ and YYᵀ."""

    def __init__(self, memory, n):
        self.S = tf.Variable(tf.zeros((memory, n)), trainable=False)
        self.Y = tf.Variable(tf.zeros((memory, n)), trainable=False)
        self.SY = self.YY = tf.zeros((memory, memory), tf.float64)
        self.memory, self.newest, self.count = memory, memory - 1, 0

    def remember(self, s, y):
        """Keep (s, y) in place of the oldest pair (eager scatters: a traced function would
        be keyed on the variables themselves)."""
        self.newest = (self.newest + 1) % self.memory
        self.count = min(self.count + 1, self.memory)
        j = tf.constant(self.newest)
        self.S.scatter_update(tf.IndexedSlices(s[None], j[None]))
        self.Y.scatter_update(tf.IndexedSlices(y[None], j[None]))
        self.SY, self.YY = _products(self.S.value(), self.Y.value(), self.SY, self.YY, s, y, j)

    def forget(self):
        self.count = 0

    def direction(self, g, x):
        """`direction` with these pairs."""
        return direction(g, x, self.S.value(), self.Y.value(), self.SY, self.YY,
                         tf.constant(self.newest), tf.constant(self.count))


@tf.function(autograph=False, reduce_retracing=True)
def _step(x, d, t):
    """x + t d for t in (0, 1]: inside the box, since x and x + d are; and the step t d."""
    s = t * d
    return x + s, s


@tf.function(autograph=False, reduce_retracing=True)
def _dot(a, b):
    return tf.reduce_sum(a * b)


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

    pairs, evaluations = Pairs(memory, n), 1
    x = tf.clip_by_value(flat(tf.constant(x0, tf.float32)), LOW, HIGH)
    f, g = evaluate(x)
    for _ in range(steps):
        d, slope = pairs.direction(g, x)
        slope = float(slope)
        if not slope < 0:                         # not a descent direction: forget, go downhill
            pairs.forget()
            d, slope = pairs.direction(g, x)
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
            pairs.remember(s, y)
        x, f, g = x_t, f_t, g_t
        if on_step is not None:
            on_step()
        if evaluations >= 3 * steps:
            break
    return tf.reshape(x, shape), f
