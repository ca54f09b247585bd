"""colour: YIQ luminance and chroma (Gatys et al. 2017, §5), and colour matching."""
import numpy as np
import pytest

from course_utils import colour

rng = np.random.default_rng(0)


def test_yiq_round_trips_and_y_is_the_luminance():
    x = rng.uniform(0, 255, (4, 5, 3))
    np.testing.assert_allclose(colour.to_rgb(colour.to_yiq(x)), x, atol=1e-9)
    np.testing.assert_allclose(colour.luminance(x), x @ [0.299, 0.587, 0.114])


def test_with_chroma_has_the_given_luminance_and_the_photos_chroma():
    Y, photo = rng.uniform(40, 215, (6, 4)), rng.uniform(0, 255, (6, 4, 3))
    out = colour.with_chroma(Y, photo)
    np.testing.assert_allclose(colour.luminance(out), Y, atol=1e-9)
    np.testing.assert_allclose(colour.to_yiq(out)[..., 1:], colour.to_yiq(photo)[..., 1:], atol=1e-9)


@pytest.mark.parametrize("transfer", colour.TRANSFERS)
def test_match_gives_the_mean_and_covariance_of_the_target(transfer):
    image = rng.normal([100, 120, 90], [20, 30, 10], (60, 60, 3))
    like = rng.normal(0, 15, (50, 50, 3)) @ np.array([[1, .3, 0], [0, 1, .4], [.2, 0, 1]]) + [150, 90, 60]
    out = colour.match(image, like, transfer).reshape(-1, 3)
    np.testing.assert_allclose(out.mean(0), like.reshape(-1, 3).mean(0), atol=0.5)
    np.testing.assert_allclose(np.cov(out.T), np.cov(like.reshape(-1, 3).T), rtol=0.05, atol=1.0)


def test_an_unknown_transfer_is_refused():
    with pytest.raises(ValueError, match="colour_transfer must be"):
        colour.match(np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), "lab")
