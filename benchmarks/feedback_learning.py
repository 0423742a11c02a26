"""Learning a handwriting MNIST lacks from 40 corrections per digit, and what logging costs a prediction.

    python -m benchmarks.feedback_learning

Handwriting: scikit-learn's ``load_digits`` rendered as photo uploads (mnist_core.handwriting_sets). The
first 40 of each digit (the set's first writers) are stored as labelled examples through the feedback
store; accuracy is measured on every digit after them (other writers) with the bundled baseline, then
with a run trained on the examples by each strategy, beside that run's MNIST test accuracy and the
seconds its training took. Logging: the same photos through ``predict_image``, in blocks with the log
off and on in turn (``record`` right after each prediction, the writer thread working meanwhile, as in
the app).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import median, write_result
from mnist_core import config
from mnist_core.handwriting_sets import load_digits_photos
from mnist_core.preprocess import preprocess

CORRECTIONS_PER_DIGIT = 40
REPEATS = 3
LATENCY_IMAGES = 400
LATENCY_BLOCK = 20
LATENCY_PAUSE_SECONDS = 0.01


def writer_blocks(labels: np.ndarray, per_digit: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_digit`` of each digit (the corrections), and every digit after the last of them.

    ``load_digits`` has no writer ids; it was written in blocks of consecutive digits per writer, so
    the digits after the corrections approximate other writers.
    """
    chosen = np.sort(np.concatenate([np.flatnonzero(labels == digit)[:per_digit] for digit in range(10)]))
    return chosen, np.arange(chosen.max() + 1, len(labels))


def accuracy(predictor, images: np.ndarray, labels: np.ndarray) -> float:
    return round(float(np.mean(predictor.predict_batch(images).argmax(axis=1) == labels)), 4)


def learning(photos: list[bytes], labels: np.ndarray) -> dict:
    from mnist_core.data import get_data_batch
    from mnist_core.feedback import FeedbackStore
    from mnist_core.feedback.training import STRATEGIES, FeedbackPlan
    from mnist_core.predict import Predictor
    from mnist_core.runs import train_evaluate_save
    from mnist_core.store import LocalStore

    corrections, others = writer_blocks(labels, CORRECTIONS_PER_DIGIT)
    seen = np.stack([preprocess(photo) for photo in photos])
    baseline = Predictor.load(str(config.BUNDLED_MODEL))
    result = {
        "corrections": len(corrections),
        "other_writers_images": len(others),
        "baseline": {
            "other_writers_accuracy": accuracy(baseline, seen[others], labels[others]),
            "mnist_test_accuracy": json.loads(config.BUNDLED_MODEL.with_suffix(".json").read_text())["evaluation"][
                "test_accuracy"
            ],
        },
    }
    splits, _ = get_data_batch(seed=config.DEFAULT_SEED)
    runs: dict[str, list[dict]] = {strategy: [] for strategy in STRATEGIES}
    result["snapshots"] = []
    for _ in range(REPEATS):  # fresh entry ids each time, so each repetition holds out other examples
        with tempfile.TemporaryDirectory() as folder:
            store = LocalStore(Path(folder) / "store")
            feedback = FeedbackStore(store)
            for index in corrections:  # as a user's corrections arrive: what the model read, then the label
                probabilities = baseline.predict_batch(seen[index][None])[0]
                feedback.add_example(seen[index], int(labels[index]), source="upload", original=photos[index],
                                     probabilities=probabilities, model=baseline.source)
            snapshot = feedback.snapshot()
            result["snapshots"].append(snapshot.record())
            for strategy in STRATEGIES:  # interleaved: both strategies see the same load, in turn
                plan = FeedbackPlan(snapshot, strategy, base_model=str(config.BUNDLED_MODEL))
                outcome = train_evaluate_save(config.get_preset("fast"), splits, store=store, feedback=plan)
                summary = outcome.summary
                run = {
                    "train_seconds": summary.train_seconds,
                    "mnist_test_accuracy": summary.test_accuracy,
                    "held_out_examples_accuracy": summary.feedback_accuracy,
                    "other_writers_accuracy": accuracy(Predictor(outcome.result.model), seen[others], labels[others]),
                }
                runs[strategy].append(run)
                print(strategy, run, flush=True)
    for strategy, measured in runs.items():
        result[strategy] = {
            "runs": measured,
            **{f"median_{key}": median([run[key] for run in measured]) for key in measured[0]},
            **{f"min_{key}": min(run[key] for run in measured) for key in measured[0]},
        }
    return result


def logging_latency(photos: list[bytes]) -> dict:
    """Blocks of predictions with the log off, then on, in turn; the writer thread's work lands in the "on" blocks."""
    from mnist_core.feedback import FeedbackStore, PredictionLog
    from mnist_core.predict import Predictor
    from mnist_core.store import LocalStore

    predictor = Predictor.load(str(config.BUNDLED_MODEL))
    plain, logged, record_only = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        prediction_log = PredictionLog(FeedbackStore(LocalStore(Path(folder) / "store")))
        for block_start in range(0, len(photos), LATENCY_BLOCK):
            block = photos[block_start : block_start + LATENCY_BLOCK]
            for logging_now in (False, True):
                prediction_log.flush()  # the "off" block starts with no write in flight
                for photo in block:
                    started = time.perf_counter()
                    prediction = predictor.predict_image(photo)
                    before_record = time.perf_counter()
                    if logging_now:
                        prediction_log.record(prediction.image, prediction.probabilities, source="upload",
                                              model=predictor.source, original=photo)
                    finished = time.perf_counter()
                    (logged if logging_now else plain).append(finished - started)
                    if logging_now:
                        record_only.append(finished - before_record)
                    time.sleep(LATENCY_PAUSE_SECONDS)  # a person does not upload 500 pictures a second
        flushed = prediction_log.flush(timeout=120)
        written = len(prediction_log.feedback.entries("predictions"))
    ms = 1000.0
    return {
        "images": len(photos),
        "predict_p50_ms": round(median(plain) * ms, 3),
        "predict_and_log_p50_ms": round(median(logged) * ms, 3),
        "added_p50_ms": round((median(logged) - median(plain)) * ms, 3),
        "record_call_p50_ms": round(median(record_only) * ms, 4),
        "entries_written": written,
        "all_flushed": flushed,
    }


def main() -> None:
    handwriting = load_digits_photos()
    photos, labels = handwriting.photos, handwriting.labels.astype(np.int64)
    load_before = os.getloadavg()[0]
    result = {"learning": learning(photos, labels), "logging": logging_latency(photos[:LATENCY_IMAGES])}
    # The 2 cores are shared: training seconds mean little without how busy the machine was.
    result["load_average_1min"] = {"start": round(load_before, 1), "end": round(os.getloadavg()[0], 1)}
    print(result, flush=True)
    print(write_result("feedback_learning", result))


if __name__ == "__main__":
    main()
