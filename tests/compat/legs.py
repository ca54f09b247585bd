"""The compatibility legs: the course's wheel on the runtimes students open, rebuilt here.

    .venv/bin/python tests/compat/legs.py colab kaggle floor      # make test-compat

Each leg is a virtual environment made from a CPython of pyenv's (`pyenv prefix 3.13.0`),
with the pins of tests/compat/<leg>.txt (pins.py writes them from the public records) and
the course installed from its wheel.  In it: the unit tests that need no dev tools (no
JupyterLab, Voilà, Sphinx or nbgrader), the quiet-start tests, and notebooks 00-04 under
nbval with the ci preset, run by the environment's own ipykernel and IPython; in the colab
leg also the panel in the classic Notebook 6.5 with ipywidgets 7.7.1 in Chromium (the
"classic" surface of tests/whole/test_browser.py).  The environment is kept in build/compat/ (or
$COURSE_COMPAT_DIR: CI keeps it beside the data cache) under the hash of what went into it
(pins, tools, Python, pyproject.toml) and rebuilt when that changes; the wheel is
reinstalled every time, and pip's cache makes a rebuild quick.  Each leg's time, the load and this machine's
matmul rate go to build/test-artifacts/compat-times.txt.
"""
import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from browser import matmul_rate  # noqa: E402  (one 2048^2 float32 matmul, as beside every timing)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = Path(os.environ.get("COURSE_COMPAT_DIR") or ROOT / "build" / "compat")
TIMES = ROOT / "build" / "test-artifacts" / "compat-times.txt"
TEST_TOOLS = ("pytest>=8.0", "nbval>=0.11")
# Tests of the [dev] extra's tools (the website, nbgrader, the Voilà app, grading with nbclient):
# not in a leg.  The browser tests skip the surfaces whose server a leg lacks (the colab leg
# runs the classic Notebook).
DEV_TESTS = ("whole/test_site.py", "classroom/test_nbgrader.py", "classroom/test_grading.py",
             "classroom/test_cheats.py", "classroom/test_class_scale.py", "app")
# pytest shows every DeprecationWarning, and matplotlib 3.10.0 with pyparsing 3.3 (Colab's and
# Kaggle's pair) raises pyparsing's renames from matplotlib's own calls on each figure; outside
# pytest Python's default filters hide them (test_installed checks a real run's empty stderr),
# so the legs hide them too (pytest's -W takes a literal message, hence the category).
MATPLOTLIB_DEPRECATIONS = "ignore::pyparsing.warnings.PyparsingDeprecationWarning"
NOTEBOOKS = ("00_setup", "01_vgg19_features", "02_content_loss", "03_gram_matrix_and_style_loss",
             "04_total_loss_and_transfer")
# The packages whose oldest claimed version the floor leg pins (pyproject's >= bounds).
FLOOR_NAMES = {"tensorflow", "keras", "numpy", "scipy", "matplotlib", "pillow", "ipywidgets",
               "nbformat", "pooch", "tqdm", "threadpoolctl", "ipykernel"}


@dataclasses.dataclass(frozen=True)
class Leg:
    python: str                 # pyenv's CPython
    what: str
    tools: tuple = TEST_TOOLS


LEGS = {
    "colab": Leg("3.13.0", "Google Colab's runtime (CPU and GPU images alike)",
                 TEST_TOOLS + ("notebook", "playwright>=1.40")),
    "kaggle": Leg("3.12.1", "Kaggle's notebook image (its base is a Colab image)"),
    "floor": Leg("3.10.13", "the oldest versions the course claims, on its oldest Python"),
}


def python_for(leg):
    """The leg's CPython: pyenv's (`pyenv prefix`, or its folder when pyenv is not on the PATH,
    as in a shell without the user's profile), else pythonX.Y on the PATH."""
    version = LEGS[leg].python
    try:
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True,
                                check=True).stdout.strip()
        return str(Path(prefix) / "bin" / "python3")
    except (OSError, subprocess.CalledProcessError):
        pass
    folder = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions" / version
    found = (folder / "bin" / "python3" if (folder / "bin" / "python3").exists()
             else shutil.which("python" + ".".join(version.split(".")[:2])))
    if not found:
        sys.exit(f"error: no CPython {version} for the {leg} leg (pyenv install {version})")
    return str(found)


