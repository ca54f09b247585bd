"""``python -m course_utils ...``: see course_utils/cli.py."""
import sys

from .startup import run_command

sys.exit(run_command("course_utils.cli"))
