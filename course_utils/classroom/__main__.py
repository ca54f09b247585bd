"""``python -m course_utils.classroom ...``: the instructors' routes (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
