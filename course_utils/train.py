"""Style transfer as optimisation: find x minimising L_total = α L_content + β L_style.

``stylize(content, style, **settings)`` builds the paper's objective on VGG-19
features, computes the content targets P and the style Grams A once, then
optimises the pixels with SciPy's L-BFGS-B (box [0, 255]) or Keras's Adam.
It runs on the GPU when TensorFlow sees one.
"""
import contextlib
import dataclasses
import math
import numbers
import os
import re
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from . import images, losses, vgg

PAPER_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
INITS = ("content", "colour", "noise", "style", "mix")


@dataclass
class Settings:
    """Everything that defines one run.  Defaults are the paper's (Figure 2)."""
    content_layers: tuple = ("conv4_2",)
    style_layers: tuple = PAPER_STYLE_LAYERS
    style_weights: tuple = None           # w_l; None means 1/len(style_layers) each
    alpha: float = 1e-3                   # α/β = 10⁻³, as in the paper's Figure 2
    beta: float = 1.0
    tv_weight: float = 0.0
    optimizer: str = "lbfgs"              # "lbfgs" (SciPy L-BFGS-B) or "adam"
    learning_rate: float = 10.0           # Adam only, in pixel units (0..255)
    init: str = "content"                 # "content", "colour" (content in the style's colours),
                                          # "noise", "style", "mix" (0.6 noise + 0.4 content)
    size: int = 256                       # longest side of the generated image, pixels
    steps: int = 100
    pooling: str = "avg"
    seed: int = 0
    deterministic: bool = True
    every: int = 10                       # call `callback` every this many steps
    lbfgs_memory: int = 20                # L-BFGS-B only: curvature pairs kept (SciPy's maxcor)
    adam_beta_1: float = 0.9              # Adam only: decay of the running mean of gradients
    adam_epsilon: float = 1e-7            # Adam only: added to √v, in gradient units of 0..255

    def __post_init__(self):
        self.content_layers = _names(self.content_layers)
        self.style_layers = _names(self.style_layers)
        if self.style_weights is None:
            self.style_weights = tuple(1.0 / len(self.style_layers) for _ in self.style_layers) \
                if self.style_layers else ()
        self.style_weights = _numbers("style_weights", self.style_weights)
        validate(self)


def _names(layers):
    """Layer names as a tuple; a string may list them with commas ("conv1_1,conv2_1")."""
    if layers is None:
        return ()
    if isinstance(layers, str):
        return tuple(name.strip() for name in layers.split(",") if name.strip())
    return tuple(layers)


def _numbers(name, values):
    """A tuple of floats, or one clear ValueError."""
    values = (values,) if isinstance(values, numbers.Number) else values
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, one per style layer, not {values!r}") from None


