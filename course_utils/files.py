"""Writing files whole or not at all: the course's one atomic writer.

Every file the course writes (pictures, figures, notebooks of a release, the CSV of a grading,
the student's my_losses.py) goes through `write_atomically`: a temporary file beside the
target, then a rename, so a crash or Ctrl-C never leaves half a file.  The file gets the mode
open() would give it (0644 under the usual umask 022), not mkstemp's 0600.
"""
import os
import secrets
from pathlib import Path


class WriteError(OSError):
    """A file could not be written; the message says which file and why, in one line."""

    def __str__(self):
        return self.strerror


def write_atomically(path, data):
    """Write `data` (bytes, str as UTF-8, or a function of a binary file) to `path` atomically.

    Either the whole file appears or nothing does.  Returns the path; a `WriteError` if the
    file cannot be made ("cannot write ...") or writing it fails ("could not write ...").
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    write = data if callable(data) else (lambda f: f.write(data))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    except OSError as err:
        raise WriteError(err.errno, f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise WriteError(err.errno, f"could not write {path}: {err.strerror or err}") from None
        raise
    return path


def write_all(outputs):
    """Write every {path: bytes} atomically; the paths, in order."""
    for path, data in outputs.items():
        write_atomically(path, data)
    return list(outputs)
