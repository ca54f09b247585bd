"""Precision (issue 12): the decision, float32 unchanged bit for bit, 16-bit runs that still
descend in float32 numbers, and one trace for repeated runs."""
import numpy as np
import pytest
import tensorflow as tf

from course_utils import losses, objective, precision, train, vgg

TINY = dict(size=64, steps=6, every=3, progress=False)


# --- The decision, on simulated machines --------------------------------------------

def test_auto_is_float32_on_a_cpu_without_native_bfloat16():
    flags = {"fpu", "sse2", "avx2", "fma", "avx512f", "avx512_vnni"}
    assert precision.choose("auto", flags, None) == ("float32", "float32",
                                                     "CPU without native bfloat16")
    assert precision.choose("auto", (), None).precision == "float32"     # e.g. macOS: no flags read


@pytest.mark.parametrize("flag", ["avx512_bf16", "amx_bf16"])
def test_auto_is_bfloat16_on_a_cpu_that_computes_it(flag):
    choice = precision.choose("auto", {"avx512f", flag}, None)
    assert choice.precision == "bfloat16" and choice.policy == "mixed_bfloat16" and flag in choice.why


@pytest.mark.parametrize("capability, expected", [((6, 1), "float32"), ((7, 0), "mixed_float16"),
                                                  ((7, 5), "mixed_float16"), ((8, 0), "mixed_bfloat16"),
                                                  ((9, 0), "mixed_bfloat16")])
def test_auto_on_a_gpu_is_kerass_mixed_precision_policy(capability, expected):
    choice = precision.choose("auto", {"avx512_bf16"}, capability)     # the GPU decides, not the CPU
    assert choice.policy == expected


def test_an_explicit_precision_is_kept_whatever_the_hardware():
    assert precision.choose("float32", {"avx512_bf16"}, (8, 0)).precision == "float32"
    assert precision.choose("bfloat16", (), None).precision == "bfloat16"


def test_a_bad_precision_is_one_clear_error():
    with pytest.raises(ValueError, match="precision must be 'auto', 'float32', 'bfloat16' or 'float16'"):
        train.make_settings("ci", precision="half")


