"""``python -m course_utils.notebook_cells``, kept at this path for the Makefile and scripts: the code is
`devtools.notebook_cells`, and importing this module gives that one."""
import sys

from .devtools import notebook_cells as module

if __name__ == "__main__":
    sys.exit(module.main())
sys.modules[__name__] = module
