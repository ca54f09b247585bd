"""The compatibility legs' pin files, made from the runtimes' public records.

Each leg (see legs.py) installs the course's wheel into a fresh environment with one of
these pip constraints files: colab.txt and kaggle.txt pin every package of the leg's
environment to the version the runtime's public record gives; floor.txt pins the oldest
versions pyproject.toml claims.  To refresh them (needs the network: git and PyPI):

    git clone https://github.com/googlecolab/backend-info ../backend-info
    git clone https://github.com/Kaggle/docker-python ../docker-python
    .venv/bin/python tests/compat/pins.py --colab ../backend-info --kaggle ../docker-python

then run the legs (make test-compat) and commit the files.  Which packages a leg has is
what pip resolves for the course and the leg's test tools (pip install --dry-run with the
record as constraints, on the leg's Python); each resolved package the record names is
pinned to the record's version, the others are listed at the end, unpinned.
"""
import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import legs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
# Kaggle's image: FROM <Colab's runtime image>:release-colab-external-images_YYYYMMDD-HHMMSS
KAGGLE_BASE = re.compile(r"colab-images/public/cpu-runtime:\S*?_(\d{8})-(\d{6})")
# When Kaggle replaces ipywidgets, the recorded front-end package that cannot serve the new
# one goes with it (the resolver picks its version, as the image build did).
FOLLOWERS = {"ipywidgets": ("widgetsnbextension",)}      # 3.6 serves ipywidgets 7 only


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def pins_in(text):
    """{canonical name: version} of the name==version lines of a freeze or requirements text."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match[1])] = match[2]
    return found


def commit_info(repo, commit="HEAD"):
    sha, date = git(repo, "log", "-1", "--format=%H %cI", commit).split()
    return sha, date[:10]


def colab_record(repo):
    """(pins, python 'X.Y.Z', source lines) from googlecolab/backend-info's HEAD."""
    sha, date = commit_info(repo)
    python = re.search(r"^Python (\S+)", git(repo, "show", f"{sha}:os-info.txt"), re.M)[1]
    pins = pins_in(git(repo, "show", f"{sha}:pip-freeze.txt"))
    source = [f"googlecolab/backend-info {sha} ({date}): pip-freeze.txt, os-info.txt "
              f"(Python {python})"]
    return pins, python, source


def kaggle_record(repo, colab_repo):
    """Kaggle's image: the Colab record of its base image's date, then Kaggle's own pins
    (kaggle_requirements.txt, and the Dockerfile's quoted name==version installs)."""
    sha, date = commit_info(repo)
    dockerfile = git(repo, "show", f"{sha}:Dockerfile.tmpl")
    requirements = git(repo, "show", f"{sha}:kaggle_requirements.txt")
    day, time = KAGGLE_BASE.search(dockerfile).groups()
    built = dt.datetime.strptime(day + time, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
    base = git(colab_repo, "log", "-1", f"--before={built.isoformat()}", "--format=%H").strip()
    base_sha, base_date = commit_info(colab_repo, base)
    python = re.search(r"^Python (\S+)", git(colab_repo, "show", f"{base}:os-info.txt"), re.M)[1]
    pins = pins_in(git(colab_repo, "show", f"{base}:pip-freeze.txt"))
    own = pins_in(requirements)
    own.update(pins_in("\n".join(re.findall(r'"([^"]+==[^"]+)"', dockerfile))))
    for name in own:
        for follower in FOLLOWERS.get(name, ()):
            pins.pop(follower, None)
    pins.update(own)
    source = [f"Kaggle/docker-python {sha} ({date}): Dockerfile.tmpl, kaggle_requirements.txt",
              f"  its base image is Colab's of {built:%Y-%m-%d %H:%M} UTC: googlecolab/backend-info "
              f"{base_sha} ({base_date}), pip-freeze.txt (Python {python})"]
    return pins, python, source


def floor_record():
    """The oldest versions pyproject.toml claims: its dependencies' >= bounds, and the kernel's."""
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"] + project["optional-dependencies"]["lab"]:
        match = re.match(r"^([A-Za-z0-9._-]+)[^;]*?>=\s*([0-9][^,;\s]*)", requirement)
        if match and canonical(match[1]) in legs.FLOOR_NAMES:
            pins.setdefault(canonical(match[1]), match[2])
    python = project["requires-python"].split(">=")[1].split(",")[0]
    return pins, python, [f"pyproject.toml: the lower bounds of [project] dependencies and of "
                          f"ipykernel (Python {python})"]


def resolve(leg, record):
    """{name: version} pip resolves for the leg on its Python, with the record as constraints."""
    python = legs.python_for(leg)
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(record.items())))
        report = Path(tmp) / "report.json"
        subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
                        "--report", str(report), "-c", str(constraints), str(ROOT),
                        *legs.LEGS[leg].tools], check=True)
        resolved = json.loads(report.read_text())["install"]
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in resolved
            if canonical(item["metadata"]["name"]) != "nst-course"}


def write(leg, record, python, source):
    resolved = resolve(leg, record)
    pinned = {n: v for n, v in resolved.items() if n in record}
    others = {n: v for n, v in resolved.items() if n not in record}
    lines = [f"# The {leg} leg's pins: {legs.LEGS[leg].what}.",
             *(f"# source: {line}" for line in source),
             f"# refreshed: {dt.date.today().isoformat()} by tests/compat/pins.py (its docstring "
             f"says how); run here on CPython {legs.LEGS[leg].python}",
             "# A pip constraints file: the leg installs the course's wheel and its test tools with -c.",
             *(f"{n}=={v}" for n, v in sorted(pinned.items())),
             "# Not in the record, so not pinned (newest compatible; what pip chose on the day above):",
             *(f"#   {n}=={v}" for n, v in sorted(others.items()))]
    path = HERE / f"{leg}.txt"
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path.relative_to(ROOT)}: {len(pinned)} pinned, {len(others)} not in the record")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--colab", type=Path, required=True,
                        help="a clone of https://github.com/googlecolab/backend-info")
    parser.add_argument("--kaggle", type=Path, required=True,
                        help="a clone of https://github.com/Kaggle/docker-python")
    parser.add_argument("legs", nargs="*", default=list(legs.LEGS))
    args = parser.parse_args(argv)
    records = {"colab": lambda: colab_record(args.colab),
               "kaggle": lambda: kaggle_record(args.kaggle, args.colab),
               "floor": floor_record}
    for leg in args.legs:
        write(leg, *records[leg]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
