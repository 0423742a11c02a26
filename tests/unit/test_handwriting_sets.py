"""The style-shifted set: scikit-learn's load_digits rendered as photo uploads."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mnist_core.handwriting_sets import PHOTO_SIZE, load_digits_photos, render_photo
from mnist_core.preprocess import preprocess


def test_photos_are_jpegs_of_dark_ink_on_paper_that_preprocessing_reads():
    photos = load_digits_photos(limit=20)
    assert len(photos) == 20 and photos.labels.tolist()[:10] == list(range(10))
    for photo in photos.photos:
        picture = Image.open(io.BytesIO(photo))
        assert picture.format == "JPEG" and picture.size == (PHOTO_SIZE, PHOTO_SIZE) and picture.mode == "RGB"
        grey = np.asarray(picture.convert("L"))
        assert np.median(grey) > 150 and grey.min() < 100  # paper, and ink darker than it
        digit = preprocess(photo)
        assert digit.shape == (28, 28) and digit.max() == 1.0


def test_same_seed_same_bytes_other_seed_other_photos():
    assert load_digits_photos(limit=5).photos == load_digits_photos(limit=5).photos
    assert load_digits_photos(seed=1, limit=5).photos != load_digits_photos(limit=5).photos


def test_the_digit_sits_inside_the_photo_where_its_ink_is(tmp_path):
    ink = np.zeros((8, 8))
    ink[1:7, 3:5] = 1.0  # a bar: a one
    grey = np.asarray(Image.open(io.BytesIO(render_photo(ink, np.random.default_rng(0)))).convert("L"))
    dark = grey < np.median(grey) - 60
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    assert rows[-1] - rows[0] > 2 * (cols[-1] - cols[0])  # tall and narrow, as drawn

    written = load_digits_photos(limit=3).write(tmp_path / "photos")
    assert [path.name for path in written] == ["0000_label0.jpg", "0001_label1.jpg", "0002_label2.jpg"]
    assert all(path.read_bytes()[:2] == b"\xff\xd8" for path in written)
