"""The presentation app: the panel as a full-screen page for a lecture, served by Voilà.

    python -m course_utils present [--port N] [--no-browser] [--save-dir DIR]

Voilà runs the notebook ``app/present.ipynb`` (shipped inside the package) and shows
`App().page` with no code: thumbnails to choose the photograph and the painting (or an
upload), the two beside a large live preview, a loss curve that grows while it runs, every
setting of `widgets.StylePanel`, Run (or Enter), Stop and Save.  The "quick look" first
paints a small picture, which gives a preview within seconds, then the chosen size.
Runs are deterministic: the same settings give the same picture.
"""
import dataclasses
import html
import importlib.resources
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import ipywidgets as W

from . import images, train
from .widgets import StylePanel, one_line, png_bytes

SAVE_DIR_ENV = "COURSE_PRESENT_DIR"            # where Save writes; the CLI sets it for the kernel
QUICK = dict(size=128, steps=20, every=1)      # the quick look: small, a preview every step
PICTURE, PREVIEW, THUMB = 300, 560, 96          # displayed widths in pixels

CSS = """<style>
.nst-app { --jp-widgets-font-size: 20px; --jp-widgets-inline-height: 36px;
           --jp-widgets-inline-label-width: 170px; font-size: 20px; padding: 8px; }
.nst-app .widget-label, .nst-app .widget-readout, .nst-app button, .nst-app select,
.nst-app .widget-html-content { font-size: 20px; }
.nst-app .nst-title { font-size: 30px; font-weight: 600; margin: 0 0 4px 0; }
.nst-app .nst-caption { font-size: 22px; font-weight: 600; }
.nst-app .nst-status { font-size: 24px; min-height: 36px; }
.nst-app .nst-big button, .nst-app button.nst-big { font-size: 24px; height: 48px; min-width: 116px; }
.nst-app .nst-thumb { border: 4px solid transparent; border-radius: 6px; }
.nst-app .nst-thumb.nst-chosen { border-color: #1976d2; }
</style>"""

# Enter anywhere on the page (but in a text field or on a button) clicks Run.
ENTER_RUNS = """
if (!window.nstEnterRuns) {
  window.nstEnterRuns = true;
  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    if (event.key !== "Enter" || event.repeat || tag === "button" || tag === "textarea" ||
        event.target.isContentEditable) { return; }
    const run = document.querySelector(".nst-run");
    if (run && !run.disabled) { event.preventDefault(); run.click(); }
  });
}
"""


def notebook():
    """The app's notebook, a file inside the installed package."""
    return importlib.resources.files("course_utils") / "app" / "present.ipynb"


def loss_svg(history, width=380, height=300):
    """An inline SVG of log10 L_total against the step: the curve that grows during a run."""
    losses = [h["total"] for h in history if h["total"] > 0 and math.isfinite(h["total"])]
    frame = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'style="background:#fafafa;border:1px solid #ccc">')
    if len(losses) < 2:
        return frame + (f'<text x="12" y="{height // 2}" font-size="20" fill="#777">'
                        'L_total (log scale) during a run</text></svg>')
    y = [math.log10(v) for v in losses]
    low, high = min(y), max(y)
    span = (high - low) or 1.0
    pad, n = 30, len(y) - 1
    points = " ".join(f"{pad + (width - 2 * pad) * i / n:.1f},"
                      f"{pad + (height - 2 * pad) * (high - v) / span:.1f}" for i, v in enumerate(y))
    return (frame + f'<polyline fill="none" stroke="#1976d2" stroke-width="3" points="{points}"/>'
            f'<text x="{pad}" y="22" font-size="18">L_total {losses[0]:.2g} → {losses[-1]:.2g}, '
            f'step {len(losses)}</text></svg>')


