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


# The network as the pipeline figure draws it: each block's convolutions, then a pooling.
_BLOCKS = (("conv1_1", "conv1_2"), ("conv2_1", "conv2_2"),
           ("conv3_1", "conv3_2", "conv3_3", "conv3_4"),
           ("conv4_1", "conv4_2", "conv4_3", "conv4_4"), ("conv5_1",))


def pipeline(photo=None, painting=None, x=None, style_layers=("conv1_1", "conv2_1", "conv3_1",
             "conv4_1", "conv5_1"), content_layer="conv4_2"):
    """The whole method in one picture: photograph p, painting a and image x through VGG-19;
    which layers feed L_content and L_style; the gradient of L_total back to the pixels of x.

    photo, painting, x: pictures (arrays 0..255) to show, or None for an empty frame.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    painting, x, photo = (None if p is None else to_uint8(p) for p in (painting, x, photo))
    for p in (painting, x, photo):                   # checked before a figure is opened
        if p is not None and (p.ndim != 3 or p.shape[-1] != 3):
            raise ValueError(f"pipeline: pictures are (H, W, 3) arrays; got shape {p.shape}")
    blue, orange, red, grey = "#1f77b4", "#d35400", "#c0392b", "#7f8c8d"
    fig, ax = plt.subplots(figsize=(13, 6.6))
    ax.set_xlim(0, 124)
    ax.set_ylim(-3, 66)
    ax.axis("off")

    def arrow(start, end, colour, ls="-", lw=1.4):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=colour,
                                     lw=lw, linestyle=ls))

    def box(x0, y0, w, h, text, colour):
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.4", fc="white",
                                    ec=colour, lw=1.6))
        ax.text(x0 + w / 2, y0 + h / 2, text, ha="center", va="center", fontsize=10)

    # Three rows: the painting a (top), the image x being made (middle), the photograph p (bottom).
    rows = {"a": (53, painting, r"painting $\vec a$", orange),
            "x": (32, x, r"image $\vec x$: its pixels change", red),
            "p": (9, photo, r"photograph $\vec p$", blue)}
    where = {}                                       # (row, layer) -> (x, y) of its dot
    for key, (y, picture, label, colour) in rows.items():
        if picture is not None:
            ax.imshow(picture, extent=(0, 12, y - 6, y + 6), aspect="auto", zorder=2)
        else:
            ax.add_patch(Rectangle((0, y - 6), 12, 12, fc="#ecf0f1", ec=grey))
        if key == "x":                               # above it: the gradient passes below
            ax.text(6, y + 6.8, label, ha="center", va="bottom", fontsize=9, color=colour)
        else:
            ax.text(6, y - 6.8, label, ha="center", va="top", fontsize=9, color=colour)
        arrow((12.5, y), (16, y), grey)
        left = 16.5
        for b, convs in enumerate(_BLOCKS):
            width = 2.4 * len(convs) + 1.0
            ax.add_patch(Rectangle((left, y - 3.2), width, 6.4, fc="#f4f6f7", ec=grey, lw=0.8))
            for k, name in enumerate(convs):
                cx = left + 1.7 + 2.4 * k
                used = ((key in "ax" and name in style_layers)
                        or (key in "px" and name == content_layer))
                dot = (orange if name in style_layers else blue) if used else "#bdc3c7"
                ax.plot(cx, y, "o", ms=7 if used else 4, color=dot, zorder=3)
                if used:
                    where[key, name] = (cx, y)
            if b < len(_BLOCKS) - 1:
                ax.text(left + width + 0.35, y, "pool", rotation=90, ha="left", va="center",
                        fontsize=6.5, color=grey)
            left += width + 1.9
    ax.text(0, 65.5, "Each row: the same VGG-19, its weights fixed (grey dots: its other "
            "convolutions; large dots: the layers the losses use)", fontsize=9, color=grey, va="top")
    for name in style_layers:                        # layer names above the painting's row
        if ("a", name) in where:
            ax.text(where["a", name][0], 57, name, ha="left", fontsize=8, rotation=35, color=orange)
    if ("p", content_layer) in where:
        ax.text(where["p", content_layer][0], 4.8, content_layer, ha="center", va="top",
                fontsize=8, color=blue)

    # Style: Gram matrices of a (A^l) and of x (G^l) at each style layer, into L_style.
    style_box, content_box, total_box = (87, 39.5, 16, 8), (87, 13.5, 16, 8), (108.5, 27, 14, 9)
    for key, bus_y in (("a", 47), ("x", 38.5)):
        xs = [where[key, n][0] for n in style_layers if (key, n) in where]
        for cx in xs:
            ax.plot([cx, cx], [rows[key][0] + (-0.6 if key == "a" else 0.6), bus_y], color=orange, lw=1)
        if xs:
            ax.plot([min(xs), 80], [bus_y, bus_y], color=orange, lw=1.4)
            arrow((80, bus_y), (style_box[0] - 0.6, style_box[1] + style_box[3] / 2), orange)
    ax.text(79, 47.6, r"$A^l$: Gram matrices of $\vec a$", ha="right", va="bottom", fontsize=9,
            color=orange)
    ax.text(79, 37.9, r"$G^l = F^l F^{l\top}$ of $\vec x$", ha="right", va="top", fontsize=9,
            color=orange)
    box(*style_box, "$\\mathcal{L}_{style} = \\sum_l w_l E_l$\n"
        "$E_l = \\frac{\\sum (G^l - A^l)^2}{4 N_l^2 M_l^2}$", orange)

    # Content: F at conv4_2 of x against P of the photograph, into L_content.
    for key, bus_y in (("x", 22), ("p", 15.5)):
        if (key, content_layer) in where:
            cx, cy = where[key, content_layer]
            ax.plot([cx, cx], [cy + (-0.6 if key == "x" else 0.6), bus_y], color=blue, lw=1)
            ax.plot([cx, 80], [bus_y, bus_y], color=blue, lw=1.4)
            arrow((80, bus_y), (content_box[0] - 0.6, content_box[1] + content_box[3] / 2), blue)
    ax.text(79, 22.6, r"$F$ of $\vec x$ at " + content_layer, ha="right", va="bottom", fontsize=9,
            color=blue)
    ax.text(79, 14.9, r"$P$ of $\vec p$", ha="right", va="top", fontsize=9, color=blue)
    box(*content_box, "$\\mathcal{L}_{content}$\n$= \\frac{1}{2}\\sum (F - P)^2$", blue)

    box(*total_box, "$\\mathcal{L}_{total}$\n$= \\alpha\\,\\mathcal{L}_{content}$\n"
        "$+\\;\\beta\\,\\mathcal{L}_{style}$", "black")
    arrow((style_box[0] + style_box[2] + 0.5, style_box[1] + 2), (total_box[0] - 0.5, 34), orange)
    arrow((content_box[0] + content_box[2] + 0.5, content_box[1] + 6), (total_box[0] - 0.5, 29), blue)

    # The gradient flows back from L_total through x's network to its pixels.
    ax.plot([total_box[0] + 7, total_box[0] + 7, 104], [total_box[1] - 0.6, 27, 27], color=red,
            lw=2, ls="--")
    arrow((104, 27), (12.8, 27), red, ls="--", lw=2)
    ax.text(53, 26.2, r"gradient $\partial\mathcal{L}_{total}/\partial\vec x$, back through "
            r"VGG-19 to the pixels of $\vec x$; the optimiser (L-BFGS) changes them, and the loop runs again",
            ha="center", va="top", fontsize=9, color=red,
            bbox=dict(fc="white", ec="none", pad=0.5))
    fig.tight_layout()
    return fig
