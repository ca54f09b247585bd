"""settings: the paper's defaults, the forms a setting may take, and one clear error for each
setting that cannot make a picture."""
import pytest

from course_utils.settings import PAPER_STYLE_LAYERS, Settings


def test_the_defaults_are_the_papers():
    s = Settings()
    assert s.content_layers == ("conv4_2",) and s.style_layers == PAPER_STYLE_LAYERS
    assert s.style_weights == pytest.approx((0.2,) * 5)
    assert s.alpha / s.beta == pytest.approx(1e-3) and s.pooling == "avg"


def test_layers_may_be_one_comma_separated_string_and_weights_one_number():
    s = Settings(style_layers="conv1_1, conv2_1", style_weights=(1, 3))
    assert s.style_layers == ("conv1_1", "conv2_1") and s.style_weights == (1.0, 3.0)
    assert Settings(style_layers=("conv3_1",), style_weights=2).style_weights == (2.0,)
    assert Settings(stages=128, size=256).stages == (128,)


@pytest.mark.parametrize("changes, message", [
    (dict(alpha=-1), "alpha must be a finite number ≥ 0"),
    (dict(alpha=0, beta=0), "nothing to optimise"),
    (dict(style_layers=("block4_conv2",)), "did you mean conv4_2"),
    (dict(style_layers=("conv1_1",), style_weights=(1, 2)), "2 style weights for 1 style layers"),
    (dict(steps=0), "steps must be a whole number > 0"),
    (dict(size=8), "size must be a whole number of pixels ≥"),
    (dict(size=5000), "at most 4096"),
    (dict(learning_rate=0), "learning_rate must be a finite number > 0"),
    (dict(blend=(0.5, 0.6)), "blend weights must sum to 1"),
    (dict(stages=(512,), size=256), "stages must be whole numbers"),
    (dict(style_scale=20, size=256), "asks for a 5120 px style image"),
    (dict(adam_beta_1=1.0), "adam_beta_1 must be a number from 0 to below 1"),
])
def test_each_impossible_setting_is_one_clear_error(changes, message):
    with pytest.raises(ValueError, match=message):
        Settings(**changes)


def test_stylize_takes_settings_built_once():
    from course_utils import presets, train
    s = presets.make_settings("ci", size=64, steps=2, every=1)
    result = train.stylize("tubingen", "starry_night", s, progress=False)
    assert result.settings == s and len(result.history) == 2
    assert train.stylize("tubingen", "starry_night", s, progress=False, steps=1).settings.steps == 1
