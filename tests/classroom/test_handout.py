"""The student release holds no answers: its package cannot compute any of the five
exercises, its checks work from stored values, and its later notebooks use the student's
own functions.  The same checks run on the release folder and on the student edition as
`publish` tags it (read back from git), and every "work on it" link of the course, opened as
Colab, Kaggle or Binder would, reaches a student-edition notebook.  (`make test` runs the
release's notebooks, solutions typed back in, under nbval.)"""
import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_utils import colour, editions, losses, masks, presets, release as course_release
from course_utils.classroom import answers, cli, handout, publish
from course_utils.classroom.markers import ANY_SOLUTION_MARKER, AssignmentError
from course_utils.exercises import cases

ROOT = Path(__file__).resolve().parents[2]

# Every function of every module of the release's package is called with each argument
# list below; none may return one of the reference answers computed here.
PROBE = r'''
import importlib, inspect, json, pkgutil, signal, sys
import course_utils
import numpy as np
import tensorflow as tf
data = np.load(sys.argv[1])
sys.argv = ["probe"]
F, P, A = data["F"], data["P"], data["A"]
Fs, As, ws = [data["F"], data["F2"]], [data["A"], data["A2"]], [0.3, 1.7]
c, s, a, b, tv, tw = (float(x) for x in data["scalars"])
argument_lists = []
for conv in (np.asarray, tf.constant):
    argument_lists += [(conv(F),), (conv(F), conv(P)), (conv(F), conv(A)),
                       ([conv(x) for x in Fs], [conv(x) for x in As], ws)]
argument_lists += [(c, s, a, b), (c, s, a, b, tv, tw), (tf.constant(c), tf.constant(s), a, b)]
for conv in (np.asarray, tf.constant):             # notebook 6: (Y, photo) and (F, m)
    argument_lists += [(conv(data["Y"]), conv(data["photo"])), (conv(F), conv(data["m"]))]
signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError()))
results, called = [], []
for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
    if info.name.endswith("__main__"):
        continue                                  # running the CLI is not a function call
    module = importlib.import_module(info.name)
    for name, fn in list(vars(module).items()):
        if not inspect.isfunction(fn) or not fn.__module__.startswith("course_utils"):
            continue
        called.append(f"{info.name.removeprefix('course_utils.')}.{name}")
        for args in argument_lists:
            signal.alarm(20)
            try:
                out = fn(*args)
                value = np.asarray(out, dtype=np.float64)
                results.append([f"{info.name.removeprefix('course_utils.')}.{name}", value.shape, value.ravel().tolist()])
            except BaseException:
                pass
            finally:
                signal.alarm(0)
print(json.dumps({"file": course_utils.__file__, "called": called, "results": results}))
'''


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def new_repository(path):
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.name", "Course maintainer")
    git(path, "config", "user.email", "maintainer@example.org")
    return path


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    """A repository holding the course's notebooks at release.TAG (where a "work on it" link
    that pointed at the course would lead) and the student edition that `publish` tagged."""
    tmp = tmp_path_factory.mktemp("published")
    repo = new_repository(tmp / "repo")
    shutil.copytree(ROOT / "notebooks", tmp / "course" / "notebooks")
    course = publish.commit(repo, publish.write_tree(repo, tmp / "course"), "the course")
    git(repo, "tag", course_release.TAG, course)
    assert cli.main(["publish", "--repo", str(repo), "--notebooks", str(ROOT / "notebooks")]) == 0
    return repo


@pytest.fixture(scope="module", params=["folder", "published"])
def release(request, tmp_path_factory):
    """The student release as `release` writes it, or as `publish` tagged it, read from git."""
    out = tmp_path_factory.mktemp(request.param)
    if request.param == "folder":
        handout.student_release(out, ROOT / "notebooks")
    else:
        extract(request.getfixturevalue("repository"), course_release.STUDENT_TAG, out)
    return out


