"""The speed levers docs/performance.md keeps: the colour start, L-BFGS memory, one BLAS
thread during L-BFGS-B, Adam's settings, evaluation counts, and the benchmark's FLOP count."""
import time

import numpy as np
import pytest

from course_utils import colour, train
from course_utils.devtools import bench

TINY = dict(size=64, steps=6, every=3, progress=False)


def test_colour_start_has_the_style_images_mean_and_covariance():
    rng = np.random.default_rng(0)
    content = rng.normal([120, 110, 100], [30, 20, 25], (40, 50, 3)).clip(0, 255)
    mix = np.array([[1.0, 0.4, 0.1], [0.0, 1.0, 0.5], [0.2, 0.0, 1.0]])
    style = (rng.normal(0, 18, (30, 30, 3)) @ mix + [90, 130, 150]).clip(0, 255)
    x = colour.colour_matched_start(content, style)
    assert x.shape == content.shape and x.dtype == np.float32
    flat, target = x.reshape(-1, 3), style.reshape(-1, 3)
    np.testing.assert_allclose(flat.mean(0), target.mean(0), atol=1.0)
    np.testing.assert_allclose(np.cov(flat.T), np.cov(target.T), atol=0.05 * np.cov(target.T).max())


def test_colour_start_survives_a_grey_photo():
    grey = np.repeat(np.linspace(0, 255, 64 * 64).reshape(64, 64, 1), 3, axis=2)
    x = colour.colour_matched_start(grey, np.random.default_rng(1).uniform(0, 255, (32, 32, 3)))
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 255


def test_colour_start_is_the_first_image_evaluated(monkeypatch):
    seen = []
    original = train.Tracker.evaluated
    monkeypatch.setattr(train.Tracker, "evaluated",
                        lambda self, x, t: (seen.append(np.array(x)), original(self, x, t)))
    r = train.stylize("tubingen", "starry_night", init="colour", **TINY)
    from course_utils import images
    content = images.load_image("tubingen", 64)
    expected = colour.colour_matched_start(content, images.load_image("starry_night", 64))
    np.testing.assert_allclose(seen[0][0], expected, atol=1e-3)
    assert r.image.shape == content.shape


def spy_on_minimize(monkeypatch, record):
    import scipy.optimize
    original = scipy.optimize.minimize

    def spy(*args, **kwargs):
        record(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)


def test_lbfgs_memory_reaches_scipy(monkeypatch):
    memories = []
    spy_on_minimize(monkeypatch, lambda kwargs: memories.append(kwargs["options"]["maxcor"]))
    train.stylize("tubingen", "starry_night", optimizer="lbfgs-scipy", lbfgs_memory=3, **TINY)
    assert memories == [3]


def test_lbfgs_memory_sizes_the_tensorflow_optimisers_pairs(monkeypatch):
    from course_utils import lbfgs
    held = []
    original = lbfgs.direction
    monkeypatch.setattr(lbfgs, "direction", lambda g, x, S, Y, *rest: (
        held.append((S.shape[0], Y.shape[0])), original(g, x, S, Y, *rest))[1])
    train.stylize("tubingen", "starry_night", lbfgs_memory=3, **TINY)
    assert held and set(held) == {(3, 3)}


def test_blas_runs_on_one_thread_during_lbfgs(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    threads = []
    spy_on_minimize(monkeypatch, lambda kwargs: threads.extend(
        i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"))
    train.stylize("tubingen", "starry_night", optimizer="lbfgs-scipy", **TINY)
    assert threads and set(threads) == {1}


def test_adam_settings_reach_keras(monkeypatch):
    import keras
    made = []
    original = keras.optimizers.Adam

    def spy(**kwargs):
        made.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(keras.optimizers, "Adam", spy)
    r = train.stylize("tubingen", "starry_night", optimizer="adam", learning_rate=5.1,
                      adam_beta_1=0.99, adam_epsilon=0.1 / 255, **TINY)
    assert made[0]["beta_1"] == 0.99 and made[0]["epsilon"] == pytest.approx(0.1 / 255)
    assert [h["evaluations"] for h in r.history] == [h["step"] for h in r.history]


def test_history_counts_lbfgs_evaluations():
    r = train.stylize("tubingen", "starry_night", **TINY)
    counts = [h["evaluations"] for h in r.history]
    assert counts == sorted(counts) and all(c >= h["step"] for c, h in zip(counts, r.history))


@pytest.mark.parametrize("bad", [dict(lbfgs_memory=0), dict(lbfgs_memory=2.5), dict(adam_beta_1=1.0),
                                 dict(adam_epsilon=0.0), dict(init="color"), dict(optimizer="lbfgsb")])
def test_bad_lever_settings_say_which(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        train.make_settings("ci", **bad)


@pytest.mark.parametrize("name", ["demo", "quality"])
def test_tuned_presets_are_valid_settings(name):
    assert train.make_settings(name).init in train.INITS


def test_step_flops_follow_the_convolution_and_gram_formulas():
    s = train.Settings(content_layers=("conv1_2",), style_layers=("conv1_1",))
    h, w = 32, 48
    forward = 2 * h * w * 9 * (3 * 64 + 64 * 64)
    gram = 2 * (2 * h * w * 64 * 64)
    assert bench.step_flops(h, w, s) == 2 * forward + gram


def test_step_flops_halve_the_image_at_each_pooling():
    s = train.Settings(content_layers=("conv2_1",), style_layers=("conv2_1",))
    h, w = 32, 48
    forward = 2 * 9 * (h * w * (3 * 64 + 64 * 64) + (h // 2) * (w // 2) * 64 * 128)
    assert bench.step_flops(h, w, s) == 2 * forward + 2 * (2 * (h // 2) * (w // 2) * 128 * 128)


def test_seconds_per_evaluation_leaves_out_the_first_step():
    history = [dict(seconds=10.0, evaluations=2), dict(seconds=11.0, evaluations=3),
               dict(seconds=13.0, evaluations=5), dict(seconds=17.0, evaluations=6)]
    assert bench.seconds_per_evaluation(history) == 1.0


def test_the_optimisers_share_is_what_the_evaluations_leave_of_each_step():
    """Steps of 1, 2 and 4 s; the evaluations inside them took 0.75, 1.5 and 3.5 s."""
    history = [dict(seconds=10.0, evaluations=2), dict(seconds=11.0, evaluations=3),
               dict(seconds=13.0, evaluations=5), dict(seconds=17.0, evaluations=6)]
    clock = [5.0, 6.0, 6.75, 7.5, 8.25, 11.75]       # running totals after evaluations 1…6
    # outside the evaluations: 0.25 s for 1, 0.5 s for 2, 0.5 s for 1 → 0.25, 0.25, 0.5 each
    assert bench.optimizer_seconds_per_evaluation(history, clock) == 0.25


def test_the_evaluation_clock_times_every_evaluation_of_a_run_and_lets_go():
    from course_utils import train
    original = train.Objective.value_and_grad
    start = time.perf_counter()
    with bench.evaluation_clock() as clock:
        r = train.stylize("tubingen", "starry_night", size=32, steps=3, every=3, progress=False)
    elapsed = time.perf_counter() - start
    assert train.Objective.value_and_grad is original
    assert len(clock) == r.history[-1]["evaluations"] and clock == sorted(clock)
    assert 0 < clock[0] and clock[-1] < elapsed              # running totals of seconds, in the run
