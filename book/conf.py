"""Sphinx + MyST-NB configuration of the course website (built by book/build.py, `make book`).

Offline by design: MathJax is served from _static/mathjax, the theme bundles its fonts and
scripts, widget outputs become a note instead of loading the widget manager from a CDN, and
launch and download links are plain links (nothing is fetched when a page loads).
"""
import json
import os
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

from course_utils.devtools import notebook_cells
from course_utils import editions, release as course_release

project = "Neural style transfer, step by step"
release = course_release.VERSION
author = "the course's authors"
copyright = "the course's authors; pictures: see the credits in the README"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]          # the README starts at '#', then jumps to '###' nowhere

# --- the notebooks: executed under $COURSE_PRESET, cached per preset (book/build.py sets both)
nb_execution_mode = "cache"
# The cache's path names the package's hash: a new package changes this setting, and so makes
# Sphinx read (and MyST-NB execute) every notebook again.
nb_execution_cache_path = os.environ.get("COURSE_BOOK_CACHE", str(Path("..") / "jupyter_cache"))
nb_execution_timeout = -1                    # `quality` runs minutes per cell on a CPU
nb_execution_raise_on_error = True           # a broken notebook breaks the build
nb_execution_show_tb = True
nb_merge_streams = True
nb_output_stderr = "remove"                  # TensorFlow's start-up log is not the course
nb_render_markdown_format = "myst"          # display(Markdown(...)) tables hold equations too
nb_ipywidgets_js = {}                        # no require.js / widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "substitution"]
myst_heading_anchors = 3

# --- maths: MathJax 3 from the PyPI package django-static-mathjax, copied into _static by build.py
mathjax_path = "mathjax/tex-mml-chtml.js"

# --- the page
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_last_updated_fmt = None
html_context = {"default_mode": "light"}   # the theme logs an error without one
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}


RUN_ON = {"colab": "Colab", "kaggle": "Kaggle", "binder": "Binder"}


def launch_links(notebook, edition=editions.COURSE):
    """{'Colab': url, ...}: the notebooks' own badges' links (release.py's repository and tags)."""
    return {RUN_ON[name]: url for name, url in editions.links(notebook, edition).items()}


BINDER = f"https://mybinder.org/v2/gh/{course_release.github_path()}"
myst_substitutions = {"binder_course": f"{BINDER}/{course_release.TAG}?urlpath=lab/tree/notebooks",
                      "binder_student": f"{BINDER}/{course_release.STUDENT_TAG}?urlpath=lab/tree/"}


def run_row(label, note, urls):
    """One row of links under a title: the label, what it opens, then 'on Colab · ...'."""
    row = nodes.paragraph(classes=["run-links"])
    row += nodes.strong(text=label)
    row += nodes.Text(f" — {note}: ")
    for index, (name, url) in enumerate(urls.items()):
        row += nodes.Text(" · " if index else "")
        row += nodes.reference("", f"on {name}", refuri=url, classes=["run-link"])
    return row


def add_run_links(app, doctree):
    """Under a notebook's title, the notebook's two editions as its badges offer them: work on
    it (the student edition) and read it with solutions (the course: on Colab, Kaggle or
    Binder, or downloaded, output-free).  They replace what comes before the title in the
    notebook, its badges (pictures from other hosts) and its Colab/Kaggle install cell (it
    does nothing here)."""
    docname = app.env.docname
    if not docname.startswith("notebooks/"):
        return
    path = f"{docname}.ipynb"
    section = doctree.next_node(nodes.section)
    if section.parent is doctree:
        for node in list(doctree.children[:doctree.index(section)]):
            if isinstance(node, (nodes.paragraph, nodes.container)):
                doctree.remove(node)
    notebook = Path(path).name
    rows = []
    if notebook_cells.has_student_edition(notebook):
        rows.append(run_row(editions.WORK_ON_IT, "the student edition, without solutions (the "
                            "links to hand to students)", launch_links(notebook, editions.STUDENT)))
        read = "the course as it is, solutions filled in"
    else:
        read = "the course as it is (this notebook has no student edition)"
    rows.append(run_row(editions.READ_IT, read, launch_links(notebook)))
    download = addnodes.download_reference("", "", reftarget=f"/{path}", refdoc=docname,
                                           refexplicit=True, refdomain="", reftype="download")
    download += nodes.Text(f"download {notebook}")
    rows[-1] += nodes.Text(" · ")
    rows[-1] += download
    title = doctree.next_node(nodes.title)
    for row in reversed(rows):
        title.parent.insert(title.parent.index(title) + 1, row)


WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}


def widget_state(env, docname):
    """The notebook's saved widget models {model_id: model}, taken out of the page (no widget
    manager runs on the site, so the state would only be dead weight)."""
    from myst_nb.sphinx_ import NbMetadataCollector
    js_files = NbMetadataCollector.get_doc_data(env)[docname].get("js_files", {})
    _, script = js_files.pop("ipywidgets_state", (None, {}))
    return json.loads(script.get("body") or "{}").get("state", {})


def is_progress_bar(model, state):
    """tqdm's notebook bar: a box around a progress widget."""
    children = model.get("state", {}).get("children", [])
    return any(state.get(child.removeprefix("IPY_MODEL_"), {}).get("model_name") in PROGRESS_MODELS
               for child in children)


def replace_widget_views(app, doctree):
    """Widgets need a kernel.  A progress bar is dropped (the run it showed is over); any other
    widget (the control panel) becomes a note that says where to run it."""
    state = widget_state(app.env, app.env.docname)
    for raw in list(doctree.findall(nodes.raw)):
        if not raw.astext().startswith(WIDGET_VIEW):
            continue
        view = json.loads(raw.astext()[len(WIDGET_VIEW):].removesuffix("</script>"))
        if is_progress_bar(state.get(view.get("model_id"), {}), state):
            raw.parent.remove(raw)
            continue
        note = nodes.note()
        note += nodes.paragraph(text="A live control panel appears here when the notebook "
                                     "runs (on Colab, on Binder or on your machine: see the "
                                     "links under the title). The website shows the results, "
                                     "not the controls.")
        raw.replace_self(note)


def remote_images_as_text(app, doctree):
    """A picture from another host (a badge) becomes its alt text: the page loads nothing remote."""
    for image in list(doctree.findall(nodes.image)):
        if "://" in image["uri"]:
            image.replace_self(nodes.Text(image.get("alt") or image["uri"]))


def setup(app):
    # before Sphinx's own collectors (priority 500), so the download link is collected
    app.connect("doctree-read", add_run_links, priority=400)
    app.connect("doctree-read", replace_widget_views, priority=400)
    app.connect("doctree-read", remote_images_as_text, priority=400)