def test_a_run_reports_the_precision_auto_chose(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    monkeypatch.setattr(precision, "gpu_capability", lambda: None)
    assert train.stylize("tubingen", "starry_night", precision="auto", **TINY).precision == "float32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert train.stylize("tubingen", "starry_night", precision="auto", **TINY).precision == "bfloat16"


# --- float32: today's results, bit for bit -------------------------------------------

class ClosureObjective:
    """The objective as it was before precision: targets held as constants of one trace
    per instance (objective.py before issue 12), for comparison."""

    def __init__(self, content, style, s):
        self.s = s
        self.choice = precision.choose("float32")
        self.extract = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
        self.content = np.asarray(content, np.float32)
        P = self.extract(vgg.preprocess(self.content[None]))
        F_style = self.extract(vgg.preprocess(np.asarray(style, np.float32)[None]))
        self.P = [P[l] for l in s.content_layers]
        self.A = [losses.gram_matrix(F_style[l]) * objective._positions(P[l])
                  / objective._positions(F_style[l]) for l in s.style_layers]
        self.w = tf.constant(s.style_weights, tf.float32)

    @tf.function(reduce_retracing=True)
    def terms(self, x):
        F = self.extract(vgg.preprocess(x))
        content = tf.add_n([tf.constant(0.0)] + [losses.content_loss(F[l], P)
                                                 for l, P in zip(self.s.content_layers, self.P)])
        E = tf.stack([tf.constant(0.0)] + [losses.style_layer_loss(F[l], A)
                                           for l, A in zip(self.s.style_layers, self.A)])[1:]
        style = tf.reduce_sum(self.w * E)
        tv = losses.total_variation_loss(x)
        total = losses.total_loss(content, style, self.s.alpha, self.s.beta, tv, self.s.tv_weight)
        return dict(total=total, content=content, style=style, style_layers=E, tv=tv)

    @tf.function(reduce_retracing=True)
    def value_and_grad(self, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            t = self.terms(x)
        return t, tape.gradient(t["total"], x)


@pytest.mark.parametrize("settings", [dict(), dict(tv_weight=1e-3, init="colour"),
                                      dict(optimizer="adam", learning_rate=5.0)])
def test_float32_gives_the_results_of_before_bit_for_bit(monkeypatch, settings):
    now = train.stylize("tubingen", "starry_night", precision="float32", **TINY, **settings)
    monkeypatch.setattr(train, "Objective", ClosureObjective)
    before = train.stylize("tubingen", "starry_night", precision="float32", **TINY, **settings)
    assert now.precision == before.precision == "float32"
    np.testing.assert_array_equal(now.best_image, before.best_image)
    assert [h["total"] for h in now.history] == [h["total"] for h in before.history]
    assert now.best_loss == before.best_loss


# --- 16 bits inside, float32 outside ------------------------------------------------

def test_a_bfloat16_run_descends_in_float32_numbers():
    r = train.stylize("tubingen", "starry_night", precision="bfloat16", **{**TINY, "steps": 10})
    totals = [h["total"] for h in r.history]
    assert r.precision == "bfloat16"
    assert all(type(t) is float for t in totals)
    assert all(b <= a for a, b in zip(totals, totals[1:])), totals      # L-BFGS-B: no rising loss
    assert totals[-1] < 0.8 * totals[0]
    assert len(r.history) == 10                                         # no early stop


def test_16_bit_features_and_gradients_reach_the_optimiser_as_float32():
    from course_utils import images
    s = train.make_settings("ci", precision="bfloat16")
    o = train.Objective(images.load_image("tubingen", 64), images.load_image("starry_night", 64), s)
    x = tf.constant(o.content[None])
    t, g = o.value_and_grad(x)
    assert g.dtype == tf.float32 and all(v.dtype == tf.float32 for v in t.values())
    t32 = o.terms(x)                                   # the float32 score of the same image
    assert float(t["total"]) != float(t32["total"])    # ...is another computation
    assert float(t["total"]) == pytest.approx(float(t32["total"]), rel=0.02)


def test_a_bfloat16_runs_losses_agree_with_float32_scores_of_its_images():
    seen = []
    r = train.stylize("tubingen", "starry_night", precision="bfloat16",
                      callback=lambda step, image, history: seen.append(image), **TINY)
    for image, h in zip(seen, r.history[TINY["every"] - 1::TINY["every"]]):
        scored = train.measure(image, "tubingen", "starry_night", precision="float32")["total"]
        assert h["total"] == pytest.approx(scored, rel=0.01)    # 16-bit features, uint8 rounding


def test_extractor_in_bfloat16_has_float32_features_close_to_float32s():
    from course_utils import images
    x = vgg.preprocess(images.load_image("tubingen", 64)[None])
    layers = ("conv1_1", "conv4_2")
    F32 = vgg.feature_extractor(layers)(x)
    F16 = vgg.feature_extractor(layers, precision="bfloat16")(x)
    for layer in layers:
        assert F16[layer].dtype == tf.float32
        error = float(tf.norm(F16[layer] - F32[layer]) / tf.norm(F32[layer]))
        assert 0 < error < 0.02, (layer, error)      # rounded to 8 bits of mantissa, not more


# --- Fixed costs: a second run of the same size does not trace again -------------------

def traces():
    """Traces so far of the objective's value and gradient, and of its terms."""
    return (objective._value_and_grad.experimental_get_tracing_count(),
            objective._terms.experimental_get_tracing_count())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_second_run_of_the_same_size_does_not_trace_again(dtype):
    TINY = dict(size=64, steps=6, every=3, progress=False, precision=dtype)
    train.stylize("tubingen", "starry_night", **TINY)
    before = traces()
    train.stylize("tubingen", "starry_night", alpha=1e-2, tv_weight=1e-4, **TINY)
    train.stylize("tubingen", "composition_vii", seed=3, init="colour", **TINY)
    assert traces() == before
    # the counter does count: another network is another trace
    train.stylize("tubingen", "starry_night", content_layers="conv2_2",
                  style_layers="conv1_1,conv3_3", **TINY)
    assert traces()[0] == before[0] + 1


# --- Where the choice is made and reported: the command line and the panel -------------

def test_the_command_line_takes_and_reports_the_precision(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    env = dict(os.environ, COURSE_PRESET="ci", TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "course_utils", "stylize", "-o", str(tmp_path / "out.png"),
               "--size", "48", "--steps", "2", "--quiet", "--precision"]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(command + ["bfloat16"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr      # a good run: nothing on stderr
    assert "(bfloat16)" in proc.stdout.splitlines()[0]
    bad = subprocess.run(command + ["half"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "half" in bad.stderr


def test_the_panel_offers_the_precision_and_reports_the_one_used():
    from course_utils.widgets import StylePanel
    panel = StylePanel("tubingen", "starry_night", preset="ci")
    assert panel.settings()["precision"] == "auto"
    assert precision.resolve("auto").precision in panel.precision.options[0][0]   # auto says what it picks
    panel.precision.value = "bfloat16"
    panel.size.value, panel.steps.value = 32, 2
    result = panel.run(wait=True)
    assert result.precision == "bfloat16" and "(bfloat16)" in panel.message
