"""The badges and the Colab/Kaggle install cell: first in every notebook, made from release.py."""
import importlib.machinery
import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_utils import editions, release
from course_utils.classroom import cli
from course_utils.devtools import notebook_cells

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_committed_notebook_is_in_step_with_release_py(path):
    old, new = notebook_cells.rewritten(path)
    assert old == new, f"{path.name}: run python -m course_utils.notebook_cells"
    nb = json.loads(old)
    assert [c["id"] for c in nb["cells"][:2]] == [editions.BADGES_ID, editions.INSTALL_ID]
    assert nb["metadata"]["accelerator"] == "GPU" and nb["metadata"]["colab"]["gpuType"] == "T4"


def test_a_fork_changes_one_value(monkeypatch):
    monkeypatch.setattr(release, "REPOSITORY", "https://github.com/a-teacher/nst-fork")
    monkeypatch.setattr(release, "TAG", "spring-2027")
    monkeypatch.setattr(release, "STUDENT_TAG", "spring-2027-student")   # TAG + "-student" there
    cells = editions.badges("02_content_loss.ipynb") + editions.install()
    assert "nst-course/neural-style-transfer" not in cells
    assert ("https://colab.research.google.com/github/a-teacher/nst-fork/blob/spring-2027/"
            "notebooks/02_content_loss.ipynb") in cells
    assert ("https://colab.research.google.com/github/a-teacher/nst-fork/blob/spring-2027-student/"
            "02_content_loss.ipynb") in cells
    assert "https://mybinder.org/v2/gh/a-teacher/nst-fork/spring-2027?labpath=notebooks/" in cells
    assert "git+https://github.com/a-teacher/nst-fork@spring-2027\"" in cells
    student = (editions.badges("02_content_loss.ipynb", editions.STUDENT)
               + editions.install(editions.STUDENT))
    assert "git+https://github.com/a-teacher/nst-fork@spring-2027-student\"" in student
    assert "blob/spring-2027/" not in student and "spring-2027?" not in student


def test_the_badges_offer_both_editions_named_plainly():
    cell = editions.badges("02_content_loss.ipynb")
    work, read = cell.index(f"**{editions.WORK_ON_IT}**"), cell.index(f"**{editions.READ_IT}**")
    assert work < read
    assert cell[work:read].count(f"/{release.STUDENT_TAG}") == 3            # Colab, Kaggle, Binder
    assert f"/{release.TAG}/" not in cell[work:read] and f"/{release.TAG}?" not in cell[work:read]
    assert cell[read:].count(f"{release.TAG}/notebooks/") == 2              # Colab, Kaggle
    assert f"{release.TAG}?labpath=notebooks/" in cell[read:]
    alone = editions.badges("07_regions_blends_and_stages.ipynb", student_edition=False)
    assert editions.WORK_ON_IT not in alone and "has no student edition" in alone
    student = editions.badges("02_content_loss.ipynb", editions.STUDENT)
    assert editions.READ_IT not in student and f"/{release.TAG}/" not in student
    assert student.count(f"/{release.STUDENT_TAG}") == 3


def test_check_finds_a_work_on_it_badge_that_opens_the_course(tmp_path, monkeypatch, capsys):
    """The student-edition badges of a notebook pointed at the course are out of step."""
    notebook = tmp_path / "notebooks" / "02_content_loss.ipynb"
    notebook.parent.mkdir()
    notebook.write_text((ROOT / "notebooks" / notebook.name).read_text())
    monkeypatch.chdir(tmp_path)
    assert notebook_cells.main(["--check"]) == 0
    notebook.write_text(notebook.read_text().replace(f"/{release.STUDENT_TAG}/", f"/{release.TAG}/"))
    assert notebook_cells.main(["--check"]) == 1
    assert "out of step: notebooks/02_content_loss.ipynb" in capsys.readouterr().out


class FakeIPython:
    """Records the magics and shell commands the install cell asks for."""

    def __init__(self):
        self.calls = []

    def run_line_magic(self, name, line):
        self.calls.append((name, line))

    def system(self, command):
        self.calls.append(("!", command))


