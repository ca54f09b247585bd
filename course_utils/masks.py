"""Regions: masks that say where each style goes, and the guided Gram matrix.

Gatys et al. (CVPR 2017), §4: with a mask m (one value in [0, 1] per position), the
guided features are F ∘ m — each filter's response weighted by the mask — and the
guided Gram matrix is

    G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²),

normalised so that an all-ones mask gives the plain G = F Fᵀ of Eq. 3, and any mask a
matrix on the scale of a Gram matrix over all M positions (comparable with the style's A).
A mask at the content photo's size is carried down to each layer by the same 2 x 2
poolings the features pass through (`at_layers`).
"""
import numpy as np
import tensorflow as tf

from . import images, losses, vgg


def guided_gram_matrix(F, m):
    """G[m] = (F ∘ m)(F ∘ m)ᵀ / mean(m²): the Gram matrix of the region m (N x N).

    F: features (1, H, W, N) or (H, W, N); m: the mask at that layer, (H, W).
    """
    F = tf.convert_to_tensor(F, tf.float32)
    m = tf.convert_to_tensor(m, tf.float32)
    Fm = (F[0] if F.shape.rank == 4 else F) * m[..., None]
    return losses.gram_matrix(Fm) / tf.reduce_mean(tf.square(m))


def guided_style_layer_loss(F, A, m):
    """E_l of one region: Σ (G[m] − A)² / (4 N² M²), M the layer's positions."""
    F = tf.convert_to_tensor(F, tf.float32)
    M = tf.cast(tf.reduce_prod(tf.shape(F)[-3:-1]), tf.float32)
    N = tf.cast(tf.shape(F)[-1], tf.float32)
    return tf.reduce_sum(tf.square(guided_gram_matrix(F, m) - A)) / (4.0 * N**2 * M**2)


def at_layers(mask, layers):
    """{layer: the mask (H_l, W_l)} — `mask` (H, W) average-pooled as the features are."""
    m = tf.constant(np.asarray(mask, np.float32)[None, ..., None])
    out = {}
    for layer in layers:
        pooled = m
        for _ in range(vgg.poolings_before(layer)):
            pooled = tf.nn.avg_pool2d(pooled, 2, 2, "VALID")
        out[layer] = pooled[0, ..., 0]
    return out


def load_masks(masks, shape, count):
    """`count` masks at `shape` (H, W) as float arrays in [0, 1], from arrays or image files.

    An array (floats in [0, 1]) or a picture (a path, a PIL image, uint8; grey, white = 1)
    with the content's aspect ratio is resized to `shape`, so that one mask serves every
    stage and size of a run.
    """
    from PIL import Image
    masks = list(masks)
    if len(masks) != count:
        raise ValueError(f"{len(masks)} masks for {count} styles; give one mask per style")
    out = []
    for i, mask in enumerate(masks, 1):
        if isinstance(mask, np.ndarray) and mask.dtype != np.uint8:
            m = np.asarray(mask, np.float32)
            if m.ndim != 2 or not np.all(np.isfinite(m)) or m.min() < 0 or m.max() > 1:
                raise ValueError(f"mask {i} must be an (H, W) array of values from 0 to 1")
            picture = Image.fromarray(m, mode="F")
        else:
            picture = images.open_image(mask).convert("L")
        w, h = picture.size
        if abs(w / h - shape[1] / shape[0]) > 0.02 * shape[1] / shape[0] + 1 / min(h, shape[0]):
            raise ValueError(f"mask {i} is {w}x{h} but the content picture is {shape[1]}x{shape[0]}: "
                             "give it the content's shape or at least its aspect ratio")
        m = np.asarray(picture.resize(shape[::-1], Image.BILINEAR), np.float32)
        m = np.clip(m if picture.mode == "F" else m / 255.0, 0, 1)
        if not m.any():
            raise ValueError(f"mask {i} is empty (all 0): its style would go nowhere")
        out.append(m)
    return out


def sky(photo, blur=0.02):
    """(sky, not sky): two soft masks of a photograph, by colour and position.

    Sky is bright and bluish and hangs from the top edge: in each column, the sky-coloured
    pixels from the top down to the first one that is not.  Softened by a blur of `blur`
    times the longer side, so the two styles meet in a seam, not a line.
    """
    x = np.asarray(photo, np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    sky_coloured = (b > r + 20) & (b > 100)
    from_top = np.cumprod(sky_coloured, axis=0).astype(np.float32)   # 1 until the first non-sky
    m = _blur(from_top, max(1, round(blur * max(x.shape[:2]))))
    return m, 1.0 - m


def _blur(m, radius):
    """A box blur (radius in pixels, twice), edges repeated."""
    from PIL import Image, ImageFilter
    picture = Image.fromarray(np.uint8(np.rint(255 * m)))
    for _ in range(2):
        picture = picture.filter(ImageFilter.BoxBlur(radius))
    return np.asarray(picture, np.float32) / 255.0
