"""``python -m course_utils.bench [--quick] [--json]``: how fast the course paints here.

Tübingen in the style of The Starry Night, with the course's default objective
(the paper's layers and weights, α/β = 10⁻³: `train.Settings()`), all in one run:

1. Roofline: seconds per loss-and-gradient evaluation at 256 and 512 px, and the
   effective GFLOP/s this gives (`step_flops`) over the matmul GFLOP/s measured in the
   precision the runs use ("auto": bfloat16 on a CPU with AVX512_BF16 or AMX).
2. Time to quality at 256 px against the optimisers of well-known implementations,
   applied to the same objective: (a) the TensorFlow tutorial's Adam, (b) the
   original blog post's Adam, (c) plain L-BFGS; and the wall time the `quality`
   settings need to reach recipe (a)'s final loss.
3. The `demo` preset at 256 px: seconds from call to image in a fresh process
   (model build included), also at a matmul rate of 500 GFLOP/s (`demo_seconds_at_500`),
   and the float32 score (`train.measure`) of its image over recipe (c)'s loss; then a
   second run in the same process, which pays no load and no trace; then the app's Run
   twice (its 128 px quick look, then the full-size run, here started from the quick
   look's picture): seconds to 1.10 × recipe (c)'s loss with and without that warm start,
   and the second Run's first preview.
4. Peak resident memory of a 512 px run (`quality`, in a fresh process).

`--quick` runs a small version (a minute or two; parts 2 and 3 at 128 px) to check
that it works; its figures are not the benchmark's.  Progress goes to stderr,
results to stdout.  Timings are only as good as the machine is quiet: the output
records the load average before and after.
"""
import argparse
import concurrent.futures
import contextlib
import dataclasses
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time

from .. import precision

CONTENT, STYLE = "tubingen", "starry_night"
# memory_steps > quality's lbfgs_memory (30): all of L-BFGS-B's curvature pairs are held.
FULL = dict(size=256, roofline_steps=20, recipe_tf_steps=1000, recipe_post_steps=300,
            lbfgs_steps=300, demo_steps=None, memory_steps=60)
QUICK = dict(size=128, roofline_steps=4, recipe_tf_steps=60, recipe_post_steps=20,
             lbfgs_steps=20, demo_steps=5, memory_steps=3)
TARGETS = dict(roofline_256=0.90, roofline_512=0.90, roofline_tf_256=0.90, roofline_tf_512=0.90,
               speedup_vs_recipe_tf=12.0, demo_seconds_at_500=5.0, demo_loss_ratio=1.10,
               demo_second_run_first_preview_at_500=0.5, peak_rss_mb_512=1536)
DEMO_RATIO = 1.10              # the demo's loss target, × recipe (c)'s
APP_QUICK = dict(size=128, steps=20, every=1)      # the app's quick look (present.QUICK)
REFERENCE_GFLOPS = 500         # seconds are also given as if float32 matmul ran at this rate


def say(message):
    print(message, file=sys.stderr, flush=True)


# --- The settings every measurement uses ---------------------------------------

def settings(preset=None, **changes):
    """All of `Settings`: the course's defaults, then a preset's values, then `changes`."""
    from .. import train
    values = dataclasses.asdict(train.Settings())
    values.update(train.preset(preset) if preset else {})
    values.update(changes)
    return values


def run(values, callback=None, start=None):
    """`train.stylize` on the benchmark's pair, every setting given explicitly (so the
    preset named below, which stylize requires, changes nothing); `start`: a warm start."""
    from .. import train
    return train.stylize(CONTENT, STYLE, preset="ci", callback=callback, progress=False,
                         start=start, **values)


# --- 1. Roofline -----------------------------------------------------------------

def matmul_gflops(sizes=(1024, 2048, 4096), repeats=5, dtype="float32"):
    """The best GFLOP/s of TensorFlow's n×n matrix product (2n³ FLOPs) in `dtype`."""
    import tensorflow as tf
    best = 0.0
    for n in sizes:
        a, b = (tf.cast(tf.random.normal((n, n)), dtype) for _ in range(2))
        product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
        product().numpy()
        for _ in range(repeats):
            start = time.perf_counter()
            product().numpy()
            best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def layer_shapes(height, width, s):
    """(Keras layer, output shape) along the network, cut after the deepest layer used."""
    from .. import vgg
    model = vgg.feature_extractor(s.content_layers + s.style_layers, s.pooling)
    shape, out = (1, height, width, 3), []
    for layer in model.layers[1:]:
        shape = tuple(layer.compute_output_shape(shape))
        out.append((layer, shape))
    return out


