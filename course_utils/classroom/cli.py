"""The instructors' command line: five routes from the solution notebooks.

    python -m course_utils.assignments student OUTDIR [NOTEBOOK ...]
    python -m course_utils.assignments solve STUDENT_DIR SOURCE_DIR OUTDIR
    python -m course_utils.assignments release OUTDIR
    python -m course_utils.assignments publish [--repo DIR] [--force]
    python -m course_utils.assignments nbgrader COURSE_DIR
    python -m course_utils.assignments grade SUBMISSIONS OUT.csv [--jobs N]

``student`` and ``solve`` are `markers`' two directions; ``release`` and ``nbgrader`` (see
`handout`) and ``grade`` (see `grading`) are what an instructor hands out and takes back;
``publish`` (see `publish`) tags the release as the student edition the badges open.
(``python -m course_utils.classroom`` is the same command.)
"""
import argparse
import sys
from pathlib import Path

from .markers import AssignmentError, fill_solutions, make_student

NOTEBOOK_DIR = Path("notebooks")       # of the course checkout the command runs in (an installed
                                       # package has no notebooks of its own)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    parser = _Parser(prog="python -m course_utils.assignments",
                     description="Build student notebooks, fill them back with solutions, "
                                 "hand them out (release, nbgrader) and grade them.")
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student notebooks into OUTDIR")
    student.add_argument("outdir", type=Path)
    student.add_argument("notebooks", nargs="*", type=Path,
                         help=f"solution notebooks (default: {NOTEBOOK_DIR}/*.ipynb)")
    solve = commands.add_parser("solve", help="fill student notebooks with the solutions")
    solve.add_argument("student_dir", type=Path)
    solve.add_argument("source_dir", type=Path)
    solve.add_argument("outdir", type=Path)
    release = commands.add_parser("release", help="write what students receive into OUTDIR: "
                                  "notebooks and a package with no answers")
    release.add_argument("outdir", type=Path)
    publish = commands.add_parser("publish", help="tag the student release in the repository as "
                                  "the student edition the badges open (then push the tag)")
    publish.add_argument("--repo", type=Path, default=Path("."),
                         help="the git repository to tag (default: the current directory)")
    publish.add_argument("--force", action="store_true",
                         help="move the tag if it holds another student edition")
    course = commands.add_parser("nbgrader", help="write an nbgrader course directory")
    course.add_argument("course_dir", type=Path)
    grade = commands.add_parser("grade", help="run every student's notebooks and write a CSV")
    grade.add_argument("submissions", type=Path, help="one folder per student")
    grade.add_argument("csv", type=Path, help="the CSV to write")
    grade.add_argument("--timeout", type=float, default=600.0,
                       help="seconds each notebook may run (default: 600)")
    grade.add_argument("--jobs", type=int, default=None,
                       help="notebooks graded at once (default: the number of cores)")
    grade.add_argument("--memory", type=float, default=None, metavar="GB",
                       help="memory limit of each notebook's processes (default: 8)")
    for command in (release, publish, course, grade):
        command.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                             help=f"the solution notebooks' folder (default: {NOTEBOOK_DIR})")
    return parser


def main(argv=None):
    """Run the CLI; return the exit code (2 and one line on stderr on errors)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "grade":
            from . import grading
            return grading.main(args.submissions, args.csv, args.notebooks, args.timeout,
                                args.jobs, args.memory or grading.MEMORY_GB)
        if args.command == "publish":
            return _publish(args)
        written = _build(args)
    except (AssignmentError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    package = [p for p in written if "course_utils" in p.parts[:-1]]
    for path in written:
        if path not in package:
            print(f"wrote {path}")
    if package:
        root = next(p for p in package[0].parents if p.name == "course_utils")
        print(f"wrote {root}/ (the package without answers, {len(package)} files)")
    return 0


def _publish(args):
    from .. import release
    from .publish import publish
    commit, changed = publish(args.repo, args.notebooks, args.force)
    state = "tagged" if changed else "already tagged"
    print(f"{state} {release.STUDENT_TAG} at {commit[:12]}: the student edition of {release.TAG}\n"
          f"push it: git push origin {release.STUDENT_TAG}{' --force' if args.force else ''}")
    return 0


def _build(args):
    if args.command == "student":
        notebooks = args.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
        if not notebooks:
            raise AssignmentError(f"no notebooks found in {NOTEBOOK_DIR}")
        return make_student(notebooks, args.outdir)
    if args.command == "solve":
        return fill_solutions(args.student_dir, args.source_dir, args.outdir)
    from . import handout
    if args.command == "release":
        return handout.student_release(args.outdir, args.notebooks)
    return handout.nbgrader_course(args.course_dir, args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
