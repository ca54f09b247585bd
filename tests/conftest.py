"""Shared fixtures.  Tests use the course's data cache ($COURSE_DATA_DIR), which
`make fetch` (and CI, from ../shared) fills; nothing here touches the network."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
