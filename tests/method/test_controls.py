"""Beyond the paper (notebook 6): colour, style_scale, blended styles, regions and stages,
each on the course's own pictures at small sizes."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import colour, images, losses, masks, train, vgg
from course_utils.objective import Objective, gram_targets, pictures

TINY = dict(preset="ci", size=64, steps=10, progress=False)
LOW = ("conv1_1", "conv2_1", "conv3_1")


@pytest.fixture(scope="module")
def plain():
    """Today's run, Tübingen x The Starry Night at 64 px: the reference for several tests."""
    return train.stylize("tubingen", "starry_night", **TINY)


def test_a_default_run_is_todays_run_bit_for_bit(plain):
    """The new settings at their defaults take today's path: the same pixels and losses."""
    today = plain
    spelled_out = train.stylize("tubingen", "starry_night", colour="style", colour_transfer="pca",
                                style_scale=1.0, blend=None, stages=(), masks=None, **TINY)
    np.testing.assert_array_equal(today.best_image, spelled_out.best_image)
    assert [h["total"] for h in today.history] == [h["total"] for h in spelled_out.history]
    assert spelled_out.stages == []
    # ... and the Gram targets are the expression the objective had before the controls
    s = train.make_settings("ci")
    photo, painting = pictures("tubingen", "starry_night", s, s.size)
    extract = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
    P, F = (extract(vgg.preprocess(np.asarray(x, np.float32)[None])) for x in (photo, painting))
    M = lambda T: float(T.shape[1] * T.shape[2])
    for A, layer in zip(gram_targets(extract, painting, P, s), s.style_layers):
        np.testing.assert_array_equal(A, losses.gram_matrix(F[layer]) * M(P[layer]) / M(F[layer]))


def _yiq(x):
    return colour.to_yiq(np.asarray(x, np.float64))


def test_luminance_only_keeps_the_photos_chroma(plain):
    r = train.stylize("tubingen", "starry_night", colour="luminance", **TINY)
    photo = images.load_image("tubingen", 64)
    unclipped = np.all((r.best_image > 0) & (r.best_image < 255), axis=-1)
    assert unclipped.mean() > 0.5                       # the comparison covers most of the picture
    got, want = _yiq(r.best_image)[unclipped], _yiq(photo)[unclipped]
    assert np.max(np.abs(got[:, 1:] - want[:, 1:])) <= 1.0          # I and Q within 1/255
    assert np.mean(np.abs(got[:, 0] - want[:, 0])) > 5.0             # while Y was painted
    swapped = colour.keep_colours(plain.best_image, photo)
    inside = np.all((swapped > 0.5) & (swapped < 254.5), axis=-1)
    assert np.max(np.abs(_yiq(swapped)[inside][:, 1:] - _yiq(photo)[inside][:, 1:])) < 1e-3


@pytest.mark.parametrize("transfer", colour.TRANSFERS)
def test_colour_match_gives_the_photos_mean_and_covariance(transfer):
    photo, painting = images.load_image("tubingen", 96), images.load_image("the_scream", 96)
    recoloured = colour.match(painting, photo, transfer).reshape(-1, 3)
    want = photo.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(recoloured.mean(0), want.mean(0), rtol=1e-3)
    np.testing.assert_allclose(np.cov(recoloured.T), np.cov(want.T), rtol=1e-3,
                               atol=1e-3 * np.abs(np.cov(want.T)).max())
    s = train.make_settings("ci", colour="match", colour_transfer=transfer)
    _, used = colour.for_transfer(photo, painting, s.colour, s.colour_transfer)
    np.testing.assert_allclose(used.reshape(-1, 3).mean(0), want.mean(0), rtol=1e-3)


def test_the_three_colour_maps_differ_but_agree_on_the_statistics():
    photo, painting = images.load_image("tubingen", 64), images.load_image("starry_night", 64)
    maps = {t: colour.match(painting, photo, t) for t in colour.TRANSFERS}
    assert np.abs(maps["pca"] - maps["chol"]).max() > 1 and np.abs(maps["pca"] - maps["sym"]).max() > 1


def test_blend_one_zero_is_the_first_style_alone(plain):
    alone = plain
    blended = train.stylize("tubingen", ["starry_night", "the_scream"], blend=(1, 0), **TINY)
    np.testing.assert_array_equal(alone.best_image, blended.best_image)


