"""``python -m course_utils.assignments ...``: the instructors' routes, kept at this path
for instructors' scripts.  The code is in `classroom` (see classroom/cli.py)."""
import importlib.util
import sys

from .startup import run_command

if __name__ == "__main__":
    if importlib.util.find_spec("course_utils.classroom") is None:    # a student release
        print("error: the instructors' routes are not part of the student release", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_command("course_utils.classroom.cli"))
