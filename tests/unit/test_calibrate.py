"""Temperature scaling and calibration error on made-up probabilities with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.calibrate import fit_temperature, reliability, stored_temperature, temperature_scaled


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def simulated(temperature: float, count: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(logits), and the probabilities a model with logits * ``temperature`` reports:
    calibrated exactly when divided by ``temperature``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (count, 10))
    truth = softmax(logits)
    labels = np.array([rng.choice(10, p=row) for row in truth])
    return softmax(logits * temperature).astype(np.float32), labels


@pytest.mark.parametrize("true_temperature", [0.4, 1.0, 2.5])
def test_the_fitted_temperature_undoes_a_known_one(true_temperature):
    probabilities, labels = simulated(true_temperature)
    assert fit_temperature(probabilities, labels) == pytest.approx(true_temperature, rel=0.05)


def test_scaling_brings_the_calibration_error_down_and_keeps_every_answer():
    probabilities, labels = simulated(2.5)
    scaled = temperature_scaled(probabilities, fit_temperature(probabilities, labels))
    assert reliability(scaled, labels)["ece"] < 0.02 < reliability(probabilities, labels)["ece"]
    np.testing.assert_array_equal(scaled.argmax(axis=1), probabilities.argmax(axis=1))
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0, atol=1e-5)


def test_reliability_bins_count_every_image_and_measure_the_gap():
    probabilities = np.full((4, 10), 0.0, dtype=np.float32)
    probabilities[:, 0] = 0.9  # sure of 0 at 90%, the rest spread
    probabilities[:, 1:] = 0.1 / 9
    labels = np.array([0, 0, 1, 2])  # right half the time
    report = reliability(probabilities, labels)
    assert sum(row["count"] for row in report["bins"]) == 4
    assert report["ece"] == pytest.approx(0.4, abs=1e-4)


def test_a_model_without_calibration_keeps_its_probabilities():
    assert stored_temperature(None) == 1.0 and stored_temperature({"test_accuracy": 0.99}) == 1.0
    assert stored_temperature({"calibration": {"temperature": 0.4}}) == 0.4
    probabilities = np.array([[0.7, 0.3] + [0.0] * 8], dtype=np.float32)
    assert temperature_scaled(probabilities, 1.0) is probabilities
