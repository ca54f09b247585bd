"""The course website (`make book`), built under `ci` and read in headless Chromium as a student
would: every page loads with no failed request, no request to another host and no console
error; every picture has loaded; every equation is typeset; every internal link resolves."""
import functools
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

import browser as B   # Debian's chromium driven by Playwright (shared with tests/whole/test_browser.py)

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "book" / "ci" / "html"
PAGES = sorted(["README", "search", "genindex", *(p.stem for p in (ROOT / "book").glob("*.md")),
                *(f"docs/{p.stem}" for p in (ROOT / "docs").glob("*.md")),
                *(f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb")),
                "data/README"])                      # book/build.py's PAGES
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


REASON = B.why_no_browser()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session (B.launch: the shared executable and flags)."""
    if REASON:
        pytest.skip(f"browser tests: {REASON}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = B.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site():
    """The site under `ci`, built (or brought up to date: executions are cached) by book/build.py."""
    run = subprocess.run([sys.executable, "book/build.py", "--preset", "ci"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, f"book/build.py failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return SITE


@pytest.fixture(scope="session")
def server(site):
    """http://127.0.0.1:PORT/ serving the site (a free port), stopped at the end."""
    with B.static_site(site) as url:
        yield url


# In the page: pictures not loaded, equations MathJax left as source, and the text outside code.
PAGE_STATE = """() => ({
  brokenImages: Array.from(document.images)
      .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src),
  images: document.images.length,
  equations: document.querySelectorAll('.math').length,
  untypeset: Array.from(document.querySelectorAll('.math'))
      .filter(m => !m.querySelector('mjx-container'))
      .map(m => m.textContent.slice(0, 80)),
  text: (() => {
      const main = document.querySelector('main') || document.body;
      const copy = main.cloneNode(true);
      copy.querySelectorAll('pre, code, script, style, mjx-assistive-mml').forEach(n => n.remove());
      return copy.innerText;
  })(),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
})"""

MATHJAX_DONE = """() => new Promise(done => {
  if (!document.querySelector('.math')) return done(false);
  setTimeout(() => done(false), 30000);
  const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
      ? MathJax.startup.promise.then(() => done(true)) : setTimeout(wait, 100);
  wait();
})"""


def visit(browser, server, name, cache={}):
    """Open page `name` once per session and return what happened."""
    if name in cache:
        return cache[name]
    record = {"foreign": [], "failed": [], "errors": []}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)

    def on_request(request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOCAL_HOSTS:
            record["foreign"].append(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: record["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and record["failed"].append(f"{r.url} ({r.status})"))
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.route(re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/]).+"),
               lambda route: route.abort() if route.request.url.startswith("http")
               else route.continue_())
    page.goto(server + name + ".html", wait_until="load")
    record["mathjax"] = page.evaluate(MATHJAX_DONE)
    page.wait_for_load_state("networkidle")
    record.update(page.evaluate(PAGE_STATE))
    page.close()
    cache[name] = record
    return record


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_only_from_this_host_with_no_error(browser, server, name):
    page = visit(browser, server, name)
    assert not page["foreign"], f"{name}: requests to another host: {page['foreign'][:5]}"
    assert not page["failed"], f"{name}: failed requests: {page['failed'][:5]}"
    assert not page["errors"], f"{name}: console errors: {page['errors'][:5]}"


@pytest.mark.parametrize("name", PAGES)
def test_every_picture_has_loaded(browser, server, name):
    page = visit(browser, server, name)
    assert not page["brokenImages"], f"{name}: pictures not loaded: {page['brokenImages'][:5]}"


@pytest.mark.parametrize("name", PAGES)
def test_every_equation_is_typeset(browser, server, name):
    page = visit(browser, server, name)
    if page["equations"]:
        assert page["mathjax"], f"{name}: has equations but MathJax did not start"
    assert not page["untypeset"], f"{name}: equations left as source: {page['untypeset'][:3]}"
    raw = re.findall(r"\$[^$\n]{1,80}\$|\\\(|\\\[", page["text"])
    assert not raw, f"{name}: raw TeX in the text: {raw[:5]}"


def test_notebook_pages_show_their_pictures_and_maths(browser, server):
    """The point of the site: the notebooks' figures and the paper's equations are there."""
    for name in PAGES:
        if name.startswith("notebooks/0") and not name.startswith("notebooks/00"):
            page = visit(browser, server, name)
            assert page["images"] >= 1 and page["equations"] >= 1, f"{name}: {page['images']} " \
                f"pictures, {page['equations']} equations"


class Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for key, value in attrs if key in ("id", "name") and value)


@functools.lru_cache(maxsize=None)
def anchors(path):
    parser = Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.ids


def test_every_internal_link_resolves(browser, server, site):
    broken = []
    for name in PAGES:
        for href in set(visit(browser, server, name)["links"]):
            if not href.startswith(server):
                continue
            url, fragment = urldefrag(href)
            target = site / unquote(url[len(server):].split("?")[0])
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{name}: {href} (no such file)")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in anchors(target):
                broken.append(f"{name}: {href} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def test_each_notebook_page_links_both_editions_on_colab_kaggle_binder_and_a_download(browser, server):
    """Work on it (the student edition, when the notebook has one) and read it with solutions
    (the course): the links of the notebook's own badges, on Colab, Kaggle and Binder."""
    from course_utils import editions
    from course_utils.classroom import handout
    for name in PAGES:
        if name.startswith("notebooks/"):
            links = visit(browser, server, name)["links"]
            notebook = name.split("/")[1] + ".ipynb"
            offered = [editions.COURSE] + [editions.STUDENT] * handout.has_student_edition(notebook)
            for edition in (editions.COURSE, editions.STUDENT):
                expected = set(editions.links(notebook, edition).values())
                assert (expected <= set(links)) == (edition in offered), f"{name}: {edition} links"
            assert any(l.startswith(server) and l.endswith(notebook) for l in links), \
                f"{name}: no download link"


def test_every_built_page_is_tested(site):
    built = {str(p.relative_to(site).with_suffix("")) for p in site.rglob("*.html")
             if p.relative_to(site).parts[0] != "_static"}      # the theme's own templates
    assert built == set(PAGES), f"untested pages: {sorted(built - set(PAGES))}; " \
                                f"missing pages: {sorted(set(PAGES) - built)}"


def test_pages_workflow_publishes_what_make_book_builds():
    import yaml
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    assert {"run": "make book"} in steps
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "build/book/quality/html"
    assert re.search(r"^PRESET \?= quality$", (ROOT / "Makefile").read_text(), re.M)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_search_finds_the_gram_matrix_offline(browser, server):
    page = browser.new_page()
    try:
        page.goto(server + "search.html?q=Gram+matrix", wait_until="load")
        hits = page.locator("#search-results ul.search li a")
        hits.first.wait_for(timeout=30_000)
        assert any("03_gram_matrix_and_style_loss" in (href or "")
                   for href in hits.evaluate_all("links => links.map(a => a.href)"))
    finally:
        page.close()
