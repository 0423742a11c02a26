"""The app's pages, and making sure every page runs inside ``app.py``.

Streamlit treats a ``pages/`` folder beside the entry point as an old-style (v1) multipage app until
the first call of ``st.navigation`` in that server process. So the first request after a (re)start
that deep-links to a page, say ``/predict``, runs ``pages/predict.py`` on its own: no ``app.py``,
hence no page config, sidebar, navigation or error handling. Each page therefore starts with
:func:`run_inside_app`: when ``app.py`` is not running it, the page runs ``app.py`` in its place, in
the same script run. ``app.py`` calls ``st.navigation`` (which turns the v1 mode off for the process,
for good), finds the same page (a page is known by its URL path in both modes) and runs it inside the
app; then the page file that Streamlit started stops. No rerun, so a button press in that run counts.
(``AppTest`` starts every run in the v1 mode, so the app tests go through this path each time.)
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

ENTRY_POINT = Path(__file__).resolve().parents[1] / "app.py"


@dataclass(frozen=True)
class PageInfo:
    """One page of the app, for the navigation and for the links on the overview."""

    name: str  # the file pages/<name>.py, shown at the URL /<name>
    title: str
    icon: str
    blurb: str

    @property
    def path(self) -> str:
        return f"pages/{self.name}.py"


PAGES = {
    page.name: page
    for page in (
        PageInfo("overview", "Overview", ":material/home:", "What the studio does and how good the model is."),
        PageInfo(
            "eda", "Explore the data", ":material/bar_chart:",
            "Checks, label balance, random samples, mean digits and pixel intensities.",
        ),
        PageInfo(
            "train", "Train", ":material/model_training:", "Pick a preset, tune it, watch loss and accuracy live."
        ),
        PageInfo(
            "evaluate", "Evaluate", ":material/fact_check:",
            "Per-digit metrics, the confusion matrix, the worst mistakes; compare two runs.",
        ),
        PageInfo(
            "predict", "Predict", ":material/draw:", "Draw a digit or upload photos and see what the model reads."
        ),
        PageInfo(
            "runs", "Runs", ":material/history:", "Every saved run: make one active, download its model, delete it."
        ),
        PageInfo(
            "activity", "Activity", ":material/insights:",
            "What users drew and uploaded, what they corrected, and how each run reads their examples.",
        ),
    )
}


def navigation_pages() -> list[st.Page]:
    """The pages for ``st.navigation``, the overview first and at the root URL."""
    return [
        st.Page(info.path, title=info.title, icon=info.icon, default=info.name == "overview")
        for info in PAGES.values()
    ]


# Set while app.py runs a page. Streamlit runs each script run in a thread of its own.
_app_running = threading.local()


@contextmanager
def running_page() -> Iterator[None]:
    """Mark the page that ``app.py`` runs now as run by the app."""
    _app_running.active = True
    try:
        yield
    finally:
        _app_running.active = False


def run_inside_app() -> None:
    """Called first by every page: if Streamlit ran the page file on its own, run ``app.py`` instead."""
    if getattr(_app_running, "active", False):
        return
    runpy.run_path(str(ENTRY_POINT), run_name="__main__")
    st.stop()
