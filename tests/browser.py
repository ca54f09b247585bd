"""A headless Chromium (Debian's, driven by Playwright) and the servers it is pointed at.

Used by tests/whole/test_browser.py, and run as a script to take the README's screenshot of the app
and to time it in the browser (docs/README.md):

    .venv/bin/python tests/browser.py --screenshot docs/present_app.png
"""
import argparse
import contextlib
import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Root in CI needs --no-sandbox; the rest keep Chromium from calling home on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-default-apps"]
START_TIMEOUT = 180          # s: a server start, or a page with TensorFlow's import, on a busy CI
RUN_TIMEOUT = 300            # s: a run at the ci preset, with other jobs on the two cores


def why_no_browser():
    """None when the browser tests can run, else the one reason they cannot."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Playwright Python package is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set $COURSE_CHROMIUM)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def free_port():
    """A port nothing listens on, chosen by the system."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(home):
    """Environment for a server: config, data and runtime dirs of its own (no user settings,
    no stale runtime files), the course package importable, nothing from the outside."""
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false", "checkForUpdates": false}')   # no toast, no calls out
    checkout = None if os.environ.get("NST_INSTALLED_FROM_WHEEL") == "1" else str(ROOT)  # a leg's wheel
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"),
               PYTHONPATH=os.pathsep.join(filter(None, [checkout, os.environ.get("PYTHONPATH")])))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def jupyterlab_command(port, root_dir):
    return [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", "--allow-root",
            "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


def classic_command(port, root_dir):
    """The classic Notebook 6.5 (Colab's kind of front end, with widgetsnbextension 3.6)."""
    return [sys.executable, "-m", "notebook", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            "--port-retries=0", "--allow-root", "--NotebookApp.token=", "--NotebookApp.password=",
            f"--notebook-dir={root_dir}"]


def present_command(port, save_dir):
    return [sys.executable, "-m", "course_utils", "present", "--no-browser", f"--port={port}",
            f"--save-dir={save_dir}"]


@contextlib.contextmanager
def static_site(folder):
    """http://127.0.0.1:PORT/ serving a built folder (a free port), quiet, stopped at the end."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def server(command, port, env, log, path="/"):
    """Start a server in its own process group, wait until `path` answers, yield its URL;
    stop the whole group (the server and its kernels) afterwards."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=env.get("COURSE_SERVER_CWD", str(ROOT)), start_new_session=True)
    try:
        _wait_answering(url + path, process, log)
        yield url
    finally:
        _stop_group(process)


def _wait_answering(url, process, log):
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer {url} within {START_TIMEOUT} s; see {log}")


def _stop_group(process):
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Watch:
    """What a page did that it should not: console errors, uncaught exceptions, requests
    that leave this machine."""

    def __init__(self, page, base):
        self.errors, self.external = [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        local = (base, "data:", "blob:", "about:")
        page.on("request", lambda r: r.url.startswith(local) or self.external.append(r.url))


# In the page: record when the preview's src and the status text change (performance.now()).
OBSERVE = """() => {
  const img = document.querySelector('.nst-preview'), status = document.querySelector('.nst-status');
  window.nst = {previews: [], statuses: [], t0: null};
  new MutationObserver(() => window.nst.previews.push([performance.now(), img.src]))
    .observe(img, {attributes: true, attributeFilter: ['src']});
  new MutationObserver(() => window.nst.statuses.push([performance.now(), status.textContent]))
    .observe(status, {childList: true, subtree: true, characterData: true});
}"""
CLICK = """(selector) => { window.nst.previews = []; window.nst.statuses = [];
  window.nst.t0 = performance.now(); document.querySelector(selector).click(); }"""


def status(page):
    return page.inner_text(".nst-status").strip()


def wait_status(page, *starts, timeout=RUN_TIMEOUT):
    """Wait until the status line starts with one of `starts`; return it."""
    page.wait_for_function(
        "(starts) => starts.some(s => document.querySelector('.nst-status').textContent.trim().startsWith(s))",
        arg=list(starts), timeout=timeout * 1000, polling=200)
    return status(page)


def forget(page):
    """Start recording preview and status changes afresh (before an action)."""
    page.evaluate("() => { window.nst.previews = []; window.nst.statuses = []; }")


def next_status(page, *starts, timeout=RUN_TIMEOUT):
    """Wait for a status line starting with one of `starts` since `forget`; return the line."""
    page.wait_for_function(
        "(f) => window.nst.statuses.some(([t, s]) => f.some(x => s.trim().startsWith(x)))",
        arg=list(starts), timeout=timeout * 1000, polling=200)
    return status(page)


def run(page, selector=".nst-run", finished=("done", "stopped", "run failed"), timeout=RUN_TIMEOUT):
    """Click Run; wait for the finished status.  Returns (status, seconds to the first preview
    change, seconds to the finished status, number of preview changes), timed in the page."""
    page.evaluate(CLICK, selector)
    text = next_status(page, *finished, timeout=timeout)
    page.wait_for_function("() => !document.querySelector('.nst-run').disabled", timeout=30000)
    nst = page.evaluate("() => window.nst")
    first = (nst["previews"][0][0] - nst["t0"]) / 1000 if nst["previews"] else None
    end = next((t for t, s in nst["statuses"] if s.strip().startswith(finished)), None)
    return text, first, (end - nst["t0"]) / 1000 if end else None, len(nst["previews"])


def matmul_rate():
    """GFLOP/s of one 2048x2048 float32 matmul here and now (for the timings beside it)."""
    import numpy as np
    a = np.random.default_rng(0).random((2048, 2048), np.float32)
    a @ a
    start = time.perf_counter()
    for _ in range(3):
        a @ a
    return 3 * 2 * 2048 ** 3 / (time.perf_counter() - start) / 1e9


def time_the_app(screenshot=None, repeats=2):
    """Serve the app with the default preset, and time Run in Chromium, without and with the
    quick look; print the seconds; save a screenshot of the finished page."""
    from playwright.sync_api import sync_playwright
    home = Path(tempfile.mkdtemp(prefix="nst-present-"))
    env = jupyter_env(home)
    env.pop("COURSE_PRESET", None)
    port = free_port()
    with server(present_command(port, home / "saved"), port, env, home / "voila.log") as url, \
            sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        started = time.perf_counter()
        page.goto(url + "/", timeout=START_TIMEOUT * 1000)
        page.wait_for_selector(".nst-run", timeout=START_TIMEOUT * 1000)
        wait_status(page, "ready", timeout=60)
        print(f"page ready {time.perf_counter() - started:.1f} s after opening it")
        page.evaluate(OBSERVE)
        rows = []
        for quick in (False, True) * repeats:
            box = page.locator(".nst-quick input")
            box.set_checked(quick)
            text, first, end, n = run(page)
            rows.append((quick, first, end, n, text))
            print(f"quick={'on ' if quick else 'off'}  first preview {first:5.2f} s  "
                  f"finished {end:5.2f} s  ({n} previews; {text[:60]})", flush=True)
        print(f"matmul 2048x2048 float32: {matmul_rate():.0f} GFLOP/s; load {os.getloadavg()[0]:.1f}")
        if screenshot:
            page.screenshot(path=str(screenshot))
            print(f"wrote {screenshot}")
        browser.close()
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description="time the app in Chromium; take its screenshot")
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    reason = why_no_browser()
    if reason:
        sys.exit(f"error: {reason}")
    time_the_app(args.screenshot, args.repeats)