def step_flops(height, width, s):
    """FLOPs of one evaluation of L_total and ∂L_total/∂x on an image of height × width.

    Forward: 2·H·W·C_in·C_out·9 per 3×3 convolution ('same' padding), up to the deepest
    layer used (conv5_1 by default).  Gradient with respect to the input: each
    convolution's data gradient is a transposed convolution with the same multiply-adds,
    conv1_1's included (its result is ∂L/∂x); no weight gradients, the network is frozen.
    So the network costs 2× its forward pass.  Each style layer adds its Gram matrix
    G = F Fᵀ and G's gradient, 2·M_l·N_l² each.  Pooling, ReLU and the loss sums are
    elementwise and not counted.
    """
    from .. import vgg
    style = {vgg.keras_name(layer) for layer in s.style_layers}
    forward = grams = 0
    for layer, (_, h, w, n) in layer_shapes(height, width, s):
        if hasattr(layer, "kernel"):
            kh, kw, c_in, c_out = layer.kernel.shape
            forward += 2 * h * w * kh * kw * c_in * c_out
        if layer.name in style:
            grams += 2 * (2 * h * w * n * n)
    return 2 * forward + grams


def seconds_per_evaluation(history):
    """Median seconds per loss-and-gradient evaluation between consecutive steps.

    The first step's own time, which includes building the objective and tracing it,
    falls before the first pair and so is left out.
    """
    pairs = zip(history, history[1:])
    return statistics.median((b["seconds"] - a["seconds"]) / (b["evaluations"] - a["evaluations"])
                             for a, b in pairs)


def optimizer_seconds_per_evaluation(history, clock):
    """Median seconds per evaluation spent outside `Objective.value_and_grad` between
    consecutive steps of the same run: the optimiser's own share, timed beside TensorFlow's
    (`clock`: the running total of evaluation seconds after each evaluation)."""
    def outside(a, b):
        inside = clock[b["evaluations"] - 1] - clock[a["evaluations"] - 1]
        return (b["seconds"] - a["seconds"] - inside) / (b["evaluations"] - a["evaluations"])
    return statistics.median(outside(a, b) for a, b in zip(history, history[1:]))


@contextlib.contextmanager
def evaluation_clock():
    """Times every `Objective.value_and_grad` while it is open: yields the list of running
    totals (seconds) after each evaluation, so a run's optimiser time is measured in that run."""
    import numpy as np
    from .. import train
    original, totals = train.Objective.value_and_grad, []

    def timed(self, x):
        start = time.perf_counter()
        out = original(self, x)
        np.asarray(out[1])                       # the gradient computed, not just queued
        totals.append((totals[-1] if totals else 0.0) + time.perf_counter() - start)
        return out

    train.Objective.value_and_grad = timed
    try:
        yield totals
    finally:
        train.Objective.value_and_grad = original


def timed_run(values):
    """`run(values)` with its evaluations timed: (result, the optimiser's seconds per evaluation)."""
    with evaluation_clock() as clock:
        result = run(values)
    return result, optimizer_seconds_per_evaluation(result.history, clock)


