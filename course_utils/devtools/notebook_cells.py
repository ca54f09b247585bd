"""The first two cells of every notebook: the badges, and the Colab/Kaggle install cell.

Both are made from release.py (REPOSITORY, TAG), so a fork changes one value there and
runs one command, which also rewrites the README's badges (between its BADGES markers);
the notebooks' metadata asks Colab for a GPU runtime.

    python -m course_utils.notebook_cells [NOTEBOOK ...]     # rewrite (default notebooks/*.ipynb)
    python -m course_utils.notebook_cells --check            # exit 1 if one is out of step
"""
import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

import nbformat

from .. import release

BADGES_ID, INSTALL_ID = "course-badges", "course-install"
README_BADGES = re.compile(r"(<!-- BADGES: python -m course_utils.notebook_cells -->\n).*?(<!-- /BADGES -->)",
                           re.S)
FIRST_NOTEBOOK = "00_setup.ipynb"                # where the README's badges lead
# Colab and Kaggle ship these; installing them again would replace the runtime's own builds
# (Colab's ipywidgets 7.7.1 in particular) and ask for a restart.
SHIPPED = {"tensorflow", "keras", "numpy", "scipy", "matplotlib", "pillow", "ipywidgets"}
# What the install cell prints on a runtime without TensorFlow, and on a TPU runtime.
NO_TENSORFLOW = "This runtime has no TensorFlow: installing it first (a minute or two)."
ON_A_TPU = ("A TPU runtime: the course runs on its CPU here (it uses a GPU when TensorFlow sees "
            "one, never a TPU); for speed choose a GPU in Runtime > Change runtime type.")
COLAB_METADATA = {"accelerator": "GPU", "colab": {"provenance": [], "gpuType": "T4"}}


def links(notebook):
    """Colab, Kaggle and Binder URLs of notebooks/<notebook> at the release tag."""
    owner_name, path = release.github_path(), f"notebooks/{notebook}"
    blob = f"{release.REPOSITORY}/blob/{release.TAG}/{path}"
    return {"colab": f"https://colab.research.google.com/github/{owner_name}/blob/{release.TAG}/{path}",
            "kaggle": f"https://kaggle.com/kernels/welcome?src={blob}",
            "binder": f"https://mybinder.org/v2/gh/{owner_name}/{release.TAG}?labpath={path}"}


def badge_links(notebook):
    url = links(notebook)
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url['colab']})\n"
            f"[![Open in Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({url['kaggle']})\n"
            f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({url['binder']})\n")


def badges(notebook):
    return (badge_links(notebook) + "\n"
            "Runs in the cloud as it is: on Colab and Kaggle the next cell installs the course "
            "(on Kaggle, switch *Internet* on in the notebook's settings first), on Binder it is "
            "installed already. On your own machine see the README (`make install`).")


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


def install():
    """The install cell: on Colab or Kaggle only, the package at the release tag without its
    heavy dependencies, the light ones it needs, then the assets; elsewhere one line."""
    light = " ".join(f'"{r}"' for r in light_requirements())
    return f'''# On Google Colab or Kaggle: install the course package ({release.TAG}) and fetch its pictures
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
    %pip install -q --no-deps "{release.DISTRIBUTION} @ git+{release.REPOSITORY}@{release.TAG}"
    %pip install -q {light}
    !{{sys.executable}} -m course_utils fetch
else:
    print("Not on Colab or Kaggle: using the course package installed here.")'''


def with_first_cells(nb, notebook):
    """nb with the badges and install cells first (replacing older ones) and Colab's metadata."""
    rest = [c for c in nb.cells if c.get("id") not in (BADGES_ID, INSTALL_ID)]
    first = [nbformat.v4.new_markdown_cell(badges(notebook), id=BADGES_ID),
             nbformat.v4.new_code_cell(install(), id=INSTALL_ID)]
    nb.cells = first + rest
    nb.metadata.update(COLAB_METADATA)
    return nb


def rewritten(path):
    """(old text, new text) of one notebook file."""
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    nb = with_first_cells(nbformat.reads(old, as_version=4), path.name)
    return old, nbformat.writes(nb) + "\n"


def rewritten_readme(path):
    """(old text, new text) of the README, its badges block pointing at the first notebook."""
    old = Path(path).read_text(encoding="utf-8")
    return old, README_BADGES.sub(lambda m: m[1] + badge_links(FIRST_NOTEBOOK) + m[2], old)


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
