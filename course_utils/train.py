"""Style transfer as optimisation: find x minimising L_total = α L_content + β L_style.

``stylize(content, style, **settings)`` builds the paper's objective on VGG-19
features (`objective.Objective`), then optimises the pixels with SciPy's L-BFGS-B
(box [0, 255]) or Keras's Adam.  It runs on the GPU when TensorFlow sees one.
Settings and presets live in `settings` and `presets`; their names are also here.
"""
import contextlib
import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from . import colour, images, lbfgs, masks as regions, vgg
from .objective import Objective, measure, pictures
from .presets import GPU_OVERRIDES, PRESETS, default_preset, device, make_settings, preset
from .settings import INITS, OPTIMIZERS, PAPER_STYLE_LAYERS, Settings, validate

# What the notebooks use: the run, and (from their owners) the settings, presets and objective.
__all__ = ["stylize", "Result", "Tracker", "Objective", "measure", "pictures", "Settings",
           "validate", "INITS", "OPTIMIZERS", "PAPER_STYLE_LAYERS", "PRESETS", "GPU_OVERRIDES", "preset",
           "make_settings", "default_preset", "device"]


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
    precision: str = "float32"         # of the convolutions (`settings.precision`, "auto" resolved);
                                       # the losses are float32 numbers in every precision
    stages: list = field(default_factory=list)   # the Results of `stages`, smallest first


class _NonFinite(Exception):
    pass


class _Stop(Exception):
    pass


class Tracker:
    """Keeps the history, the best and last finite image, the progress bar and the callback."""

    def __init__(self, s, callback, progress):
        self.s, self.callback = s, callback
        self.history, self.best, self.best_loss, self.last = [], None, math.inf, None
        self.evaluations = 0
        self.start = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=s.steps, desc=f"stylize ({s.optimizer})", leave=False,
                            disable=None)     # off when stderr is not a terminal (a CLI run into a file)

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


def _initial_image(content, style, s, masks=None):
    if isinstance(style, list):                  # several styles: per region, or the heaviest
        if masks is not None and s.init in ("colour", "style"):
            return sum(m[..., None] * _initial_image(content, p, s) for m, p in zip(masks, style))
        style = style[int(np.argmax(s.blend or [1.0] * len(style)))]
    rng = np.random.default_rng(s.seed)
    noise = rng.uniform(0, 255, content.shape).astype(np.float32)
    if s.init == "noise":
        return noise
    if s.init == "mix":
        return 0.6 * noise + 0.4 * content
    if s.init == "colour":
        return colour.colour_matched_start(content, style)
    if s.init == "style":
        from PIL import Image
        h, w = content.shape[:2]
        return np.asarray(Image.fromarray(images.to_uint8(style)).resize((w, h), Image.LANCZOS),
                          np.float32)
    return content.copy()


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
    """L-BFGS inside TensorFlow, in float32, the box [0, 255] by projection (`lbfgs`)."""
    lbfgs.minimize(objective.value_and_grad, x0[None], s.steps, s.lbfgs_memory,
                   on_evaluation=lambda x, t: tracker.evaluated(x.numpy(), t),
                   on_step=tracker.step)


def _run_scipy_lbfgs(objective, x0, s, tracker):
    """SciPy's L-BFGS-B (Fortran's, now C, in float64) in the box [0, 255] (`lbfgs-scipy`)."""
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


