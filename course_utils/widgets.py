"""A control panel for live demos: sliders for α/β, w_l and the layers, Run and Stop.

    from course_utils.widgets import StylePanel
    panel = StylePanel()          # nothing runs until Run is clicked (or panel.run())
    panel.widget                  # display it

The run happens in a background thread, so the notebook stays responsive and
the preview updates from stylize's callback every `every` steps; Stop makes
the callback return True, and stylize keeps the best image so far.  Where widget
updates from a thread are not shown (Google Colab, colabtools issue 3373) the run
happens in the foreground instead, in the cell: the callback still updates the
preview, and Stop is the kernel's interrupt (stylize keeps the best image then too).
``StylePanel(run_in="thread" | "foreground")`` forces either; "auto" is the default.
Uploads work with ipywidgets 7.7 (Colab's) and 8.  Runs are
deterministic (the preset's seed): the same settings give the same picture.
Messages go into the panel's status line, never to stdout.
"""
import html
import io
import sys
import threading
import time

import ipywidgets as W
import numpy as np
from PIL import Image

from . import assets, images, precision, train, vgg

OPTIMIZER_LABELS = {"lbfgs": ("L-BFGS", "L-BFGS in TensorFlow (float32, the box by projection)"),
                    "lbfgs-scipy": ("L-BFGS-B", "SciPy's L-BFGS-B (float64, on the CPU)"),
                    "adam": ("Adam", "Keras's Adam, with the learning rate below")}
STYLE_LAYERS = train.PAPER_STYLE_LAYERS          # conv1_1 … conv5_1, one check box and w_l each
UPLOAD = "upload: "                              # prefix of uploaded pictures in the pickers
RUN_IN = ("auto", "thread", "foreground")


def png_bytes(image):
    """PNG-encoded bytes of an image array (H, W, 3), for an ipywidgets.Image."""
    buffer = io.BytesIO()
    Image.fromarray(images.to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def uploaded_files(value):
    """[(name, bytes)] of a FileUpload's value: ipywidgets 8 gives a tuple of dicts with
    "name" and "content" (a memoryview); ipywidgets 7 a dict {name: {"metadata", "content"}}."""
    if isinstance(value, dict):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item.get("name", "upload"), bytes(item["content"])) for item in value]


def run_in_foreground(run_in="auto"):
    """Whether a panel runs stylize in the calling thread: "auto" means on Colab only."""
    if run_in not in RUN_IN:
        raise ValueError(f"run_in must be one of {', '.join(RUN_IN)}, got {run_in!r}")
    return run_in == "foreground" or (run_in == "auto" and "google.colab" in sys.modules)


def placeholder(content, size=384):
    """The preview before a run: the content photo, or a neutral grey 4:3 picture if it
    cannot be had (never empty bytes, which a browser shows as a broken image)."""
    try:
        return png_bytes(images.load_image(content, size))
    except Exception:                            # no asset yet, a bad upload: grey, no traceback
        return png_bytes(np.full((3, 4, 3), 200, np.uint8))


