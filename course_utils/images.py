"""Pictures in and out: any source to an RGB float array, and atomic PNG writes.

An image in the course is a float32 array (H, W, 3) of RGB values in 0..255.
"""
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


class ImageError(ValueError):
    """A picture could not be read or written; the message says which and why."""


def open_image(src):
    """A PIL image, upright and RGB, from an asset name, a path, a PIL image or an array."""
    if isinstance(src, Image.Image):
        return to_rgb(ImageOps.exif_transpose(src))
    if isinstance(src, np.ndarray):
        return Image.fromarray(to_uint8(src))
    path = Path(src)
    if not path.exists() and isinstance(src, str) and os.sep not in src and "." not in src:
        from . import assets
        path = assets.fetch(src)          # an asset name such as "tubingen"
    if not path.exists():
        raise ImageError(f"no such image file: {path}")
    with Image.open(path) as img:
        img.load()
        return to_rgb(ImageOps.exif_transpose(img))


def to_rgb(img):
    """Any PIL mode to RGB; transparent pixels are composited on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def resize_longest(img, size):
    """Scale a PIL image so that its longest side is `size` pixels (Lanczos)."""
    w, h = img.size
    scale = size / max(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img if new == img.size else img.resize(new, Image.LANCZOS)


def load_image(src, size=None):
    """Float32 (H, W, 3) RGB array in 0..255, its longest side `size` if given."""
    img = open_image(src)
    if size is not None:
        img = resize_longest(img, int(size))
    return np.asarray(img, dtype=np.float32)


def to_uint8(x):
    """Round and clip an image array (H, W, 3) or (1, H, W, 3) to uint8."""
    x = np.asarray(x)
    if x.ndim == 4:
        x = x[0]
    if x.dtype == np.uint8:
        return x
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def save_png(x, path):
    """Write an image array as PNG atomically: a temporary file, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(to_uint8(x)).save(f, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