def extract(repo, ref, out):
    """The tree of ref in repo, written into the folder out."""
    with tarfile.open(fileobj=io.BytesIO(git(repo, "archive", "--format=tar", ref))) as tar:
        tar.extractall(out, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


def student_notebook_leaks(text):
    """What in a student-edition notebook gives an answer away, or sends the student to the
    course with its solutions: [] if nothing."""
    nb = nbformat.reads(text, as_version=4)
    found = []
    for cell in nb.cells:
        source = cell.source
        if any(ANY_SOLUTION_MARKER.match(line) for line in source.splitlines()):
            found.append("a solution block")
        if "HIDDEN TESTS" in source or "hidden=True" in source:
            found.append("a hidden test")
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
            if isinstance(node, ast.FunctionDef) and node.name in cases.EXERCISES and not any(
                    isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n)
                    for n in node.body):
                found.append(f"a {node.name} that computes something")
    first = {cell.get("id"): cell.source for cell in nb.cells[:2]}
    install = first.get(editions.INSTALL_ID, "")
    if f"git+{course_release.REPOSITORY}@{course_release.STUDENT_TAG}\"" not in install:
        found.append("an install cell that does not install the student edition")
    for url in badge_urls(first.get(editions.BADGES_ID, "")):
        if resolve(url)[1] != course_release.STUDENT_TAG:
            found.append(f"a badge that opens the course: {url}")
    return found


BADGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\(([^)\s]+)\)")      # [![alt](picture)](link)


def badge_urls(markdown):
    return BADGE.findall(markdown)


def labelled_urls(markdown, label):
    """The links of the badges under a line that starts with the bold label (up to the next)."""
    return [url for part in re.split(r"(?m)(?=^\*\*[^*\n]+\*\*)", markdown)
            if part.startswith(f"**{label}**") for url in badge_urls(part)]


def work_on_it_urls(markdown):
    return labelled_urls(markdown, editions.WORK_ON_IT)


def resolve(url):
    """(owner/name, ref, path) of the GitHub file that Colab, Kaggle or Binder opens for url."""
    parts = urlparse(url)
    blob = r"([^/]+/[^/]+)/blob/([^/]+)/(.+)"
    if parts.netloc == "colab.research.google.com":
        match = re.fullmatch("/github/" + blob, parts.path)
        return match.groups() if match else (None, None, None)
    if parts.netloc == "kaggle.com":
        match = re.fullmatch("https://github.com/" + blob, parse_qs(parts.query)["src"][0])
        return match.groups() if match else (None, None, None)
    if parts.netloc == "mybinder.org":
        match = re.fullmatch(r"/v2/gh/([^/]+/[^/]+)/([^/]+)", parts.path)
        return (match[1], unquote(match[2]), parse_qs(parts.query)["labpath"][0]) if match else \
            (None, None, None)
    raise AssertionError(f"not a Colab, Kaggle or Binder link: {url}")


def work_on_it_problems(repo, url):
    """Why the file a "work on it" link opens is not a student-edition notebook: [] if it is."""
    owner_name, ref, path = resolve(url)
    if owner_name != course_release.github_path():
        return [f"{url}: not the course's repository"]
    if ref != course_release.STUDENT_TAG:
        return [f"{url}: at {ref}, not the student edition's tag"]
    shown = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True,
                           text=True)
    if shown.returncode != 0:
        return [f"{url}: no {path} at {ref}"]
    return [f"{url}: {leak}" for leak in student_notebook_leaks(shown.stdout)]


def test_the_release_has_the_notebooks_and_a_package_without_the_instructors_modules(release):
    package = release / "course_utils"
    assert sorted(p.name for p in release.glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")
               if handout.has_student_edition(p.name))
    assert not any((release / n).exists() for n in handout.NOT_RELEASED)
    assert (release / "06_colour_and_scale.ipynb").is_file()           # every exercise is handed out
    assert (release / "07_regions_blends_and_stages.ipynb").is_file()
    stored = json.loads((package / "answers.json").read_text())
    assert set(stored) == set(cases.GRADED) >= {"train_step", "balanced_weights", "with_chroma",
                                                "guided_gram_matrix"}
    assert (package / "answers.json").is_file() and (package / "exercises" / "yours.py").is_file()
    assert not (package / "classroom").exists()            # the instructors' room, left out whole
    assert {p.relative_to(package) for p in package.rglob("*.py")} == \
        {p.relative_to(handout.PACKAGE) for p in handout.PACKAGE.rglob("*.py")
         if handout.INSTRUCTORS not in p.parents}
    text = (package / "losses.py").read_text()
    for name in ("content_loss", "gram_matrix", "style_layer_loss", "style_loss", "total_loss",
                 "_as_matrix"):
        assert f"def {name}(" not in text
    assert "def total_variation_loss(" in text
    for path in release.glob("*.ipynb"):
        assert student_notebook_leaks(path.read_text()) == [], path.name


