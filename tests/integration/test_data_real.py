"""The data stage on the genuine MNIST set."""

from __future__ import annotations

import hashlib

import numpy as np

from mnist_core.data import get_data_batch, imbalance_ratio, label_counts

TRAIN_PER_DIGIT = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_PER_DIGIT = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def image_hashes(images: np.ndarray) -> set[bytes]:
    return {hashlib.blake2b(image.tobytes(), digest_size=12).digest() for image in images}


def test_split_sizes_and_counts_per_digit(mnist_splits):
    assert (len(mnist_splits.train), len(mnist_splits.validation), len(mnist_splits.test)) == (54_000, 6_000, 10_000)
    combined = label_counts(mnist_splits.train.labels) + label_counts(mnist_splits.validation.labels)
    assert combined.tolist() == TRAIN_PER_DIGIT
    assert label_counts(mnist_splits.test.labels).tolist() == TEST_PER_DIGIT


def test_validation_split_is_stratified(mnist_splits):
    expected = np.array(TRAIN_PER_DIGIT) * 6_000 / 60_000
    assert np.abs(label_counts(mnist_splits.validation.labels) - expected).max() < 1
    assert abs(imbalance_ratio(mnist_splits.validation.labels) - imbalance_ratio(mnist_splits.train.labels)) < 0.01


def test_same_seed_same_split_other_seed_other_split(mnist_splits):
    again, report = get_data_batch()
    assert report.ok and all(check.passed for check in report.checks)
    np.testing.assert_array_equal(again.validation.images, mnist_splits.validation.images)
    other, _ = get_data_batch(seed=7)
    assert not np.array_equal(other.validation.labels, mnist_splits.validation.labels)


def test_no_test_image_leaks_into_train_or_validation(mnist_splits):
    train = image_hashes(mnist_splits.train.images)
    validation = image_hashes(mnist_splits.validation.images)
    test = image_hashes(mnist_splits.test.images)
    assert len(train) + len(validation) == 60_000  # all distinct: no image in two splits
    assert not train & validation
    assert not test & (train | validation)
