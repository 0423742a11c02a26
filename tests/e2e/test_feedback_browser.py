"""The learning loop in a real browser: draw a digit, say the model was wrong, label it, see it kept."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from mnist_core.feedback import FeedbackStore
from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS
from mnist_core.store import LocalStore
from tests.e2e.test_browser import open_page, predictions
from tests.support.app_server import running_app
from tests.support.canvas import stroke

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-feedback")


@pytest.fixture(scope="module")
def app_url(server_folder) -> str:
    with running_app(server_folder) as server:
        yield server.url


def test_draw_say_wrong_label_it_and_see_it_on_the_activity_page(page, server_folder):
    feedback = FeedbackStore(LocalStore(server_folder / "store"))
    open_page(page, "predict")
    stroke(page, [(0.52, 0.15), (0.5, 0.85)])  # a one, which this user says is a seven (a continental 1)
    expect(predictions(page)).to_have_text(["1"])

    wrong = page.locator('[data-testid="stButtonGroup"]').filter(visible=True)
    wrong.get_by_role("radio", name="7", exact=True).click()
    expect(page.get_by_text("Kept as a 7 for training.")).to_be_visible()
    [example] = feedback.entries(EXAMPLES)
    assert (example.label, example.digit, example.source) == (7, 1, "canvas")
    assert example.pixels.max() > 200  # the drawing, as the model saw it

    page.get_by_role("button", name="Reset canvas & history").click()  # the drawing is finished: it is logged
    expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()

    open_page(page, "activity")
    labelled = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Labelled examples"))
    expect(labelled.locator('[data-testid="stMetricValue"]')).to_have_text("1")
    corrections = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Corrections", exact=True))
    expect(corrections.locator('[data-testid="stMetricValue"]')).to_have_text("1")
    deadline = time.monotonic() + 30  # a drawing is logged once it has been left alone for a moment
    while not (logged := feedback.entries(PREDICTIONS)) and time.monotonic() < deadline:
        time.sleep(0.2)
    [drawing] = logged
    assert drawing.source == "canvas" and example.prediction_id == drawing.id
