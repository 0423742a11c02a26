"""The feedback store on the local backend: entries, snapshots, the hold-out, deletion, export, the log."""

from __future__ import annotations

import csv
import io
import threading

import numpy as np
import pytest
from PIL import Image

from mnist_core.errors import ConfigError, StoreError
from mnist_core.feedback import FeedbackStore, PredictionLog, Snapshot, check_label, logging_enabled
from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS, held_out_mask
from mnist_core.store import LocalStore


def digit_image(value: int) -> np.ndarray:
    """A 28x28 float image that differs for every ``value``."""
    image = np.zeros((28, 28), np.float32)
    image[4 + value % 20, 4:24] = 1.0
    image[4:24, 4 + value // 20 % 20] = 0.5
    return image


@pytest.fixture
def feedback(tmp_path) -> FeedbackStore:
    return FeedbackStore(LocalStore(tmp_path / "store"))


@pytest.mark.parametrize("label", [0, 9, "7", " 3 ", np.int64(4)])
def test_labels_0_to_9_are_accepted(label):
    assert check_label(label) == int(str(label).strip())


@pytest.mark.parametrize("label", [10, -1, "a", "", "1.5", "12", None, True, 3.0])
def test_anything_else_is_refused(label):
    with pytest.raises(ConfigError, match="0-9"):
        check_label(label)


def test_an_example_keeps_the_image_the_label_and_what_the_model_read(feedback):
    probabilities = np.eye(10)[3] * 0.9 + 0.01
    entry, stored = feedback.add_example(
        digit_image(1), "8", source="canvas", original=np.full((40, 40, 4), 200, np.uint8),
        probabilities=probabilities, model="bundled baseline",
    )
    assert stored
    [listed] = feedback.entries(EXAMPLES)
    assert listed == entry
    assert (listed.label, listed.digit, listed.source, listed.corrected) == (8, 3, "canvas", True)
    assert listed.confidence == pytest.approx(0.91)
    np.testing.assert_array_equal(listed.pixels, (digit_image(1) * 255 + 0.5).astype(np.uint8))
    assert max(Image.open(io.BytesIO(listed.thumbnail)).size) <= 64
    assert feedback.get(entry.id) == entry
    assert feedback.entries(PREDICTIONS) == []


def test_the_snapshot_hash_follows_the_content_and_a_deleted_example_leaves_it(feedback):
    entries = [feedback.add_example(digit_image(n), n % 10, source="upload")[0] for n in range(12)]
    first = feedback.snapshot()
    assert len(first) == 12 and first.sha256 == feedback.snapshot().sha256
    feedback.delete(entries[5].id)
    second = feedback.snapshot()
    assert len(second) == 11 and entries[5].id not in second.ids and second.sha256 != first.sha256
    assert entries[5].id not in {entry.id for entry in feedback.entries()}
    with pytest.raises(StoreError, match="no feedback entry"):
        feedback.delete(entries[5].id)


def test_deleting_a_logged_prediction_deletes_the_examples_made_from_it(feedback):
    prediction_log = PredictionLog(feedback)
    prediction_id = prediction_log.record(digit_image(2), np.eye(10)[1], source="upload")
    assert prediction_log.flush()
    example, _ = feedback.add_example(digit_image(2), 7, source="upload", prediction_id=prediction_id)
    other, _ = feedback.add_example(digit_image(3), 7, source="upload")
    assert sorted(feedback.delete(prediction_id)) == sorted([prediction_id, example.id])
    assert [entry.id for entry in feedback.entries()] == [other.id]


def test_the_hold_out_is_a_stratified_quarter_and_stable():
    ids = [f"20261124T0000{n:02d}Z-{n:08x}" for n in range(40)]
    labels = np.array([n % 4 for n in range(40)])
    mask = held_out_mask(ids, labels)
    assert [int(mask[labels == digit].sum()) for digit in range(4)] == [2, 2, 2, 2]  # round(10 * 0.25)
    np.testing.assert_array_equal(mask, held_out_mask(ids, labels))
    assert not held_out_mask(ids[:1], labels[:1]).any()  # a lone example of a digit is always trained on
    snapshot = Snapshot.from_arrays(ids, np.zeros((40, 28, 28), np.uint8), labels)
    assert len(snapshot.training[1]) + len(snapshot.evaluation[1]) == 40
    assert snapshot.record() == {"examples": 40, "held_out": 8, "sha256": snapshot.sha256}


def test_export_writes_pngs_and_labels_csv(feedback, tmp_path):
    made = [feedback.add_example(digit_image(n), n, source="upload")[0] for n in (4, 1)]
    csv_path = feedback.export(tmp_path / "out")
    rows = list(csv.DictReader(csv_path.open()))
    assert {(row["file"], row["label"]) for row in rows} == {(f"{entry.id}.png", str(entry.label)) for entry in made}
    for row in rows:
        assert Image.open(tmp_path / "out" / row["file"]).size == (28, 28)


def test_two_corrections_at_the_same_moment_both_land(feedback):
    barrier = threading.Barrier(2)

    def correct(label: int) -> None:
        barrier.wait()
        feedback.add_example(digit_image(label), label, source="canvas")

    threads = [threading.Thread(target=correct, args=(label,)) for label in (4, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(entry.label for entry in feedback.entries()) == [4, 9]


def test_a_drawing_is_logged_once_in_its_final_state(feedback):
    prediction_log = PredictionLog(feedback, settle_seconds=30)
    drawing = prediction_log.record(digit_image(1), np.eye(10)[1], source="canvas", settle=True)
    for stroke in range(2, 5):  # more strokes on the same drawing
        prediction_log.record(digit_image(stroke), np.eye(10)[stroke], source="canvas", entry_id=drawing, settle=True)
    assert feedback.entries(PREDICTIONS) == []  # still settling: nothing written yet
    assert prediction_log.flush()
    [entry] = feedback.entries(PREDICTIONS)
    assert (entry.id, entry.digit, entry.source) == (drawing, 4, "canvas")


def test_the_log_setting_turns_logging_off(monkeypatch):
    monkeypatch.delenv("MNIST_PREDICTION_LOG", raising=False)
    assert logging_enabled()
    for value in ("off", "0", "false", "No"):
        monkeypatch.setenv("MNIST_PREDICTION_LOG", value)
        assert not logging_enabled()


def test_a_snapshot_travels_between_pipeline_steps_unchanged(feedback, tmp_path):
    from mnist_core.pipeline_steps import arrays_to_feedback, feedback_to_arrays

    for n in range(6):
        feedback.add_example(digit_image(n), n % 3, source="upload")
    snapshot = feedback.snapshot()
    store = feedback.store
    store.save_arrays("batch-splits", {"train_labels": np.zeros(3, np.uint8), **feedback_to_arrays(snapshot)})
    arrived = arrays_to_feedback(store.load_arrays("batch-splits"))
    assert arrived.ids == snapshot.ids and arrived.sha256 == snapshot.sha256
    np.testing.assert_array_equal(arrived.held_out, snapshot.held_out)
    assert arrays_to_feedback({"train_labels": np.zeros(3)}) is None
