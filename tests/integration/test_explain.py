"""Why the model chose: occlusion maps from the real baseline, over the input and over the picture."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core import config
from mnist_core.explain import occlusion, over_picture


@pytest.fixture(scope="module")
def three(predictor):
    return predictor.predict_image(config.ASSETS_DIR / "img1.jpg")


def test_the_strokes_light_up_and_the_background_stays_dark(predictor, three):
    saliency = occlusion(predictor, three.image, three.digit)
    assert saliency.shape == (28, 28) and saliency.max() == pytest.approx(1.0)
    far_from_ink = np.ones((28, 28), bool)
    for row, col in zip(*np.nonzero(three.image), strict=True):
        far_from_ink[max(0, row - 3) : row + 4, max(0, col - 3) : col + 4] = False
    assert saliency[far_from_ink].max(initial=0) == 0  # blanking empty background changes nothing
    on_ink = saliency[three.image > 0.5].mean()
    assert on_ink > 3 * saliency[three.image <= 0.5].mean()


def test_erasing_the_brightest_part_of_the_map_hurts_the_answer_most(predictor, three):
    saliency = occlusion(predictor, three.image, three.digit)
    ink = three.image > 0.3
    hot = ink & (saliency >= np.quantile(saliency[ink], 0.8))
    cold = ink & (saliency <= np.quantile(saliency[ink], 0.2))
    without_hot, without_cold = three.image.copy(), three.image.copy()
    without_hot[hot], without_cold[cold] = 0, 0
    after = predictor.predict_batch(np.stack([without_hot, without_cold]))[:, three.digit]
    assert after[0] < after[1]


def test_the_map_lies_over_the_digit_in_the_picture(predictor, three):
    width, height = 1000, 800
    heat = over_picture(occlusion(predictor, three.image, three.digit), three, (width, height))
    left, top, right, bottom = three.box
    assert heat.shape == (height, width)
    assert heat[top:bottom, left:right].max() > 0.9
    outside = heat.copy()
    outside[top:bottom, left:right] = 0
    assert outside.max() == 0
