"""The learning loop in the app under ``AppTest``: answer a prediction, see it on the Activity page, train on it."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core import config
from mnist_core.feedback import FeedbackStore
from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS
from mnist_core.store import get_store
from tests.integration import test_app
from tests.integration.test_app import open_page, texts, wait_until_trained

app, small_mnist = test_app.app, test_app.small_mnist  # the same fixtures: an app on an empty store, small MNIST

PHOTO = (config.ASSETS_DIR / "img1.jpg").read_bytes()  # a 3


def wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return result


def upload_photo(app: AppTest) -> AppTest:
    open_page(app, "predict")
    app.file_uploader(key="uploads").set_value([("img1.jpg", PHOTO, "image/jpeg")]).run()
    assert [m.value for m in app.metric if m.label == "Prediction"] == ["3"]
    return app


def test_an_upload_is_logged_and_a_correction_becomes_an_example_that_can_be_undone(app):
    feedback = FeedbackStore(get_store())
    upload_photo(app)
    [logged] = wait_for(lambda: feedback.entries(PREDICTIONS))
    assert (logged.digit, logged.source, logged.name) == (3, "upload", "img1.jpg")

    [wrong] = [control for control in app.segmented_control if control.label == "Wrong, it is a"]
    wrong.set_value(8).run()
    assert not app.exception
    assert "Kept as a **8**" in texts(app.success)
    [example] = feedback.entries(EXAMPLES)
    assert (example.label, example.digit, example.prediction_id, example.corrected) == (8, 3, logged.id, True)
    assert len(feedback.entries(PREDICTIONS)) == 1  # reruns do not log the same picture again

    next(button for button in app.button if button.label == "Undo").click().run()
    assert feedback.entries(EXAMPLES) == []
    next(button for button in app.button if button.label == "Right").click().run()
    assert [entry.label for entry in feedback.entries(EXAMPLES)] == [3]


def test_switching_the_log_off_keeps_no_prediction_but_still_keeps_corrections(app):
    feedback = FeedbackStore(get_store())
    open_page(app, "predict")
    app.toggle(key="keep_log").set_value(False).run()
    app.file_uploader(key="uploads").set_value([("img1.jpg", PHOTO, "image/jpeg")]).run()
    next(button for button in app.button if button.label == "Right").click().run()
    time.sleep(0.5)
    assert feedback.entries(PREDICTIONS) == []
    [example] = feedback.entries(EXAMPLES)
    assert example.prediction_id is None and example.label == 3


def test_the_activity_page_shows_counts_gallery_corrections_and_deletes(app):
    feedback = FeedbackStore(get_store())
    open_page(app, "activity")
    assert "Nothing yet" in texts(app.info)
    upload_photo(app)
    wait_for(lambda: feedback.entries(PREDICTIONS))
    [wrong] = [control for control in app.segmented_control if control.label == "Wrong, it is a"]
    wrong.set_value(5).run()

    open_page(app, "activity")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert (metrics["Predictions logged"], metrics["Labelled examples"], metrics["Corrections"]) == ("1", "1", "1")
    assert len(app.get("plotly_chart")) == 2  # digits read and labelled; the matrix of corrections
    assert app.dataframe[0].value["run"].tolist() == ["bundled baseline"]
    app.radio(key="gallery_kind").set_value("examples").run()
    assert "1 examples match." in texts(app.caption)
    next(button for button in app.button if button.label == "Delete").click().run()
    assert not app.exception
    assert feedback.entries(EXAMPLES) == []


@pytest.mark.usefixtures("small_mnist")
def test_the_train_page_learns_from_the_examples(app):
    feedback = FeedbackStore(get_store())
    upload_photo(app)
    next(button for button in app.button if button.label == "Right").click().run()
    assert len(feedback.entries(EXAMPLES)) == 1

    open_page(app, "train")
    app.toggle(key="learn_from_feedback").set_value(True)
    app.button[0].click().run()  # "Start training"
    assert not app.exception and not app.error, texts(app.error)
    wait_until_trained(app)
    assert "Learned from **1** labelled examples" in texts(app.markdown)
    [run] = get_store().list_runs()
    assert get_store().get_run(run.run_id)["params"]["feedback"]["strategy"] == "retrain"
