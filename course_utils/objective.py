"""The paper's objective L_total = α L_content + β L_style (Eq. 7) for one photo and one painting.

`Objective` computes the content targets P and the style Grams A once, then gives L_total, its
parts and its gradient for any image x; `measure` scores a finished image with it.  Beyond the
paper (notebooks 6 and 7): several paintings, blended into one target A (`gram_targets`) or each
matched in its own region with guided Gram matrices (`masks`), and `style_scale`.
"""
import numpy as np
import tensorflow as tf

from . import images, losses, precision, vgg
from .masks import at_layers, guided_style_layer_loss
from .settings import Settings


class Objective:
    """The paper's loss for one content photo and one style image (or several) at one size.

    The targets P and A are float32 features.  `value_and_grad`, what the optimiser calls,
    runs the convolutions in the run's precision (`s.precision`, see `precision.choose`);
    `terms` scores in float32 throughout: one yardstick for runs in any precision.
    """

    def __init__(self, content, style, s, masks=None):
        """style: one picture, or a list (blended by `s.blend`, or one per region of `masks`);
        masks: None, or one mask (H, W) in [0, 1] per style at the content's size."""
        self.s = s
        self.choice = precision.resolve(s.precision)
        self.extract = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
        self.content = np.asarray(content, np.float32)
        P = self.extract(vgg.preprocess(self.content[None]))
        self.P = [P[l] for l in s.content_layers]
        self.A = gram_targets(self.extract, style, P, s, regions=masks is not None)
        # with regions: A[l] is the list (A_l^k)_k and masks[l] the list (m_k at layer l)_k
        self.masks = None if masks is None else \
            [list(ms) for ms in zip(*[at_layers(m, s.style_layers).values() for m in masks])]
        self.w = tf.constant(s.style_weights, tf.float32)
        # The run's network, built now: inside a caller's tf.function (Adam's step) it
        # could not copy VGG-19's weights into its 16-bit layers.
        vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling, self.choice.precision)
        # This run's numbers, passed to the traced functions as tensors: a new run does not trace again.
        self.numbers = dict(P=self.P, A=self.A, w=self.w, **({} if self.masks is None else dict(m=self.masks)),
                            alpha=tf.constant(s.alpha, tf.float32), beta=tf.constant(s.beta, tf.float32),
                            tv_weight=tf.constant(s.tv_weight, tf.float32))

    def terms(self, x):
        """L_total and its parts for the image x (1, H, W, 3) in 0..255, all in float32."""
        return _terms(x, self._network("float32"), self.numbers)

    def value_and_grad(self, x):
        """`terms` and ∂L_total/∂x, the convolutions in the run's precision; float32 out."""
        return _value_and_grad(x, self._network(self.choice.precision), self.numbers)

    def _network(self, dtype):
        """Which VGG-19 a traced function uses (hashable: one trace per network and image
        size); both networks were built in __init__, outside any trace."""
        return (self.s.content_layers, self.s.style_layers, self.s.pooling, dtype)


@tf.function(reduce_retracing=True, autograph=False)
def _terms(x, network, n):
    """Eq. 7 for the image x: features in `network`'s precision, everything after in float32."""
    content_layers, style_layers, pooling, dtype = network
    F = vgg.feature_extractor(content_layers + style_layers, pooling, dtype)(vgg.preprocess(x))
    content = tf.add_n([tf.constant(0.0)] + [losses.content_loss(F[l], P)
                                             for l, P in zip(content_layers, n["P"])])
    E = tf.stack([tf.constant(0.0)] + [_E(F[l], A, n["m"][i] if "m" in n else None)
                                       for i, (l, A) in enumerate(zip(style_layers, n["A"]))])[1:]
    style = tf.reduce_sum(n["w"] * E)
    tv = losses.total_variation_loss(x)
    total = losses.total_loss(content, style, n["alpha"], n["beta"], tv, n["tv_weight"])
    return dict(total=total, content=content, style=style, style_layers=E, tv=tv)


