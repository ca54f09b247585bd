"""The training loop at 64 px: the loss falls, the box holds, Ctrl-C keeps the best image."""
import numpy as np
import pytest

from course_utils import train

TINY = dict(size=48, steps=8, every=4, progress=False)


@pytest.mark.parametrize("optimizer", train.OPTIMIZERS)
def test_loss_falls_with_each_optimiser(optimizer):
    r = train.stylize("tubingen", "starry_night", optimizer=optimizer, **TINY)
    totals = [h["total"] for h in r.history]
    assert len(totals) == 8
    assert totals[-1] < 0.7 * totals[0]
    assert r.best_loss <= min(totals) + 1e-6 * abs(min(totals))
    assert r.image.dtype == np.uint8 and r.image.shape == (36, 48, 3)
    assert r.device in ("CPU:0", "GPU:0")


def test_history_terms_add_up_to_the_total():
    r = train.stylize("tubingen", "starry_night", tv_weight=1e-3, **TINY)
    s = r.settings
    for h in r.history:
        assert h["total"] == pytest.approx(s.alpha * h["content"] + s.beta * h["style"]
                                           + s.tv_weight * h["tv"], rel=1e-4)
        assert h["style"] == pytest.approx(sum(w * h["style_layers"][l]
                                               for l, w in zip(s.style_layers, s.style_weights)), rel=1e-4)


def test_lbfgs_keeps_pixels_inside_the_box(monkeypatch):
    seen = []
    original = train.Tracker.evaluated

    def spy(self, x, t):
        seen.append((float(np.min(x)), float(np.max(x))))
        return original(self, x, t)

    monkeypatch.setattr(train.Tracker, "evaluated", spy)
    train.stylize("tubingen", "the_scream", init="noise", beta=1e3, **TINY)
    assert seen and min(lo for lo, _ in seen) >= 0.0 and max(hi for _, hi in seen) <= 255.0


def test_interrupt_returns_the_best_image_so_far():
    calls = []

    def interrupt(step, image, history):
        calls.append(step)
        if step == 4:
            raise KeyboardInterrupt

    r = train.stylize("tubingen", "starry_night", callback=interrupt, **TINY)
    assert r.interrupted and calls == [4]
    assert len(r.history) == 4
    assert r.best_loss == pytest.approx(min(h["total"] for h in r.history))
    assert r.best_image.shape == (36, 48, 3)


def test_callback_can_stop_and_receives_images():
    got = []
    r = train.stylize("tubingen", "starry_night",
                      callback=lambda step, image, history: got.append((step, image.shape)) or True,
                      **TINY)
    assert got == [(4, (36, 48, 3))] and not r.interrupted and "stopped" in r.stopped_reason


def test_same_seed_same_picture():
    a = train.stylize("tubingen", "starry_night", init="noise", seed=3, **TINY)
    b = train.stylize("tubingen", "starry_night", init="noise", seed=3, **TINY)
    np.testing.assert_array_equal(a.image, b.image)


def test_presets():
    assert set(train.PRESETS) >= {"ci", "demo", "quality", "seed"}
    seed = train.make_settings("seed")
    assert seed.style_weights == (0.5, 1.0, 1.5, 3.0, 4.0) and seed.optimizer == "adam"
    assert seed.alpha == 0.01 and seed.learning_rate == 2.0 and seed.content_layers == ("conv4_2",)
    paper = train.make_settings("ci")
    assert paper.style_weights == pytest.approx((0.2,) * 5) and paper.pooling == "avg"
    assert paper.alpha / paper.beta == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="unknown preset"):
        train.preset("fast")


def test_measure_is_the_paper_objective_of_a_finished_image():
    from course_utils import images, losses, vgg
    photo = images.load_image("tubingen", 48)
    painting = images.load_image("starry_night", 48)
    t = train.measure(photo, "tubingen", "starry_night")
    assert t["content"] == 0.0
    F = vgg.features(photo, train.PAPER_STYLE_LAYERS)
    A = vgg.features(painting, train.PAPER_STYLE_LAYERS)
    scale = {l: F[l].shape[1] * F[l].shape[2] / (A[l].shape[1] * A[l].shape[2]) for l in A}
    E = {l: float(losses.style_layer_loss(F[l], losses.gram_matrix(A[l]) * scale[l])) for l in A}
    assert t["style_layers"] == pytest.approx(E, rel=1e-4)
    assert t["style"] == pytest.approx(sum(E.values()) / 5, rel=1e-4)
    assert t["total"] == pytest.approx(1e-3 * 0.0 + t["style"], rel=1e-6)

    r = train.stylize("tubingen", "starry_night", alpha=1e-2, **TINY)
    again = train.measure(r.best_image, "tubingen", "starry_night", alpha=1e-2)
    assert again["total"] == pytest.approx(r.best_loss, rel=0.05)    # uint8 rounding only
    assert again["content"] > 0


def test_measure_refuses_an_image_of_another_shape():
    with pytest.raises(ValueError, match="measure images stylize made"):
        train.measure(np.zeros((40, 40, 3), np.uint8), "tubingen", "starry_night")