def _value_and_grad(objective, x):
    t, g = objective.value_and_grad(tf.constant(x[None]))
    return float(t["total"]), g.numpy().astype(np.float64)


def test_blended_target_and_weighted_losses_have_the_same_gradient():
    """Σ_k b_k E(A_k) = E(Σ_k b_k A_k) + a constant when Σ_k b_k = 1: equal gradients."""
    s = train.make_settings("ci", blend=(0.3, 0.7), precision="float32")   # exact maths: float32
    photo, (starry, scream) = pictures("tubingen", ["starry_night", "the_scream"], s, 64)
    joint = Objective(photo, [starry, scream], s)
    apart = [Objective(photo, p, s) for p in (starry, scream)]
    noise = np.random.default_rng(0).uniform(0, 255, photo.shape).astype(np.float32)
    gaps = []
    for x in (photo, noise):
        L, g = _value_and_grad(joint, x)
        parts = [_value_and_grad(o, x) for o in apart]
        g_sum = 0.3 * parts[0][1] + 0.7 * parts[1][1]
        np.testing.assert_allclose(g, g_sum, atol=1e-4 * np.abs(g_sum).max())
        gaps.append(0.3 * parts[0][0] + 0.7 * parts[1][0] - L)
    assert gaps[0] > 0 and gaps[0] == pytest.approx(gaps[1], rel=1e-3)   # the same constant


@pytest.mark.parametrize("precision", ["float32", "auto"])
def test_an_all_ones_mask_is_todays_loss_and_gradient_exactly(precision):
    s = train.make_settings("ci", precision=precision)
    photo, painting = pictures("tubingen", "starry_night", s, 64)
    x = np.random.default_rng(0).uniform(0, 255, photo.shape).astype(np.float32)
    plain = Objective(photo, painting, s)
    guided = Objective(photo, [painting], s, masks=[np.ones(photo.shape[:2], np.float32)])
    (L0, g0), (L1, g1) = _value_and_grad(plain, x), _value_and_grad(guided, x)
    assert L0 == L1
    np.testing.assert_array_equal(g0, g1)


def _gram_per_position(image, layers):
    F = vgg.features(image, layers)
    return {l: losses.gram_matrix(F[l]).numpy() / (F[l].shape[1] * F[l].shape[2]) for l in layers}


