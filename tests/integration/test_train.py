"""Training on a subsample: a real accuracy bar, progress events, cancel and seeding."""

from __future__ import annotations

import threading
from dataclasses import replace

import keras
import numpy as np
import pytest

from mnist_core.config import PRESETS, get_preset
from mnist_core.data import as_model_input
from mnist_core.evaluate import evaluate
from mnist_core.models import load_model_file
from mnist_core.precision import resolve_precision
from mnist_core.train import train


def subsample(split, count: int, seed: int = 0):
    picked = np.random.default_rng(seed).choice(len(split), size=count, replace=False)
    return split.images[picked], split.labels[picked]


@pytest.fixture(scope="module")
def small_data(mnist_splits):
    return subsample(mnist_splits.train, 12_000), subsample(mnist_splits.validation, 1_000)


@pytest.fixture(scope="module")
def fast_run(small_data):
    events = []
    result = train(get_preset("fast", epochs=2), *small_data, on_event=events.append)
    return result, events


def test_fast_preset_learns_from_a_subsample(fast_run, mnist_splits):
    result, _ = fast_run
    images, labels = subsample(mnist_splits.test, 2_000)
    evaluation = evaluate(result.model, images, labels)
    assert evaluation["test_accuracy"] >= 0.96, evaluation["test_accuracy"]
    assert not result.cancelled and result.epochs_completed == 2
    assert result.history["val_accuracy"][-1] >= 0.95
    assert len(result.history["epoch_seconds"]) == 2 and result.train_seconds > 0


def test_progress_events_cover_the_run(fast_run):
    _, events = fast_run
    kinds = [event.kind for event in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    epochs = [event for event in events if event.kind == "epoch"]
    assert [event.epoch for event in epochs] == [1, 2]
    assert all(event.val_accuracy is not None and event.loss is not None for event in epochs)
    batches = [event for event in events if event.kind == "batch"]
    assert batches and all(0 < event.batch <= event.batches for event in batches)
    # every epoch reports its last batch, though Keras's last execution of 8 steps says it ran past the data
    assert [max(e.batch for e in batches if e.epoch == epoch) for epoch in (1, 2)] == [batches[0].batches] * 2
    assert all(event.images_per_second > 0 and event.eta_seconds >= 0 for event in batches)
    assert epochs[-1].fraction_done == 1.0
    assert events[-1].eta_seconds == 0


def test_cancel_stops_mid_run_and_returns_what_it_has(small_data):
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if event.kind == "batch" and event.batch >= 5:
            cancel.set()

    result = train(get_preset("keras-example", epochs=5), *small_data, on_event=on_event, cancel=cancel)
    assert result.cancelled
    assert result.epochs_completed == 0
    assert result.model is not None and seen[-1].kind == "end"
    assert max(event.batch for event in seen if event.kind == "batch") < seen[-1].batches


def test_same_seed_gives_the_same_run(small_data):
    (images, labels), _validation = small_data
    data = (images[:2_000], labels[:2_000])
    first = train(get_preset("keras-example", epochs=1, seed=5), data)
    second = train(get_preset("keras-example", epochs=1, seed=5), data)
    other = train(get_preset("keras-example", epochs=1, seed=6), data)
    np.testing.assert_allclose(first.history["loss"], second.history["loss"], rtol=1e-4)
    assert not np.allclose(first.history["loss"], other.history["loss"], rtol=1e-4)


@pytest.mark.parametrize("precision", ["auto", "bfloat16", "float32"])
def test_either_precision_learns_and_gives_a_float32_model(small_data, precision, tmp_path):
    """Mixed bfloat16 trains as well on a subsample; what comes back, is saved and loaded predicts in float32."""
    (images, labels), validation = small_data
    preset = replace(PRESETS["fast"], precision=precision)  # not resolved yet: train() does it
    result = train(preset, (images[:6000], labels[:6000]), validation)
    assert result.params["precision"] == resolve_precision(precision)
    assert result.history["val_accuracy"][-1] >= 0.93
    path = tmp_path / "model.keras"
    result.model.save(path)
    loaded = load_model_file(path)
    assert all(layer.compute_dtype == "float32" for layer in loaded.layers)
    probabilities = keras.ops.convert_to_numpy(loaded(as_model_input(validation[0][:8])))
    assert probabilities.dtype == np.float32
    in_memory = keras.ops.convert_to_numpy(result.model(as_model_input(validation[0][:8])))
    np.testing.assert_allclose(probabilities, in_memory, rtol=1e-6, atol=1e-7)
