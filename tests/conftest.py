"""Shared fixtures.  Tests use the course's data cache ($COURSE_DATA_DIR), which
`make fetch` (and CI, from ../shared) fills; nothing here touches the network."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_report_header(config):
    """One line saying whether the browser tests run, and if not, why."""
    from browser import CHROMIUM, why_no_browser
    reason = why_no_browser()
    return f"browser tests: skipped, {reason}" if reason else f"browser tests: Chromium {CHROMIUM}"