def validate(s):
    """Raise one clear ValueError for settings that cannot make a picture."""
    for name, value in [("alpha", s.alpha), ("beta", s.beta), ("tv_weight", s.tv_weight)]:
        if not _real(value) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, not {value!r}")
    if not _real(s.learning_rate) or not math.isfinite(s.learning_rate) or s.learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0, not {s.learning_rate!r}")
    for layer in s.content_layers + s.style_layers:
        if layer not in vgg.CONV_LAYERS:
            raise ValueError(f"unknown layer {layer!r}; {_nearest_layers(layer)}")
    if not s.style_layers and s.beta > 0:
        raise ValueError("style_layers is empty; name at least one, e.g. conv1_1 (or set beta=0)")
    if not s.content_layers and s.alpha > 0:
        raise ValueError("content_layers is empty; name at least one, e.g. conv4_2 (or set alpha=0)")
    if len(s.style_weights) != len(s.style_layers):
        raise ValueError(f"{len(s.style_weights)} style weights for {len(s.style_layers)} "
                         f"style layers; give one weight per layer")
    for layer, w in zip(s.style_layers, s.style_weights):
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"the style weight of {layer} must be a finite number ≥ 0, not {w!r}")
    if s.alpha == 0 and s.beta == 0:
        raise ValueError("alpha and beta are both 0: there is nothing to optimise")
    if not _whole(s.steps) or s.steps <= 0:
        raise ValueError(f"steps must be a whole number > 0, not {s.steps!r}")
    if not _whole(s.every) or s.every <= 0:
        raise ValueError(f"every must be a whole number > 0, not {s.every!r}")
    used = s.content_layers + s.style_layers
    low, deepest = vgg.min_size(used), max(used, key=vgg.LAYERS.index)
    if not _whole(s.size) or s.size < low:
        raise ValueError(f"size must be a whole number of pixels ≥ {low}, not {s.size!r}: "
                         f"{vgg.poolings_before(deepest)} poolings halve the image before "
                         f"{deepest}, the deepest layer used")
    if s.size > images.MAX_SIDE:
        raise ValueError(f"size must be at most {images.MAX_SIDE} pixels, not {s.size!r}")
    if s.optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', not {s.optimizer!r}")
    if s.init not in INITS:
        raise ValueError(f"init must be {', '.join(map(repr, INITS[:-1]))} or {INITS[-1]!r}, "
                         f"not {s.init!r}")
    if not _whole(s.lbfgs_memory) or s.lbfgs_memory <= 0:
        raise ValueError(f"lbfgs_memory must be a whole number > 0, not {s.lbfgs_memory!r}")
    if not _real(s.adam_beta_1) or not 0 <= s.adam_beta_1 < 1:
        raise ValueError(f"adam_beta_1 must be a number from 0 to below 1, not {s.adam_beta_1!r}")
    if not _real(s.adam_epsilon) or not math.isfinite(s.adam_epsilon) or s.adam_epsilon <= 0:
        raise ValueError(f"adam_epsilon must be a finite number > 0, not {s.adam_epsilon!r}")
    if s.pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max', not {s.pooling!r}")


def _real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _whole(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _nearest_layers(name):
    """'did you mean ...' for a mistyped layer name (or a Keras name such as block4_conv2)."""
    from difflib import get_close_matches
    keras = re.fullmatch(r"block(\d)_conv(\d)", str(name))
    if keras and f"conv{keras[1]}_{keras[2]}" in vgg.CONV_LAYERS:
        return f"did you mean conv{keras[1]}_{keras[2]} (the paper's name for Keras's {name})?"
    near = get_close_matches(str(name), vgg.CONV_LAYERS, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near[:-1]) + ' or ' if near[1:] else ''}{near[-1]}? " if near else ""
    return f"{hint}VGG-19's layers are {vgg.CONV_LAYERS[0]} … {vgg.CONV_LAYERS[-1]}"


# Presets: named starting points.  `seed` is the original blog post's settings
# (style weights sum to 10, not 1: far more style-heavy than the paper).
PRESETS = {
    "ci": dict(size=64, steps=10, every=5),
    # demo and quality: tuned by `python -m course_utils.bench` (docs/performance.md)
    "demo": dict(size=256, steps=65, every=10, init="colour"),
    "quality": dict(size=512, steps=300, every=25, init="colour", lbfgs_memory=50),
    "seed": dict(size=256, steps=300, every=25, style_weights=(0.5, 1.0, 1.5, 3.0, 4.0),
                 alpha=0.01, beta=1.0, optimizer="adam", learning_rate=2.0, init="mix"),
}
GPU_OVERRIDES = {"quality": dict(size=1024, steps=500)}


def device():
    """'GPU:0' when TensorFlow sees a GPU, else 'CPU:0'."""
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def default_preset():
    """$COURSE_PRESET, else `quality` on a GPU and `demo` on a CPU."""
    return os.environ.get("COURSE_PRESET") or ("quality" if device().startswith("GPU") else "demo")


def preset(name=None):
    """The settings (a dict) of a preset, with its GPU sizes where a GPU is present."""
    name = name or default_preset()
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    values = dict(PRESETS[name])
    if device().startswith("GPU"):
        values.update(GPU_OVERRIDES.get(name, {}))
    return values


