"""``python -m course_utils.assignments ...``: the instructors' routes, kept at this path
for instructors' scripts.  The code is in `classroom` (see classroom/cli.py)."""
import sys

try:
    from .classroom.cli import main
except ImportError:              # a student release: the classroom sub-package is left out
    def main(argv=None):
        print("error: the instructors' routes are not part of the student release",
              file=sys.stderr)
        return 2

if __name__ == "__main__":
    sys.exit(main())