def test_the_stored_answers_hold_no_hidden_case(release):
    stored = json.loads((release / "course_utils" / "answers.json").read_text())
    hidden = answers.stored(hidden=True)
    for name in stored:
        visible = {json.dumps([c["args"], c["kwargs"]]) for c in stored[name]["cases"]}
        assert len(visible) == len(answers.table(name)["cases"])
        assert not visible & {json.dumps([c["args"], c["kwargs"]]) for c in hidden[name]["cases"]}, name


def test_no_function_of_the_release_package_computes_an_answer(release, tmp_path):
    rng = np.random.default_rng(7)
    F, P, F2 = (rng.uniform(0, 3, s).astype(np.float32)
                for s in [(1, 4, 3, 5), (1, 4, 3, 5), (1, 2, 6, 3)])
    A, A2 = (losses.gram_matrix(x).numpy() + 1.0 for x in (rng.uniform(0, 3, F.shape).astype(np.float32),
                                                            rng.uniform(0, 3, F2.shape).astype(np.float32)))
    scalars = np.array([2.5, 4.0, 0.7, 1.3, 6.0, 0.2])
    Y, photo = rng.uniform(0, 255, (4, 3)), rng.uniform(0, 255, (4, 3, 3))
    m = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    np.savez(tmp_path / "inputs.npz", F=F, P=P, A=A, F2=F2, A2=A2, scalars=scalars,
             Y=Y, photo=photo, m=m)
    correct = {
        "gram matrix": losses.gram_matrix(F).numpy(),
        "E_l": losses.style_layer_loss(F, A).numpy(),
        "content loss": losses.content_loss(F, P).numpy(),
        "style loss": losses.style_loss([F, F2], [A, A2], [0.3, 1.7]).numpy(),
        "total loss": np.float32(losses.total_loss(*scalars)),
        "total loss without tv": np.float32(losses.total_loss(*scalars[:4])),
        "luminance recombination": colour.with_chroma(Y, photo),
        "guided Gram matrix": masks.guided_gram_matrix(F, m).numpy(),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COURSE_STUDENT_DIR")}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "inputs.npz")],
                          cwd=release, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).parent == release / "course_utils"     # the release's own package
    assert {"losses.gram_matrix", "exercises.yours.total_loss", "checks.check_gram_matrix",
            "objective.measure"} <= set(report["called"])
    assert len(report["called"]) > 100
    for where, shape, values in report["results"]:
        for what, answer in correct.items():
            if tuple(shape) == answer.shape:
                assert not np.allclose(values, answer.ravel(), rtol=1e-4), f"{where} gives the {what}"


