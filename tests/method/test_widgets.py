"""The control panel: widget values -> stylize settings, Run, Stop, and bad input in the status line.

Runs under ipywidgets 8 (make test) and 7.7.1, Colab's (make test-compat); both upload
formats are tested under either, and runs in a thread and in the foreground."""
import datetime as dt
import io
import sys
import threading
import types

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from course_utils import images, train
from course_utils.widgets import STYLE_LAYERS, StylePanel, run_in_foreground, uploaded_files

PNG_MAGIC = b"\x89PNG"
IPYWIDGETS_7 = ipywidgets.__version__.startswith("7.")


@pytest.fixture
def panel():
    p = StylePanel("tubingen", "the_scream", preset="ci")
    yield p
    p.stop()
    p.wait(timeout=120)


@pytest.fixture(params=["thread", "foreground"])
def any_panel(request):
    p = StylePanel("tubingen", "the_scream", preset="ci", run_in=request.param)
    yield p
    p.stop()
    p.wait(timeout=120)


def tiny(panel, steps=4, every=2):
    panel.size.value, panel.steps.value, panel.every.value = 32, steps, every


def test_settings_follow_the_widgets(panel):
    panel.ratio.value = 1e-4
    panel.layer_boxes["conv5_1"].value = False
    panel.weights["conv1_1"].value = 0.5
    panel.weights["conv3_1"].value = 0.35
    panel.content_layer.value = "conv3_2"
    panel.optimizer.value = "adam"
    panel.init.value = "noise"
    panel.steps.value, panel.size.value, panel.every.value = 7, 48, 3
    s = panel.settings()
    assert s["alpha"] / s["beta"] == pytest.approx(1e-4)
    assert s["style_layers"] == ("conv1_1", "conv2_1", "conv3_1", "conv4_1")
    assert s["style_weights"] == pytest.approx((0.5, panel.weights["conv2_1"].value, 0.35,
                                                panel.weights["conv4_1"].value))
    assert s["content_layers"] == ("conv3_2",)
    assert (s["optimizer"], s["init"], s["steps"], s["size"], s["every"]) == ("adam", "noise", 7, 48, 3)
    train.make_settings("ci", **s)              # stylize accepts every key


def test_the_default_panel_is_the_papers_setting(panel):
    s = panel.settings()
    assert s["style_layers"] == STYLE_LAYERS
    assert s["style_weights"] == pytest.approx((0.2,) * 5)
    assert s["alpha"] / s["beta"] == pytest.approx(1e-3)
    assert s["content_layers"] == ("conv4_2",)
    assert {value for _, value in panel.init.options} == set(train.INITS)   # every start offered


def test_no_style_layer_is_one_status_line_and_no_run(panel):
    for box in panel.layer_boxes.values():
        box.value = False
    assert panel.run(wait=True) is None
    assert not panel.running and panel.result is None
    assert "style layer" in panel.message and "\n" not in panel.message
    assert "style layer" in panel.status.value


def test_run_produces_a_result_and_updates_the_preview(any_panel):
    panel = any_panel
    tiny(panel)
    updates, threads = [], set()
    panel.preview.observe(lambda change: updates.append(panel.step), "value")
    panel.preview.observe(lambda change: threads.add(threading.current_thread()), "value")
    result = panel.run(wait=True)
    assert result is panel.result and result is not None
    assert result.best_image.dtype == np.uint8 and max(result.best_image.shape[:2]) == 32
    assert len(result.history) == 4
    assert bytes(panel.preview.value).startswith(PNG_MAGIC)
    assert updates[:2] == [2, 4]                 # live, from the callback every 2 steps
    assert panel.message.startswith("done") and not panel.running
    assert not panel.run_button.disabled and panel.stop_button.disabled
    in_the_cell = threads == {threading.current_thread()}
    assert in_the_cell == panel.foreground       # foreground: every update from the caller's thread


def test_stop_returns_early_with_an_image(any_panel):
    panel = any_panel
    tiny(panel, steps=500, every=1)
    seen = []

    def on_step(step, image, history):           # press Stop from within the second step
        seen.append(step)
        if step == 2:
            panel.stop()

    panel.on_step = on_step                       # the panel's public hook
    panel.run()
    result = panel.wait(timeout=300)
    assert result is not None and "stopped" in result.stopped_reason
    assert len(result.history) == 2 and seen == [1, 2]
    assert result.best_image.dtype == np.uint8 and result.best_image.size > 0
    assert panel.message.startswith("stopped")


def test_a_foreground_run_stopped_by_a_kernel_interrupt_keeps_the_best_image():
    panel = StylePanel("tubingen", "the_scream", preset="ci", run_in="foreground")
    tiny(panel, steps=500, every=1)
    def on_step(step, image, history):           # the kernel's interrupt, during the second step
        if step == 2:
            raise KeyboardInterrupt

    panel.on_step = on_step
    result = panel.run()
    assert result is panel.result and result.interrupted
    assert result.best_image.dtype == np.uint8 and result.best_image.size > 0
    assert panel.message.startswith("stopped") and not panel.running
    assert not panel.run_button.disabled


