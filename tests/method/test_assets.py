"""Where the course's files live: data/ of the checkout (git-ignored contents, a README that
credits each file), $COURSE_DATA_DIR when set, the user cache for an installed package."""
import os
import subprocess
import sys
from pathlib import Path

from course_utils import assets

ROOT = Path(__file__).resolve().parents[2]


def cache_dir_in_a_child(**env):
    environ = {k: v for k, v in os.environ.items() if k != "COURSE_DATA_DIR"}
    environ.update(env)
    code = "from course_utils import assets; print(assets.cache_dir())"
    out = subprocess.run([sys.executable, "-c", code], env=environ, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip())


def test_a_checkout_fetches_into_its_data_folder():
    assert cache_dir_in_a_child() == ROOT / "data"


def test_course_data_dir_says_otherwise(tmp_path):
    assert cache_dir_in_a_child(COURSE_DATA_DIR=str(tmp_path)) == tmp_path


def test_an_installed_package_has_no_checkout_data_folder(tmp_path):
    (tmp_path / "site-packages" / "course_utils").mkdir(parents=True)
    assert assets.checkout_data_dir(tmp_path / "site-packages" / "course_utils") is None
    assert assets.checkout_data_dir(ROOT / "course_utils") == ROOT / "data"


def test_the_data_readme_credits_every_file():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for name, entry in assets.manifest().items():
        row = next((line for line in text.splitlines() if f"`{entry['file']}`" in line), None)
        assert row is not None, f"data/README.md does not list {entry['file']}"
        assert entry["credit"] in row and entry["licence"] in row, row
    assert "without internet" in text and "COURSE_DATA_DIR" in text


def test_git_ignores_the_fetched_files_but_not_the_readme():
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0
    assert ignored("data/tubingen.jpg") and ignored("data/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert not ignored("data/README.md")
