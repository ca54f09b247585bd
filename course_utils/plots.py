"""Pictures of what the method does.  Every function returns a matplotlib Figure."""
import io
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from .images import to_uint8, write_atomically


def image_grid(images, titles=None, ncols=None, size=3.0, suptitle=None):
    """Images (arrays 0..255, (H, W, 3) or (1, H, W, 3)) in a grid with titles."""
    images = list(images)
    ncols = ncols or min(len(images), 4)
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(to_uint8(images[i]))
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def loss_curves(result, ax=None, per_layer=False, x="step"):
    """Total, α·L_content, β·L_style (and the TV term) against step or seconds, log scale.

    `result` is a `train.Result` (the weighted terms are drawn, so they add up
    to the total being minimised) or a bare history list (the raw terms).
    per_layer: also each style layer's share β·w_l·E_l (dotted).
    """
    history = getattr(result, "history", result)
    s = getattr(result, "settings", None)
    alpha, beta, tv_weight = (s.alpha, s.beta, s.tv_weight) if s else (1.0, 1.0, 1.0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    xs = [h[x] for h in history]
    ax.plot(xs, [h["total"] for h in history], label="total", color="black", lw=2)
    if any(alpha * h["content"] for h in history):          # a term that is 0 has no log-scale line
        ax.plot(xs, [alpha * h["content"] for h in history], label="α · content" if s else "content")
    if any(beta * h["style"] for h in history):
        ax.plot(xs, [beta * h["style"] for h in history], label="β · style" if s else "style")
    if tv_weight and any(h["tv"] for h in history):
        ax.plot(xs, [tv_weight * h["tv"] for h in history], label="TV")
    if per_layer and history:
        w = dict(zip(s.style_layers, s.style_weights)) if s else {}   # so the layers add up to β·style
        for layer in history[0]["style_layers"]:
            ax.plot(xs, [beta * w.get(layer, 1.0) * h["style_layers"][layer] for h in history],
                    ls=":", label=f"β · w · E ({layer})" if s else f"E ({layer})")
    ax.set_yscale("log")
    ax.set_xlabel("step" if x == "step" else "seconds")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def feature_maps(F, n=16, ncols=8, title=None, size=1.4):
    """The first `n` channels of one feature map F, (1, H, W, N) or (H, W, N), as a grid."""
    F = np.asarray(F)
    if F.ndim == 4:
        F = F[0]
    n = min(n, F.shape[-1])
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(F[..., i], cmap="viridis")
            ax.set_title(f"filter {i}", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def gram_heatmap(G, title=None, n=64, ax=None):
    """The top-left n x n block of a Gram matrix G as a heat map."""
    G = np.asarray(G)[:n, :n]
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
    else:
        fig = ax.figure
    im = ax.imshow(G, cmap="magma")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_xlabel("filter j")
    ax.set_ylabel("filter i")
    ax.set_title(title or f"Gram matrix G (first {G.shape[0]} filters)")
    return fig


def write_figure(fig, path):
    """Write `fig` as a PNG at `path`, atomically (all of it or nothing).

    On white and without an alpha channel, compressed as far as PNG goes: a grid of
    25 stylised images stays under 3 MiB, the same pixels in an eighth less space.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    picture = Image.open(buffer).convert("RGB")
    return write_atomically(path, lambda f: picture.save(f, format="PNG", optimize=True))


def save_figure(fig, name):
    """Write `fig` to $COURSE_FIGURES_DIR/<name>.png when that variable is set (`make figures`).

    Returns the path written, or None when figures are not being collected.
    """
    folder = os.environ.get("COURSE_FIGURES_DIR")
    return write_figure(fig, Path(folder) / f"{name}.png") if folder else None
