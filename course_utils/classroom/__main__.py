"""``python -m course_utils.classroom ...``: the instructors' routes (see cli.py)."""
import sys

from ..startup import run_command

sys.exit(run_command("course_utils.classroom.cli"))
