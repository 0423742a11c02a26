"""The app in a real browser: every page opens, a digit drawn with the mouse is read, uploads (good and
corrupt) are handled, and a training run starts, survives a reload and is cancelled. A number drawn is read
digit by digit and explained, an ambiguous digit gets "not sure", a confusion-matrix cell opens its test
images, and the canvas works with touch and in the dark theme.

Set ``MNIST_E2E_SCREENSHOTS`` to a folder to keep a screenshot of every page there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from mnist_core import config
from tests.e2e.conftest import open_tab
from tests.support.canvas import stroke, wait_until_ready_to_draw

pytestmark = pytest.mark.e2e

PAGES = {  # a deep link first: on a fresh server it must still run through app.py
    "eda": "Explore the data",
    "": "MNIST digit-recognition studio",
    "train": "Train a model",
    "evaluate": "Evaluate",
    "predict": "Predict",
    "activity": "Activity",
    "runs": "Runs",
}


def open_page(page: Page, path: str) -> None:
    """Go to a page and wait until its script has run to the end without an error."""
    page.goto(f"/{path}")
    expect(page.get_by_role("heading", name=PAGES[path], exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def predictions(page: Page):
    """The values of the visible metrics labelled "Prediction"."""
    metrics = page.locator('[data-testid="stMetric"]').filter(visible=True)
    return metrics.filter(has=page.get_by_text("Prediction", exact=True)).locator('[data-testid="stMetricValue"]')


def test_every_page_opens_with_the_sidebar(page):
    screenshots = os.environ.get("MNIST_E2E_SCREENSHOTS")
    for path in PAGES:
        open_page(page, path)
        expect(page.locator('[data-testid="stSidebar"]').get_by_text("Local folder")).to_be_visible()
        if screenshots:
            page.wait_for_timeout(1000)  # widgets and charts finish drawing after the script ends
            page.screenshot(path=Path(screenshots) / f"{path or 'overview'}.png")
    expect(page.get_by_text("No runs saved yet.")).to_be_visible()  # an empty store


def test_a_digit_drawn_on_the_canvas_is_read_as_it_is_drawn(page):
    open_page(page, "predict")
    expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()
    stroke(page, [(0.52, 0.15), (0.5, 0.85)])  # a one: a single downstroke
    expect(predictions(page)).to_have_text(["1"])
    page.get_by_role("button", name="Reset canvas & history").click()
    expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()
    stroke(page, [(0.25, 0.18), (0.75, 0.18), (0.45, 0.85)])  # a seven: the bar, then the diagonal
    expect(predictions(page)).to_have_text(["7"])


def test_uploads_are_read_and_a_corrupt_file_gets_a_message(page, tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a picture")
    open_page(page, "predict")
    page.get_by_role("tab", name="Upload").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [config.ASSETS_DIR / "img1.jpg", corrupt]
    )
    expect(predictions(page)).to_have_text(["3"])
    card = page.locator('[data-testid="stVerticalBlock"]').filter(has=page.locator("strong", has_text="corrupt.png"))
    expect(card.last.get_by_text(re.compile("truncated or corrupt|not an image"))).to_be_visible()

    page.get_by_role("tab", name="Samples").click()  # the page keeps working
    page.get_by_role("button", name="Try the sample pictures").click()
    samples = len([path for path in config.ASSETS_DIR.iterdir() if path.suffix in (".jpg", ".png")])
    expect(predictions(page)).to_have_count(samples)


def test_training_starts_survives_a_reload_and_can_be_cancelled(page):
    open_page(page, "train")
    page.get_by_role("button", name="Start training").click()
    progress = page.get_by_text(re.compile(r"epoch 1/\d+\s.*[\d,]+ img/s"))
    expect(progress).to_be_visible()

    page.reload()  # the run belongs to the server, not to this tab
    expect(progress).to_be_visible()
    expect(page.get_by_text("Train loss")).to_be_visible()

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text(re.compile("Cancelled after \\d+ complete epochs?; nothing was saved."))).to_be_visible()
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_text("No runs saved yet.")).to_be_visible()


def test_a_number_drawn_on_the_canvas_is_read_digit_by_digit_and_explained(page):
    open_page(page, "predict")
    stroke(page, [(0.28, 0.15), (0.27, 0.85)])  # a one on the left
    stroke(page, [(0.55, 0.18), (0.8, 0.18), (0.63, 0.85)])  # a seven on the right
    expect(predictions(page)).to_have_text(["17"])
    page.get_by_text("Why? Show which strokes decided").click()
    expect(page.get_by_text("Saliency over the original")).to_be_visible()
    expect(page.get_by_text(re.compile(r"runner-up \d at"))).to_have_count(2)


def test_an_ambiguous_digit_gets_not_sure_instead_of_a_guess(page, tmp_path):
    from PIL import Image

    from mnist_core.data import get_data_batch
    from mnist_core.predict import Predictor

    predictor = Predictor.load(str(config.BUNDLED_MODEL))
    validation = get_data_batch()[0].validation
    probabilities = predictor.predict_batch(validation.images[:3000])
    unsure = int(np.flatnonzero((probabilities.max(axis=1) < 0.6) & (probabilities.max(axis=1) > 0.4))[0])
    picture = tmp_path / "unsure.png"
    Image.fromarray(validation.images[unsure]).resize((280, 280), Image.Resampling.BILINEAR).save(picture)
    open_page(page, "predict")
    page.get_by_role("tab", name="Upload").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([picture])
    expect(predictions(page)).to_have_text([re.compile(r"not sure: \d or \d\?")])


def test_a_confusion_matrix_cell_opens_its_test_images(page):
    open_page(page, "evaluate")
    plot = page.locator(".js-plotly-plot").first
    area = plot.locator(".nsewdrag").first.bounding_box()
    true, predicted = 4, 9
    page.mouse.click(area["x"] + (predicted + 0.5) / 10 * area["width"], area["y"] + (true + 0.5) / 10 * area["height"])
    expect(page.get_by_text(re.compile(rf"\d+ test images?: true {true}, read as {predicted}"))).to_be_visible()


def test_a_digit_drawn_by_touch_is_read(browser, app_url):
    with open_tab(browser, app_url, has_touch=True) as page:
        open_page(page, "predict")
        box = wait_until_ready_to_draw(page)
        session = page.context.new_cdp_session(page)
        x = box["x"] + 0.5 * box["width"]
        points = [(x, box["y"] + (0.15 + 0.7 * step / 20) * box["height"]) for step in range(21)]
        for kind, (px, py) in [("touchStart", points[0]), *[("touchMove", point) for point in points[1:]]]:
            session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": px, "y": py}]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        expect(predictions(page)).to_have_text(["1"])


def brightness(css_colour: str) -> float:
    """0 (black) to 1 (white) for a computed ``rgb(...)``/``rgba(...)`` colour."""
    red, green, blue = (int(value) for value in re.findall(r"\d+", css_colour)[:3])
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def test_the_canvas_works_in_the_dark_theme(browser, app_url):
    with open_tab(browser, app_url, color_scheme="dark") as page:
        open_page(page, "predict")
        app_background = page.locator('[data-testid="stApp"]').evaluate("e => getComputedStyle(e).backgroundColor")
        assert brightness(app_background) < 0.2  # Streamlit followed the system's dark preference
        stroke(page, [(0.52, 0.15), (0.5, 0.85)])
        expect(predictions(page)).to_have_text(["1"])
        reset = page.get_by_role("button", name="Reset canvas & history")
        assert brightness(reset.evaluate("e => getComputedStyle(e).color")) > 0.5  # toolbar icons stay visible
