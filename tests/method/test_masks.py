"""masks: guided Gram matrices (Gatys et al. 2017) and masks pooled as the features are."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import losses, masks

F = tf.constant(np.random.default_rng(1).uniform(0, 2, (1, 8, 6, 4)), tf.float32)


def test_an_all_ones_mask_gives_the_plain_gram_matrix():
    np.testing.assert_allclose(masks.guided_gram_matrix(F, tf.ones((8, 6))), losses.gram_matrix(F),
                               rtol=1e-5)


def test_a_mask_weights_positions_and_is_normalised_by_mean_m_squared():
    m = np.zeros((8, 6), np.float32)
    m[:4] = 1.0                                   # the top half
    top = F[0, :4].numpy().reshape(-1, 4)
    np.testing.assert_allclose(masks.guided_gram_matrix(F, m), top.T @ top / 0.5, rtol=1e-5)


def test_the_guided_style_loss_of_a_full_mask_is_the_papers_E_l():
    A = losses.gram_matrix(F * 0.5)
    assert float(masks.guided_style_layer_loss(F, A, tf.ones((8, 6)))) == \
        pytest.approx(float(losses.style_layer_loss(F, A)), rel=1e-5)


def test_masks_are_average_pooled_to_each_layers_size():
    m = np.ones((16, 12), np.float32)
    m[:, 6:] = 0
    at = masks.at_layers(m, ["conv1_1", "conv2_1", "conv3_1"])
    assert [tuple(v.shape) for v in at.values()] == [(16, 12), (8, 6), (4, 3)]
    assert float(tf.reduce_mean(at["conv3_1"])) == pytest.approx(0.5)


def test_load_masks_wants_one_per_style():
    with pytest.raises(ValueError, match="mask"):
        masks.load_masks([np.ones((4, 4))], (4, 4), 2)
