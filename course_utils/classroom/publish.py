"""The student edition as a git tag that Colab, Kaggle and Binder open from a URL.

`publish` writes what `handout.student_release` writes into a temporary folder, stores it in
the repository as a commit of its own (a temporary index, `git commit-tree`), and points the
tag release.STUDENT_TAG at it.  The working tree, the index and the current branch are left
alone, and the commit does not descend from the course's history (its parent is the tag's
previous commit, if any): fetching the tag fetches no solution.  Pushing the tag is the
maintainer's step (`git push origin <tag>`).
"""
import os
import subprocess
import tempfile
from pathlib import Path

from .. import release
from . import handout
from .markers import AssignmentError


def git(repo, *args, env=None, stdin=None):
    """A git command's stdout, stripped; its last stderr line as an AssignmentError."""
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"git {args[0]} failed"]
        raise AssignmentError(f"git {args[0]}: {lines[-1]}")
    return proc.stdout.strip()


def write_tree(repo, folder) -> str:
    """The id of a git tree, stored in repo, holding folder's files (executables as such)."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    if not files:
        raise AssignmentError(f"{folder} is empty")
    blobs = git(repo, "hash-object", "-w", "--stdin-paths",
                stdin="".join(f"{p.resolve()}\n" for p in files)).splitlines()
    entries = "".join(f"{'100755' if os.access(p, os.X_OK) else '100644'} {blob}\t"
                      f"{p.relative_to(folder).as_posix()}\n" for p, blob in zip(files, blobs))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "update-index", "--add", "--index-info", env=env, stdin=entries)
        return git(repo, "write-tree", env=env)


def commit(repo, tree, message, parent=None) -> str:
    """The id of a new commit of tree (with parent, if one) in repo."""
    return git(repo, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message)


def tagged(repo, tag):
    """The commit the tag points at in repo, or None."""
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify",
                           f"refs/tags/{tag}^{{commit}}"], capture_output=True, text=True)
    return proc.stdout.strip() or None


def publish(repo, notebook_dir, force=False):
    """Tag the student edition of notebook_dir's course in repo as release.STUDENT_TAG.
    Returns (commit, changed); an existing tag with another tree is moved only with force."""
    git(repo, "rev-parse", "--git-dir")                       # a repository, or a clear error
    source = Path(notebook_dir).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        handout.student_release(Path(tmp) / "edition", source)
        tree = write_tree(repo, Path(tmp) / "edition")
    old = tagged(repo, release.STUDENT_TAG)
    if old and git(repo, "rev-parse", f"{old}^{{tree}}") == tree:
        return old, False
    if old and not force:
        raise AssignmentError(f"the tag {release.STUDENT_TAG} exists and holds another student "
                              "edition: pass --force to move it (and push it with --force)")
    head = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "an unknown commit"
    dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain"],
                           capture_output=True, text=True).stdout.strip()
    message = (f"The student edition of {release.TAG}\n\nMade by python -m course_utils.assignments "
               f"publish from {head}{' with uncommitted changes' if dirty else ''}: the notebooks "
               "without solutions or hidden tests, the package without answers.")
    new = commit(repo, tree, message, parent=old)
    git(repo, "update-ref", f"refs/tags/{release.STUDENT_TAG}", new, old or "0" * 40)
    return new, True
