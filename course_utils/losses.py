"""The losses of Gatys, Ecker & Bethge (2015), in the paper's notation.

Features are float tensors of shape (1, H, W, N) or (H, W, N): N_l filters,
M_l = H * W positions.  Reading them as the paper's matrix F (N_l x M_l),
row i is filter i and column k is position k.
"""
import tensorflow as tf


def _as_matrix(F):
    """Feature map (1, H, W, N) or (H, W, N) -> the M x N matrix F^T."""
    F = tf.convert_to_tensor(F, dtype=tf.float32)
    if F.shape.rank == 4:
        F = F[0]
    return tf.reshape(F, (-1, tf.shape(F)[-1]))


def content_loss(F, P):
    """L_content = 1/2 * sum_ij (F_ij - P_ij)^2  (paper, Eq. 1).

    F: features of the generated image, P: of the content photograph.
    """
    F = tf.convert_to_tensor(F, dtype=tf.float32)
    P = tf.convert_to_tensor(P, dtype=tf.float32)
    return 0.5 * tf.reduce_sum(tf.square(F - P))


def gram_matrix(F):
    """G_ij = sum_k F_ik F_jk = F F^T  (Eq. 3): an N x N matrix, not normalised."""
    Ft = _as_matrix(F)                      # M x N
    return tf.matmul(Ft, Ft, transpose_a=True)


def style_layer_loss(F, A):
    """E_l = sum_ij (G_ij - A_ij)^2 / (4 N_l^2 M_l^2)  (Eq. 4).

    F: features of the generated image at layer l; A: the style image's Gram
    matrix at that layer.
    """
    Ft = _as_matrix(F)
    M = tf.cast(tf.shape(Ft)[0], tf.float32)
    N = tf.cast(tf.shape(Ft)[1], tf.float32)
    G = tf.matmul(Ft, Ft, transpose_a=True)
    A = tf.convert_to_tensor(A, dtype=tf.float32)
    return tf.reduce_sum(tf.square(G - A)) / (4.0 * N**2 * M**2)


def style_loss(features, targets, weights):
    """L_style = sum_l w_l E_l  (Eq. 5) over equal-length lists of layers."""
    if not (len(features) == len(targets) == len(weights)):
        raise ValueError(
            f"style_loss needs as many weights as layers: got {len(features)} "
            f"feature maps, {len(targets)} Gram targets and {len(weights)} weights"
        )
    return tf.add_n([float(w) * style_layer_loss(F, A)
                     for F, A, w in zip(features, targets, weights)])


def total_variation_loss(x):
    """Sum of squared differences between neighbouring pixels of image x.

    Not in the paper: a smoothness prior that later work adds against
    high-frequency noise.
    """
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    if x.shape.rank == 3:
        x = x[tf.newaxis]
    dy = x[:, 1:, :, :] - x[:, :-1, :, :]
    dx = x[:, :, 1:, :] - x[:, :, :-1, :]
    return tf.reduce_sum(tf.square(dy)) + tf.reduce_sum(tf.square(dx))


def total_loss(content, style, alpha, beta, tv=0.0, tv_weight=0.0):
    """L_total = alpha * L_content + beta * L_style (+ tv_weight * L_tv)  (Eq. 7)."""
    return alpha * content + beta * style + tv_weight * tv
