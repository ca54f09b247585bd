"""The student release holds no answers: its package cannot compute any of the five
exercises, its checks work from stored values, and its later notebooks use the student's
own functions.  (`make test` runs the release's notebooks, solutions typed back in, under
nbval.)"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils import colour, losses, masks, presets
from course_utils.classroom import answers, handout
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


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    handout.student_release(out, ROOT / "notebooks")
    return out


def test_the_release_has_the_notebooks_and_a_package_without_the_instructors_modules(release):
    package = release / "course_utils"
    assert sorted(p.name for p in release.glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")
               if p.name not in handout.NOT_RELEASED)
    assert not any((release / n).exists() for n in handout.NOT_RELEASED)
    assert (release / "06_controlling_the_result.ipynb").is_file()     # every exercise is handed out
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
        assert "SOLUTION" not in path.read_text() and "hidden=True" not in path.read_text()


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
        "04_total_loss_and_transfer.ipynb", "05_experiments.ipynb", "06_controlling_the_result.ipynb"]
    assert not list(source.rglob(handout.HIDDEN_ANSWERS))
    text = (source / "03_gram_matrix_and_style_loss.ipynb").read_text()
    assert text.count("### BEGIN HIDDEN TESTS") == 3
    text = (source / "04_total_loss_and_transfer.ipynb").read_text()
    assert "checks.check_train_step(train_step, hidden=True)" in text
    text = (source / "06_controlling_the_result.ipynb").read_text()
    assert text.count("### BEGIN HIDDEN TESTS") == 2
    assert "control_checks.check_with_chroma(with_chroma, hidden=True)" in text


def test_a_grader_gets_the_ci_preset(monkeypatch):
    monkeypatch.delenv("COURSE_PRESET", raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert presets.default_preset() == "ci"
    monkeypatch.setenv("COURSE_PRESET", "demo")
    assert presets.default_preset() == "demo"
