"""Honest confidence: temperature scaling, expected calibration error and the reliability diagram's numbers.

A network trained with label smoothing (the ``fast`` preset) says 90% where it is right 99.5% of the
time; others are overconfident. Temperature scaling divides the logits by one number ``T`` fitted on the
validation split (never the test set) to minimise the negative log-likelihood; the predicted digit never
changes, only how sure the model says it is. ``T`` is stored with the run, in its evaluation, under
``"calibration"``, and :class:`mnist_core.predict.Predictor` applies it.

Our models end in a softmax, so the logits are recovered as ``log p`` (the softmax of ``log p / T``
equals the softmax of ``logits / T``: the two differ by a constant per image).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

BINS = 15  # the usual number of equal-width confidence bins for the expected calibration error
LOWEST_LOG_TEMPERATURE, HIGHEST_LOG_TEMPERATURE = np.log(0.05), np.log(20.0)
TINY = 1e-30  # probabilities below this are taken as this before the logarithm


def temperature_scaled(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax probabilities ``(N, 10)`` as they would be with the logits divided by ``temperature``."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), TINY)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = np.asarray(probabilities, dtype=np.float64)[np.arange(len(labels)), labels]
    return float(-np.log(np.maximum(picked, TINY)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (golden-section search on log T).

    The likelihood is a smooth, single-dipped function of log T, so 60 golden-section steps find its
    minimum to well under 0.1%.
    """
    labels = np.asarray(labels).astype(np.int64)

    def loss(log_temperature: float) -> float:
        return negative_log_likelihood(temperature_scaled(probabilities, float(np.exp(log_temperature))), labels)

    ratio = (np.sqrt(5) - 1) / 2
    low, high = LOWEST_LOG_TEMPERATURE, HIGHEST_LOG_TEMPERATURE
    inner_low, inner_high = high - ratio * (high - low), low + ratio * (high - low)
    loss_low, loss_high = loss(inner_low), loss(inner_high)
    for _ in range(60):
        if loss_low < loss_high:
            high, inner_high, loss_high = inner_high, inner_low, loss_low
            inner_low = high - ratio * (high - low)
            loss_low = loss(inner_low)
        else:
            low, inner_low, loss_low = inner_low, inner_high, loss_high
            inner_high = low + ratio * (high - low)
            loss_high = loss(inner_high)
    return round(float(np.exp((low + high) / 2)), 4)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict:
    """Confidence against accuracy in equal-width confidence bins, and the expected calibration error.

    ECE is the average gap between how sure the model was and how often it was right, each bin
    weighted by its share of the images.
    """
    labels = np.asarray(labels).astype(np.int64)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    confidence_sum = np.bincount(which, weights=confidence, minlength=bins)
    correct_sum = np.bincount(which, weights=correct, minlength=bins)
    used = counts > 0
    mean_confidence = np.divide(confidence_sum, counts, out=np.zeros(bins), where=used)
    accuracy = np.divide(correct_sum, counts, out=np.zeros(bins), where=used)
    ece = float((counts * np.abs(mean_confidence - accuracy)).sum() / max(len(labels), 1))
    return {
        "ece": round(ece, 5),
        "bins": [
            {
                "low": round(index / bins, 4),
                "high": round((index + 1) / bins, 4),
                "confidence": round(float(mean_confidence[index]), 5),
                "accuracy": round(float(accuracy[index]), 5),
                "count": int(counts[index]),
            }
            for index in range(bins)
            if used[index]
        ],
    }


def fit_model_temperature(model, images: np.ndarray, labels: np.ndarray) -> float:
    """A Keras model's temperature, fitted on ``images`` and ``labels`` (the validation split)."""
    from mnist_core.predict import Predictor

    return fit_temperature(Predictor(model).predict_batch(images), labels)


def calibration_report(probabilities: np.ndarray, labels: np.ndarray, temperature: float) -> dict:
    """What ``evaluate`` stores under ``"calibration"``: the temperature and the test set's reliability
    before and after it is applied (``probabilities`` are the model's own, at temperature 1)."""
    before = reliability(probabilities, labels)
    after = reliability(temperature_scaled(probabilities, temperature), labels)
    return {
        "temperature": temperature,
        "ece": after["ece"],
        "ece_uncalibrated": before["ece"],
        "reliability": after["bins"],
        "reliability_uncalibrated": before["bins"],
    }


def calibrate_model_file(model_file: str | Path, data: str | Path | None = None) -> dict:
    """Calibrate a saved ``.keras`` model (one made before calibration, such as an older bundled baseline).

    The temperature is fitted on the validation split of the model's own seed (from ``FILE.json``, so
    the images were not trained on), the model is evaluated on the test set with it, and the new
    evaluation replaces the old one in ``FILE.json`` (created when missing). Returns that evaluation.
    """
    from mnist_core import config
    from mnist_core.data import get_data_batch
    from mnist_core.evaluate import evaluate
    from mnist_core.models import load_model_file

    path = Path(model_file)
    model = load_model_file(path)
    details_file = path.with_suffix(".json")
    try:
        details = json.loads(details_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        details = {}
    seed = int((details.get("params") or {}).get("seed", config.DEFAULT_SEED))
    splits, _ = get_data_batch(data, seed=seed)
    temperature = fit_model_temperature(model, splits.validation.images, splits.validation.labels)
    mistakes = len((details.get("evaluation") or {}).get("mistakes", [])) or 50
    details["evaluation"] = evaluate(model, splits.test.images, splits.test.labels, mistakes, temperature)
    if "summary" in details:
        details["summary"]["test_loss"] = details["evaluation"]["test_loss"]
    details_file.write_text(json.dumps(details, indent=1) + "\n", encoding="utf-8")
    return details["evaluation"]


def stored_temperature(evaluation: dict | None) -> float:
    """The temperature kept in a run's (or a model file's) evaluation; 1 (no scaling) when there is none."""
    calibration = (evaluation or {}).get("calibration") or {}
    return float(calibration.get("temperature", 1.0))


def sidecar_evaluation(model_file: str | Path) -> dict | None:
    """The evaluation kept beside a ``.keras`` file in ``FILE.json`` (what ``train --export`` writes), if any."""
    path = Path(model_file).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("evaluation")
    except (OSError, ValueError, AttributeError):
        return None
