"""Where the course lives: its repository and the release the notebooks install.

The one place to change when the course is forked: set REPOSITORY to the fork's
GitHub URL (and VERSION / TAG to a tag that exists there), then run
``python -m course_utils.notebook_cells`` (``make notebook-cells``) to rewrite
the first two cells of every notebook — the badges and the Colab/Kaggle install
cell — from these values, and ``python -m course_utils.assignments publish`` to tag the
student edition.  pyproject.toml takes the package version from here.
"""
DISTRIBUTION = "nst-course"                      # pyproject.toml's [project] name
VERSION = "0.1.0"
REPOSITORY = "https://github.com/nst-course/neural-style-transfer"   # placeholder: forks change it
TAG = "v" + VERSION                              # the git tag the notebooks install and link to
# The student edition's tag: its tree is what `assignments release` writes (notebooks without
# solutions, a package without answers), made and tagged by `assignments publish`.
STUDENT_TAG = TAG + "-student"


def github_path():
    """'owner/name' of REPOSITORY (the badges' URLs need it)."""
    prefix = "https://github.com/"
    if not REPOSITORY.startswith(prefix):
        raise ValueError(f"REPOSITORY must be a GitHub URL ({prefix}OWNER/NAME), got {REPOSITORY!r}")
    return REPOSITORY[len(prefix):].rstrip("/").removesuffix(".git")
