"""The package's imports run one way: no circles, no module reaching into another's private
names, and the rooms (exercises, classroom, app, devtools) entered only from where
docs/architecture.md says.  Read from the source (ast), so lazy imports inside functions
count too."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "course_utils"
ROOMS = ("exercises", "classroom", "app", "devtools")
# Which rooms each room may import from (the method, the flat modules, is open to every room).
ROOM_MAY_IMPORT = {"exercises": set(), "classroom": {"exercises"}, "app": set(),
                   "devtools": {"classroom"}}
# The flat modules that are a room's door: the notebooks' and the command lines' paths.
DOORS = {"checks": {"exercises"}, "control_checks": {"exercises"}, "assignments": {"classroom"},
         "bench": {"devtools"}, "notebook_cells": {"devtools"}, "cli": {"app"}}
# Upward on purpose (commented where it happens): the full course's checks take their
# expected values from the answer key; a student release has answers.json instead.
UPWARD = {("course_utils.exercises.table", "course_utils.classroom.answers")}


def modules(root=PACKAGE):
    """{dotted name: path} of every module of the package (packages as their __init__)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name, path, known):
    """[(imported module, [names taken from it], line)] of one module, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[:len(up) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            if not base.startswith("course_utils"):
                continue
            names = [a.name for a in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            found += [(m, [], node.lineno) for m in submodules]
            taken = [n for n in names if f"{base}.{n}" not in known]
            if taken or not submodules:
                found.append((base, taken, node.lineno))
    return found


def graph(root=PACKAGE):
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges):
    """Every import circle, as a list of modules (the first repeated at the end)."""
    out, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for target, _, _ in edges.get(node, []):
            if target == node or target not in edges:
                continue
            if state.get(target) == "open":
                out.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in edges:
        if node not in state:
            visit(node, [node])
    return out


def private_imports(edges):
    """'a imports _x from b' for each private name taken from another module."""
    return [f"{source}:{line} imports {name} from {target}"
            for source, found in edges.items() for target, names, line in found
            for name in names if name.startswith("_") and not name.startswith("__")
            and target != source]


def room(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ROOMS else None


def wrong_way(edges):
    """Imports that enter a room from where the layout does not allow."""
    bad = []
    for source, found in edges.items():
        for target, _, line in found:
            to = room(target) or (target.split(".")[1] if target.count(".") == 1
                                  and target.split(".")[1] in ROOMS else None)
            frm = room(source)
            if to is None or to == frm or (source, target) in UPWARD:
                continue
            if frm is None:
                allowed = DOORS.get(source.split(".")[-1], set()) if source.count(".") == 1 else set()
            else:
                allowed = ROOM_MAY_IMPORT[frm]
            if to not in allowed:
                bad.append(f"{source}:{line} imports {target}")
    return bad


def test_the_package_has_no_import_circle():
    assert circles(graph()) == []


def test_no_module_imports_another_modules_private_name():
    assert private_imports(graph()) == []


def test_imports_run_downward_into_the_rooms_only_through_their_doors():
    assert wrong_way(graph()) == []


def test_the_walk_sees_what_it_must(tmp_path):
    """The checks above can fail: a circle, a private import and an upward import are found."""
    pkg = tmp_path / "course_utils"
    (pkg / "classroom").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "classroom" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import _hidden\n")
    (pkg / "losses.py").write_text("from .classroom import answers\n")
    (pkg / "classroom" / "answers.py").write_text("from .. import losses\n")
    edges = graph(pkg)
    assert ["course_utils.a", "course_utils.b", "course_utils.a"] in circles(edges)
    assert private_imports(edges) == ["course_utils.b:2 imports _hidden from course_utils.a"]
    assert wrong_way(edges) == ["course_utils.losses:1 imports course_utils.classroom.answers"]
