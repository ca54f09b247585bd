"""The paper's objective L_total = α L_content + β L_style (Eq. 7) for one photo and one painting.

`Objective` computes the content targets P and the style Grams A once, then gives L_total, its
parts and its gradient for any image x; `measure` scores a finished image with it.
"""
import numpy as np
import tensorflow as tf

from . import images, losses, precision, vgg
from .settings import Settings


class Objective:
    """The paper's loss for one content photo and one style image at one size.

    The targets P and A are float32 features.  `value_and_grad`, what the optimiser calls,
    runs the convolutions in the run's precision (`s.precision`, see `precision.choose`);
    `terms` scores in float32 throughout: one yardstick for runs in any precision.
    """

    def __init__(self, content, style, s):
        self.s = s
        self.choice = precision.resolve(s.precision)
        self.extract = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
        self.content = np.asarray(content, np.float32)
        P = self.extract(vgg.preprocess(self.content[None]))
        F_style = self.extract(vgg.preprocess(np.asarray(style, np.float32)[None]))
        self.P = [P[l] for l in s.content_layers]
        # A is scaled by M_l / M_l(style) so that a style image of another size is comparable.
        self.A = [losses.gram_matrix(F_style[l]) * _positions(P[l]) / _positions(F_style[l])
                  for l in s.style_layers]
        self.w = tf.constant(s.style_weights, tf.float32)

    def terms(self, x):
        """L_total and its parts for the image x (1, H, W, 3) in 0..255, all in float32."""
        return _terms(x, *self._form("float32"))

    def value_and_grad(self, x):
        """`terms` and ∂L_total/∂x, the convolutions in the run's precision; float32 out."""
        return _value_and_grad(x, *self._form(self.choice.precision))

    def _form(self, dtype):
        """What a traced function needs: the network (hashable: one trace per network and
        image size) and this run's numbers (tensors: a new run does not trace again)."""
        s = self.s
        network = (s.content_layers, s.style_layers, s.pooling, dtype)
        vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling, dtype)  # built outside
        numbers = dict(P=self.P, A=self.A, w=self.w,
                       alpha=tf.constant(s.alpha, tf.float32), beta=tf.constant(s.beta, tf.float32),
                       tv_weight=tf.constant(s.tv_weight, tf.float32))
        return network, numbers


@tf.function(reduce_retracing=True, autograph=False)
def _terms(x, network, n):
    """Eq. 7 for the image x: features in `network`'s precision, everything after in float32."""
    content_layers, style_layers, pooling, dtype = network
    F = vgg.feature_extractor(content_layers + style_layers, pooling, dtype)(vgg.preprocess(x))
    content = tf.add_n([tf.constant(0.0)] + [losses.content_loss(F[l], P)
                                             for l, P in zip(content_layers, n["P"])])
    E = tf.stack([tf.constant(0.0)] + [losses.style_layer_loss(F[l], A)
                                       for l, A in zip(style_layers, n["A"])])[1:]
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


def _positions(F):
    return float(F.shape[1] * F.shape[2])


def pictures(content, style, s, size):
    """The content photo and the style image at `size` (longest side), as float arrays;
    very wide pictures grow until their short side passes the layers' poolings."""
    low = vgg.min_size(s.content_layers + s.style_layers)
    return images.load_image(content, size, min_side=low), images.load_image(style, size, min_side=low)


def measure(image, content, style, **settings):
    """The terms of Eq. 7 for a finished image: L_total, L_content, L_style, each E_l, L_tv.

    The objective is `Settings(**settings)` (default: the paper's, w_l = 1/5, α/β = 10⁻³),
    against `content` and `style` at the image's size, computed in float32 whatever the
    settings' precision: one yardstick for pictures that different settings made.
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
