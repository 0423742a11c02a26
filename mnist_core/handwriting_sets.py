"""Handwriting that is not MNIST, as photo uploads: for measuring how a model copes with other writers.

:func:`load_digits_photos` renders scikit-learn's bundled ``load_digits`` (1,797 digits by 43
writers from the UCI optical-digits set, 8x8 ink counts) as what a user would upload: the digit
upsampled into pen strokes on off-white paper under uneven light, a little blur and sensor noise,
saved as a JPEG. The digits are another population's handwriting (and another scanner's), so the
accuracy on them says how a model copes with style shift. Every picture is read back through
:meth:`mnist_core.predict.Predictor.predict_files`, the path of ``python -m mnist_core predict``.

scikit-learn is a development dependency (requirements-dev.txt); it is imported only here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnist_core import config
from mnist_core.errors import DataError

PHOTO_SIZE = 160  # pixels on each side of the rendered photo
DIGIT_SHARE = (0.45, 0.7)  # the digit's height as a share of the photo, drawn uniformly
JPEG_QUALITY = (70, 92)


@dataclass(frozen=True)
class HandwritingSet:
    """Encoded photos of single digits and their labels."""

    name: str
    photos: list[bytes]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def write(self, folder: str | Path) -> list[Path]:
        """Save the photos as numbered JPEG files named after their label; returns the paths in order."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"{index:04d}_label{label}.jpg" for index, label in enumerate(self.labels)]
        for path, photo in zip(paths, self.photos, strict=True):
            path.write_bytes(photo)
        return paths


def load_digits_photos(seed: int = config.DEFAULT_SEED, limit: int | None = None) -> HandwritingSet:
    """scikit-learn's 1,797 ``load_digits`` digits (or the first ``limit``) as photo uploads; same seed, same bytes."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("scikit-learn is needed for this set: pip install -r requirements-dev.txt") from None
    digits = load_digits()
    images, labels = digits.images[:limit], digits.target[:limit]
    rng = np.random.default_rng(seed)
    photos = [render_photo(image / 16.0, rng) for image in images]
    return HandwritingSet("sklearn load_digits as photos", photos, labels.astype(np.uint8))


def render_photo(ink: np.ndarray, rng: np.random.Generator) -> bytes:
    """A JPEG photo of the digit whose ink density is ``ink`` (a small grid of values in [0, 1]).

    The grid is upsampled smoothly and thresholded softly into strokes of a pen's width, placed off
    centre on paper that is lit from one side, in a random dark ink, then blurred, noised and compressed.
    """
    height = int(PHOTO_SIZE * rng.uniform(*DIGIT_SHARE))
    strokes = np.asarray(Image.fromarray(ink.astype(np.float32)).resize((height, height), Image.Resampling.BICUBIC))
    strokes = 1 / (1 + np.exp(-(strokes - rng.uniform(0.35, 0.55)) * 14))  # soft edges, pen-like widths

    coverage = np.zeros((PHOTO_SIZE, PHOTO_SIZE), np.float32)
    top, left = (rng.integers(4, PHOTO_SIZE - height - 4 + 1) for _ in range(2))
    coverage[top : top + height, left : left + height] = strokes

    paper = rng.uniform(205, 250) + rng.uniform(-8, 8, 3).astype(np.float32)  # off-white, slightly tinted
    ink_colour = np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(20, 110)], np.float32)
    rows, cols = np.mgrid[0:PHOTO_SIZE, 0:PHOTO_SIZE] / PHOTO_SIZE
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - rng.uniform(0.05, 0.25) * (np.cos(angle) * cols + np.sin(angle) * rows)  # a shadow across
    photo = (paper * (1 - coverage[..., None]) + ink_colour * coverage[..., None]) * light[..., None]
    photo += rng.normal(0, rng.uniform(2, 6), photo.shape)
    picture = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "RGB")
    picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=int(rng.integers(*JPEG_QUALITY)))
    return buffer.getvalue()