def test_auto_runs_in_the_foreground_on_colab_only(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not run_in_foreground("auto") and run_in_foreground("foreground")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert run_in_foreground("auto") and not run_in_foreground("thread")
    assert StylePanel(preset="ci").foreground
    with pytest.raises(ValueError, match="run_in"):
        StylePanel(preset="ci", run_in="background")


PNG_1PX = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
                        "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082")


def test_both_upload_formats_give_names_and_bytes():
    v8 = ({"name": "a.png", "type": "image/png", "size": len(PNG_1PX),
           "content": memoryview(PNG_1PX), "last_modified": dt.datetime.now(dt.timezone.utc)},)
    v7 = {"a.png": {"metadata": {"name": "a.png", "type": "image/png", "size": len(PNG_1PX),
                                 "lastModified": 1700000000000},
                    "content": PNG_1PX}}
    assert uploaded_files(v8) == uploaded_files(v7) == [("a.png", PNG_1PX)]
    assert uploaded_files(()) == uploaded_files({}) == []


def _upload(widget, name, data):
    """An upload as the installed ipywidgets delivers it from the browser."""
    if IPYWIDGETS_7:                             # 7.x: metadata and data synced, then a counter
        widget.metadata = [{"name": name, "type": "image/png", "size": len(data),
                            "lastModified": 1700000000000}]
        widget.data = [data]
        widget._counter += 1                     # which sets value = {name: {metadata, content}}
        assert isinstance(widget.value, dict) and name in widget.value
        return
    widget.value = ({"name": name, "type": "image/png", "size": len(data),
                     "content": memoryview(data),
                     "last_modified": dt.datetime.now(dt.timezone.utc)},)


def test_a_bad_upload_is_one_status_line(panel):
    before = list(panel.content.options), panel.content.value
    _upload(panel.content_upload, "holiday.png", np.random.default_rng(0).bytes(2000))
    assert "holiday.png" in panel.message and "\n" not in panel.message
    assert "Traceback" not in panel.status.value
    assert (list(panel.content.options), panel.content.value) == before


def test_an_empty_upload_names_the_1_mb_limit_and_the_way_round(panel):
    """Colab's front end sends no bytes for a file of 1 MB or more (ipywidgets#3452)."""
    before = list(panel.style.options), panel.style.value
    _upload(panel.style_upload, "big_painting.jpg", b"")
    assert panel.message == ("the upload big_painting.jpg arrived empty: Colab's widgets drop "
                             "files of 1 MB or more; upload a smaller picture, or put it in the "
                             "file browser and give its path: "
                             "StylePanel(style='/content/big_painting.jpg')")
    assert "#b00020" in panel.status.value                 # shown as an error
    assert (list(panel.style.options), panel.style.value) == before


def test_a_path_is_a_picture_of_the_panel(tmp_path):
    from PIL import Image
    path = tmp_path / "big_painting.png"
    Image.new("RGB", (30, 40), (20, 20, 200)).save(path)
    p = StylePanel("tubingen", str(path), preset="ci")
    assert p.style.value == str(path) and str(path) in p.content.options
    assert p.sources() == ("tubingen", str(path))
    tiny(p, steps=1, every=1)
    result = p.run(wait=True)
    assert result is not None and p.message.startswith("done"), p.message


def test_a_good_upload_becomes_the_content(panel, tmp_path):
    from PIL import Image
    path = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    _upload(panel.style_upload, "red.png", path.read_bytes())
    assert panel.style.value == "upload: red.png"
    content, style = panel.sources()
    assert content == "tubingen" and style.size == (40, 30)


def test_an_upload_leaves_the_other_picker_alone(panel):
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buffer, format="PNG")
    _upload(panel.content_upload, "green.png", buffer.getvalue())
    assert panel.content.value == "upload: green.png"
    assert panel.style.value == "the_scream"              # not reset by the new option
    assert "upload: green.png" in panel.style.options


def test_the_preview_before_a_run_is_the_content_photo_not_empty_bytes(panel):
    assert bytes(panel.preview.value).startswith(PNG_MAGIC)
    shown = Image.open(io.BytesIO(bytes(panel.preview.value)))
    photo = images.load_image("tubingen")
    assert shown.width > shown.height                       # Tübingen's landscape
    assert shown.width / shown.height == pytest.approx(photo.shape[1] / photo.shape[0], rel=0.02)
    assert panel.preview.layout.height == "auto" and panel.preview.layout.object_fit == "contain"
    panel.content.value = "the_scream"                      # a portrait: the preview follows it
    assert Image.open(io.BytesIO(bytes(panel.preview.value))).height > \
        Image.open(io.BytesIO(bytes(panel.preview.value))).width
