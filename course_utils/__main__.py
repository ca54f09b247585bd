"""``python -m course_utils ...``: see course_utils/cli.py."""
import sys

from .cli import main

sys.exit(main())
