"""Data stage on small, hand-made arrays: every rule without the 11 MB download."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core import config
from mnist_core.data import (
    Split,
    as_model_input,
    find_mnist_file,
    get_data_batch,
    imbalance_ratio,
    label_counts,
    load_mnist,
    mean_images,
    pixel_histogram,
    reshape_data,
    sample_indices,
    stratified_split,
    validate,
)
from mnist_core.errors import DataError


def make_split(count: int, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    return Split(images, labels)


def write_npz(path, train: Split, test: Split) -> None:
    np.savez_compressed(path, x_train=train.images, y_train=train.labels, x_test=test.images, y_test=test.labels)


def test_load_reads_an_explicit_path(tmp_path):
    path = tmp_path / "mnist.npz"
    write_npz(path, make_split(50), make_split(20, seed=1))
    train, test = load_mnist(path)
    assert train.images.shape == (50, 28, 28) and test.labels.shape == (20,)


def test_mnist_npz_environment_variable_is_used(tmp_path, monkeypatch):
    path = tmp_path / "from-env.npz"
    write_npz(path, make_split(30), make_split(10))
    monkeypatch.setenv(config.MNIST_NPZ_ENV, str(path))
    assert find_mnist_file() == path
    assert len(load_mnist()[0]) == 30


def test_keras_cache_is_used_when_nothing_else_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv(config.MNIST_NPZ_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    write_npz(tmp_path / "datasets" / "mnist.npz", make_split(40), make_split(10))
    assert len(load_mnist()[0]) == 40


def test_missing_env_file_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(config.MNIST_NPZ_ENV, str(tmp_path / "nope.npz"))
    with pytest.raises(DataError, match=config.MNIST_NPZ_ENV):
        load_mnist()


def test_offline_with_nothing_found_names_mnist_npz(tmp_path, monkeypatch):
    monkeypatch.delenv(config.MNIST_NPZ_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*_args, **_kwargs):
        raise OSError("network unreachable")

    import keras

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match=config.MNIST_NPZ_ENV):
        load_mnist()


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04truncated"])
def test_corrupt_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a readable"):
        load_mnist(path)


def test_wrong_arrays_are_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(DataError, match="missing x_train"):
        load_mnist(path)


def test_wrong_shape_is_a_clear_error(tmp_path):
    path = tmp_path / "shape.npz"
    np.savez(path, x_train=np.zeros((5, 32, 32), np.uint8), y_train=np.zeros(5, np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match=r"expected \(N, 28, 28\)"):
        load_mnist(path)


def test_validation_passes_clean_data_and_flags_bad_labels():
    train, test = make_split(200), make_split(100)
    report = validate(train, test)
    failed = {check.name for check in report.failures()}
    assert failed == {"train count", "test count"}  # small arrays, everything else is clean
    broken = Split(train.images, np.where(train.labels == 3, 11, train.labels).astype(np.uint8))
    assert "train labels" in {check.name for check in validate(broken, test).failures()}
    assert report.to_dict()["ok"] is False


def test_validation_flags_missing_values_and_range():
    images = np.full((20, 28, 28), 0.5, np.float32)
    images[0, 0, 0] = np.nan
    images[1, 0, 0] = 300
    split = Split(images, (np.arange(20) % 10).astype(np.uint8))
    failed = {check.name for check in validate(split, split).failures()}
    assert {"train missing values", "train pixel range", "train image dtype"} <= failed


def test_get_data_batch_refuses_invalid_data(tmp_path):
    path = tmp_path / "small.npz"
    write_npz(path, make_split(100), make_split(10))
    with pytest.raises(DataError, match="failed validation"):
        get_data_batch(path)


def test_stratified_split_keeps_proportions_and_is_seeded():
    labels = np.repeat(np.arange(10), [100, 200, 300, 100, 100, 100, 100, 100, 100, 100]).astype(np.uint8)
    split = Split(np.arange(len(labels) * 784, dtype=np.uint32).reshape(-1, 28, 28), labels)
    train, validation = stratified_split(split, validation_size=130, seed=3)
    assert len(validation) == 130 and len(train) == len(labels) - 130
    assert label_counts(validation.labels).tolist() == [10, 20, 30, 10, 10, 10, 10, 10, 10, 10]
    _, again_validation = stratified_split(split, validation_size=130, seed=3)
    np.testing.assert_array_equal(validation.images, again_validation.images)
    other = stratified_split(split, validation_size=130, seed=4)[1]
    assert not np.array_equal(validation.images, other.images)
    seen = np.concatenate([train.images[:, 0, 0], validation.images[:, 0, 0]])
    assert len(np.unique(seen)) == len(labels)  # every image lands in exactly one split


def test_stratified_split_rejects_impossible_sizes():
    with pytest.raises(DataError):
        stratified_split(make_split(10), validation_size=10)


def test_reshape_keeps_uint8_and_the_model_input_is_scaled():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8).repeat(14, 1).repeat(14, 2)
    out = reshape_data(images)
    assert out.shape == (1, 28, 28, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], images)
    assert reshape_data(images[0]).shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(reshape_data(out), out)  # already reshaped: as is
    scaled = as_model_input(images)
    assert scaled.shape == (1, 28, 28, 1) and scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0 and scaled[0, 14, 0, 0] == np.float32(51 / 255)
    np.testing.assert_array_equal(as_model_input(out), scaled)  # raw or reshaped uint8: the same input
    assert np.shares_memory(as_model_input(scaled), scaled)  # floats are already scaled: as is


def test_eda_statistics():
    split = make_split(100)
    assert label_counts(split.labels).tolist() == [10] * 10
    assert imbalance_ratio(np.array([0, 0, 0, 1, *range(2, 10)], np.uint8)) == 3.0
    means = mean_images(split)
    assert means.shape == (10, 28, 28)
    np.testing.assert_allclose(means[4], split.images[split.labels == 4].mean(axis=0), rtol=1e-5)
    histogram = pixel_histogram(split.images)
    assert histogram.shape == (256,) and histogram.sum() == 100 * 784
    samples = sample_indices(split.labels, per_digit=3, seed=1, digits=[2, 7])
    assert set(samples) == {2, 7}
    assert all((split.labels[indices] == digit).all() and len(indices) == 3 for digit, indices in samples.items())
