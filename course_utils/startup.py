"""TensorFlow's start-up without its C++ chatter on stderr.

TensorFlow's C++ side writes a few lines to file descriptor 2 while it loads and when it
first looks for a GPU ("oneDNN custom operations are on", "Could not find cuda drivers",
"failed call to cuInit", ...), before TF_CPP_MIN_LOG_LEVEL is read, where Python's
warnings filters cannot reach.  Newcomers read them as errors and nbgrader counts them
as failures.  `quiet_tensorflow()` arranges that the first ``import tensorflow`` (by the
course or by a notebook) runs with fd 2 captured; afterwards every captured line that
is not known start-up chatter is written back to stderr, so real warnings still show.
"""
import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile

CHATTER = re.compile("|".join([
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called",
    r"oneDNN custom operations are on",
    r"Could not find cuda drivers",
    r"failed call to cuInit",
    r"TensorFlow binary is optimized to use available CPU instructions",
    r"rebuild TensorFlow with the appropriate compiler flags",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
    r"NUMA node read from SysFS",
]))


def is_chatter(line):
    return bool(CHATTER.search(line))


@contextlib.contextmanager
def filtered_stderr():
    """Capture fd 2 (C++ and Python writes alike); on exit, pass on all but the chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not is_chatter(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _import_quietly(exec_module):
    def exec_tensorflow(module):
        with filtered_stderr():
            exec_module(module)
            module.config.list_physical_devices("GPU")   # the device search logs too (cuInit)
    return exec_tensorflow


class _FirstImport:
    """A meta-path finder that only wraps the first import of tensorflow, then leaves."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)            # as if this finder were not there
        if spec is not None and spec.loader is not None:
            spec.loader.exec_module = _import_quietly(spec.loader.exec_module)
        return spec


# The newest Python that TensorFlow publishes wheels for (pyproject.toml's requires-python says
# the same to pip); on a newer one the course cannot run unless a TensorFlow is there after all.
NEWEST_PYTHON = (3, 13)


def check_python(version=None, find_spec=importlib.util.find_spec):
    """Raise a one-line ImportError on a Python that TensorFlow has no wheel for, if no
    TensorFlow is installed (instead of a traceback from the first `import tensorflow`)."""
    major, minor = (version or sys.version_info)[:2]
    if (major, minor) > NEWEST_PYTHON and find_spec("tensorflow") is None:
        newest = ".".join(map(str, NEWEST_PYTHON))
        raise ImportError(f"the course needs TensorFlow, which has no wheel for Python "
                          f"{major}.{minor} yet: use Python 3.10 to {newest} (as Colab and Kaggle do)")


def quiet_tensorflow():
    """Make the first import of tensorflow quiet (nothing to do if it already happened)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TF's own INFO and WARNING logs
    if "tensorflow" in sys.modules or any(isinstance(f, _FirstImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _FirstImport())


# What a command says when Ctrl-C reaches it at a moment it has nothing of its own to say (while
# it loads: TensorFlow takes seconds).  Every file the course writes is written whole or not at all.
INTERRUPTED = "interrupted before it finished; no file is left half-written"


def run_command(module_name):
    """Import a command's module and return its main()'s exit status.  A Ctrl-C the command
    does not handle itself (one while it loads, say) ends it with one line and status 130."""
    try:
        return importlib.import_module(module_name).main()
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
