"""The project's own rules: requirements in step, notebooks without outputs, CI runs the README's command."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(text):
    return {line.split("#")[0].strip() for line in text.splitlines()
            if line.split("#")[0].strip()}


def test_environment_yml_names_the_same_packages_as_requirements_txt():
    reqs = requirement_lines((ROOT / "requirements.txt").read_text())
    env = (ROOT / "environment.yml").read_text()
    pip_section = env.split("- pip:")[1]
    env_reqs = {m.strip() for m in re.findall(r"^\s+-\s+(\S.*)$", pip_section, re.M)}
    assert reqs and env_reqs == reqs
    assert "python=3.11" in env and "conda-forge" in env


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for nb in notebooks:
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{nb.name}: cells {dirty} have outputs; clear them before committing"


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in readme and "make demo" in readme
