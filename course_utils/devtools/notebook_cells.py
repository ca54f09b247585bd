"""The first two cells of every notebook: the badges, and the Colab/Kaggle install cell.

Both are made from release.py (REPOSITORY, TAG, STUDENT_TAG) by `editions`, so a fork changes
one value there and runs one command, which also rewrites the README's badges (between its
BADGES markers); the notebooks' metadata asks Colab for a GPU runtime.  A notebook offers the
student edition when the student release has it (`classroom.handout.has_student_edition`).

    python -m course_utils.notebook_cells [NOTEBOOK ...]     # rewrite (default notebooks/*.ipynb)
    python -m course_utils.notebook_cells --check            # exit 1 if one is out of step
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

from .. import editions

README_BADGES = re.compile(r"(<!-- BADGES: python -m course_utils.notebook_cells -->\n).*?(<!-- /BADGES -->)",
                           re.S)
FIRST_NOTEBOOK = "00_setup.ipynb"                # where the README's badges lead


def has_student_edition(notebook):
    """Whether the student release has the notebook: `classroom.handout` decides (imported
    here, not above, because a student release ships this module without the classroom)."""
    from ..classroom import handout
    return handout.has_student_edition(notebook)


def with_first_cells(nb, notebook):
    """nb with the course's badges and install cells first, and Colab's metadata."""
    return editions.with_first_cells(nb, notebook, student_edition=has_student_edition(notebook))


def rewritten(path):
    """(old text, new text) of one notebook file."""
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    nb = with_first_cells(nbformat.reads(old, as_version=4), path.name)
    return old, nbformat.writes(nb) + "\n"


def rewritten_readme(path):
    """(old text, new text) of the README, its badges block offering the first notebook in
    both editions."""
    old = Path(path).read_text(encoding="utf-8")
    block = editions.choices(FIRST_NOTEBOOK, has_student_edition(FIRST_NOTEBOOK))
    return old, README_BADGES.sub(lambda m: m[1] + block + m[2], old)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_utils.notebook_cells",
                                     description="Write the badges and install cell into notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: notebooks/*.ipynb of the current directory")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of step")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not paths:
        print("error: no notebooks found (run this in the course's checkout)", file=sys.stderr)
        return 2
    stale = []
    readme = Path("README.md")
    for path in paths + ([readme] if readme.is_file() else []):
        old, new = rewritten_readme(path) if path == readme else rewritten(path)
        if old != new:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    verb = "out of step" if args.check else "rewrote"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print("run: python -m course_utils.notebook_cells", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
