"""Serving the presentation app: Voilà on the app's notebook, on this machine only.

    python -m course_utils present [--port N] [--no-browser] [--save-dir DIR]

The terminal shows the address and how to stop it, and Voilà's own errors; not its routine
warnings.  Ctrl-C, SIGTERM (a process manager) and SIGHUP (a closed terminal) stop Voilà and
every kernel it started: nothing is left holding the port or the memory.
"""
import importlib.resources
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .page import SAVE_DIR_ENV


def notebook():
    """The app's notebook, a file inside the installed package."""
    return importlib.resources.files("course_utils") / "app" / "present.ipynb"


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
            # with a console error (one item per option: traitlets' list form, no warning)
            "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
            "--VoilaConfiguration.extension_denylist=@jupyter/nbgrader"]


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


# Routine lines of Voilà and its kernels that say nothing to a lecturer: the app's notebook is
# the package's own (not signed), and the kernel listens on 127.0.0.1 only.
NOISE = re.compile(r"Notebook \S+ is not trusted|Kernel is running over TCP without encryption")
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def serve(port=None, open_browser=True, save_dir="stylized"):
    """Start Voilà on the app's notebook, print the address, wait until Ctrl-C, SIGTERM or
    SIGHUP; then stop Voilà and its kernels.  The exit code."""
    import importlib.util
    if importlib.util.find_spec("voila") is None:
        raise ValueError("the app needs Voilà: pip install voila (or the course's [lab] extra)")
    port = free_port(port, tries=1) if port else free_port()
    env = dict(os.environ, **{SAVE_DIR_ENV: str(Path(save_dir).resolve())})
    with importlib.resources.as_file(notebook()) as path, _stopped_by_signals():
        # app/voila/templates/course: Voilà's lab template with nothing from a CDN
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(path.parent),
                                                            os.environ.get("JUPYTER_PATH")]))
        # its own session: a closed terminal's SIGHUP and Ctrl-C reach this process, which
        # stops Voilà in order (its kernels first), rather than killing Voilà alone
        process = subprocess.Popen(voila_command(port, path), env=env, stderr=subprocess.PIPE,
                                   text=True, errors="replace", start_new_session=True)
        stopping = threading.Event()              # then its shutdown's messages are not news
        threading.Thread(target=forward_errors, args=(process.stderr, None, stopping),
                         daemon=True).start()
        try:
            if not wait_listening(port, process):
                raise OSError(f"Voilà did not start on port {port} (see its messages above); "
                              "try another --port")
            address = f"http://127.0.0.1:{port}/"
            print(f"the app is at {address}  (pictures saved to {env[SAVE_DIR_ENV]}; Ctrl-C stops it)",
                  flush=True)
            if open_browser:
                import webbrowser
                webbrowser.open(address)
            return process.wait()
        except KeyboardInterrupt:                # Ctrl-C, or SIGTERM / SIGHUP (see below)
            return 0
        finally:
            stopping.set()
            stop(process)


def forward_errors(stream, out=None, stopping=None):
    """Copy Voilà's stderr to ours, without its routine lines (`NOISE`), until `stopping` is set
    (what Voilà and its kernels say while we stop them, e.g. a kernel interrupted mid-start)."""
    out = out or sys.stderr
    for line in stream:
        if stopping is not None and stopping.is_set():
            continue
        if not NOISE.search(line):
            out.write(line)
            out.flush()


class _stopped_by_signals:
    """SIGTERM and SIGHUP end the wait as Ctrl-C does (in the main thread; restored after)."""

    def __enter__(self):
        self.saved = {}
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.saved[sig] = signal.signal(sig, _interrupt)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def stop(process, grace=20.0):
    """Stop Voilà (it shuts its kernels down), then any of its descendants still running."""
    if process.poll() is not None:
        return
    left = descendants(process.pid)
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        left = [pid for pid in left if _alive(pid)]
        for pid in left:
            _signal(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and any(_alive(pid) for pid in left):
            time.sleep(0.1)


def descendants(pid):
    """The process ids of pid's children, their children, ... (psutil, else Linux's /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:                                          # a zombie of ours is as good as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