def make_settings(preset_name=None, **overrides):
    """Settings from a preset (default: `default_preset()`), then explicit overrides."""
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(f.name for f in dataclasses.fields(Settings))}")
    values = preset(preset_name)
    if "style_layers" in overrides and "style_weights" not in overrides:
        values.pop("style_weights", None)        # a preset's weights belong to its own layers
    return Settings(**{**values, **overrides})


@dataclass
class Result:
    """What a run produced: images as uint8 (H, W, 3), and per-step history."""
    image: np.ndarray
    best_image: np.ndarray
    best_loss: float
    history: list                      # one dict per step: step, total, content, style, ...
    device: str
    settings: Settings
    seconds: float = 0.0
    interrupted: bool = False
    stopped_reason: str = None
    notes: list = field(default_factory=list)


class Objective:
    """The paper's loss for one content photo and one style image at one size."""

    def __init__(self, content, style, s):
        self.s = s
        self.extract = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
        self.content = np.asarray(content, np.float32)
        P = self.extract(vgg.preprocess(self.content[None]))
        F_style = self.extract(vgg.preprocess(np.asarray(style, np.float32)[None]))
        self.P = [P[l] for l in s.content_layers]
        # A is scaled by M_l / M_l(style) so that a style image of another size is comparable.
        self.A = [losses.gram_matrix(F_style[l]) * _positions(P[l]) / _positions(F_style[l])
                  for l in s.style_layers]
        self.w = tf.constant(s.style_weights, tf.float32)

    @tf.function(reduce_retracing=True)
    def terms(self, x):
        """L_total and its parts for the image x (1, H, W, 3) in 0..255."""
        F = self.extract(vgg.preprocess(x))
        content = tf.add_n([tf.constant(0.0)] + [losses.content_loss(F[l], P)
                                                 for l, P in zip(self.s.content_layers, self.P)])
        E = tf.stack([tf.constant(0.0)] + [losses.style_layer_loss(F[l], A)
                                           for l, A in zip(self.s.style_layers, self.A)])[1:]
        style = tf.reduce_sum(self.w * E)
        tv = losses.total_variation_loss(x)
        total = losses.total_loss(content, style, self.s.alpha, self.s.beta, tv, self.s.tv_weight)
        return dict(total=total, content=content, style=style, style_layers=E, tv=tv)

    @tf.function(reduce_retracing=True)
    def value_and_grad(self, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            t = self.terms(x)
        return t, tape.gradient(t["total"], x)


def _positions(F):
    return float(F.shape[1] * F.shape[2])


class _NonFinite(Exception):
    pass


class _Stop(Exception):
    pass


class _Tracker:
    """Keeps the history, the best and last finite image, the progress bar and the callback."""

    def __init__(self, s, callback, progress):
        self.s, self.callback = s, callback
        self.history, self.best, self.best_loss, self.last = [], None, math.inf, None
        self.evaluations = 0
        self.start = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=s.steps, desc=f"stylize ({s.optimizer})", leave=False)

    def evaluated(self, x, t):
        """Record one evaluation; x is (1, H, W, 3) float."""
        total = float(t["total"])
        if not math.isfinite(total):
            raise _NonFinite
        self.evaluations += 1
        self.last = (x, t)
        if total < self.best_loss:
            self.best_loss, self.best = total, np.array(x)

    def step(self):
        """One optimiser step done: log it, update the bar, maybe call back."""
        x, t = self.last
        n = len(self.history) + 1
        self.history.append(dict(
            step=n, total=float(t["total"]), content=float(t["content"]),
            style=float(t["style"]), tv=float(t["tv"]),
            style_layers=dict(zip(self.s.style_layers, np.asarray(t["style_layers"]).tolist())),
            evaluations=self.evaluations, seconds=time.perf_counter() - self.start))
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{float(t['total']):.4g}")
        if self.callback is not None and (n % self.s.every == 0 or n == self.s.steps):
            if self.callback(n, images.to_uint8(x), self.history):
                raise _Stop

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _initial_image(content, style, s):
    rng = np.random.default_rng(s.seed)
    noise = rng.uniform(0, 255, content.shape).astype(np.float32)
    if s.init == "noise":
        return noise
    if s.init == "mix":
        return 0.6 * noise + 0.4 * content
    if s.init == "colour":
        return _colour_matched(content, style)
    if s.init == "style":
        from PIL import Image
        h, w = content.shape[:2]
        return np.asarray(Image.fromarray(images.to_uint8(style)).resize((w, h), Image.LANCZOS),
                          np.float32)
    return content.copy()