def one_line(err):
    """'ErrorType: first line of the message' — what the status line shows for a failure."""
    text = (str(err).strip().splitlines() or [""])[0][:300]
    if isinstance(err, (ValueError, images.ImageError, assets.AssetError)) and text:
        return text                               # the course's own errors already say what to do
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class StylePanel:
    """Widgets for every setting of one `train.stylize` run, a Run and a Stop button and a preview.

    content, style: initial choices among `assets.IMAGES`; preset: where the
    starting values (size, steps, α, w_l, optimiser...) and the unlisted
    settings (init, pooling, seed...) come from.  Default: `demo` (results in
    seconds to a minute on a CPU), or `ci` when $COURSE_PRESET is ci.  run_in: "thread",
    "foreground" (in the cell; Stop = interrupt the kernel) or "auto" (foreground on Colab).
    """

    def __init__(self, content="tubingen", style="starry_night", preset=None, run_in="auto"):
        self.preset = preset or ("ci" if train.default_preset() == "ci" else "demo")
        self.foreground = run_in_foreground(run_in)
        s = train.make_settings(self.preset)
        self.result, self.message, self.step, self._steps = None, "", 0, 0
        self._thread, self._stop, self._active = None, threading.Event(), False
        self._uploads = {}                       # picker label -> PIL image
        self._build(s, content, style)

    # ------------------------------------------------------------------ widgets
    def _build(self, s, content, style):
        wide = dict(style={"description_width": "110px"}, layout=W.Layout(width="420px"))
        self.content = W.Dropdown(options=list(assets.IMAGES), value=content,
                                  description="content photo", **wide)
        self.style = W.Dropdown(options=list(assets.IMAGES), value=style,
                                description="style image", **wide)
        self.content_upload = W.FileUpload(accept="image/*", multiple=False, description="upload")
        self.style_upload = W.FileUpload(accept="image/*", multiple=False, description="upload")
        self.content_upload.observe(lambda c: self._uploaded(c, self.content), "value")
        self.style_upload.observe(lambda c: self._uploaded(c, self.style), "value")

        ratio = s.alpha / s.beta if s.beta else 1.0
        self.ratio = W.FloatLogSlider(value=min(max(ratio, 1e-6), 1.0), base=10, min=-6, max=0,
                                      step=0.25, readout_format=".0e", description="α/β", **wide)
        self.content_layer = W.Dropdown(
            options=list(vgg.CONV_LAYERS),
            value=(s.content_layers or ("conv4_2",))[0], description="content layer", **wide)

        weights = dict(zip(s.style_layers, s.style_weights))
        top = max([1.0] + [1.25 * w for w in s.style_weights])
        self.layer_boxes, self.weights = {}, {}
        rows = []
        for layer in STYLE_LAYERS:
            box = W.Checkbox(value=layer in weights, description=layer, indent=False,
                             layout=W.Layout(width="90px"))
            slider = W.FloatSlider(value=weights.get(layer, 1 / len(STYLE_LAYERS)), min=0.0,
                                   max=top, step=0.05, description="w_l",
                                   style={"description_width": "30px"},
                                   disabled=layer not in weights)
            box.observe(lambda c, w=slider: setattr(w, "disabled", not c["new"]), "value")
            self.layer_boxes[layer], self.weights[layer] = box, slider
            rows.append(W.HBox([box, slider]))

        labels = [OPTIMIZER_LABELS.get(o, (o, o)) for o in train.OPTIMIZERS]
        self.optimizer = W.ToggleButtons(options=[(label, o) for (label, _), o in zip(labels, train.OPTIMIZERS)],
                                         tooltips=[tip for _, tip in labels],
                                         value=s.optimizer, description="optimiser",
                                         style={"description_width": "110px",
                                                "button_width": "90px"})
        self.learning_rate = W.FloatLogSlider(value=s.learning_rate, base=10, min=-1, max=2,
                                              step=0.1, description="Adam lr",
                                              disabled=s.optimizer != "adam", **wide)
        self.optimizer.observe(lambda c: setattr(self.learning_rate, "disabled",
                                                 c["new"] != "adam"), "value")
        self.init = W.Dropdown(options=[("the photograph", "content"),
                                        ("the photograph, recoloured", "colour"),
                                        ("white noise", "noise"), ("the painting", "style"),
                                        ("60 % noise + 40 % photograph", "mix")],
                               value=s.init, description="start from", **wide)
        self.steps = W.IntSlider(value=s.steps, min=1, max=max(1000, s.steps),
                                 description="steps", **wide)
        self.size = W.IntSlider(value=s.size, min=16, max=max(1024, s.size), step=16,
                                description="size (px)", **wide)
        self.every = W.IntSlider(value=min(s.every, 5), min=1, max=50,
                                 description="preview every", **wide)
        auto = precision.resolve("auto")
        self.precision = W.Dropdown(options=[(f"auto: {auto.precision} ({auto.why})", "auto"),
                                             *((p, p) for p in precision.PRECISIONS[1:])],
                                    value=s.precision, description="precision", **wide)

        self.run_button = W.Button(description="Run", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop",
                                    disabled=True)
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.status = W.HTML(value="")
        # width set, height from the picture: the row must not stretch it (align_items below)
        self.preview = W.Image(value=placeholder(content), format="png",
                               layout=W.Layout(width="384px", height="auto", object_fit="contain"))
        self.content.observe(lambda c: self._show_content(), "value")
        for widget, name in [(self.run_button, "nst-run"), (self.stop_button, "nst-stop"),
                             (self.preview, "nst-preview"), (self.status, "nst-status")]:
            widget.add_class(name)                # handles for the app's style sheet and the tests

        controls = W.VBox([
            W.HBox([self.content, self.content_upload]), W.HBox([self.style, self.style_upload]),
            self.ratio, self.content_layer, W.HTML("<b>style layers and weights w_l</b>"),
            *rows, self.optimizer, self.learning_rate, self.init, self.steps, self.size, self.every,
            self.precision, *self._control_widgets(s, wide),
            W.HBox([self.run_button, self.stop_button])])
        self.widget = W.VBox([W.HBox([controls, self.preview],
                                     layout=W.Layout(align_items="flex-start")), self.status])
        self._say(f"ready (preset {self.preset}): choose, then click Run")

    def _control_widgets(self, s, wide):
        """Notebook 6's controls: the colours to keep, and the painting's scale."""
        self.colour = W.Dropdown(options=[("the painting's", "style"),
                                          ("the photo's: luminance only", "luminance"),
                                          ("the photo's: painting recoloured", "match")],
                                 value=s.colour, description="colours", **wide)
        self.style_scale = W.FloatLogSlider(value=s.style_scale, base=2, min=-2, max=2, step=0.25,
                                            description="style scale", **wide)
        return [self.colour, self.style_scale]

    def _say(self, message, error=False):
        """Show one line in the status bar (and keep it in `self.message`)."""
        self.message = " ".join(str(message).split())
        colour = "#b00020" if error else "#333"
        self.status.value = f'<span style="color:{colour}">{html.escape(self.message)}</span>'

    def _show_content(self):
        """Before the first run, the preview shows the chosen content photo."""
        if self.result is None and not self.running:
            self.preview.value = placeholder(self.sources()[0])

    def _uploaded(self, change, picker):
        """Decode an uploaded file into a picker entry; a bad file is one status line."""
        name = "upload"
        try:
            files = uploaded_files(change["new"])
            if not files:
                return
            name, data = files[0]
            picture = images.open_image(io.BytesIO(data))
        except Exception as err:               # never a traceback in the panel
            self._say(f"could not use the upload {name}: {one_line(err)}", error=True)
            return
        label = UPLOAD + name
        self._uploads[label] = picture
        for dropdown in (self.content, self.style):
            if label not in dropdown.options:
                kept = dropdown.value                 # new options reset the choice (ipywidgets 8)
                dropdown.options = list(dropdown.options) + [label]
                dropdown.value = kept
        picker.value = label
        self._say(f"uploaded {name} ({picture.width}x{picture.height})")

    # ------------------------------------------------------------------ running
    def settings(self):
        """The stylize keyword arguments the widgets describe (α = α/β, β = 1)."""
        layers = tuple(l for l in STYLE_LAYERS if self.layer_boxes[l].value)
        return dict(alpha=float(self.ratio.value), beta=1.0,
                    content_layers=(self.content_layer.value,), style_layers=layers,
                    style_weights=tuple(float(self.weights[l].value) for l in layers),
                    optimizer=self.optimizer.value, learning_rate=float(self.learning_rate.value),
                    init=self.init.value,
                    steps=int(self.steps.value), size=int(self.size.value),
                    every=int(self.every.value), precision=self.precision.value,
                    colour=self.colour.value, style_scale=float(self.style_scale.value))

    def sources(self):
        """(content, style) as stylize takes them: asset names or uploaded PIL images."""
        pick = lambda label: self._uploads.get(label, label)
        return pick(self.content.value), pick(self.style.value)

    @property
    def running(self):
        return self._active

    def run(self, wait=False):
        """Start a run in a background thread (wait=True: and wait for it); returns the
        Result when waiting, else None.  In the foreground the run is over when run()
        returns, and it returns the Result.  Bad settings are one status line, no run."""
        if self.running:
            self._say("already running: click Stop first")
            return None
        settings = self.settings()
        if not settings["style_layers"]:
            self._say("no style layer selected: tick at least one (e.g. conv1_1)", error=True)
            return None
        try:
            train.make_settings(self.preset, **settings)        # every other check, now
        except ValueError as err:
            self._say(one_line(err), error=True)
            return None
        self._stop.clear()
        self.step, self.result, self._steps = 0, None, settings["steps"]
        self._active = True
        self.run_button.disabled, self.stop_button.disabled = True, self.foreground
        self._say(f"starting: {settings['size']} px, {settings['steps']} steps "
                  f"({settings['optimizer']}) …")
        content, style = self.sources()
        if self.foreground:                      # the cell is busy until the run is over
            self._work(content, style, settings)
            return self.result
        self._thread = threading.Thread(target=self._work, args=(content, style, settings),
                                        daemon=True, name="StylePanel.run")
        self._thread.start()
        if wait:
            self._thread.join()
            return self.result
        return None

    def stop(self):
        """Ask the running stylize to stop at its next callback; it keeps the best image."""
        if self.running:
            self._stop.set()
            self._say(f"stopping after step {self.step} …")

    def wait(self, timeout=None):
        """Wait for the current run (if any) to finish; returns the Result."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    def _callback(self, step, image, history):
        self.step = step
        self.preview.value = png_bytes(image)
        how_to_stop = " (to stop: interrupt the kernel)" if self.foreground else ""
        self._say(f"step {step}/{self._steps}: L_total = {history[-1]['total']:.4g}{how_to_stop}")
        return self._stop.is_set()

    def _work(self, content, style, settings):
        start = time.perf_counter()
        try:
            result = train.stylize(content, style, preset=self.preset, callback=self._callback,
                                   progress=False, **settings)
        except Exception as err:                 # the panel shows it; the thread must not die loudly
            self._say(f"run failed: {one_line(err)}", error=True)
        except KeyboardInterrupt:                # before stylize's loop (which keeps its image)
            self._say("interrupted before an image was ready", error=True)
        else:
            self._finished(result, start)
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self._active = False

    def _finished(self, result, start):
        """Keep the result, show its best image and one line: done (or stopped) after …"""
        self.result = result
        self.preview.value = png_bytes(result.best_image)
        done = len(result.history)
        how = "stopped" if result.stopped_reason else "done"
        self._say(f"{how} after {done} step(s) in {time.perf_counter() - start:.1f} s "
                  f"({result.precision}): best L_total = {result.best_loss:.4g}"
                  + (f" ({result.stopped_reason})" if result.stopped_reason else ""))
