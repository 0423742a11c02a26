"""Fixtures for the prediction tests: a real model, and image files of every awkward kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_core import config
from tests.support.images import encoded, png_header_only

ASSETS = config.ASSETS_DIR


@pytest.fixture(scope="session")
def digit_model_path() -> Path:
    """The bundled baseline: what prediction uses on a fresh clone."""
    from mnist_core.config import BUNDLED_MODEL

    assert BUNDLED_MODEL.is_file(), f"{BUNDLED_MODEL} is missing; models/README.md says how to make it"
    return BUNDLED_MODEL


@pytest.fixture(scope="session")
def predictor(digit_model_path):
    from mnist_core.predict import Predictor

    return Predictor.load(str(digit_model_path))


# ---------------------------------------------------------------- image files


@pytest.fixture(scope="session")
def awkward_files(tmp_path_factory) -> dict[str, tuple[Path, int | str]]:
    """Files that must not crash anything: name -> (path, the digit in it or a fragment of its error)."""
    folder = tmp_path_factory.mktemp("awkward")
    photo = Image.open(ASSETS / "img1.jpg")
    grey = np.asarray(photo.convert("L"), dtype=np.uint16)
    canvas, cutout = Image.open(ASSETS / "sample_8_canvas.png"), Image.open(ASSETS / "sample_9_cutout.png")
    on_white = Image.new("RGBA", cutout.size, "white")
    on_white.alpha_composite(cutout)
    palette = on_white.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    jpeg = (ASSETS / "img1.jpg").read_bytes()
    cases = {
        "empty.png": (b"", "empty"),
        "random.jpg": (np.random.default_rng(0).bytes(5000), "not an image"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "text.png": (b"this is not a picture\n" * 20, "not an image"),
        "huge.png": (png_header_only(20_000, 20_000), "megapixel"),
        "bomb.png": (png_header_only(7_000, 7_000), "megapixel"),
        "16-bit.png": (encoded(Image.fromarray(grey * 257), "PNG"), 3),
        "cmyk.jpg": (encoded(photo.convert("CMYK"), "JPEG"), 3),
        "palette-transparent.png": (encoded(palette, "PNG", transparency=palette.getpixel((0, 0))), 9),
        "animated.gif": (encoded(canvas, "GIF", save_all=True, append_images=[photo]), 8),
        "rotated-exif.jpg": (encoded(photo.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif), 3),
        "photo.webp": (encoded(photo, "WEBP"), 3),
        "photo.tiff": (encoded(photo, "TIFF"), 3),
        "photo.bmp": (encoded(photo, "BMP"), 3),
    }
    files = {}
    for name, (data, expected) in cases.items():
        path = folder / name
        path.write_bytes(data)
        files[name] = (path, expected)
    return files