def test_a_passing_check_saves_the_students_function_for_the_release_losses(release, tmp_path):
    code = r'''
import tensorflow as tf
from course_utils import checks, losses
def gram_matrix(F):
    X = tf.reshape(F, (-1, F.shape[-1]))
    return tf.matmul(X, X, transpose_a=True)
try:
    losses.gram_matrix(tf.ones((1, 2, 2, 3)))
except NotImplementedError as err:
    print("before:", err)
checks.check_gram_matrix(gram_matrix)
print("after:", losses.gram_matrix(tf.ones((1, 2, 2, 3))).numpy().tolist())
try:
    checks.check_gram_matrix(lambda F: losses.gram_matrix(F))
except checks.Borrowed as err:
    print("borrowed:", err)
'''
    student = tmp_path / "student"
    student.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(COURSE_STUDENT_DIR=str(student), PYTHONPATH=str(release))
    (student / "work.py").write_text(code)            # a file, so that its source can be read
    proc = subprocess.run([sys.executable, "work.py"], cwd=student, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "before: gram_matrix is yours to write: implement it in notebook 03" in proc.stdout
    assert "Saved to my_losses.py" in proc.stdout
    assert "after: [[4.0, 4.0, 4.0]" in proc.stdout
    assert "borrowed: gram_matrix calls the course's own gram_matrix" in proc.stdout
    saved = (student / "my_losses.py").read_text()
    assert "def gram_matrix(F):" in saved and "import tensorflow as tf" in saved


def test_nbgrader_course_keeps_hidden_answers_out_of_the_source(tmp_path):
    handout.nbgrader_course(tmp_path / "course", ROOT / "notebooks")
    course = tmp_path / "course"
    assert (course / "nbgrader_config.py").is_file() and (course / handout.HIDDEN_ANSWERS).is_file()
    source = course / "source" / handout.ASSIGNMENT
    assert sorted(p.name for p in source.glob("*.ipynb")) == [
        "02_content_loss.ipynb", "03_gram_matrix_and_style_loss.ipynb",
        "04_total_loss_and_transfer.ipynb", "05_experiments.ipynb", "06_colour_and_scale.ipynb",
        "07_regions_blends_and_stages.ipynb"]
    assert not list(source.rglob(handout.HIDDEN_ANSWERS))
    text = (source / "03_gram_matrix_and_style_loss.ipynb").read_text()
    assert text.count("### BEGIN HIDDEN TESTS") == 3
    text = (source / "04_total_loss_and_transfer.ipynb").read_text()
    assert "checks.check_train_step(train_step, hidden=True)" in text
    text = (source / "06_colour_and_scale.ipynb").read_text()
    assert text.count("### BEGIN HIDDEN TESTS") == 1
    assert "control_checks.check_with_chroma(with_chroma, hidden=True)" in text
    text = (source / "07_regions_blends_and_stages.ipynb").read_text()
    assert text.count("### BEGIN HIDDEN TESTS") == 1
    assert "control_checks.check_guided_gram_matrix(guided_gram_matrix, hidden=True)" in text


def test_a_grader_gets_the_ci_preset(monkeypatch):
    monkeypatch.delenv("COURSE_PRESET", raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert presets.default_preset() == "ci"
    monkeypatch.setenv("COURSE_PRESET", "demo")
    assert presets.default_preset() == "demo"


# ---------------------------------------------------------------------------
# The published student edition, and the links that open it.

def course_notebooks():
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def badges_cell(path):
    return nbformat.read(path, as_version=4).cells[0].source


def test_every_work_on_it_link_opens_a_student_edition_notebook(repository):
    """Every "work on it" badge of the course (its notebooks, its README) and of the student
    edition (its notebooks, its README), resolved as the service resolves it, reaches a
    notebook of the published tag that holds no answer and installs the student edition."""
    readme = (ROOT / "README.md").read_text()
    places = {path.name: work_on_it_urls(badges_cell(path)) for path in course_notebooks()}
    places["README.md"] = work_on_it_urls(readme)
    tag = course_release.STUDENT_TAG
    names = git(repository, "ls-tree", "--name-only", tag).decode().split()
    for name in (n for n in names if n.endswith((".ipynb", "README.md"))):
        text = git(repository, "show", f"{tag}:{name}").decode()
        places[f"{tag}:{name}"] = (badge_urls(text) if name == "README.md"
                                   else work_on_it_urls(badges_cell(io.StringIO(text))))
    released = [p.name for p in course_notebooks() if handout.has_student_edition(p.name)]
    assert len(places["README.md"]) == 3 and len(places[f"{tag}:README.md"]) == 3 * len(released)
    for path in course_notebooks():
        if handout.has_student_edition(path.name):
            assert len(places[path.name]) == 3, path.name            # Colab, Kaggle, Binder
            assert len(places[f"{tag}:{path.name}"]) == 3
    problems = [problem for urls in places.values() for url in urls
                for problem in work_on_it_problems(repository, url)]
    assert problems == []


def test_a_work_on_it_link_that_opened_the_course_would_fail(repository):
    for url in editions.links("03_gram_matrix_and_style_loss.ipynb", editions.COURSE).values():
        assert work_on_it_problems(repository, url), url                # the course's own tag
    # the student edition's tag, but a notebook of the course put there: found by what it holds
    found = student_notebook_leaks((ROOT / "notebooks" / "03_gram_matrix_and_style_loss.ipynb").read_text())
    assert "a solution block" in found and "a gram_matrix that computes something" in found
    assert "an install cell that does not install the student edition" in found
    assert any(f.startswith("a badge that opens the course") for f in found)


def test_each_course_notebook_offers_both_editions_or_says_it_has_no_student_edition():
    for path in course_notebooks() + [ROOT / "README.md"]:
        text = path.read_text() if path.suffix == ".md" else badges_cell(path)
        read = labelled_urls(text, editions.READ_IT)
        assert {resolve(u)[1] for u in read} == {course_release.TAG}, path.name
        assert len(read) == 3
        name = "00_setup.ipynb" if path.suffix == ".md" else path.name
        if not handout.has_student_edition(name):
            assert not work_on_it_urls(text) and "has no student edition" in text, path.name
    assert not handout.has_student_edition("07_regions_blends_and_stages.ipynb") or \
        all(handout.has_student_edition(p.name) for p in course_notebooks())
    cell = editions.badges("07_regions_blends_and_stages.ipynb", student_edition=False)
    assert not work_on_it_urls(cell) and "has no student edition" in cell


def test_publish_touches_neither_the_working_tree_nor_the_branch_and_shares_no_history(tmp_path):
    repo = new_repository(tmp_path / "course")
    (repo / "notes.txt").write_text("committed\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "the course")
    (repo / "notes.txt").write_text("changed, not staged\n")
    (repo / "draft.txt").write_text("untracked\n")
    before = [git(repo, *args) for args in (["rev-parse", "HEAD"], ["symbolic-ref", "HEAD"],
                                            ["status", "--porcelain"], ["diff"])]
    commit, changed = publish.publish(repo, ROOT / "notebooks")
    assert changed and sorted(p.name for p in repo.iterdir()) == [".git", "draft.txt", "notes.txt"]
    assert [git(repo, *args) for args in (["rev-parse", "HEAD"], ["symbolic-ref", "HEAD"],
                                          ["status", "--porcelain"], ["diff"])] == before
    tagged = git(repo, "rev-parse", f"{course_release.STUDENT_TAG}^{{commit}}").decode().strip()
    assert tagged == commit
    assert git(repo, "rev-list", commit).decode().split() == [commit]    # no course history
    assert publish.publish(repo, ROOT / "notebooks") == (commit, False)  # nothing new: kept


def test_a_different_edition_moves_the_tag_only_when_forced(tmp_path, monkeypatch, capsys):
    repo = new_repository(tmp_path / "course")
    first, _ = publish.publish(repo, ROOT / "notebooks")
    monkeypatch.setattr(handout, "STUDENT_README", handout.STUDENT_README + "\nSpring term.\n")
    args = ["publish", "--repo", str(repo), "--notebooks", str(ROOT / "notebooks")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --force" in err
    assert cli.main(args + ["--force"]) == 0
    second = git(repo, "rev-parse", course_release.STUDENT_TAG).decode().strip()
    assert second != first and git(repo, "rev-parse", f"{second}^").decode().strip() == first
    assert "Spring term." in git(repo, "show", f"{second}:README.md").decode()


def test_publish_outside_a_repository_says_so_in_one_line(tmp_path, capsys):
    assert cli.main(["publish", "--repo", str(tmp_path), "--notebooks", str(ROOT / "notebooks")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: git rev-parse: ") and "not a git repository" in err
    assert err.count("\n") == 1
    with pytest.raises(AssignmentError, match="binder"):
        shutil.copytree(ROOT / "notebooks", tmp_path / "elsewhere" / "notebooks")
        handout.student_release(tmp_path / "out", tmp_path / "elsewhere" / "notebooks")


def test_pip_installs_the_published_package_with_its_answers_file_and_without_the_classroom(
        repository, tmp_path):
    pytest.importorskip("setuptools")
    tree = tmp_path / "tree"
    extract(repository, course_release.STUDENT_TAG, tree)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--disable-pip-version-check", "--target",
                           str(tmp_path / "site"), str(tree)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    installed = {p.relative_to(tmp_path / "site" / "course_utils")
                 for p in (tmp_path / "site" / "course_utils").rglob("*")
                 if p.suffix in (".py", ".json")}
    assert installed == {p.relative_to(tree / "course_utils")
                         for p in (tree / "course_utils").rglob("*") if p.suffix in (".py", ".json")}
    assert Path("answers.json") in installed and not any(p.parts[0] == "classroom" for p in installed)
