"""Immediate checks for the exercise cells, against the paper's equations.

Each ``check_*`` runs your function on a handful of random and edge-case inputs
(batched (1, H, W, N) and unbatched (H, W, N) feature maps, N != M, H != W, all
zeros, ...) and compares it with the expected outputs.  If they agree it prints one
line; if not it raises a `CheckFailed` (an AssertionError) naming the most likely
mistake, found by comparing your output with the outputs of known-wrong variants.

    check_content_loss(content_loss)
    check_content_loss(content_loss, hidden=True)    # the instructor's extra cases

The expected outputs come from the answer key (computed from the course's `losses`), or,
in the student release, from the answers.json stored beside this package; there a
function that passes is also saved for the later notebooks (see `exercises.yours`).  A
function that calls the course's own losses fails: the check would only test the course.
The machinery is in `exercises`.
"""
from .exercises.judge import Borrowed, CheckFailed, NotImplementedYet, check
from .exercises.cases import EXERCISES, Case
from .exercises.table import table

__all__ = ["check_content_loss", "check_gram_matrix", "check_style_layer_loss", "check_style_loss",
           "check_total_loss", "check_train_step", "check_balanced_weights", "CheckFailed", "NotImplementedYet", "Borrowed", "Case", "EXERCISES",
           "table", "check"]


def check_content_loss(fn, hidden=False):
    """Check fn(F, P) against Eq. 1: L_content = ½ Σ_ij (F_ij − P_ij)²."""
    check(fn, "content_loss", hidden)


def check_gram_matrix(fn, hidden=False):
    """Check fn(F) against Eq. 3: G_ij = Σ_k F_ik F_jk = F Fᵀ, an N × N matrix."""
    check(fn, "gram_matrix", hidden)


def check_style_layer_loss(fn, hidden=False):
    """Check fn(F, A) against Eq. 4: E_l = Σ_ij (G_ij − A_ij)² / (4 N² M²), G = F Fᵀ."""
    check(fn, "style_layer_loss", hidden)


def check_style_loss(fn, hidden=False):
    """Check fn(features, targets, weights) against Eq. 5: L_style = Σ_l w_l E_l."""
    check(fn, "style_loss", hidden)


def check_total_loss(fn, hidden=False):
    """Check fn(content, style, alpha, beta, tv=0, tv_weight=0) against Eq. 7:
    L_total = α L_content + β L_style (+ tv_weight · L_tv)."""
    check(fn, "total_loss", hidden)


def check_train_step(fn, hidden=False):
    """Check fn(x, optimizer, loss_fn), one optimisation step: L = loss_fn(x) on a
    tf.GradientTape, Adam's update of x with ∂L/∂x, x clipped to 0 … 255; returns L."""
    check(fn, "train_step", hidden)


def check_balanced_weights(fn, hidden=False):
    """Check fn(E), E the E_l of a layer set S: w_l ∝ 1/E_l, normalised so that
    Σ_S w_l E_l = Σ_S E_l / |S| (the total with equal weights)."""
    check(fn, "balanced_weights", hidden)
