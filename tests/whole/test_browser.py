"""The panel in JupyterLab and the classic Notebook, and the presentation app in Voilà, driven
in headless Chromium.

"classic" is Colab's kind of front end: the Notebook 6.5 with ipywidgets 7.7.1 and
widgetsnbextension 3.6 (the colab leg of `make test-compat` has them); "lab" (ipywidgets 8)
and "app" run under `make test`.  A surface whose server is not installed is skipped, saying so.
Each test runs on every surface, in order on one page per surface: it renders (the preview
keeps the picture's aspect ratio and is never a broken image), a run after changing α/β
updates the preview at least twice and ends "done", Stop during a second run keeps the best
image, uploads of a PNG and of a text file, and no console error or request off this machine.
Screenshots go to build/test-artifacts/.  Skipped, with the reason, only when Playwright or
Chromium cannot be had (`.ci/run` installs them).
"""
import json
import re
import tempfile
from pathlib import Path

import pytest

import browser as B

REASON = B.why_no_browser()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"browser tests: {REASON}")

PANEL_CELL = "from course_utils.widgets import StylePanel\npanel = StylePanel()\npanel.widget"


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = B.launch(p)
        yield browser
        browser.close()


def _notebook(path, source):
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "panel", "metadata": {},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}))


def _open_lab(page, url):
    page.goto(url + "/lab/tree/panel.ipynb?reset", timeout=B.START_TIMEOUT * 1000)
    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    editor.wait_for(timeout=B.START_TIMEOUT * 1000)
    idle = page.get_by_text(re.compile(r"\| Idle")).first          # the status bar: kernel up
    idle.wait_for(timeout=B.START_TIMEOUT * 1000)
    editor.click()
    page.keyboard.press("Shift+Enter")                  # run the cell (queued until the kernel is up)


def _open_classic(page, url):
    page.goto(url + "/notebooks/panel.ipynb", timeout=B.START_TIMEOUT * 1000)
    page.wait_for_function("() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
                           " && Jupyter.notebook.kernel.is_connected()",
                           timeout=B.START_TIMEOUT * 1000, polling=500)
    page.evaluate("() => Jupyter.notebook.execute_all_cells()")


def why_no_surface(name):
    """None when the surface's server is installed here, else why it is not."""
    from importlib import metadata
    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None
    if name == "lab" and not version("jupyterlab"):
        return "JupyterLab is not installed (the [lab] extra)"
    if name == "app" and not version("voila"):
        return "Voilà is not installed (the [lab] extra)"
    if name == "classic" and not ((version("notebook") or "7").startswith("6.")
                                  and (version("ipywidgets") or "8").startswith("7.")):
        return ("needs the classic Notebook 6 with ipywidgets 7, Colab's front end "
                "(the colab leg of make test-compat has them)")
    return None


@pytest.fixture(scope="module", params=["lab", "app", "classic"])
def surface(request, chromium):
    """(name, page, watch, save_dir): JupyterLab or the classic Notebook with the panel's cell
    run, or the Voilà app; the server started on a free port of 127.0.0.1 with its own config
    dirs, stopped after."""
    name = request.param
    reason = why_no_surface(name)
    if reason:
        pytest.skip(f"{name}: {reason}")
    home = Path(tempfile.mkdtemp(prefix=f"nst-{name}-"))
    env = B.jupyter_env(home)
    env["COURSE_PRESET"] = "ci"
    port = B.free_port()
    if name in ("lab", "classic"):
        work = home / "work"
        work.mkdir()
        _notebook(work / "panel.ipynb", PANEL_CELL)
        command = (B.jupyterlab_command if name == "lab" else B.classic_command)(port, work)
    else:
        command = B.present_command(port, home / "saved")
    B.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with B.server(command, port, env, B.ARTIFACTS / f"{name}-server.log") as url:
        page = chromium.new_page(viewport={"width": 1600, "height": 1000})
        watch = B.Watch(page, url)
        if name == "lab":
            _open_lab(page, url)
        elif name == "classic":
            _open_classic(page, url)
        else:
            page.goto(url + "/", timeout=B.START_TIMEOUT * 1000)
        page.wait_for_selector(".nst-run", timeout=B.START_TIMEOUT * 1000)
        B.wait_status(page, "ready", timeout=B.START_TIMEOUT)
        page.evaluate(B.OBSERVE)
        yield name, page, watch, home / "saved"
        page.close()


def shot(surface, what):
    name, page = surface[:2]
    page.screenshot(path=str(B.ARTIFACTS / f"{name}-{what}.png"), full_page=True)


def preview_shape(page):
    """(natural width, natural height, shown width, shown height) of the preview image."""
    return page.evaluate("""() => { const i = document.querySelector('.nst-preview');
        const r = i.getBoundingClientRect();
        return [i.naturalWidth, i.naturalHeight, r.width, r.height]; }""")