def _colour_matched(content, style):
    """The content photo recoloured to the style image's mean colour and RGB covariance.

    A linear colour transfer (x - μ_c) T + μ_s with T Σ_c Tᵀ = Σ_s: a start whose
    colour statistics, which the Gram matrix of conv1_1 measures, already match.
    """
    c, s = (np.asarray(a, np.float64).reshape(-1, 3) for a in (content, style))
    root = lambda X: np.linalg.cholesky(np.cov(X.T) + np.eye(3))   # + I: grey pictures
    T = root(s) @ np.linalg.inv(root(c))
    x = (c - c.mean(0)) @ T.T + s.mean(0)
    return np.clip(x, 0, 255).reshape(np.shape(content)).astype(np.float32)


def _one_blas_thread():
    """BLAS limited to one thread, if threadpoolctl is installed.

    L-BFGS-B runs BLAS on vectors of all the pixels between TensorFlow's steps; BLAS
    threads competing with TensorFlow's for the cores cost 0.3 s a step at 256 px on
    a 2-core machine that is running something else too (docs/performance.md).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _run_lbfgs(objective, x0, s, tracker):
    from scipy.optimize import Bounds, minimize
    shape = (1,) + x0.shape

    def fun(flat):
        x = tf.constant(flat.reshape(shape), tf.float32)
        t, g = objective.value_and_grad(x)
        tracker.evaluated(x.numpy(), t)
        return float(t["total"]), g.numpy().ravel().astype(np.float64)

    with _one_blas_thread():
        minimize(fun, x0.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                 bounds=Bounds(0.0, 255.0), callback=lambda *_: tracker.step(),
                 options=dict(maxiter=s.steps, maxfun=3 * s.steps, ftol=0.0, gtol=0.0,
                              maxcor=s.lbfgs_memory))


def _run_adam(objective, x0, s, tracker):
    import keras
    x = tf.Variable(x0[None])
    opt = keras.optimizers.Adam(learning_rate=s.learning_rate, beta_1=s.adam_beta_1,
                                epsilon=s.adam_epsilon)

    @tf.function
    def step():
        t, g = objective.value_and_grad(tf.convert_to_tensor(x))
        opt.apply_gradients([(g, x)])
        x.assign(tf.clip_by_value(x, 0.0, 255.0))
        return t

    before = x.numpy()
    for _ in range(s.steps):
        t = step()
        tracker.evaluated(before, t)       # t is the loss of the image before this update
        before = x.numpy()
        tracker.step()


def stylize(content, style, preset=None, callback=None, progress=True, **settings):
    """Paint `content` in the style of `style`; returns a `Result`.

    content, style: asset names ("tubingen"), paths, PIL images or arrays.
    preset: "ci", "demo", "quality" or "seed" (default: $COURSE_PRESET, else by device).
    settings: any field of `Settings`, overriding the preset.
    callback(step, image, history) runs every `every` steps; return True to stop.
    Ctrl-C stops the run and returns the best image so far.  A non-finite loss stops
    it and keeps the last finite image.  Out of memory: one retry at 3/4 of the size,
    then a MemoryError.  Bad settings or pictures: one ValueError.
    """
    s = make_settings(preset, **settings)
    try:
        return _stylize(content, style, s, callback, progress)
    except tf.errors.ResourceExhaustedError:
        pass                                      # retried below, outside this handler
    smaller = max(vgg.min_size(s.content_layers + s.style_layers), s.size * 3 // 4)
    if smaller >= s.size:
        raise MemoryError(f"out of memory at {s.size} px, the smallest size these layers allow; "
                          "close other programs or notebooks and try again")
    message = f"out of memory at {s.size} px; retried once at {smaller} px"
    warnings.warn(message, stacklevel=2)
    try:
        result = _stylize(content, style, dataclasses.replace(s, size=smaller), callback, progress)
    except tf.errors.ResourceExhaustedError:
        raise MemoryError(f"out of memory at {s.size} px and again at {smaller} px; choose a "
                          "smaller size, or close other programs or notebooks") from None
    result.notes.append(message)
    return result


def _pictures(content, style, s, size):
    """The content photo and the style image at `size` (longest side), as float arrays;
    very wide pictures grow until their short side passes the layers' poolings."""
    low = vgg.min_size(s.content_layers + s.style_layers)
    return images.load_image(content, size, min_side=low), images.load_image(style, size, min_side=low)