def pins(leg):
    return HERE / f"{leg}.txt"


def key(leg):
    """What the leg's environment is made of, hashed: a change rebuilds it."""
    h = hashlib.sha256()
    for part in (pins(leg).read_bytes(), (ROOT / "pyproject.toml").read_bytes(),
                 repr(LEGS[leg]).encode()):
        h.update(part)
    return h.hexdigest()[:12]


def sh(*command, **kw):
    print("+", " ".join(map(str, command)), flush=True)
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in command], **kw)


def wheel():
    """A wheel of the checkout's package, built afresh."""
    out = ROOT / "build" / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    return next(out.glob("nst_course-*.whl"))


def environment(leg, package):
    """build/compat/<leg>-<key>: made once per key (older ones removed), the wheel reinstalled."""
    venv = BUILD / f"{leg}-{key(leg)}"
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check"]
    if not (venv / ".complete").exists():
        for old in BUILD.glob(f"{leg}-*"):
            shutil.rmtree(old)
        sh(python_for(leg), "-m", "venv", venv)
        sh(*pip, "install", "-q", "-c", pins(leg), package, *LEGS[leg].tools)
        (venv / ".complete").touch()
    sh(*pip, "install", "-q", "--no-deps", "--force-reinstall", package)
    return venv


def run(leg, package):
    start, load = time.monotonic(), os.getloadavg()[0]
    cached = (BUILD / f"{leg}-{key(leg)}" / ".complete").exists()
    venv = environment(leg, package)
    built = time.monotonic() - start
    env = dict(os.environ, COURSE_PRESET="ci", NST_INSTALLED_FROM_WHEEL="1")
    env.pop("PYTHONPATH", None)
    # bin/pytest, not python -m pytest: the checkout must not be on sys.path (the wheel is used)
    tests = sh(venv / "bin" / "pytest", "-p", "no:cacheprovider", "-W", MATPLOTLIB_DEPRECATIONS, "--nbval-lax",
               "--nbval-current-env", *(f"--ignore=tests/{t}" for t in DEV_TESTS), "tests",
               *(f"notebooks/{n}.ipynb" for n in NOTEBOOKS), cwd=ROOT, env=env, check=False)
    total = time.monotonic() - start
    versions = subprocess.run([venv / "bin" / "python", "-c",
                               "import sys, tensorflow as tf, keras, numpy, ipywidgets, IPython, "
                               "ipykernel; print(sys.version.split()[0], tf.__version__, "
                               "keras.__version__, numpy.__version__, ipywidgets.__version__, "
                               "IPython.__version__, ipykernel.__version__)"],
                              capture_output=True, text=True, env=env).stdout.split()
    names = "python tensorflow keras numpy ipywidgets ipython ipykernel".split()
    line = (f"{time.strftime('%Y-%m-%d %H:%M')} {leg}: {'passed' if tests.returncode == 0 else 'FAILED'}"
            f" in {total:.0f} s (environment {'reused' if cached else 'built'}: {built:.0f} s); "
            f"load {load:.1f} -> {os.getloadavg()[0]:.1f}; matmul 2048^2 float32 "
            f"{matmul_rate():.0f} GFLOP/s; "
            + ", ".join(f"{n} {v}" for n, v in zip(names, versions)))
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    with TIMES.open("a") as out:
        out.write(line + "\n")
    print(line, flush=True)
    return tests.returncode


def main(argv):
    chosen = argv or list(LEGS)
    unknown = [leg for leg in chosen if leg not in LEGS]
    if unknown:
        sys.exit(f"error: unknown leg {', '.join(unknown)}; the legs are {', '.join(LEGS)}")
    package = wheel()
    failed = [leg for leg in chosen if run(leg, package) != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
