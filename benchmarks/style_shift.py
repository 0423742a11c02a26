"""Accuracy on handwriting that is not MNIST: scikit-learn's ``load_digits`` rendered as photo uploads.

Every photo goes through ``Predictor.predict_files``, the path of ``python -m mnist_core predict``
(decode, MNIST-style preprocessing, model). Models are compared on the same photos in one run:
the bundled baseline, and any others named with ``--model NAME=FILE.keras``.

    python -m benchmarks.style_shift [--model before=/tmp/old.keras]   # about a minute
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

from benchmarks.common import write_result


def score(predictor, paths, labels: np.ndarray) -> dict:
    """Accuracy over all photos (one that yields no digit, or several, counts as wrong) and recall per digit."""
    from mnist_core.predict import read_as_one_digit

    results = predictor.predict_files(paths)
    predicted = np.array([read_as_one_digit(result) for result in results])
    correct = predicted == labels
    return {
        "accuracy": round(float(correct.mean()), 4),
        "correct": f"{int(correct.sum())}/{len(labels)}",
        "no_digit_found": int((predicted == -1).sum()),
        "recall_per_digit": [round(float(correct[labels == digit].mean()), 3) for digit in range(10)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FILE.keras",
                        help="another model to score on the same photos (repeatable)")
    args = parser.parse_args()

    from mnist_core.config import BUNDLED_MODEL
    from mnist_core.handwriting_sets import load_digits_photos
    from mnist_core.predict import Predictor

    models = {"bundled baseline": str(BUNDLED_MODEL), **dict(item.split("=", 1) for item in args.model)}
    photos = load_digits_photos()
    with tempfile.TemporaryDirectory() as folder:
        paths = photos.write(folder)
        scores = {name: {"model": path, **score(Predictor.load(path), paths, photos.labels)}
                  for name, path in models.items()}
    write_result("style_shift", {"set": photos.name, "photos": len(photos), "models": scores})
    for name, row in scores.items():
        print(f"{name:<20} {row['accuracy']:.2%} ({row['correct']}) on {photos.name}")


if __name__ == "__main__":
    main()
