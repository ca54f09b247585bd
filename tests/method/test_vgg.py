"""VGG-19 as the paper uses it: weights checked, layer names, pooling, preprocessing."""
import numpy as np
import pytest

from course_utils import assets, vgg


def test_weight_file_is_the_exact_keras_file():
    path = assets.fetch("vgg19_weights")
    assert path.stat().st_size == 80_134_624
    assert assets.sha256(path) == assets.entry("vgg19_weights")["sha256"]


def test_preprocess_and_deprocess_are_inverses():
    x = np.random.default_rng(0).uniform(0, 255, (1, 5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(vgg.deprocess(vgg.preprocess(x)), x, atol=1e-4)
    y = vgg.preprocess(x).numpy()
    np.testing.assert_allclose(y[..., 0], x[..., 2] - 103.939, atol=1e-4)   # B first, mean removed


def test_paper_names_map_onto_keras_names():
    assert vgg.keras_name("conv4_2") == "block4_conv2"
    assert vgg.keras_name("conv1_1") == "block1_conv1"
    assert len(vgg.CONV_LAYERS) == 16 and vgg.CONV_LAYERS[-1] == "conv5_4"
    assert vgg.min_size(["conv5_1"]) == 16 and vgg.min_size(["conv1_2"]) == 1
    with pytest.raises(ValueError, match="unknown VGG-19 layer"):
        vgg.keras_name("conv6_1")


def test_extractor_stops_at_the_deepest_layer_asked_for():
    model = vgg.feature_extractor(("conv1_1", "conv3_1"))
    names = [layer.name for layer in model.layers]
    assert names[-1] == "block3_conv1" and "block3_conv2" not in names
    assert "block1_pool_avg" in names                      # the paper's average pooling


def test_feature_shapes_and_the_relu():
    x = np.random.default_rng(1).uniform(0, 255, (32, 48, 3)).astype(np.float32)
    F = vgg.features(x, ["conv1_1", "conv4_2", "conv5_1"])
    assert F["conv1_1"].shape == (1, 32, 48, 64)
    assert F["conv4_2"].shape == (1, 4, 6, 512)
    assert F["conv5_1"].shape == (1, 2, 3, 512)
    assert float(np.min(F["conv4_2"])) >= 0.0                # taken after the ReLU


def test_max_pooling_is_kerass_own_network():
    import keras
    x = np.random.default_rng(2).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    base = vgg.vgg19()
    reference = keras.Model(base.input, base.get_layer("block3_conv1").output)(vgg.preprocess(x))
    ours = vgg.feature_extractor(("conv3_1",), pooling="max")(vgg.preprocess(x))["conv3_1"]
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-3)
    avg = vgg.feature_extractor(("conv3_1",), pooling="avg")(vgg.preprocess(x))["conv3_1"]
    assert not np.allclose(avg, reference)
