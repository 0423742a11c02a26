"""Evaluation arithmetic on hand-made predictions, where every number can be checked by hand."""

from __future__ import annotations

import json

import keras
import numpy as np

from mnist_core.evaluate import confusion_matrix, evaluate, most_confident_mistakes, per_class_metrics


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 2, 0])
    matrix = confusion_matrix(labels, predicted)
    assert matrix.shape == (10, 10) and matrix.sum() == 6
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[2, 0] == 1 and matrix[2, 2] == 2


def test_per_class_precision_recall_f1():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 2, 0])
    rows = per_class_metrics(confusion_matrix(labels, predicted))
    zero, one, two, three = rows[0], rows[1], rows[2], rows[3]
    assert (zero["precision"], zero["recall"], zero["support"]) == (0.5, 0.5, 2)
    assert (one["precision"], one["recall"]) == (0.5, 1.0)
    assert round(one["f1"], 4) == round(2 * 0.5 * 1.0 / 1.5, 4)
    assert (two["precision"], two["recall"]) == (1.0, round(2 / 3, 5))
    assert three == {"digit": 3, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_most_confident_mistakes_come_first():
    labels = np.array([1, 2, 3, 4])
    probabilities = np.full((4, 10), 0.01)
    probabilities[0, 1] = 0.9  # right
    probabilities[1, 7] = 0.6  # wrong, less sure
    probabilities[2, 8] = 0.95  # wrong, very sure
    probabilities[3, 4] = 0.8  # right
    mistakes = most_confident_mistakes(labels, probabilities, limit=5)
    assert [(m["index"], m["true"], m["predicted"]) for m in mistakes] == [(2, 3, 8), (1, 2, 7)]
    assert mistakes[0]["confidence"] == 0.95


def test_evaluate_returns_plain_json_with_everything():
    # A model that ignores its input and always answers 3: every count below follows from that.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    bias = np.zeros(10, np.float32)
    bias[3] = 5.0
    model.layers[-1].set_weights([np.zeros((784, 10), np.float32), bias])
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10

    result = evaluate(model, images, labels, mistakes=3)
    json.dumps(result)  # serialisable as it is
    assert result["test_images"] == 20 and result["test_accuracy"] == 0.1
    matrix = np.array(result["confusion_matrix"])
    assert matrix[:, 3].tolist() == [2] * 10 and matrix.sum() == 20
    assert result["per_class"][3]["recall"] == 1.0 and result["per_class"][3]["precision"] == 0.1
    assert len(result["mistakes"]) == 3 and all(m["predicted"] == 3 and m["true"] != 3 for m in result["mistakes"])
    expected_loss = -np.log(np.exp(0.0) / (9 + np.exp(5.0)))  # a wrong label's probability, for 18 of 20
    expected_loss = (18 * expected_loss - 2 * np.log(np.exp(5.0) / (9 + np.exp(5.0)))) / 20
    assert abs(result["test_loss"] - expected_loss) < 1e-4
