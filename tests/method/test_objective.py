"""objective: L_total = α L_content + β L_style (+ TV) on VGG-19 features, as Eq. 7 says."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import images
from course_utils.objective import Objective, measure, pictures
from course_utils.settings import Settings

S = Settings(size=64, precision="float32")


@pytest.fixture(scope="module")
def two():
    return pictures("tubingen", "starry_night", S, 64)


def test_the_total_is_the_weighted_sum_of_its_terms(two):
    photo, painting = two
    s = Settings(size=64, precision="float32", alpha=2.0, beta=3.0, tv_weight=0.5)
    t = Objective(photo, painting, s).terms(tf.constant(photo[None] * 0.9))
    assert float(t["total"]) == pytest.approx(2.0 * float(t["content"]) + 3.0 * float(t["style"])
                                              + 0.5 * float(t["tv"]), rel=1e-5)
    assert float(t["style"]) == pytest.approx(float(np.dot(s.style_weights, t["style_layers"])), rel=1e-5)


def test_the_photo_itself_has_no_content_loss(two):
    photo, painting = two
    t = Objective(photo, painting, S).terms(tf.constant(photo[None]))
    assert float(t["content"]) == pytest.approx(0.0, abs=1e-3) and float(t["style"]) > 0


def test_the_gradient_has_the_pictures_shape_and_lowers_the_loss(two):
    photo, painting = two
    objective = Objective(photo, painting, S)
    x = tf.constant(np.clip(photo[None] + 20.0, 0, 255))
    t, g = objective.value_and_grad(x)
    assert g.shape == x.shape and np.isfinite(g.numpy()).all()
    lower = objective.terms(tf.clip_by_value(x - 1e-2 * g / tf.reduce_max(tf.abs(g)) * 255, 0, 255))
    assert float(lower["total"]) < float(t["total"])


def test_measure_refuses_an_image_of_another_size():
    with pytest.raises(ValueError, match="measure images stylize made"):
        measure(np.zeros((10, 10, 3)), "tubingen", "starry_night", size=64)


def test_pictures_scale_the_style_by_style_scale():
    s = Settings(size=64, style_scale=2.0)
    photo, painting = pictures("tubingen", "starry_night", s, 64)
    assert max(photo.shape[:2]) == 64 and max(painting.shape[:2]) == 128
    assert images.load_image("tubingen", 64).shape == photo.shape
