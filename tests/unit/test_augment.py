"""Handwriting augmentation: seeded, in range, and laid out the way uploads are."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import tensorflow as tf

from mnist_core.augment import augment_batch
from mnist_core.config import HANDWRITING_AUGMENTATION, Augmentation
from mnist_core.data import as_model_input
from mnist_core.preprocess import BOX_SIZE, CENTRE
from mnist_core.train import make_dataset


def bar_digits(count: int = 8) -> np.ndarray:
    """Upright bars and boxes of different sizes, placed off centre: (N, 28, 28, 1) in [0, 1]."""
    images = np.zeros((count, 28, 28, 1), np.float32)
    for index in range(count):
        top, left = 2 + index % 4, 3 + index % 5
        images[index, top : top + 12 + index, left : left + 2 + 2 * (index % 3), 0] = 1.0
        images[index, top : top + 3, left : left + 9, 0] = 1.0  # a flag, so the shape is not symmetric
    return images


def augment(images, augmentation, seed=(1, 2)):
    return augment_batch(tf.constant(images), augmentation, tf.constant(seed, tf.int64)).numpy()


def box_and_centre(image: np.ndarray):
    ink = image > 0.1
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    longest = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    mass = image.sum()
    centre = (image.sum(axis=1) @ np.arange(28) / mass, image.sum(axis=0) @ np.arange(28) / mass)
    return longest, centre


def test_same_seed_same_images_other_seed_other_images():
    images = bar_digits()
    first, again = augment(images, HANDWRITING_AUGMENTATION), augment(images, HANDWRITING_AUGMENTATION)
    other = augment(images, HANDWRITING_AUGMENTATION, seed=(1, 3))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert first.shape == images.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1


def test_no_change_asked_is_no_change():
    images = bar_digits()
    np.testing.assert_allclose(augment(images, Augmentation(rotation_degrees=0.0)), images, atol=1e-5)


def test_handwriting_digits_come_out_laid_out_like_uploads():
    """Whatever the warp did, the box's longest side is about 20 pixels and the mass is centred."""
    for image in augment(bar_digits(), replace(HANDWRITING_AUGMENTATION, changed_share=1.0))[..., 0]:
        longest, (row, col) = box_and_centre(image)
        assert abs(longest - BOX_SIZE) <= 3, longest  # 5% zoom jitter, plus the blur of resampling
        assert abs(row - CENTRE) <= 2 and abs(col - CENTRE) <= 2, (row, col)
        assert np.mean(image[image > 0.1] > 0.99) >= 0.25  # stroke cores saturated again after resampling


def test_only_the_asked_share_of_images_is_changed():
    images = bar_digits(64)
    changed = augment(images, replace(HANDWRITING_AUGMENTATION, changed_share=0.5))
    same = np.all(changed == images, axis=(1, 2, 3))
    assert 16 <= same.sum() <= 48, same.sum()


def test_stretching_changes_the_aspect_ratio_and_strokes_change_width():
    images = bar_digits()
    heights, widths = [], []
    for image in augment(images, Augmentation(aspect_fraction=0.5), seed=(4, 4))[..., 0]:
        ink = image > 0.1
        heights.append(np.count_nonzero(ink.any(axis=1)))
        widths.append(np.count_nonzero(ink.any(axis=0)))
    original = [(np.count_nonzero((im > 0.1).any(axis=1)), np.count_nonzero((im > 0.1).any(axis=0)))
                for im in images[..., 0]]
    ratios = np.array(widths) / np.array(heights) / np.array([w / h for h, w in original])
    assert ratios.max() - ratios.min() > 0.2

    thicker = augment(images, Augmentation(stroke_pixels=2.0), seed=(0, 0))
    ink_change = thicker.sum(axis=(1, 2, 3)) - images.sum(axis=(1, 2, 3))
    assert (ink_change > 1).any() and (ink_change < -1).any()  # some wider, some narrower


def test_the_dataset_augments_training_batches_only_when_asked():
    images = (bar_digits(16)[..., 0] * 255).astype(np.uint8)
    labels = np.arange(16) % 10
    plain = next(iter(make_dataset(images, labels, batch_size=16)))[0].numpy()
    changed = next(iter(make_dataset(images, labels, 16, shuffle_seed=3, augmentation=HANDWRITING_AUGMENTATION)))
    assert changed[0].shape == (16, 28, 28, 1) and changed[1].shape == (16,)
    assert plain.dtype == np.float32
    np.testing.assert_array_equal(plain, as_model_input(images))  # kept as uint8, scaled the same way per batch
    floats = next(iter(make_dataset(as_model_input(images), labels, batch_size=16)))[0].numpy()
    np.testing.assert_array_equal(floats, plain)
    first_epoch = changed[0].numpy()
    dataset = make_dataset(images, labels, 16, shuffle_seed=3, augmentation=HANDWRITING_AUGMENTATION)
    epochs = [next(iter(dataset))[0].numpy() for _ in range(2)]
    assert not np.allclose(epochs[0], epochs[1])  # new random changes every epoch
    assert not np.allclose(np.sort(first_epoch.reshape(16, -1), axis=0), np.sort(plain.reshape(16, -1), axis=0))
