"""Reading numbers: segmentation and per-digit accuracy on pictures of 2-5 real handwritten digits.

Each picture is composed from MNIST *validation* digits (the split the bundled baseline never trained
on; the test set is never used): every digit is cut to its ink, enlarged 3-5x with a random height,
set on a line with a random vertical offset, and the line drawn white on black (as the canvas does) or
in dark ink on lit paper (as a photo). Four layouts:

* ``separated``: a gap of at least a third of the digit height between digits; segmentation must be
  right every time;
* ``close``: gaps of 2-10% of the height;
* ``broken``: separated, with a 2-pixel band of every digit's strokes erased a third of the way down
  (a 5's hat, a 7's bar come loose);
* ``touching``: neighbours overlap by 0-12% of the height, so their strokes usually touch.

Segmentation is right when the picture yields as many digits as it holds and the i-th digit found is
centred inside the i-th digit placed. "Alone" is the same enlarged digit in a picture of its own through
the same path, so the comparison isolates what sharing a picture costs.

    python -m benchmarks.multi_digit [--pictures 250]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from benchmarks.common import write_result

LAYOUTS = {"separated": (0.35, 0.8), "close": (0.02, 0.1), "broken": (0.35, 0.8), "touching": (-0.12, 0.0)}


def enlarge(digits: list[np.ndarray], layout: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Each MNIST digit cut to its ink and enlarged to about one random line height (broken if asked)."""
    height = int(rng.integers(60, 110))
    pieces = []
    for digit in digits:
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        ink = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        scale = height * rng.uniform(0.85, 1.0) / ink.shape[0]
        size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
        big = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BILINEAR)).copy()
        if layout == "broken":
            band = big.shape[0] // 3
            big[band : band + 2] = 0
        pieces.append(big)
    return pieces


def compose(pieces: list[np.ndarray], layout: str, rng: np.random.Generator, photo: bool):
    """A picture of ``pieces`` in a row and each one's box ``(left, top, right, bottom)`` in it."""
    low, high = LAYOUTS[layout]
    height = max(piece.shape[0] for piece in pieces)
    margin = height // 2
    lefts, position = [], margin
    for piece in pieces:
        lefts.append(position)
        position += piece.shape[1] + round(rng.uniform(low, high) * height)
    width = max(position - round(low * height), lefts[-1] + pieces[-1].shape[1]) + margin
    canvas = np.zeros((height * 2, width), np.uint8)
    boxes = []
    for piece, left in zip(pieces, lefts, strict=True):
        top = margin // 2 + int(rng.integers(0, height // 6 + 1))
        region = canvas[top : top + piece.shape[0], left : left + piece.shape[1]]
        np.maximum(region, piece, out=region)
        boxes.append((left, top, left + piece.shape[1], top + piece.shape[0]))
    if photo:
        paper = 170 + 60 * np.linspace(0, 1, canvas.shape[1])[None, :]
        grey = paper * (1 - canvas / 255) + 40 * canvas / 255 + rng.normal(0, 4, canvas.shape)
        canvas = np.clip(grey, 0, 255).astype(np.uint8)
    return canvas, boxes


def segmentation_right(found, placed) -> bool:
    if len(found) != len(placed):
        return False
    for prediction, (left, top, right, bottom) in zip(found, placed, strict=True):
        x0, y0, x1, y1 = prediction.box
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if not (left <= centre[0] <= right and top <= centre[1] <= bottom):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pictures", type=int, default=250, help="pictures per layout")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from mnist_core import config
    from mnist_core.data import get_data_batch
    from mnist_core.predict import Predictor

    splits, _ = get_data_batch()
    images, labels = splits.validation.images, splits.validation.labels
    predictor = Predictor.load(str(config.BUNDLED_MODEL))
    rng = np.random.default_rng(args.seed)
    results = {}
    for layout in LAYOUTS:
        right = digits_total = correct_together = correct_alone = 0
        correct_when_segmented = digits_when_segmented = 0
        seconds = []
        for index in range(args.pictures):
            count = int(rng.integers(2, 6))
            chosen = rng.choice(len(labels), size=count, replace=False)
            pieces = enlarge([images[i] for i in chosen], layout, rng)
            picture, boxes = compose(pieces, layout, rng, photo=index % 2 == 1)
            started = time.perf_counter()
            reading = predictor.read(picture)
            seconds.append(time.perf_counter() - started)
            ok = segmentation_right(reading.digits, boxes)
            right += ok
            digits_total += count
            for piece, i in zip(pieces, chosen, strict=True):
                alone, _ = compose([piece], "separated", rng, photo=index % 2 == 1)
                correct_alone += predictor.predict_image(alone).digit == labels[i]
            if ok:
                digits_when_segmented += count
                correct_when_segmented += sum(
                    p.digit == labels[i] for p, i in zip(reading.digits, chosen, strict=True)
                )
            correct_together += ok and reading.number == "".join(str(labels[i]) for i in chosen)
        results[layout] = {
            "pictures": args.pictures,
            "digits": digits_total,
            "segmentation_right": round(right / args.pictures, 4),
            "digit_accuracy_in_picture": round(float(correct_when_segmented) / max(digits_when_segmented, 1), 4),
            "digit_accuracy_alone": round(float(correct_alone) / digits_total, 4),
            "whole_number_right": round(correct_together / args.pictures, 4),
            "median_ms_per_picture": round(1000 * float(np.median(seconds)), 2),
        }
        print(layout, results[layout], flush=True)
    write_result("multi_digit", {"layouts": results})


if __name__ == "__main__":
    main()
