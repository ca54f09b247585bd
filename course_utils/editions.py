"""The course's two editions, where each lives, and the first two cells of their notebooks.

- The course as it is ("read it with solutions"): this repository at release.TAG, its
  notebooks in notebooks/ with their solutions.
- The student edition ("work on it"): the tree tagged release.STUDENT_TAG by `assignments
  publish` — what `assignments release` writes: the notebooks without solutions or hidden
  tests, at its root, beside a package without answers.

Every notebook starts with a badges cell that offers both editions (a notebook outside the
student release offers the course only, and says so; a student-edition notebook offers its
own links only) and an install cell that, on Colab or Kaggle, installs its edition's package.
`devtools.notebook_cells` writes them into the course's notebooks, `classroom.handout` into
the student edition's.
"""
import re
from importlib import metadata

import nbformat

from . import release

COURSE, STUDENT = "course", "student"
FOLDERS = {COURSE: "notebooks/", STUDENT: ""}          # where each edition keeps its notebooks
WORK_ON_IT, READ_IT = "Work on it", "Read it with solutions"

BADGES_ID, INSTALL_ID = "course-badges", "course-install"
# Colab and Kaggle ship these; installing them again would replace the runtime's own builds
# (Colab's ipywidgets 7.7.1 in particular) and ask for a restart.
SHIPPED = {"tensorflow", "keras", "numpy", "scipy", "matplotlib", "pillow", "ipywidgets"}
# What the install cell prints on a runtime without TensorFlow, and on a TPU runtime.
NO_TENSORFLOW = "This runtime has no TensorFlow: installing it first (a minute or two)."
ON_A_TPU = ("A TPU runtime: the course runs on its CPU here (it uses a GPU when TensorFlow sees "
            "one, never a TPU); for speed choose a GPU in Runtime > Change runtime type.")
COLAB_METADATA = {"accelerator": "GPU", "colab": {"provenance": [], "gpuType": "T4"}}


def ref(edition):
    """The git tag the edition lives at."""
    return release.STUDENT_TAG if edition == STUDENT else release.TAG


def links(notebook, edition=COURSE):
    """Colab, Kaggle and Binder URLs of the edition's notebook (a file name) at its tag."""
    owner_name, tag, path = release.github_path(), ref(edition), FOLDERS[edition] + notebook
    blob = f"{release.REPOSITORY}/blob/{tag}/{path}"
    return {"colab": f"https://colab.research.google.com/github/{owner_name}/blob/{tag}/{path}",
            "kaggle": f"https://kaggle.com/kernels/welcome?src={blob}",
            "binder": f"https://mybinder.org/v2/gh/{owner_name}/{tag}?labpath={path}"}


def badge_links(notebook, edition=COURSE):
    url = links(notebook, edition)
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url['colab']})\n"
            f"[![Open in Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({url['kaggle']})\n"
            f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({url['binder']})\n")


def choices(notebook, student_edition=True):
    """The two labelled rows of badges of a course notebook: the student edition's (when the
    notebook has one) and the course's own."""
    read = f"**{READ_IT}** — the course as it is, solutions filled in"
    if not student_edition:
        return (f"{read} (this notebook has no student edition: it is not part of the student "
                f"release):\n{badge_links(notebook)}")
    return (f"**{WORK_ON_IT}** — the student edition, without solutions (the links to hand to "
            f"students):\n{badge_links(notebook, STUDENT)}\n"
            f"{read}:\n{badge_links(notebook)}")


def badges(notebook, edition=COURSE, student_edition=True):
    """The badges cell: both editions in the course, the edition's own links in the student's."""
    if edition == STUDENT:
        top = (f"**{WORK_ON_IT}** — this is the student edition of [the course]"
               f"({release.REPOSITORY}), without solutions:\n{badge_links(notebook, STUDENT)}")
        what, here = "its package, which holds no answers", "`pip install .` in this edition's folder"
    else:
        top, what, here = choices(notebook, student_edition), "the course", "`make install`"
    return (top + "\n"
            f"Runs in the cloud as it is: on Colab and Kaggle the next cell installs {what} "
            "(on Kaggle, switch *Internet* on in the notebook's settings first), on Binder it is "
            f"installed already. On your own machine see the README ({here}).")


def requirements():
    """{name: requirement} of the package's own dependencies, as pyproject.toml gives them."""
    found = {}
    for requirement in metadata.requires(release.DISTRIBUTION) or []:
        if ";" in requirement:                    # an extra's (gpu, lab, dev)
            continue
        found[re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()] = requirement
    return found


def light_requirements():
    """The package's requirements that Colab and Kaggle do not ship."""
    return sorted(r for name, r in requirements().items() if name not in SHIPPED)


def install(edition=COURSE):
    """The install cell: on Colab or Kaggle only, the edition's package at its tag without its
    heavy dependencies, the light ones it needs, then the assets; elsewhere one line."""
    light = " ".join(f'"{r}"' for r in light_requirements())
    tag = ref(edition)
    what = "the course package" if edition == COURSE else "the student edition's package"
    return f'''# On Google Colab or Kaggle: install {what} ({tag}) and fetch its pictures
# and VGG-19's weights, keeping the TensorFlow, NumPy and ipywidgets the runtime comes with
# (a runtime without TensorFlow, such as Colab's TPU runtime, gets it installed first).
# Anywhere else (your laptop, Binder, a JupyterHub, CI) the package is installed already.
import importlib.util
import os
import sys

if ("google.colab" in sys.modules or "kaggle_secrets" in sys.modules
        or "KAGGLE_KERNEL_RUN_TYPE" in os.environ):
    if importlib.util.find_spec("tensorflow") is None:
        print("{NO_TENSORFLOW}")
        %pip install -q "{requirements()["tensorflow"]}"
    if importlib.util.find_spec("libtpu") is not None:           # Colab's TPU runtime has it
        print("{ON_A_TPU}")
    %pip install -q --no-deps "{release.DISTRIBUTION} @ git+{release.REPOSITORY}@{tag}"
    %pip install -q {light}
    !{{sys.executable}} -m course_utils fetch
else:
    print("Not on Colab or Kaggle: using the course package installed here.")'''


def with_first_cells(nb, notebook, edition=COURSE, student_edition=True):
    """nb with the edition's badges and install cells first (replacing older ones) and Colab's
    metadata; student_edition says whether a course notebook has a student edition."""
    rest = [c for c in nb.cells if c.get("id") not in (BADGES_ID, INSTALL_ID)]
    first = [nbformat.v4.new_markdown_cell(badges(notebook, edition, student_edition), id=BADGES_ID),
             nbformat.v4.new_code_cell(install(edition), id=INSTALL_ID)]
    nb.cells = first + rest
    nb.metadata.update(COLAB_METADATA)
    return nb
