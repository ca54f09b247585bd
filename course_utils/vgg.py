"""VGG-19 (Simonyan & Zisserman, 2014) as the paper uses it: a frozen feature extractor.

Layer names are the paper's: conv4_2 is Keras's ``block4_conv2``, taken after its
ReLU (Keras fuses the activation into the convolution layer), which is what the
paper's feature responses F are.  The paper replaces max pooling by average
pooling ("slightly more appealing results"); ``pooling="max"`` gives Keras's own.
"""
from functools import lru_cache

import keras
import numpy as np
import tensorflow as tf

from . import assets

# Caffe's ImageNet mean, in BGR order: the preprocessing VGG-19 was trained with.
BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

BLOCK_SIZES = (2, 2, 4, 4, 4)      # convolutions per block
LAYERS = tuple(name for b, n in enumerate(BLOCK_SIZES, 1)      # in network order
               for name in [f"conv{b}_{i}" for i in range(1, n + 1)] + [f"pool{b}"])
CONV_LAYERS = tuple(name for name in LAYERS if name.startswith("conv"))
POOL_LAYERS = tuple(name for name in LAYERS if name.startswith("pool"))


def keras_name(layer):
    """The paper's layer name (conv4_2, pool3) -> Keras's (block4_conv2, block3_pool)."""
    if layer in CONV_LAYERS:
        block, i = layer[4:].split("_")
        return f"block{block}_conv{i}"
    if layer in POOL_LAYERS:
        return f"block{layer[4:]}_pool"
    raise ValueError(f"unknown VGG-19 layer {layer!r}; valid names: {', '.join(CONV_LAYERS)}")


def poolings_before(layer):
    """How many 2x2 poolings an image passes through up to and including `layer`."""
    return sum(1 for name in LAYERS[:LAYERS.index(layer) + 1] if name.startswith("pool"))


def min_size(layers):
    """Smallest image side (pixels) that still leaves every layer at least 1x1."""
    return 2 ** max(poolings_before(layer) for layer in layers)


def preprocess(x):
    """RGB image in 0..255 -> VGG-19 input: BGR with the ImageNet mean subtracted."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    return x[..., ::-1] - BGR_MEAN


def deprocess(x):
    """Exact inverse of `preprocess`: VGG-19 input -> RGB in 0..255 (not clipped)."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    return (x + BGR_MEAN)[..., ::-1]


@lru_cache(maxsize=1)
def vgg19():
    """Keras's VGG-19 without its classifier, ImageNet weights from the course cache, frozen."""
    weights = assets.fetch("vgg19_weights")
    model = keras.applications.VGG19(include_top=False, weights=str(weights))
    model.trainable = False
    return model


@lru_cache(maxsize=16)
def _extractor(layers, pooling, precision="float32"):
    base = vgg19()
    wanted = set(layers)
    deepest = max(layers, key=LAYERS.index)
    policy = _POLICY[precision]
    inputs = keras.Input(shape=(None, None, 3))
    x, outputs, copied = inputs, {}, []
    if policy:
        x = keras.ops.cast(x, keras.DTypePolicy(policy).compute_dtype)
    for layer in base.layers[1:]:
        paper = _paper_name(layer.name)
        if layer.name.endswith("_pool") and pooling == "avg":
            x = keras.layers.AveragePooling2D(2, 2, name=f"{layer.name}_avg", dtype=policy)(x)
        elif policy:                              # a copy computing in `precision`
            copy = layer.__class__.from_config({**layer.get_config(), "dtype": policy})
            x = copy(x)
            copied.append((copy, layer))
        else:
            x = layer(x)
        if paper in wanted:
            outputs[paper] = keras.ops.cast(x, "float32") if policy else x
        if paper == deepest:
            break
    for copy, layer in copied:
        copy.set_weights(layer.get_weights())
    suffix = f"_{precision}" if policy else ""
    model = keras.Model(inputs, outputs, name=f"vgg19_{pooling}_to_{deepest}{suffix}")
    model.trainable = False
    return model


# Keras dtype policies of the copies.  Not Keras's "mixed_" ones, which keep the weights in
# float32 and cast them on every call (13 M weights up to conv5_1: 3-7 ms an evaluation,
# measured): the network is frozen, so its weights are cast once, here.  The features
# leave in float32, as mixed precision wants.  float32: Keras's own layers, shared.
_POLICY = {"float32": None, "bfloat16": "bfloat16", "float16": "float16"}


def _paper_name(keras_layer):
    block, kind = keras_layer.split("_")
    b = block[len("block"):]
    return f"pool{b}" if kind == "pool" else f"conv{b}_{kind[len('conv'):]}"


def feature_extractor(layers, pooling="avg", precision="float32"):
    """A model: preprocessed image (1, H, W, 3) -> {paper layer name: feature map F}.

    The network is cut after the deepest layer asked for, so nothing deeper is computed.
    precision "bfloat16" or "float16": the convolutions compute in it (Keras's mixed
    precision); the image in and the features out are float32 all the same.
    """
    layers = tuple(dict.fromkeys(layers))
    for layer in layers:
        keras_name(layer)                         # raises on unknown names
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' (the paper's) or 'max' (Keras's), not {pooling!r}")
    if precision not in _POLICY:
        raise ValueError(f"precision must be one of {', '.join(_POLICY)}, not {precision!r}")
    return _extractor(layers, pooling, precision)


def features(image, layers, pooling="avg"):
    """Feature maps of one RGB image (H, W, 3) in 0..255 at the given layers."""
    x = preprocess(np.asarray(image, dtype=np.float32)[np.newaxis])
    return {k: v for k, v in feature_extractor(layers, pooling)(x).items()}
