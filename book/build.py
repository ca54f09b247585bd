"""Build the course website: `python book/build.py [--preset quality|ci|...]` (what `make book` runs).

The notebooks, README.md, docs/ and the pages in book/ are laid out in build/book/<preset>/src (the
repository's own layout, so that every relative link and picture works as on GitHub), MathJax is
copied in beside them (the site loads nothing from another host), and Sphinx with MyST-NB
executes each notebook under the preset and writes the site to build/book/<preset>/html.
Executed notebooks are cached (jupyter-cache, in build/book/<preset>/jupyter_cache/<package>):
a rebuild re-runs only the notebooks whose code changed; a change to course_utils, which every
notebook imports, starts a new cache, so that no page shows what an older package drew.
"""
import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "book"
SOURCES = ["README.md", "docs", "notebooks"]        # from the repository, beside book/'s own pages
PAGES = ["data/README.md"]                          # single pages of folders that hold more (data/)


def mathjax_dir():
    """MathJax 3 (its es5 build), as the PyPI package django-static-mathjax ships it."""
    import mathjax
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


# Of MathJax's es5 build: the one bundle the site loads, and what it loads on demand (TeX
# extensions, the CHTML fonts, the menu and the accessibility tools); the other bundles stay out.
MATHJAX_SKIP = shutil.ignore_patterns("tex-chtml*.js", "tex-svg*.js", "tex-mml-svg*.js",
                                      "mml-*.js", "svg", "node-main.js", "startup.js", "latest.js")


def stage(src):
    """Copy the site's sources into `src` (mtimes kept: Sphinx re-reads only what changed)."""
    src.mkdir(parents=True, exist_ok=True)
    for item in [*sorted((ROOT / "book").iterdir()), *(ROOT / name for name in SOURCES)]:
        if item.name in ("build.py", "__pycache__") or item.name.startswith("."):
            continue
        target = src / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(item, target)
    for page in PAGES:
        (src / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / page, src / page)
    shutil.copytree(mathjax_dir(), src / "_static" / "mathjax", dirs_exist_ok=True,
                    ignore=MATHJAX_SKIP)


def package_hash():
    """A short hash of course_utils' sources: the notebooks' outputs depend on them too."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "course_utils").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def execution_cache(out):
    """This package's execution cache under `out`; the caches of older packages are removed."""
    caches = out / "jupyter_cache"
    current = caches / package_hash()
    for old in caches.glob("*"):
        if old.is_dir() and old != current:
            shutil.rmtree(old)
    return current


def quiet_kernels(out):
    """An IPython profile of the build's own for the notebooks' kernels: no user start-up files,
    and ipykernel's warning about its loopback TCP transport kept out of the build's output."""
    profile = out / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text('c.IPKernelApp.log_level = "ERROR"\n')
    return out / "ipython"


def size_mb(folder):
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def build(preset):
    """Stage, then run Sphinx under `preset`; returns Sphinx's exit status."""
    from sphinx.cmd.build import build_main

    from course_utils.presets import PRESETS
    if preset not in PRESETS:
        print(f"book/build.py: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}",
              file=sys.stderr)
        return 2
    out = BUILD / preset
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)          # a page deleted from the repository leaves the site too
    stage(src)
    os.environ["COURSE_PRESET"] = preset
    os.environ["COURSE_BOOK_CACHE"] = str(execution_cache(out))
    os.environ.pop("COURSE_FIGURES_DIR", None)       # the site never rewrites docs/figures
    os.environ["IPYTHONDIR"] = str(quiet_kernels(out))
    if (out / "html").exists():
        shutil.rmtree(out / "html")  # no stale files (written again from the doctrees: seconds)
    start = time.perf_counter()
    status = build_main(["-b", "html", "-W", "--keep-going", "-q", "-d", str(out / "doctrees"),
                         str(src), str(out / "html")])
    if status == 0:
        print(f"site ({preset}): {out / 'html'}  {size_mb(out / 'html'):.1f} MB, "
              f"built in {time.perf_counter() - start:.0f} s")
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=os.environ.get("COURSE_PRESET") or "quality",
                        help="the preset the notebooks run under (default: $COURSE_PRESET, else quality)")
    args = parser.parse_args(argv)
    return build(args.preset)


if __name__ == "__main__":
    sys.exit(main())