def tf_seconds(size, repeats=5):
    """Median seconds of `Objective.value_and_grad` alone (no SciPy) at `size`."""
    import numpy as np
    import tensorflow as tf
    from .. import images, train
    s = train.Settings(**settings(size=size))
    objective = train.Objective(images.load_image(CONTENT, size), images.load_image(STYLE, size), s)
    x = tf.constant(objective.content[None])
    objective.value_and_grad(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(objective.value_and_grad(x)[1])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def roofline(size, steps, matmul):
    """Seconds per evaluation of a `quality` run at `size`, and GFLOP/s over `matmul`
    (the matrix-multiply rate in the run's precision).  The optimiser's own seconds per
    evaluation are the run's less TensorFlow's alone; at 256 px also SciPy's L-BFGS-B's."""
    from .. import train
    values = settings("quality", size=size, steps=steps)
    result, optimizer = timed_run(values)
    h, w = result.image.shape[:2]
    flops = step_flops(h, w, train.Settings(**values))
    step, tf_step = seconds_per_evaluation(result.history), tf_seconds(size)
    out = {f"step_seconds_{size}": step, f"tf_step_seconds_{size}": tf_step,
           f"optimizer_seconds_{size}": optimizer,
           f"step_gflop_{size}": flops / 1e9,
           f"roofline_{size}": flops / step / 1e9 / matmul,
           f"roofline_tf_{size}": flops / tf_step / 1e9 / matmul}
    if size == 256:
        scipy, optimizer = timed_run(dict(values, optimizer="lbfgs-scipy"))
        out.update({"scipy_step_seconds_256": seconds_per_evaluation(scipy.history),
                    "scipy_optimizer_seconds_256": optimizer})
    return out


# --- 2. Time to quality ------------------------------------------------------------

def recipes(size, c):
    """The peer recipes' optimiser settings, on the course's objective at `size`.

    (a) TensorFlow tutorial: Adam, lr 0.02 on [0, 1], β1 0.99, ε 0.1.  On 0..255 the
        gradient is 255× smaller, so the same steps are lr 0.02·255 and ε 0.1/255.
    (b) Original blog post: Adam, lr 2.0 on 0..255, TF1's defaults β1 0.9, ε 10⁻⁸,
        init 0.6·noise + 0.4·content.
    (c) Plain L-BFGS: SciPy's L-BFGS-B (`lbfgs-scipy`) with its default memory (10) in the
        box [0, 255].
    All three in float32, as their authors ran them.
    """
    return {
        "tf": settings(size=size, steps=c["recipe_tf_steps"], optimizer="adam", init="content",
                       learning_rate=0.02 * 255, adam_beta_1=0.99, adam_epsilon=0.1 / 255,
                       precision="float32"),
        "post": settings(size=size, steps=c["recipe_post_steps"], optimizer="adam", init="mix",
                         learning_rate=2.0, adam_beta_1=0.9, adam_epsilon=1e-8, precision="float32"),
        "lbfgs": settings(size=size, steps=c["lbfgs_steps"], optimizer="lbfgs-scipy", init="content",
                          lbfgs_memory=10, precision="float32"),
    }


def run_recipe(name, values):
    say(f"recipe ({name}): {values['steps']} {values['optimizer']} steps at {values['size']} px")
    result = run(values)
    return {f"recipe_{name}_seconds": result.seconds, f"recipe_{name}_loss": result.best_loss,
            f"recipe_{name}_steps": len(result.history),
            f"recipe_{name}_evaluations": result.history[-1]["evaluations"]}


def time_to_loss(target, size, max_steps):
    """Seconds (steps, evaluations) the `quality` settings at `size` need to reach L_total ≤ target."""
    values = settings("quality", size=size, steps=max_steps, every=1)
    say(f"quality settings at {size} px until the loss reaches {target:.6g}")
    result = run(values, callback=lambda step, image, history: history[-1]["total"] <= target)
    hit = next((h for h in result.history if h["total"] <= target), None)
    return {"seconds_to_recipe_tf_loss": hit and hit["seconds"],
            "quality_steps_to_recipe_tf_loss": hit and hit["step"],
            "quality_evaluations_to_recipe_tf_loss": hit and hit["evaluations"]}


def time_to_quality(c):
    """Part 2: the three recipes, then `quality` until it reaches recipe (a)'s loss."""
    out = {"recipe_size": c["size"]}
    for name, values in recipes(c["size"], c).items():
        out.update(run_recipe(name, values))
    out.update(time_to_loss(out["recipe_tf_loss"], c["size"], c["recipe_tf_steps"]))
    hit = out["seconds_to_recipe_tf_loss"]
    out["speedup_vs_recipe_tf"] = hit and out["recipe_tf_seconds"] / hit
    # The same ratio counted in loss-and-gradient evaluations: what the load cannot change.
    out["evaluation_ratio_vs_recipe_tf"] = hit and (
        out["recipe_tf_evaluations"] / out["quality_evaluations_to_recipe_tf_loss"])
    return out


# --- 3 and 4. In a fresh process: the demo, and a 512 px run's memory ---------------

def seconds_to(history, target, offset=0.0):
    """Seconds (from the run's start, plus `offset`) at which the loss first reached ≤ target."""
    hit = next((h for h in history if h["total"] <= target), None)
    return hit and hit["seconds"] + offset


def app_run(values, quick):
    """The app's Run, its quick look then the full-size run, the latter started from the quick
    look's picture (a warm start, which the app itself does not make: docs/performance.md).
    Returns (seconds from the click to the first preview, the quick look, the full run)."""
    clicked, previews = time.perf_counter(), []
    look = run(dict(values, **quick), callback=lambda *_: previews.append(time.perf_counter()))
    return previews[0] - clicked, look, run(values, start=look.best_image)


def child(kind, steps, size, target=None):
    """Run in a freshly spawned Python (`in_fresh_process`); returns a dict."""
    import resource
    from .. import train
    if kind == "demo":
        values = settings("demo", size=size, **({"steps": steps} if steps else {}))
        start = time.perf_counter()
        result = run(values)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        again = run(values)                  # a second Run in the same kernel
        second = time.perf_counter() - start
        scored = train.measure(result.best_image, CONTENT, STYLE, **{**values, "precision": "float32"})
        out = {"demo_seconds": seconds, "demo_loss": scored["total"],
               "demo_own_loss": result.best_loss, "demo_steps": len(result.history),
               "demo_precision": result.precision,
               "demo_first_step_seconds": result.history[0]["seconds"],
               "demo_second_run_seconds": second,
               "demo_second_run_first_step_seconds": again.history[0]["seconds"]}
        quick = dict(APP_QUICK, steps=min(APP_QUICK["steps"], values["steps"]),
                     size=min(APP_QUICK["size"], size // 2))
        app_run(values, quick)                                      # the app's first Run
        preview, look, warm = app_run(values, quick)                # and its second
        out.update({"demo_second_run_first_preview_seconds": preview,
                    "demo_warm_start_steps": len(warm.history),
                    "demo_warm_start_own_loss": warm.best_loss})
        if target:
            out.update({"demo_seconds_to_target_cold": seconds_to(again.history, target),
                        "demo_seconds_to_target_warm": seconds_to(warm.history, target, look.seconds),
                        "demo_steps_to_target_cold": next((h["step"] for h in again.history
                                                           if h["total"] <= target), None),
                        "demo_steps_to_target_warm": next((h["step"] for h in warm.history
                                                           if h["total"] <= target), None)})
        return out
    result = run(settings("quality", size=size, steps=steps))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss      # KiB on Linux, bytes on macOS
    return {f"peak_rss_mb_{size}": rss / (2**20 if sys.platform == "darwin" else 2**10),
            "memory_run_steps": len(result.history), "memory_run_seconds": result.seconds,
            "memory_run_device": train.device()}


def in_fresh_process(kind, steps, size, target=None):
    """`child` in a new interpreter (spawned, not forked), so that its model build and
    its peak memory are its own and not this process's."""
    say(f"{kind} run at {size} px in a fresh process")
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(child, kind, steps or 0, size, target).result()


# --- The whole benchmark -----------------------------------------------------------

def machine():
    import tensorflow as tf
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "tensorflow": tf.__version__,
            "python": platform.python_version()}


def load_average():
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def benchmark(quick=False):
    c = QUICK if quick else FULL
    start, out = time.perf_counter(), {"quick": quick, "loadavg_start": load_average()}
    out["machine"] = machine()
    say("matrix multiply")
    out["matmul_gflops"] = matmul_gflops()
    out["precision"] = precision.resolve("auto").precision
    out["matmul_gflops_at_precision"] = (out["matmul_gflops"] if out["precision"] == "float32"
                                         else matmul_gflops(dtype=out["precision"]))
    for size in (256, 512):
        say(f"roofline at {size} px ({out['precision']})")
        out.update(roofline(size, c["roofline_steps"], out["matmul_gflops_at_precision"]))
    out.update(time_to_quality(c))
    out.update(in_fresh_process("demo", c["demo_steps"], c["size"],
                                DEMO_RATIO * out["recipe_lbfgs_loss"]))
    at_500 = out["matmul_gflops"] / REFERENCE_GFLOPS
    out["demo_seconds_at_500"] = out["demo_seconds"] * at_500
    out["demo_second_run_first_preview_at_500"] = out["demo_second_run_first_preview_seconds"] * at_500
    out["demo_loss_ratio"] = out["demo_loss"] / out["recipe_lbfgs_loss"]
    out.update(in_fresh_process("memory", c["memory_steps"], 512))
    out["loadavg_end"], out["total_seconds"] = load_average(), time.perf_counter() - start
    return out


def table(out):
    """The results as aligned text lines, each with its target where the issue sets one."""
    rows = []
    for key, value in out.items():
        if isinstance(value, (dict, list, bool)) or value is None:
            value = json.dumps(value)
        elif isinstance(value, float):
            value = f"{value:.4g}"
        target = TARGETS.get(key)
        sign = "≥" if key.startswith(("roofline", "speedup")) else "≤"
        rows.append(f"{key:34} {value:>14}" + (f"   target {sign} {target}" if target else ""))
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_utils.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run that checks the benchmark works")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    out = benchmark(quick=args.quick)
    print(json.dumps(out, indent=1) if args.json else table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
