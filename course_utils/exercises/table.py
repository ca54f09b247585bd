"""Where an exercise's expected values come from: the answer key, or the stored table.

In the full course, a check computes its table (test cases, the reference outputs, the
outputs of every known mistake) from the answer key, `classroom.answers`.  The student
release has no classroom sub-package: it stores the tables of the graded exercises in
answers.json beside the package (in `cases`' format).
"""
import functools
import json
import os
from pathlib import Path

from .cases import GRADED, decode

STORED_NAME = "answers.json"
HIDDEN_ENV = "COURSE_HIDDEN_ANSWERS"       # the hidden cases' table, given to graders only


class NotAvailable(Exception):
    """The table cannot be had here (hidden cases in a student release); the message says why."""


def stored_path():
    """The stored answers.json of a student release (beside the package)."""
    return Path(__file__).resolve().parent.parent / STORED_NAME


def is_release():
    """Whether this package is a student release: it has stored answers (and no answer key)."""
    return stored_path().is_file()


def table(name, hidden=False):
    """{equation, answer, hints, cases}: the cases of one exercise with their expected
    (`want`) and wrong outputs."""
    if not is_release():
        return _computed(name, hidden)
    if name not in GRADED:
        raise NotAvailable(f"{name}: this check is not part of the student release.")
    if not hidden:
        return _stored(str(stored_path()))[name]
    graders = os.environ.get(HIDDEN_ENV, "")
    if not graders or not Path(graders).is_file():
        raise NotAvailable(f"{name}: the hidden test cases are not part of the student "
                           "release; they run when your work is graded.")
    return _stored(graders)[name]


@functools.lru_cache(maxsize=None)
def _computed(name, hidden):
    # Upward on purpose: the full course's expected values are the answer key's; a student
    # release never gets here (it has answers.json and no classroom sub-package).
    from ..classroom import answers
    return answers.table(name, hidden)


@functools.lru_cache(maxsize=4)
def _stored(path):
    return decode(json.loads(Path(path).read_text(encoding="utf-8")))