@tf.function(reduce_retracing=True, autograph=False)
def _value_and_grad(x, network, numbers):
    with tf.GradientTape() as tape:
        tape.watch(x)
        t = _terms(x, network, numbers)          # a traced call, as before: the same float32 bits
    return t, tape.gradient(t["total"], x)


def _E(F, A, masks=None):
    """E_l (Eq. 4); with regions, Σ_k E_l of region k against style k (guided Grams)."""
    if masks is None:
        return losses.style_layer_loss(F, A)
    F = tf.cast(F, tf.float32)
    return tf.add_n([guided_style_layer_loss(F, A_k, m) for A_k, m in zip(A, masks)])


def gram_targets(extract, style, P, s, regions=False):
    """The style targets A_l, one per style layer, each scaled by M_l / M_l(style) so that a
    style image of another size (`style_scale`) is comparable.

    Several styles: the blend Σ_k b_k A_l^k (weights `s.blend`, equal by default) — the
    cheaper of two losses with the same gradient — or, with `regions`, the list (A_l^k)_k.
    """
    paintings = style if isinstance(style, (list, tuple)) else [style]
    per_style = []
    for painting in paintings:
        F_style = extract(vgg.preprocess(np.asarray(painting, np.float32)[None]))
        per_style.append([losses.gram_matrix(F_style[l]) * _positions(P[l]) / _positions(F_style[l])
                          for l in s.style_layers])
    if not isinstance(style, (list, tuple)):
        return per_style[0]
    if regions:
        return [list(A) for A in zip(*per_style)]
    b = s.blend or (1.0 / len(paintings),) * len(paintings)
    if len(b) != len(paintings):
        raise ValueError(f"{len(b)} blend weights for {len(paintings)} styles; give one per style")
    return [blended(A, b) for A in zip(*per_style)]


def blended(targets, weights):
    """Σ_k b_k A^k: one Gram target for a blend of styles (Σ_k b_k = 1)."""
    return tf.add_n([float(b) * A for b, A in zip(weights, targets)])


def _positions(F):
    return float(F.shape[1] * F.shape[2])


def pictures(content, style, s, size):
    """The content photo at `size` (longest side) and the style image(s) at `style_scale` x
    `size`, as float arrays; very wide pictures grow until their short side passes the
    layers' poolings."""
    low = vgg.min_size(s.content_layers + s.style_layers)
    photo = images.load_image(content, size, min_side=low)
    side = max(low, round(s.style_scale * size))          # `style_scale`: bigger or smaller strokes
    if isinstance(style, (list, tuple)):
        return photo, [images.load_image(p, side, min_side=low) for p in style]
    return photo, images.load_image(style, side, min_side=low)


def measure(image, content, style, **settings):
    """The terms of Eq. 7 for a finished image: L_total, L_content, L_style, each E_l, L_tv.

    The objective is `Settings(**settings)` (default: the paper's, w_l = 1/5, α/β = 10⁻³),
    against `content` and `style` at the image's size, computed in float32 whatever the
    settings' precision: one yardstick for pictures that different settings made.
    `style_scale` and a list of styles with `blend` apply; `colour` does not (the pictures
    are measured as they are), and there are no masks.
    """
    s = Settings(**settings)
    x = np.asarray(image, np.float32)
    photo, painting = pictures(content, style, s, max(x.shape[:2]))
    if photo.shape != x.shape:
        raise ValueError(f"the image is {x.shape[1]}x{x.shape[0]} but {content} at that size is "
                         f"{photo.shape[1]}x{photo.shape[0]}: measure images stylize made from it")
    objective = Objective(photo, painting, s)
    t = objective.terms(tf.constant(x[None]))
    out = {k: float(v) for k, v in t.items() if k != "style_layers"}
    out["style_layers"] = dict(zip(s.style_layers, t["style_layers"].numpy().tolist()))
    return out
