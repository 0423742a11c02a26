"""Final evaluation on the test set: accuracy, loss, per-class metrics, confusion matrix, mistakes.

Everything returned is plain JSON (ints, floats, lists, dicts) so it can be stored, shown and
compared without the model.
"""

from __future__ import annotations

import keras
import numpy as np

from mnist_core import config
from mnist_core.calibrate import calibration_report, temperature_scaled
from mnist_core.predict import Predictor


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts ``[true, predicted]`` as a 10x10 integer matrix."""
    flat = labels.astype(np.int64) * config.NUM_CLASSES + predicted
    return np.bincount(flat, minlength=config.NUM_CLASSES**2).reshape(config.NUM_CLASSES, -1)


def per_class_metrics(matrix: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support of each digit, from the confusion matrix."""
    true_positive = np.diag(matrix).astype(float)
    predicted_count = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted_count, out=np.zeros(len(matrix)), where=predicted_count > 0)
    recall = np.divide(true_positive, support, out=np.zeros(len(matrix)), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(len(matrix)), where=denominator > 0)
    return [
        {
            "digit": digit,
            "precision": round(float(precision[digit]), 5),
            "recall": round(float(recall[digit]), 5),
            "f1": round(float(f1[digit]), 5),
            "support": int(support[digit]),
        }
        for digit in range(len(matrix))
    ]


def most_confident_mistakes(labels: np.ndarray, probabilities: np.ndarray, limit: int) -> list[dict]:
    """The wrong predictions the model was surest about, most confident first."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    return [
        {
            "index": int(index),
            "true": int(labels[index]),
            "predicted": int(predicted[index]),
            "confidence": round(float(confidence[index]), 5),
        }
        for index in worst
    ]


def evaluate(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, mistakes: int = 50, temperature: float = 1.0
) -> dict:
    """Test metrics for ``model``; ``images`` raw uint8 or reshaped, ``labels`` integers.

    ``temperature`` is the one fitted on the validation split (:mod:`mnist_core.calibrate`); the loss and
    the mistakes' confidences are the calibrated ones, and ``"calibration"`` holds the expected
    calibration error and reliability diagram before and after it.
    """
    labels = np.asarray(labels).astype(np.int64)
    raw = Predictor(model).predict_batch(images)
    probabilities = temperature_scaled(raw, temperature)
    predicted = probabilities.argmax(axis=1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    matrix = confusion_matrix(labels, predicted)
    return {
        "test_accuracy": round(float((predicted == labels).mean()), 5),
        "test_loss": round(float(-np.log(picked).mean()), 5),
        "test_images": len(labels),
        "per_class": per_class_metrics(matrix),
        "confusion_matrix": matrix.tolist(),
        "mistakes": most_confident_mistakes(labels, probabilities, mistakes),
        "calibration": calibration_report(raw, labels, temperature),
    }
