"""`python -m course_utils present` stopped by a process manager (SIGTERM) or a closed terminal
(SIGHUP) leaves no Voilà server and no kernel behind, and says only its address."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from course_utils.app import server

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def start(tmp_path):
    port = server.free_port(8950)
    env = dict(os.environ, COURSE_PRESET="ci")
    process = subprocess.Popen([sys.executable, "-m", "course_utils", "present", "--no-browser",
                                f"--port={port}", f"--save-dir={tmp_path / 'saved'}"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith(f"the app is at http://127.0.0.1:{port}/"), (line, process.stderr.read())
    return process, port, line


def kernels_of(pid):
    return [p for p in server.descendants(pid) if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()]


def gone(pids, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(server._alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if server._alive(p)]


def test_sigterm_stops_voila_and_its_kernel_and_the_output_is_the_address_only(tmp_path):
    process, port, line = start(tmp_path)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=300) as page:
            assert page.status == 200                        # Voilà has started the kernel
        end = time.monotonic() + 120
        while not kernels_of(process.pid) and time.monotonic() < end:
            time.sleep(0.5)
        running = server.descendants(process.pid)
        assert kernels_of(process.pid), "no kernel started"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert gone(running) == []
    with server.socket.socket() as s:
        s.bind(("127.0.0.1", port))                          # the port is free again
    assert (line + out).splitlines() == [line.strip()] and "Ctrl-C stops it" in line
    assert err == ""                                         # no warnings, no Voilà notes


def test_sighup_stops_voila(tmp_path):
    process, port, line = start(tmp_path)
    try:
        running = server.descendants(process.pid)
        assert running
        process.send_signal(signal.SIGHUP)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert gone(running) == [] and out == "" and err == ""


def test_the_filter_drops_only_routine_lines():
    import io
    out = io.StringIO()
    server.forward_errors(["[Voila] WARNING | Notebook present.ipynb is not trusted\n",
                           "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. ...\n",
                           "Traceback (most recent call last):\n"], out)
    assert out.getvalue() == "Traceback (most recent call last):\n"