class App(StylePanel):
    """The StylePanel's controls and runs, laid out for a room, with a quick look and Save."""

    def __init__(self, content="tubingen", style="starry_night", preset=None, save_dir=None):
        super().__init__(content, style, preset)
        self.save_dir = Path(save_dir or os.environ.get(SAVE_DIR_ENV) or "stylized")
        self._stage, self._thumbs = "", {}
        self._add_widgets()
        self._lay_out()

    # -------------------------------------------------------------- layout
    def _add_widgets(self):
        """The app's own widgets (quick look, Save, loss curve, the two pictures); the
        panel's controls made wide enough for large type."""
        for w in (self.ratio, self.content_layer, self.learning_rate, self.init, self.steps,
                  self.size, self.every, self.precision):
            w.style.description_width, w.layout.width = "170px", "560px"
        self.preview.layout.width = f"{PREVIEW}px"
        self.quick = W.Checkbox(value=True, indent=False, layout=W.Layout(width="250px"),
                                description=f"quick look ({QUICK['size']} px)")
        self.quick.add_class("nst-quick")
        self.save_button = W.Button(description="Save", icon="save", disabled=True)
        self.save_button.on_click(lambda _: self.save())
        for button in (self.run_button, self.stop_button, self.save_button):
            button.add_class("nst-big")
        self.run_button.observe(lambda c: self._enable_save(), "disabled")
        self.curve = W.HTML(loss_svg([]))
        self.content_picture = W.Image(format="png", layout=self._picture_layout())
        self.style_picture = W.Image(format="png", layout=self._picture_layout())
        self.content.observe(lambda c: self._show_choices(), "value")
        self.style.observe(lambda c: self._show_choices(), "value")
        self._show_choices()

    def _lay_out(self):
        """The page: pictures, buttons, status and loss on top; choosers and settings below."""
        caption = lambda text: W.HTML(f'<div class="nst-caption">{html.escape(text)}</div>')
        column = lambda *children: W.VBox(list(children), layout=W.Layout(align_items="flex-start"))
        buttons = W.HBox([self.run_button, self.stop_button, self.save_button, self.quick],
                         layout=W.Layout(align_items="center", grid_gap="12px"))
        self.status.layout.width = f"{PREVIEW}px"
        top = W.HBox([
            column(caption("photograph  p"), self.content_picture,
                   caption("painting  a"), self.style_picture),
            column(caption("result  x"), self.preview, buttons, self.status),
            column(caption("loss"), self.curve)],
            layout=W.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="20px"))
        choosers = W.VBox([caption("photograph"), self._chooser(self.content, self.content_upload),
                           caption("painting"), self._chooser(self.style, self.style_upload)],
                          layout=W.Layout(width="640px"))
        title = W.HTML('<div class="nst-title">Neural style transfer</div>'
                       '<div>Gatys, Ecker &amp; Bethge (2015): find x minimising '
                       'L_total = α L_content + β L_style. Choose, then press Run (or Enter).</div>')
        self.page = W.VBox([W.HTML(CSS), title, top,
                            W.HBox([choosers, self._settings()],
                                   layout=W.Layout(flex_flow="row wrap", align_items="flex-start",
                                                   grid_gap="24px"))])
        self.page.add_class("nst-app")

    def _settings(self):
        """The panel's controls in one column, the layer rows rebuilt wider."""
        for layer in self.layer_boxes:
            self.layer_boxes[layer].layout.width = "150px"
            self.weights[layer].style.description_width = "40px"
        rows = [W.HBox([self.layer_boxes[l], self.weights[l]]) for l in self.layer_boxes]
        return W.VBox([self.ratio, self.content_layer,
                       W.HTML("<b>style layers and weights w_l</b>"), *rows, self.optimizer,
                       self.learning_rate, self.init, self.steps, self.size, self.every,
                       self.precision])

    @staticmethod
    def _picture_layout():
        return W.Layout(width=f"{PICTURE}px", height="auto", object_fit="contain")

    def _chooser(self, picker, upload):
        """Thumbnails of the pictures a picker offers (uploads too); a click chooses one."""
        row = W.HBox(layout=W.Layout(flex_flow="row wrap", align_items="flex-end"))

        def rebuild(*_):
            row.children = [self._thumb(picker, label) for label in picker.options] + [upload]
            mark()

        def mark(*_):
            for item in row.children[:-1]:
                (item.add_class if item.label == picker.value else item.remove_class)("nst-chosen")

        picker.observe(rebuild, "options")
        picker.observe(mark, "value")
        rebuild()
        return row

    def _thumb(self, picker, label):
        if label not in self._thumbs:
            source = self._uploads.get(label, label)
            self._thumbs[label] = png_bytes(images.load_image(source, THUMB))
        button = W.Button(description=label.replace("upload: ", "")[:14].replace("_", " "),
                          tooltip=label, layout=W.Layout(width=f"{THUMB + 24}px"))
        button.style.font_size = "14px"
        button.on_click(lambda _: setattr(picker, "value", label))
        item = W.VBox([W.Image(value=self._thumbs[label], format="png",
                               layout=W.Layout(width=f"{THUMB}px", height="auto")), button],
                      layout=W.Layout(align_items="center", margin="2px"))
        item.label = label
        item.add_class("nst-thumb")
        return item

    def _show_choices(self):
        content, style = self.sources()
        self.content_picture.value = png_bytes(images.load_image(content, PICTURE))
        self.style_picture.value = png_bytes(images.load_image(style, PICTURE))

    def _enable_save(self):
        self.save_button.disabled = self.run_button.disabled or self.result is None

    def enter_runs(self):
        """A display object whose script makes Enter click Run (for Voilà and JupyterLab)."""
        from IPython.display import Javascript
        return Javascript(ENTER_RUNS)

    # -------------------------------------------------------------- running
    def warm_up(self):
        """Load VGG-19 and TensorFlow's kernels once (a 1-step run at 64 px), so that the
        first Run in front of the class is as quick as the next ones."""
        train.stylize(*self.sources(), preset=self.preset, progress=False,
                      **dict(self.settings(), size=64, steps=1, every=1))

    def _stages(self, settings):
        """The runs one click makes: the quick look (if chosen and smaller), then the run."""
        if self.quick.value and settings["size"] > QUICK["size"]:
            quick = dict(settings, size=QUICK["size"], every=QUICK["every"],
                         steps=min(QUICK["steps"], settings["steps"]))
            return [("quick look", quick), ("", settings)]
        return [("", settings)]

    def _work(self, content, style, settings):
        start = time.perf_counter()
        try:
            for stage, s in self._stages(settings):
                self._stage, self._steps = stage, s["steps"]
                result = train.stylize(content, style, preset=self.preset,
                                       callback=self._callback, progress=False, **s)
                if result.stopped_reason:
                    break
        except Exception as err:
            self._say(f"run failed: {one_line(err)}", error=True)
        except KeyboardInterrupt:                # the foreground mode's Stop, before an image
            self._say("interrupted before an image was ready", error=True)
        else:
            self._stage = ""
            self._finished(result, start)
            self.curve.value = loss_svg(result.history)
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self._active = False

    def _callback(self, step, image, history):
        stop = super()._callback(step, image, history)
        if self._stage:
            self._say(f"{self._stage} at {QUICK['size']} px, {self.message}")
        self.curve.value = loss_svg(history)
        return stop

    def save(self):
        """Write the best picture and its settings (JSON) into the save folder."""
        if self.result is None:
            self._say("nothing to save yet: click Run first", error=True)
            return None
        names = [str(v).replace("upload: ", "").rsplit(".", 1)[0]
                 for v in (self.content.value, self.style.value)]
        stem, n = "_".join(names), 1
        while (self.save_dir / f"{stem}_{n:03d}.png").exists():     # never overwrite a picture
            n += 1
        picture = self.save_dir / f"{stem}_{n:03d}.png"
        record = dict(content=self.content.value, style=self.style.value, preset=self.preset,
                      settings=dataclasses.asdict(self.result.settings),
                      best_loss=self.result.best_loss, steps=len(self.result.history))
        try:
            images.save_png(self.result.best_image, picture)
            images.write_atomically(picture.with_suffix(".json"), lambda f: f.write(
                json.dumps(record, indent=1, ensure_ascii=False).encode()))
        except images.ImageError as err:
            self._say(str(err), error=True)
            return None
        self._say(f"saved {picture.parent.name}/{picture.name} and its settings (.json)")
        return picture


