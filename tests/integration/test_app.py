"""The Streamlit app under ``AppTest``: every page renders with its key widgets, uploads are read, and a
run started on the Train page trains, is saved, shows up on the Runs page, and can be activated and deleted.

AppTest runs the script in this process without a browser, so the drawing canvas (a custom component)
renders as a placeholder; the browser tests in ``tests/e2e`` draw on it for real.
"""

from __future__ import annotations

import json
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import app_common
from mnist_core import config, data
from mnist_core.data import MnistSplits, Split
from mnist_core.store import get_store

APP = config.PROJECT_ROOT / "app.py"
RUN_TIMEOUT = 60  # seconds for one script run; the first one imports TensorFlow and loads MNIST


@pytest.fixture
def app(store_env):
    """The app on an empty local store, with none of the server-wide caches of an earlier test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(app: AppTest, name: str) -> AppTest:
    app.switch_page(f"pages/{name}.py").run()
    assert not app.exception, app.exception
    return app


def texts(elements) -> str:
    return " ".join(str(element.value) for element in elements)


def test_overview_shows_the_data_the_model_and_links_to_every_page(app):
    assert not app.exception
    assert {"Training images", "Validation images", "Test images", "Test accuracy"} <= {m.label for m in app.metric}
    assert len(app.page_link) == len(app_common.PAGES) - 1
    assert "Local folder" in texts(app.sidebar.markdown)
    assert "Bundled baseline" in texts(app.sidebar.markdown)


def test_eda_reports_the_checks_and_redraws_filtered_samples(app):
    open_page(app, "eda")
    assert "passed all 14 checks" in texts(app.success)
    assert {m.label for m in app.metric} == {"train", "validation", "test"}
    assert len(app.get("plotly_chart")) == 2
    rows_before = len(app.image)
    app.pills(key="sample_digits").set_value([3, 7])
    app.button[0].click().run()  # "New samples"
    assert not app.exception
    assert len(app.image) == rows_before - 8


def test_train_page_has_a_form_for_each_preset(app):
    open_page(app, "train")
    assert app.selectbox(key="preset").value == "fast"
    assert {button.label for button in app.button} >= {"Start training"}
    app.selectbox(key="preset").set_value("best").run()
    assert not app.exception
    assert app.toggle(key="augment_best").value is True
    assert app.segmented_control(key="precision").value == "auto"


def test_evaluate_shows_the_baseline_metrics_matrix_and_mistakes(app):
    open_page(app, "evaluate")
    assert {"Test accuracy", "Test loss", "Mistakes"} <= {m.label for m in app.metric}
    baseline = json.loads(config.BUNDLED_MODEL.with_suffix(".json").read_text())["evaluation"]
    assert app.metric[0].value == f"{baseline['test_accuracy']:.2%}"
    app.radio(key="scale").set_value("Normalised by true digit").run()
    assert not app.exception
    assert len(app.image) == 16  # the gallery of mistakes


def test_predict_reads_uploads_and_explains_bad_files(app):
    open_page(app, "predict")
    assert "Draw a digit" in texts(app.info)
    photo = (config.ASSETS_DIR / "img1.jpg").read_bytes()
    app.file_uploader(key="uploads").set_value(
        [("img1.jpg", photo, "image/jpeg"), ("broken.png", b"not a picture", "image/png")]
    ).run()
    assert not app.exception
    assert [m.value for m in app.metric if m.label == "Prediction"] == ["3"]
    assert "broken.png" in texts(app.markdown) and "not an image" in texts(app.warning)
    app.button(key="try_samples").click().run()
    assert len([m for m in app.metric if m.label == "Prediction"]) == 1 + len(list(config.ASSETS_DIR.glob("*.*g")))


@pytest.fixture
def small_mnist(monkeypatch, mnist_splits):
    """Training on 2,000 images so the run takes seconds; the app's own loading code still runs."""
    small = MnistSplits(
        Split(mnist_splits.train.images[:2000], mnist_splits.train.labels[:2000]),
        Split(mnist_splits.validation.images[:500], mnist_splits.validation.labels[:500]),
        Split(mnist_splits.test.images[:1000], mnist_splits.test.labels[:1000]),
    )
    real = data.get_data_batch
    monkeypatch.setattr(data, "get_data_batch", lambda **kwargs: (small, real(**kwargs)[1]))


def wait_until_trained(app: AppTest, seconds: float = 120) -> None:
    """Rerun the Train page until the run it started is saved and offers to become the active model."""
    deadline = time.monotonic() + seconds
    while "Make it the active model" not in {button.label for button in app.button}:
        assert time.monotonic() < deadline, "the training run did not finish in time"
        assert not app.error, texts(app.error)
        time.sleep(1)
        app.run()


def test_a_run_trained_on_the_train_page_appears_on_the_runs_page(small_mnist, app):
    open_page(app, "runs")
    assert "No runs saved yet." in texts(app.info)

    open_page(app, "train")
    app.number_input(key="epochs_fast").set_value(1)
    app.segmented_control(key="precision").set_value("float32")
    app.button[0].click().run()  # "Start training"
    assert not app.exception and not app.error
    assert "· float32" in texts(app.markdown)  # the run says which precision it trains in
    wait_until_trained(app)
    assert "is saved" in texts(app.success)
    assert {"Test accuracy", "Test loss", "Training time"} <= {m.label for m in app.metric}
    (saved,) = get_store().list_runs()  # the fields left alone trained the preset's own values
    params, preset = get_store().get_run(saved.run_id)["params"], config.get_preset("fast", epochs=1)
    assert (params["preset"], params["epochs"], params["batch_size"], params["learning_rate"], params["seed"]) == (
        "fast", 1, preset.batch_size, preset.learning_rate, preset.seed
    )
    next(button for button in app.button if button.label == "Make it the active model").click().run()
    assert "This is the active model" in texts(app.markdown)

    open_page(app, "evaluate")  # the new run, and beside the baseline
    assert app.selectbox(key="run").value == app.selectbox(key="compare_a").value
    assert app.selectbox(key="compare_b").value == "baseline"
    assert [m.label for m in app.metric].count("Test accuracy") == 3

    open_page(app, "runs")
    run_id = app.selectbox(key="chosen_run").value
    assert run_id in app.dataframe[0].value["run_id"].tolist()
    assert app.dataframe[0].value["active"].tolist() == ["★"]

    another_tab = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    assert run_id in texts(another_tab.sidebar.markdown)

    app.button(key="confirm_delete").click().run()  # inside the "Delete…" popover
    assert not app.exception
    assert "No runs saved yet." in texts(app.info)


def test_a_rerun_leaves_keras_alone_for_a_model_training_in_another_thread(app):
    """Streamlit resets Keras after every script run (garbage collection, TensorFlow's kernel cache, Keras's
    global state for every thread) unless the app stops it; state another thread set survives the reruns."""
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("studio_marker", "kept")
    app.run()
    open_page(app, "eda")
    assert global_state.get_global_attribute("studio_marker") == "kept"
