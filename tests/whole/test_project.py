"""The project's own rules: requirements in step, notebooks without outputs, CI runs the README's command."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def requirement_lines(text):
    return {line.split("#")[0].strip() for line in text.splitlines()
            if line.split("#")[0].strip()}


def pyproject():
    tomllib = pytest.importorskip("tomllib")          # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_packages_as_requirements_txt():
    reqs = requirement_lines((ROOT / "requirements.txt").read_text())
    env = (ROOT / "environment.yml").read_text()
    pip_section = env.split("- pip:")[1]
    env_reqs = {m.split("#")[0].strip()
                for m in re.findall(r"^\s+-\s+(\S.*)$", pip_section, re.M)}
    assert reqs and env_reqs == reqs | {"-e ."}
    assert "python=3.11" in env and "conda-forge" in env


def test_requirements_txt_is_pyprojects_dependencies_and_its_lab_and_dev_extras():
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    name = project["name"]
    wanted = set(project["dependencies"]) | set(extras["lab"]) | set(extras["dev"])
    assert f"{name}[lab]" in wanted                     # dev = lab + the test tools
    wanted.discard(f"{name}[lab]")
    assert requirement_lines((ROOT / "requirements.txt").read_text()) == wanted


def test_the_package_is_explicit_and_carries_its_manifest():
    config = pyproject()
    packages = config["tool"]["setuptools"]["packages"]
    on_disk = sorted("course_utils" + "".join("." + p for p in init.parent.relative_to(ROOT / "course_utils").parts)
                     for init in (ROOT / "course_utils").rglob("__init__.py"))
    assert sorted(packages) == on_disk                              # every sub-package, listed
    assert "*.ipynb" in config["tool"]["setuptools"]["package-data"]["course_utils.app"]
    assert "assets.json" in config["tool"]["setuptools"]["package-data"]["course_utils"]
    assert (ROOT / "course_utils" / "assets.json").is_file()
    # Colab runs 3.13; TensorFlow has no wheel for 3.14, so pip says so in one line there
    from course_utils.startup import NEWEST_PYTHON
    assert config["project"]["requires-python"] == f">=3.10,<3.{NEWEST_PYTHON[1] + 1}"
    from course_utils import release
    assert config["project"]["name"] == release.DISTRIBUTION       # what the install cell names
    script = config["project"]["scripts"]["nst-course"]
    assert script == "course_utils.cli:main"


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for nb in notebooks:
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{nb.name}: cells {dirty} have outputs; clear them before committing"


def test_every_notebook_opens_with_its_header():
    # After the badges and the install cell: the title, what the student will be able to do,
    # the time (reading and exercises; compute under the default preset on a 2-core CPU, and
    # on a GPU) and what it assumes (docs/performance.md, "Each notebook as a lab").
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        header = "".join(cells[2]["source"])
        number = int(nb.name[:2])
        assert cells[2]["cell_type"] == "markdown" and header.startswith(f"# {number} · "), nb.name
        for part in ("**After this notebook you will be able to**", "**Time.** Reading and exercises: about",
                     "Compute under the default preset (`demo`) on a 2-core CPU:",
                     "On a GPU the default is `quality`", "**Assumes.**"):
            assert part in header, f"{nb.name}: its header has no {part!r}"


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert re.search(r"^make test\nmake test-compat$", ci, re.M)     # Colab's pins, after
    assert "make test" in readme and "make demo" in readme


def test_binder_installs_the_package_and_fetches_the_assets():
    binder = ROOT / "binder"
    post_build = (binder / "postBuild").read_text()
    assert (binder / "postBuild").stat().st_mode & 0o111          # repo2docker runs it
    assert 'pip install --no-cache-dir ".[lab]"' in post_build
    assert "python -m course_utils fetch" in post_build
    assert not (binder / "environment.yml").exists()              # no conda route there
    version = (binder / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1\d)", version)