# ------------------------------------------------------------------ serving
def free_port(start=8866, host="127.0.0.1", tries=100):
    """The first port from `start` on which nothing listens."""
    for port in range(start, start + tries):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    if tries == 1:
        raise ValueError(f"port {start} is in use; choose another --port, or leave it out")
    raise OSError(f"no free port from {start} to {start + tries - 1}; choose one with --port")


def voila_command(port, notebook_path):
    """The Voilà server for the app: this machine only, no code shown, quiet log."""
    return [sys.executable, "-m", "voila", str(notebook_path), f"--port={port}", "--no-browser",
            "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--Voila.log_level=WARN",
            "--strip_sources=True", "--show_tracebacks=False", "--theme=light",
            "--template=course",
            # not nbgrader's nor notebook 7's (nbgrader brings it) extension: in Voilà's page they fail
            # with a console error
            "--VoilaConfiguration.extension_denylist=['@jupyter-notebook/lab-extension','@jupyter/nbgrader']"]


def wait_listening(port, process, timeout=120.0, host="127.0.0.1"):
    """Wait until a server accepts connections on `port`; False if it died or timed out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and process.poll() is None:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def serve(port=None, open_browser=True, save_dir="stylized"):
    """Start Voilà on the app's notebook, print the address, wait until Ctrl-C; exit code."""
    import importlib.util
    if importlib.util.find_spec("voila") is None:
        raise ValueError("the app needs Voilà: pip install voila (or the course's [lab] extra)")
    port = free_port(port, tries=1) if port else free_port()
    env = dict(os.environ, **{SAVE_DIR_ENV: str(Path(save_dir).resolve())})
    with importlib.resources.as_file(notebook()) as path:
        # app/voila/templates/course: Voilà's lab template with nothing from a CDN
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(path.parent),
                                                            os.environ.get("JUPYTER_PATH")]))
        process = subprocess.Popen(voila_command(port, path), env=env)
        try:
            if not wait_listening(port, process):
                process.terminate()
                raise OSError(f"Voilà did not start on port {port} (see its messages above); "
                              "try another --port")
            address = f"http://127.0.0.1:{port}/"
            print(f"the app is at {address}  (pictures saved to {env[SAVE_DIR_ENV]}; Ctrl-C stops it)",
                  flush=True)
            if open_browser:
                import webbrowser
                webbrowser.open(address)
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(30)
            return 0
