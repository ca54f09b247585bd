"""Pictures in and out: any source to an RGB float array, and atomic PNG writes.

An image in the course is a float32 array (H, W, 3) of RGB values in 0..255.
"""
import io
import os
import re
import warnings
from difflib import get_close_matches
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import files

MAX_SIDE = 4096                      # the longest side the course will compute at, pixels
FORMATS = "JPEG, PNG, GIF, BMP, TIFF or WebP"


class ImageError(ValueError):
    """A picture could not be read or written; the message says which and why."""


def open_image(src):
    """A PIL image, upright and RGB, from a course image name, a path, bytes, a file, PIL or an array."""
    if isinstance(src, Image.Image):
        return to_rgb(ImageOps.exif_transpose(src))
    if isinstance(src, (bytes, bytearray, memoryview)) or hasattr(src, "read"):
        data = io.BytesIO(bytes(src)) if not hasattr(src, "read") else src
        return _decode(data, "the uploaded file")
    if not isinstance(src, (str, os.PathLike)):
        return _from_array(src)
    path = _image_path(src)
    if path.is_dir():
        raise ImageError(f"{path} is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes), not an image")
    return _decode(path, str(path))


def _image_path(src):
    """The file behind `src`: a path that exists, else a course image fetched into the cache."""
    text = os.fspath(src)
    if not text.strip():
        raise ImageError("no image given (an empty path); give a file or a course image name")
    path = Path(text)
    if path.exists():
        return path
    from . import assets
    if "/" not in text and os.sep not in text and "." not in text:
        if text in assets.IMAGES:                    # a course image such as "tubingen"
            return assets.fetch(text)
        raise ImageError(f"no image file or course image named {text!r}{_did_you_mean(text)}; "
                         f"course images: {', '.join(assets.IMAGES)}")
    raise ImageError(f"no such image file: {path}{_did_you_mean(path.stem)}")


def _did_you_mean(name):
    from . import assets
    near = get_close_matches(name, assets.IMAGES, n=1, cutoff=0.75)
    return f" (did you mean the course image {near[0]!r}?)" if near else ""


def _from_array(x):
    """An array (H, W), (H, W, 3), (H, W, 4) or (1, H, W, 3) in 0..255 as a PIL image."""
    try:
        a = np.asarray(x)
    except Exception:
        a = np.asarray(None)
    if a.ndim < 2 or a.dtype == object or not np.issubdtype(a.dtype, np.number):
        what = f"an array of {a.dtype}" if a.ndim >= 2 else type(x).__name__
        raise ImageError(f"expected a course image name, a path, a PIL image or an image array, not {what}")
    x = a
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (3, 4))) or 0 in x.shape:
        raise ImageError(f"an image array has shape (H, W), (H, W, 3) or (H, W, 4), not {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ImageError("the image array has NaN or infinite values")
    return to_rgb(Image.fromarray(to_uint8(x)))


def _decode(fp, name):
    """Read and decode an image file fully; every failure is one ImageError line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fp) as img:
                img.load()                           # decode now: truncation shows up here
                img = ImageOps.exif_transpose(img)   # upright, as a phone shows it
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        count = f" ({int(pixels.group(1)):,} pixels)" if pixels else ""
        raise ImageError(f"{name} is too large{count}: over Pillow's limit of "
                         f"{Image.MAX_IMAGE_PIXELS:,} pixels (PIL.Image.MAX_IMAGE_PIXELS, a guard "
                         "against decompression bombs); shrink it first") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image Pillow can read ({FORMATS})") from None
    except FileNotFoundError:
        raise ImageError(f"no such image file: {name}") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a directory, not an image file") from None
    except PermissionError:
        raise ImageError(f"cannot read {name}: permission denied") from None
    except MemoryError:
        raise ImageError(f"{name} is too large to decode in this machine's memory; shrink it first") from None
    except Exception as err:      # OSError, SyntaxError, EOFError...: Pillow's ways of saying "broken"
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ImageError(f"{name} is truncated or corrupt ({detail}); "
                         "save or export it again") from None
    return to_rgb(img)


def to_rgb(img):
    """Any PIL mode to RGB; transparent pixels are composited on white, 16-bit scaled to 8."""
    if img.mode == "RGB":
        return img
    if img.mode.startswith("I") or img.mode == "F":          # 16-bit PNG, 32-bit TIFF
        x = np.asarray(img, dtype=np.float64)
        top = float(x.max()) if x.size else 0.0
        scale = 255.0 if img.mode == "F" and top <= 1.0 else \
            1 / 257 if img.mode.startswith("I;16") or top > 255 else 1.0
        img = Image.fromarray(np.clip(np.rint(x * scale), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return img.convert("RGB")
    except ValueError as err:
        raise ImageError(f"cannot convert an image in colour mode {img.mode} to RGB ({err})") from None


def resize_longest(img, size, min_side=1):
    """Scale a PIL image so that its longest side is `size` pixels (Lanczos).

    A very wide or tall picture is scaled up further until its shorter side has
    `min_side` pixels (the least the deepest VGG layer used needs).
    """
    w, h = img.size
    scale = max(size / max(w, h), min_side / min(w, h))
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    if max(new) > max(size, MAX_SIDE):
        raise ImageError(f"a {w}x{h} picture is too elongated: with its shorter side at the "
                         f"{min_side} px the network needs, its longer side would be {max(new)} px "
                         f"(over {MAX_SIDE}); crop it")
    return img if new == img.size else img.resize(new, Image.LANCZOS)


def load_image(src, size=None, min_side=1):
    """Float32 (H, W, 3) RGB array in 0..255, its longest side `size` if given.

    min_side: the shorter side is never less than this (see `resize_longest`).
    """
    img = open_image(src)
    if size is not None:
        img = resize_longest(img, int(size), min_side)
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
    image = Image.fromarray(to_uint8(x))
    return write_atomically(path, lambda f: image.save(f, format="PNG"))


def write_atomically(path, write):
    """Call write(binary file) on a temporary file beside `path`, then rename it to `path`
    (`files.write_atomically`); a failure is one ImageError line."""
    try:
        return files.write_atomically(path, write)
    except files.WriteError as err:
        raise ImageError(err.strerror) from None
