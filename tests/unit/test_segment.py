"""Segmentation of drawn numbers: how many digits, in which order, where; no model here."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_core.errors import NoDigitError
from mnist_core.preprocess import preprocess
from mnist_core.segment import segment

ONE = [[(0, 0), (0, 100)]]
SEVEN = [[(-30, 0), (30, 0), (-5, 100)]]
ZERO = [[(0, 0), (25, 20), (25, 80), (0, 100), (-25, 80), (-25, 20), (0, 0)]]
FIVE_BODY = [[(-20, 0), (-22, 45), (15, 40), (25, 70), (0, 100), (-25, 90)]]
FIVE_HAT = [[(-10, -3), (30, -3)]]  # drawn apart from the body, as people often do


def drawing(digits: list[tuple[list, float]], size=(600, 200), width: int = 10, scale: float = 1.0) -> np.ndarray:
    """White strokes on black; each digit is its strokes and the x of its centre line, 100 px tall at y=50."""
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    for strokes, x in digits:
        for stroke in strokes:
            points = [((px + x) * scale, (py + 50) * scale) for px, py in stroke]
            draw.line(points, fill=255, width=round(width * scale), joint="curve")
    return np.asarray(image)


def centres(found) -> list[float]:
    return [(digit.box[0] + digit.box[2]) / 2 for digit in found]


def test_one_digit_is_exactly_what_preprocessing_gives():
    picture = drawing([(SEVEN, 300)])
    (digit,) = segment(picture)
    np.testing.assert_array_equal(digit.image, preprocess(picture))


def test_separate_digits_are_found_left_to_right_with_their_boxes():
    picture = drawing([(ZERO, 400), (ONE, 100), (SEVEN, 250)])
    found = segment(picture)
    assert len(found) == 3
    assert centres(found) == sorted(centres(found))
    for digit, x in zip(found, (100, 250, 400), strict=True):
        left, top, right, bottom = digit.box
        assert left - 8 <= x <= right + 8 and 40 <= top <= 50 and 150 <= bottom <= 160
        assert digit.image.shape == (28, 28) and digit.image.max() == 1.0


def test_boxes_are_in_the_pictures_own_pixels_even_when_it_is_shrunk_to_work_on():
    picture = drawing([(ONE, 100), (ZERO, 300)], size=(2400, 800), scale=4.0)
    found = segment(picture)
    assert len(found) == 2
    left, top, right, _ = found[1].box
    assert abs(left - 275 * 4) < 30 and abs(right - 325 * 4) < 30 and abs(top - 50 * 4) < 30


def test_a_loose_hat_stays_with_its_five():
    picture = drawing([(FIVE_BODY + FIVE_HAT, 150), (ONE, 300)])
    found = segment(picture)
    assert len(found) == 2
    assert found[0].box[1] <= 50  # the hat's top is in the five's box


def test_a_sevens_bar_over_a_one_does_not_merge_them():
    picture = drawing([([[(-30, 0), (90, 0), (-5, 100)]], 150), ([[(0, 40), (0, 100)]], 235)])
    assert len(segment(picture)) == 2


def test_a_wide_zero_is_one_digit():
    wide_zero = [[(0, 0), (70, 20), (70, 80), (0, 100), (-70, 80), (-70, 20), (0, 0)]]
    assert len(segment(drawing([(wide_zero, 200)]))) == 1


def test_specks_far_from_the_digits_are_ignored():
    picture = drawing([(ONE, 100), (ZERO, 300)]).copy()
    picture[10:13, 550:553] = 255
    assert len(segment(picture)) == 2


@pytest.mark.parametrize("picture", [np.zeros((200, 600), np.uint8), np.full((200, 600), 255, np.uint8)])
def test_a_blank_picture_has_no_digit(picture):
    with pytest.raises(NoDigitError):
        segment(picture)