def measure(image, content, style, **settings):
    """The terms of Eq. 7 for a finished image: L_total, L_content, L_style, each E_l, L_tv.

    The objective is `Settings(**settings)` (default: the paper's, w_l = 1/5, α/β = 10⁻³),
    against `content` and `style` at the image's size: one yardstick for pictures that
    different settings made.
    """
    s = Settings(**settings)
    x = np.asarray(image, np.float32)
    photo, painting = _pictures(content, style, s, max(x.shape[:2]))
    if photo.shape != x.shape:
        raise ValueError(f"the image is {x.shape[1]}x{x.shape[0]} but {content} at that size is "
                         f"{photo.shape[1]}x{photo.shape[0]}: measure images stylize made from it")
    objective = Objective(photo, painting, s)    # held: its traced `terms` refers to it weakly
    t = objective.terms(tf.constant(x[None]))
    out = {k: float(v) for k, v in t.items() if k != "style_layers"}
    out["style_layers"] = dict(zip(s.style_layers, t["style_layers"].numpy().tolist()))
    return out


def _stylize(content, style, s, callback, progress):
    if s.deterministic:
        tf.config.experimental.enable_op_determinism()
        tf.random.set_seed(s.seed)
    content_img, style_img = _pictures(content, style, s, s.size)
    start = time.perf_counter()
    dev = device()
    tracker = _Tracker(s, callback, progress)
    interrupted, reason = False, None
    with tf.device(dev):
        objective = Objective(content_img, style_img, s)
        x0 = _initial_image(content_img, style_img, s)
        run = _run_lbfgs if s.optimizer == "lbfgs" else _run_adam
        try:
            run(objective, x0, s, tracker)
        except KeyboardInterrupt:
            interrupted, reason = True, "interrupted (Ctrl-C): kept the best image so far"
        except _Stop:
            reason = "stopped by the callback: kept the best image so far"
        except _NonFinite:
            if tracker.last is None:
                raise ValueError("the loss is not finite for the initial image: the weights "
                                 "overflow float32; lower alpha, beta or tv_weight") from None
            reason = (f"the loss became non-finite after step {len(tracker.history)}: kept the "
                      "last finite image (try smaller weights or learning rate)")
            warnings.warn(reason, stacklevel=3)
        finally:
            tracker.close()
    if tracker.best is None:                      # stopped before the first evaluation
        tracker.best, tracker.last = x0[None], (x0[None], None)
    last = tracker.last[0]
    return Result(image=images.to_uint8(last), best_image=images.to_uint8(tracker.best),
                  best_loss=tracker.best_loss, history=tracker.history, device=dev, settings=s,
                  seconds=time.perf_counter() - start, interrupted=interrupted,
                  stopped_reason=reason)