def run_install_cell(monkeypatch, on=None, missing=(), present=(), edition=editions.COURSE):
    """Run the install cell in a fake runtime: `on` a module Colab or Kaggle has, without the
    packages `missing` and with the packages `present` (as importlib.util.find_spec sees them)."""
    for module in ("google.colab", "kaggle_secrets"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    if on:
        monkeypatch.setitem(sys.modules, on, types.ModuleType(on))
    real = importlib.util.find_spec

    def find_spec(name, *args):
        if name in missing:
            return None
        if name in present:
            return importlib.machinery.ModuleSpec(name, None)
        return real(name, *args)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    ipython = FakeIPython()
    code = TransformerManager().transform_cell(editions.install(edition))
    exec(code, {"get_ipython": lambda: ipython})
    return ipython.calls


@pytest.mark.parametrize("runtime", ["google.colab", "kaggle_secrets"])
@pytest.mark.parametrize("edition", [editions.COURSE, editions.STUDENT])
def test_on_colab_or_kaggle_the_cell_installs_the_tag_without_the_heavy_packages(monkeypatch, runtime,
                                                                                 edition):
    calls = run_install_cell(monkeypatch, on=runtime, present={"tensorflow"}, missing={"libtpu"},
                             edition=edition)
    (m1, package), (m2, light), (shell, fetch) = calls
    assert (m1, m2, shell) == ("pip", "pip", "!")
    assert package.startswith("install -q --no-deps ")
    assert f'"{release.DISTRIBUTION} @ git+{release.REPOSITORY}@{editions.ref(edition)}"' in package
    assert editions.ref(editions.STUDENT) == release.STUDENT_TAG != release.TAG
    assert "pooch" in light and "tqdm" in light and "--no-deps" not in light
    for heavy in ("tensorflow", "numpy", "ipywidgets", "keras"):
        assert heavy not in light
    assert fetch.endswith("-m course_utils fetch")


def test_a_runtime_without_tensorflow_gets_it_first_saying_so_in_one_line(monkeypatch, capsys):
    """Colab's TPU runtime has no tensorflow (its pip-freeze.tpu.txt)."""
    calls = run_install_cell(monkeypatch, on="google.colab", missing={"tensorflow", "libtpu"})
    assert calls[0] == ("pip", f'install -q "{editions.requirements()["tensorflow"]}"')
    assert re.fullmatch(r"tensorflow[<>=,.0-9]*>=[0-9.]+[<>=,.0-9]*", editions.requirements()["tensorflow"])
    assert [name for name, _ in calls[1:]] == ["pip", "pip", "!"]       # then as usual
    assert capsys.readouterr().out == editions.NO_TENSORFLOW + "\n"


def test_a_tpu_runtime_is_told_the_course_runs_on_its_cpu(monkeypatch, capsys):
    calls = run_install_cell(monkeypatch, on="google.colab", missing={"tensorflow"},
                             present={"libtpu"})
    assert capsys.readouterr().out == editions.NO_TENSORFLOW + "\n" + editions.ON_A_TPU + "\n"
    assert "tensorflow" in calls[0][1] and len(calls) == 4


def test_with_tensorflow_and_no_tpu_the_cell_prints_nothing_of_either(monkeypatch, capsys):
    calls = run_install_cell(monkeypatch, on="kaggle_secrets", present={"tensorflow"},
                             missing={"libtpu"})
    assert len(calls) == 3 and "tensorflow" not in calls[0][1].split("@")[0]
    assert capsys.readouterr().out == ""


def test_elsewhere_the_cell_says_so_in_one_line_and_installs_nothing(monkeypatch, capsys):
    assert run_install_cell(monkeypatch) == []
    assert capsys.readouterr().out == "Not on Colab or Kaggle: using the course package installed here.\n"


def test_the_light_requirements_are_the_packages_own(monkeypatch):
    names = {r.split(">")[0].split("=")[0] for r in editions.light_requirements()}
    assert {"pooch", "tqdm", "threadpoolctl", "nbformat"} <= names
    assert not names & editions.SHIPPED


def test_the_student_build_keeps_the_first_cells(tmp_path):
    source = ROOT / "notebooks" / "03_gram_matrix_and_style_loss.ipynb"
    assert cli.main(["student", str(tmp_path), str(source)]) == 0
    student = nbformat.read(tmp_path / source.name, as_version=4)
    original = nbformat.read(source, as_version=4)
    assert [c.source for c in student.cells[:2]] == [c.source for c in original.cells[:2]]
    assert student.metadata["accelerator"] == "GPU"


def test_the_readme_badges_are_in_step():
    old, new = notebook_cells.rewritten_readme(ROOT / "README.md")
    assert old == new, "run python -m course_utils.notebook_cells"
    assert editions.links(notebook_cells.FIRST_NOTEBOOK)["colab"] in old