def test_each_half_takes_the_style_of_its_own_mask():
    size = 96
    photo = images.load_image("tubingen", size)
    left = np.zeros(photo.shape[:2], np.float32)
    left[:, : photo.shape[1] // 2] = 1
    styles = ["starry_night", "the_scream"]
    r = train.stylize("tubingen", styles, masks=[left, 1 - left], **{**TINY, "size": size, "steps": 30})
    half = photo.shape[1] // 2
    halves = [r.best_image[:, :half], r.best_image[:, half:]]
    targets = [_gram_per_position(images.load_image(s, size), LOW) for s in styles]
    for k, picture in enumerate(halves):
        G = _gram_per_position(picture, LOW)
        for layer in LOW:
            own, other = (np.sum((G[layer] - t[layer]) ** 2) for t in (targets[k], targets[1 - k]))
            assert own < other, (k, layer)


def test_masks_follow_the_poolings_and_the_sky_helper_splits_the_photo():
    photo = images.load_image("tubingen", 128)
    sky, town = masks.sky(photo)
    np.testing.assert_allclose(sky + town, 1)
    assert sky[:10].mean() > 0.9 and sky[-10:].mean() < 0.05          # sky above, river below
    at = masks.at_layers(sky, ("conv1_1", "conv3_1", "conv5_1"))
    F = vgg.features(photo, ("conv1_1", "conv3_1", "conv5_1"))
    for layer, m in at.items():
        assert m.shape == F[layer].shape[1:3]
    np.testing.assert_allclose(float(tf.reduce_mean(at["conv3_1"])), sky.mean(), rtol=0.05)


def test_double_style_scale_is_closer_to_the_painting_at_twice_the_size(plain):
    small, large = plain, train.stylize("tubingen", "starry_night", style_scale=2.0, **TINY)
    E = [train.measure(r.best_image, "tubingen", "starry_night", style_scale=2.0)["style_layers"]
         for r in (small, large)]
    assert sum(E[1].values()) < sum(E[0].values())
    assert sum(E[1][l] < E[0][l] for l in E[0]) >= 3          # and at most layers, not one


def test_a_staged_run_beats_the_photo_and_a_direct_run_of_the_same_cost():
    """Cost is counted as VGG evaluations x pixels — what the seconds are proportional to —
    so that the comparison does not depend on how busy the machine is."""
    final, kw = 128, dict(TINY, size=128, init="noise", steps=20)
    staged = train.stylize("tubingen", "starry_night", stages=(64,), **kw)
    runs = staged.stages + [staged]
    budget = sum(r.history[-1]["evaluations"] * r.image.shape[0] * r.image.shape[1] for r in runs)
    pixels = staged.image.shape[0] * staged.image.shape[1]
    stop = lambda step, image, history: history[-1]["evaluations"] * pixels >= budget
    direct = train.stylize("tubingen", "starry_night", callback=stop, every=1, **{**kw, "steps": 200})
    used = direct.history[-1]["evaluations"] * pixels
    assert budget <= used <= budget + 3 * pixels                        # the same cost, to a step
    score = lambda image: train.measure(image, "tubingen", "starry_night")["total"]
    photo = images.load_image("tubingen", final)
    assert score(staged.best_image) < score(photo)
    assert score(staged.best_image) < score(direct.best_image)


def test_the_panel_and_the_command_line_offer_the_controls(tmp_path):
    from course_utils import cli
    from course_utils.widgets import StylePanel
    panel = StylePanel()
    assert (panel.settings()["colour"], panel.settings()["style_scale"]) == ("style", 1.0)
    panel.colour.value, panel.style_scale.value = "luminance", 2.0
    s = train.make_settings("ci", **panel.settings())
    assert (s.colour, s.style_scale) == ("luminance", 2.0)
    args = cli.build_parser().parse_args(
        ["stylize", "tubingen", "starry_night,the_scream", "--blend", "0.7,0.3", "--colour", "match",
         "--colour-transfer", "sym", "--style-scale", "0.5", "--stages", "32,48", "--masks", "a.png,b.png"])
    assert cli.styles(args.style) == ["starry_night", "the_scream"]
    assert (args.blend, args.colour, args.colour_transfer, args.style_scale, args.stages, args.masks) == \
        ((0.7, 0.3), "match", "sym", 0.5, (32, 48), ("a.png", "b.png"))
    sky = tmp_path / "sky.png"
    photo = images.load_image("tubingen", 64)
    images.save_png(np.repeat(255 * masks.sky(photo)[0][..., None], 3, -1), sky)
    town = tmp_path / "town.png"
    images.save_png(np.repeat(255 * masks.sky(photo)[1][..., None], 3, -1), town)
    out = tmp_path / "out.png"
    code = cli.main(["stylize", "tubingen", "starry_night,the_scream", "--preset", "ci", "--quiet",
                     "--masks", f"{sky},{town}", "--colour", "luminance", "-o", str(out)])
    assert code == 0 and out.exists()


@pytest.mark.parametrize("settings, words", [
    (dict(colour="grey"), "colour must be"), (dict(style_scale=0), "style_scale"),
    (dict(blend=(0.5, 0.6)), "sum to 1"), (dict(stages=(64,)), "stages"), (dict(stages=(48, 32)), "grow"),
    (dict(colour_transfer="lab"), "colour_transfer")])
def test_bad_controls_are_one_clear_line(settings, words):
    with pytest.raises(ValueError, match=words) as err:
        train.stylize("tubingen", "starry_night", **TINY, **settings)
    assert "\n" not in str(err.value)


def test_styles_that_do_not_fit_blend_or_masks_are_one_clear_line():
    with pytest.raises(ValueError, match="one per style"):
        train.stylize("tubingen", ["starry_night", "the_scream"], blend=(1.0,), **TINY)
    with pytest.raises(ValueError, match="one mask per style"):
        train.stylize("tubingen", ["starry_night", "the_scream"], masks=[np.ones((48, 64))], **TINY)
    with pytest.raises(ValueError, match="content picture is 64x48"):
        train.stylize("tubingen", ["starry_night"], masks=[np.ones((10, 10))], **TINY)


def test_masks_at_the_final_size_serve_every_stage():
    sky, town = masks.sky(images.load_image("tubingen", 64))
    r = train.stylize("tubingen", ["starry_night", "the_scream"], masks=[sky, town], stages=(32,),
                      colour="luminance", **TINY)
    assert [x.image.shape for x in r.stages + [r]] == [(24, 32, 3), (48, 64, 3)]
