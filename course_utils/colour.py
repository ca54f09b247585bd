"""Colour: luminance and chroma (YIQ), and matching one picture's colours to another's.

Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer" (CVPR 2017), §5:
the style transfer can keep the photograph's colours in two ways.

* **luminance only** — transfer on the luminance channel Y alone, then put the
  photograph's chroma (the I and Q of YIQ) back: `luminance`, `with_chroma`;
* **colour matching** — recolour the painting to the photograph's mean colour and
  colour covariance first (a linear map of RGB): `match`.

jcjohnson/neural-style's ``-original_colors`` is `with_chroma` applied to an ordinary
result after the fact.  Images are float arrays (..., 3) of RGB in 0..255.  `for_transfer`
and `finished` are what `train.stylize` does with its ``colour`` setting before and after.
"""
import numpy as np

# NTSC's YIQ: Y is the luminance, I and Q the chroma; RGB = YIQ_TO_RGB @ (Y, I, Q).
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114],
                       [0.596, -0.274, -0.322],
                       [0.211, -0.523, 0.312]])
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)
COLOURS = ("style", "luminance", "match")   # whose colours a run keeps (Settings.colour)
TRANSFERS = ("pca", "chol", "sym")          # ways to map one colour covariance onto another


def to_yiq(rgb):
    """RGB (..., 3) -> YIQ (..., 3): Y = 0.299 R + 0.587 G + 0.114 B, then the chroma I, Q."""
    return np.asarray(rgb, np.float64) @ RGB_TO_YIQ.T


def to_rgb(yiq):
    """YIQ (..., 3) -> RGB (..., 3), the exact inverse of `to_yiq` (not clipped)."""
    return np.asarray(yiq, np.float64) @ YIQ_TO_RGB.T


def luminance(rgb):
    """The luminance Y (..., ) of an RGB image."""
    return to_yiq(rgb)[..., 0]


def grey(rgb):
    """The luminance as a three-channel picture (Y, Y, Y): what VGG-19 sees of it."""
    Y = luminance(rgb)
    return np.repeat(Y[..., None], 3, axis=-1).astype(np.float32)


def with_chroma(Y, photo):
    """The RGB picture whose luminance is Y and whose chroma (I, Q) is the photo's.

    Because YIQ is a linear, invertible map of RGB, replacing Y keeps I and Q exactly;
    only clipping to 0..255 afterwards can change them.
    """
    yiq = to_yiq(photo)
    yiq[..., 0] = np.asarray(Y, np.float64)
    return to_rgb(yiq)


def keep_colours(image, photo):
    """jcjohnson's ``-original_colors``: a result's luminance with the photo's chroma, in 0..255."""
    return np.clip(with_chroma(luminance(image), photo), 0, 255).astype(np.float32)


def match_luminance(painting, photo):
    """The painting's luminance, shifted and scaled to the photo's mean and spread, as (Y, Y, Y).

    So that the luminance-only transfer paints in the photo's range of brightness.
    """
    Ys, Yc = luminance(painting), luminance(photo)
    Y = (Ys - Ys.mean()) * (Yc.std() / max(Ys.std(), 1e-6)) + Yc.mean()
    return np.repeat(Y[..., None], 3, axis=-1).astype(np.float32)


def match(image, like, transfer="pca", eps=1e-2):
    """`image` recoloured to the mean colour and RGB covariance of `like` (not clipped).

    x ↦ T (x − μ_x) + μ_like with T Σ_x Tᵀ = Σ_like.  T is one of three square roots
    (Hertzmann's image analogies, §3.4; leongatys/NeuralImageSynthesis's ``match_color``):

    * ``"pca"`` (the default, as in the authors' code): T = Σ_like^½ Σ_x^−½, symmetric roots
      from the eigen-decomposition;
    * ``"chol"``: T = L_like L_x⁻¹, Cholesky factors (L Lᵀ = Σ);
    * ``"sym"``: the one symmetric T, Σ_x^−½ (Σ_x^½ Σ_like Σ_x^½)^½ Σ_x^−½, which moves
      the colours least (the Monge–Kantorovich map between two Gaussians).

    eps (in 0..255 units²) is added to both covariances, so that a grey picture, whose
    covariance is singular, still has one.
    """
    x, y = (np.asarray(a, np.float64).reshape(-1, 3) for a in (image, like))
    if transfer not in TRANSFERS:
        raise ValueError(f"colour_transfer must be {', '.join(map(repr, TRANSFERS))}, not {transfer!r}")
    Sx, Sy = (np.cov(a.T) + eps * np.eye(3) for a in (x, y))
    if transfer == "chol":
        T = np.linalg.cholesky(Sy) @ np.linalg.inv(np.linalg.cholesky(Sx))
    elif transfer == "pca":
        T = _power(Sy, 0.5) @ _power(Sx, -0.5)
    else:
        root = _power(Sx, 0.5)
        T = _power(Sx, -0.5) @ _power(root @ Sy @ root, 0.5) @ _power(Sx, -0.5)
    out = (x - x.mean(0)) @ T.T + y.mean(0)
    return out.reshape(np.shape(image))


def _power(S, p):
    """S^p for a symmetric positive definite 3 x 3 matrix S."""
    values, vectors = np.linalg.eigh(S)
    return (vectors * values ** p) @ vectors.T


def colour_matched_start(content, style):
    """The content photo in the style image's colours, clipped to 0..255: ``init="colour"``.

    Its colour statistics, which the Gram matrix of conv1_1 measures, already match the
    painting's (Cholesky, eps = 1: the start the presets were tuned with).
    """
    return np.clip(match(content, style, "chol", eps=1.0), 0, 255).astype(np.float32)


def for_transfer(photo, paintings, colour="style", transfer="pca"):
    """(photo, painting or paintings) as the transfer sees them under `colour`:

    "style" as they are; "luminance" both as (Y, Y, Y), the paintings' Y matched to the
    photo's mean and spread; "match" the paintings recoloured to the photo (`match`).
    """
    each = lambda f: [f(p) for p in paintings] if isinstance(paintings, list) else f(paintings)
    if colour == "luminance":
        return grey(photo), each(lambda p: match_luminance(p, photo))
    if colour == "match":
        return photo, each(lambda p: match(p, photo, transfer).astype(np.float32))
    return photo, paintings


def finished(x, photo, colour="style"):
    """The transfer's image x as the user sees it: under "luminance", x's Y with the photo's chroma."""
    if colour != "luminance":
        return x
    return with_chroma(luminance(x), photo)