def stylize(content, style, preset=None, callback=None, progress=True, masks=None, start=None,
            **settings):
    """Paint `content` in the style of `style`; returns a `Result`.

    content, style: asset names ("tubingen"), paths, PIL images or arrays; `style` may be
    a list of them, blended with the weights `blend` or each painted into its region.
    masks: None, or one mask per style (arrays in [0, 1] at the content's size, or
    pictures): region k is matched to style k with guided Gram matrices (`masks`).
    preset: "ci", "demo", "quality" or "seed" (default: $COURSE_PRESET, else by device),
    or a `Settings` (built once by the caller).
    start: None, or a picture (any size: resized) to start from instead of `init`, such as a
    smaller run's result (a warm start).
    settings: any field of `Settings`, overriding the preset.
    callback(step, image, history) runs every `every` steps; return True to stop.
    Ctrl-C stops the run and returns the best image so far.  A non-finite loss stops
    it and keeps the last finite image.  Out of memory: one retry at 3/4 of the size,
    then a MemoryError.  Bad settings or pictures: one ValueError.
    """
    if isinstance(preset, Settings):
        s = dataclasses.replace(preset, **settings) if settings else preset
    else:
        s = make_settings(preset, **settings)
    _check_styles(style, s, masks)
    if start is not None and (np.ndim(start) != 3 or np.shape(start)[2] != 3):
        raise ValueError(f"start must be a picture of shape (height, width, 3), not one of shape "
                         f"{np.shape(start)}; give a Result's best_image, for example")
    try:
        return _stylize(content, style, s, callback, progress, masks, start)
    except tf.errors.ResourceExhaustedError:
        pass                                      # retried below, outside this handler
    smaller = max(vgg.min_size(s.content_layers + s.style_layers), s.size * 3 // 4)
    if smaller >= s.size:
        raise MemoryError(f"out of memory at {s.size} px, the smallest size these layers allow; "
                          "close other programs or notebooks and try again")
    message = f"out of memory at {s.size} px; retried once at {smaller} px"
    warnings.warn(message, stacklevel=2)
    try:
        smaller_s = dataclasses.replace(s, size=smaller, stages=tuple(x for x in s.stages if x < smaller))
        result = _stylize(content, style, smaller_s, callback, progress, masks, start)
    except tf.errors.ResourceExhaustedError:
        raise MemoryError(f"out of memory at {s.size} px and again at {smaller} px; choose a "
                          "smaller size, or close other programs or notebooks") from None
    result.notes.append(message)
    return result


def _check_styles(style, s, masks):
    """One clear line for a style list that does not fit `blend` or `masks`."""
    several = isinstance(style, (list, tuple))
    count = len(style) if several else 1
    if several and not style:
        raise ValueError("the list of styles is empty; give at least one style image")
    if s.blend is not None and len(s.blend) != count:
        raise ValueError(f"{len(s.blend)} blend weights for {count} style(s); give one per style")
    if masks is not None:
        if s.blend is not None:
            raise ValueError("give either blend weights or masks, not both")
        if len(masks) != count:
            raise ValueError(f"{len(masks)} masks for {count} style(s); give one mask per style")


def _stylize(content, style, s, callback, progress, masks=None, x0=None):
    """Run each size of `s.stages`, then `s.size`: each result, upsampled, starts the next
    (and x0, if given, the first)."""
    if not s.stages:
        return _stylize_at(content, style, s, callback, progress, masks, x0)
    start, done = time.perf_counter(), []
    for size in s.stages + (s.size,):
        done.append(_stylize_at(content, style, dataclasses.replace(s, size=size, stages=()),
                                callback, progress, masks, x0))
        if done[-1].interrupted or done[-1].stopped_reason:
            break                                 # Ctrl-C, Stop or non-finite: no next stage
        x0 = done[-1].best_image
    result = done.pop()
    result.stages = done
    if result.settings.size == s.size:            # the last stage ran: the run's own settings
        result.settings = s
    result.seconds = time.perf_counter() - start
    return result


def _stylize_at(content, style, s, callback, progress, masks=None, x0=None):
    """One run at s.size; x0: a picture (of any size) to start from instead of `init`."""
    if s.deterministic:
        tf.config.experimental.enable_op_determinism()
        tf.random.set_seed(s.seed)
    photo, painting = pictures(content, style, s, s.size)
    content_img, style_img = colour.for_transfer(photo, _listed(painting), s.colour,
                                                 s.colour_transfer)
    region = None if masks is None else regions.load_masks(masks, photo.shape[:2], len(style_img))
    if s.colour == "luminance" and callback is not None:       # the preview in the photo's colours
        callback = _in_colour(callback, photo)
    start = time.perf_counter()
    dev = device()
    tracker = Tracker(s, callback, progress)
    interrupted, reason = False, None
    with tf.device(dev):
        objective = Objective(content_img, style_img, s, **({} if region is None else dict(masks=region)))
        if x0 is None:
            x0 = _initial_image(content_img, style_img, s, region)
        else:                                     # the previous stage's picture, upsampled
            x0 = _resized(x0, photo)
            x0 = colour.grey(x0) if s.colour == "luminance" else x0
        run = {"lbfgs": _run_lbfgs, "lbfgs-scipy": _run_scipy_lbfgs, "adam": _run_adam}[s.optimizer]
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
    last, best = (colour.finished(x[0], photo, s.colour) for x in (tracker.last[0], tracker.best))
    return Result(image=images.to_uint8(last), best_image=images.to_uint8(best),
                  best_loss=tracker.best_loss, history=tracker.history, device=dev, settings=s,
                  seconds=time.perf_counter() - start, interrupted=interrupted,
                  stopped_reason=reason, precision=objective.choice.precision)


def _listed(painting):
    return list(painting) if isinstance(painting, (list, tuple)) else painting


def _resized(image, like):
    """`image` resized (Lanczos) to the height and width of `like`, as float32."""
    from PIL import Image
    h, w = like.shape[:2]
    return np.asarray(Image.fromarray(images.to_uint8(image)).resize((w, h), Image.LANCZOS),
                      np.float32)


def _in_colour(callback, photo):
    """A callback that receives luminance-only images with the photo's chroma put back."""
    return lambda step, image, history: callback(
        step, images.to_uint8(colour.finished(image, photo, "luminance")), history)