def assert_undistorted(page):
    w, h, shown_w, shown_h = preview_shape(page)
    assert w > 0 and h > 0, "the preview is a broken image"
    assert shown_w / shown_h == pytest.approx(w / h, rel=0.03), \
        f"the preview is distorted: a {w}x{h} picture shown as {shown_w:.0f}x{shown_h:.0f}"


def slider_readout(page, label):
    """The editable number of the slider described `label`."""
    slider = page.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    return slider.locator(".widget-readout").first


def type_into(page, readout, text):
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def upload(page, path):
    """Choose `path` in the file dialog of the first upload button (the content's)."""
    with page.expect_file_chooser(timeout=30000) as chooser:
        page.locator(".widget-upload").first.click()
    chooser.value.set_files(str(path))


def test_renders_with_the_content_photo_undistorted(surface):
    name, page = surface[:2]
    shot(surface, "1-rendered")
    assert_undistorted(page)
    w, h = preview_shape(page)[:2]
    assert w > h                               # Tübingen is landscape, shown as landscape
    if name == "app":
        assert page.locator(".nst-thumb").count() >= 12    # six pictures, twice
        assert page.locator(".nst-thumb.nst-chosen").count() == 2
    # every control of the panel, the 2017 ones and the newer ones included, in both
    for label in ("colours", "colour match", "style scale", "TV weight", "Adam lr", "pooling", "seed"):
        shown = page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        assert shown.count() == 1 and shown.first.is_visible(), f"no visible {label!r} control"


def test_a_run_after_changing_alpha_over_beta_updates_the_preview(surface):
    page = surface[1]
    ratio = slider_readout(page, "α/β")
    type_into(page, ratio, "1e-2")
    assert ratio.inner_text().strip() == "1e-2"
    text, first, end, previews = B.run(page)
    shot(surface, "2-done")
    assert text.startswith("done after 10 step(s)"), text        # the ci preset's 10 steps
    assert previews >= 2 and first is not None
    assert_undistorted(page)


def test_stop_during_a_second_run_keeps_the_best_image(surface):
    page = surface[1]
    type_into(page, slider_readout(page, "steps"), "800")
    page.evaluate(B.CLICK, ".nst-run")
    page.wait_for_function("() => window.nst.previews.length >= 1", timeout=B.RUN_TIMEOUT * 1000)
    page.click(".nst-stop")
    text = B.next_status(page, "stopped", "done")
    shot(surface, "3-stopped")
    assert text.startswith("stopped after"), text
    steps = int(re.match(r"stopped after (\d+) step", text)[1])
    assert 1 <= steps < 800
    page.wait_for_function("() => !document.querySelector('.nst-run').disabled", timeout=30000)
    assert_undistorted(page)                  # the best image so far, as a picture
    type_into(page, slider_readout(page, "steps"), "10")


def test_an_uploaded_png_becomes_the_content(surface, tmp_path):
    from PIL import Image
    page = surface[1]
    path = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    B.forget(page)
    upload(page, path)
    text = B.next_status(page, "uploaded", "could not", timeout=60)
    shot(surface, "4-uploaded")
    assert text == "uploaded red.png (40x30)"
    if surface[0] == "app":
        assert page.locator(".nst-thumb", has_text="red").count() == 2


def test_a_text_file_upload_is_one_status_line(surface, tmp_path):
    page = surface[1]
    path = tmp_path / "notes.txt"
    path.write_text("not a picture\n" * 20)
    B.forget(page)
    upload(page, path)
    text = B.next_status(page, "could not", "uploaded", timeout=60)
    shot(surface, "5-text-upload")
    assert text.startswith("could not use the upload notes.txt:"), text
    assert "\n" not in text and "Traceback" not in text


@pytest.mark.parametrize("surface", ["app"], indirect=True)      # the app's own: Enter, Save
def test_app_enter_runs_and_save_writes_the_picture_and_its_settings(surface):
    name, page, _, saved = surface
    page.locator(".nst-thumb button", has_text="tubingen").first.click()
    page.locator(".nst-title").click()                 # focus on the page, not on a control
    B.forget(page)
    page.keyboard.press("Enter")
    text = B.next_status(page, "done", "stopped", "run failed")
    assert text.startswith("done"), text
    page.wait_for_function("() => !document.querySelector('.nst-run').disabled", timeout=30000)
    B.forget(page)
    page.get_by_role("button", name="Save").click()
    text = B.next_status(page, "saved", "cannot", "could not", "nothing", timeout=60)
    assert text.startswith("saved"), text
    shot(surface, "6-saved")
    pictures = sorted(saved.glob("*.png"))
    assert [p.name for p in pictures] == ["tubingen_starry_night_001.png"]
    record = json.loads(pictures[0].with_suffix(".json").read_text())
    assert record["content"] == "tubingen" and record["settings"]["alpha"] == pytest.approx(1e-2)


def test_no_console_errors_and_nothing_loaded_from_the_network(surface):
    watch = surface[2]
    assert watch.errors == []
    assert watch.external == []
