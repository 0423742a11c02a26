"""Why the model chose a digit: an occlusion map over the 28x28 input and over the original picture.

Occlusion reads well to people: each pixel's value is how much the model's case for its digit weakens
when a small square of the input around that pixel is blanked out (ink erased). The case is the margin
between the digit's log-probability and the best other digit's, which, unlike the probability itself,
does not saturate at 100%. Strokes that decided the answer light up; background and strokes that did
not matter stay dark. One batch of at most 784 occluded images: about 30 ms on a laptop CPU.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from mnist_core import config
from mnist_core.predict import Prediction, Predictor

PATCH = 5  # the blanked square's side, in 28x28 pixels: about a stroke's width and a bit


def occlusion(predictor: Predictor, image: np.ndarray, digit: int, patch: int = PATCH) -> np.ndarray:
    """``(28, 28)`` in [0, 1]: how much each pixel's neighbourhood supports ``digit`` (1 = the most)."""
    side = config.IMAGE_SIZE
    half = patch // 2
    centres = [(row, col) for row in range(side) for col in range(side)]
    covered = [
        (slice(max(0, row - half), row + half + 1), slice(max(0, col - half), col + half + 1))
        for row, col in centres
    ]
    useful = [index for index, (rows, cols) in enumerate(covered) if image[rows, cols].any()]
    batch = np.repeat(image[None], len(useful) + 1, axis=0)
    for position, index in enumerate(useful, start=1):
        rows, cols = covered[index]
        batch[position, rows, cols] = 0.0
    margins = _margins(predictor.predict_batch(batch), digit)
    drop = np.zeros(side * side, dtype=np.float32)
    drop[useful] = np.maximum(margins[0] - margins[1:], 0.0)
    drop = drop.reshape(side, side)
    return drop / drop.max() if drop.max() > 0 else drop


def _margins(probabilities: np.ndarray, digit: int) -> np.ndarray:
    logs = np.log(np.maximum(probabilities, 1e-30))
    others = np.delete(logs, digit, axis=1).max(axis=1)
    return logs[:, digit] - others


def over_picture(saliency: np.ndarray, prediction: Prediction, size: tuple[int, int]) -> np.ndarray:
    """The 28x28 map laid over a picture of ``size`` ``(width, height)``: ``(height, width)`` in [0, 1].

    The part of the map where the digit landed (``prediction.placed``) is stretched back over the
    digit's box in the picture; everywhere else is zero.
    """
    width, height = size
    result = np.zeros((height, width), dtype=np.float32)
    if prediction.box is None or prediction.placed is None:
        return result
    left, top, right, bottom = prediction.placed
    box_left, box_top, box_right, box_bottom = prediction.box
    part = saliency[top:bottom, left:right]
    box_width, box_height = max(1, box_right - box_left), max(1, box_bottom - box_top)
    stretched = np.asarray(Image.fromarray(part).resize((box_width, box_height), Image.Resampling.BILINEAR))
    region = result[box_top : box_top + box_height, box_left : box_left + box_width]
    region[...] = stretched[: region.shape[0], : region.shape[1]]
    return result
