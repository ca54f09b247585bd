"""Screenshots of the built site as a reader sees it (docs/README.md lists the command):

    .venv/bin/python book/screenshots.py [--preset quality] [--out docs]

writes <out>/site_landing.png (the landing page) and <out>/site_gram_matrix.png (notebook 3,
section 1: Eq. 3 and the Gram matrix), from build/book/<preset>/html served on 127.0.0.1.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import browser as B  # noqa: E402  (the browser tests' chromium and its flags)

SHOTS = {  # file name: (page, heading the picture starts at, or None for the top)
    "site_landing.png": ("index.html", None),
    "site_gram_matrix.png": ("notebooks/03_gram_matrix_and_style_loss.html",
                             "1 · Equation 3: feature correlations"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quality")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    site = ROOT / "build" / "book" / args.preset / "html"
    if not (site / "index.html").is_file():
        sys.exit(f"screenshots: no site in {site}; build it first: make book PRESET={args.preset}")
    from playwright.sync_api import sync_playwright
    with B.static_site(site) as url, sync_playwright() as playwright:
        chromium = B.launch(playwright)
        page = chromium.new_page(viewport={"width": 1280, "height": 1400})
        for name, (path, heading) in SHOTS.items():
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            if heading:       # the heading at the top, below the sticky header bar
                page.get_by_role("heading", name=heading).first.evaluate(
                    "h => { h.scrollIntoView({block: 'start'}); window.scrollBy(0, -70); }")
            page.screenshot(path=args.out / name)
            print(args.out / name)
        chromium.close()


if __name__ == "__main__":
    main()
