"""Preprocessing on drawn pictures: every input form and format, blank pictures, unreadable files.

No model here: a picture's 28x28 result is compared with the result of the same drawing in its
plainest form (white ink on black, as a grey array).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_core import config
from mnist_core.errors import ImageError, NoDigitError
from mnist_core.preprocess import MAX_FILE_BYTES, preprocess
from tests.support.images import encoded, png_header_only

SIZE = (280, 280)
STROKES = [[(70, 60), (200, 60), (120, 230)], [(95, 145), (185, 145)]]  # a crossed 7: not symmetric


def drawing(size=SIZE, scale: float = 1.0, offset=(0, 0), width: int = 16) -> np.ndarray:
    """White strokes on black, the way the app's canvas draws, as a uint8 grey array."""
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    for stroke in STROKES:
        points = [(x * scale + offset[0], y * scale + offset[1]) for x, y in stroke]
        draw.line(points, fill=255, width=round(width * scale), joint="curve")
    return np.asarray(image)


def on_paper(ink: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dark ink on grey paper lit from one side, with sensor noise, as an RGB array."""
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    paper = 120 + 100 * np.linspace(0, 1, width)[None, :] + 20 * np.linspace(0, 1, height)[:, None]
    grey = paper * (1 - ink / 255) + 35 * ink / 255 + rng.normal(0, 6, ink.shape)
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def in_colour(ink: np.ndarray, colour) -> np.ndarray:
    """Ink of one colour on white paper, as an RGB array."""
    share = ink[..., None] / 255
    return (255 * (1 - share) + np.array(colour) * share).astype(np.uint8)


def rgba(ink: np.ndarray, colour=(255, 255, 255), background_alpha: int = 0) -> np.ndarray:
    """Ink of one colour whose opacity is the drawing, over a transparent (or opaque black) background."""
    result = np.zeros((*ink.shape, 4), np.uint8)
    result[..., :3] = colour
    result[..., 3] = np.maximum(ink, background_alpha)
    if background_alpha:
        result[..., :3] = (ink[..., None] / 255 * np.array(colour)).astype(np.uint8)
    return result


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return preprocess(drawing())


def difference(result: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute difference, allowing a one-pixel shift: centring by mass rounds to whole pixels."""
    return min(
        float(np.abs(np.roll(result, (dy, dx), axis=(0, 1)) - expected).mean())
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ---------------------------------------------------------------- the MNIST layout


def test_result_has_the_mnist_layout(reference):
    assert reference.shape == (config.IMAGE_SIZE, config.IMAGE_SIZE) and reference.dtype == np.float32
    assert reference.min() == 0.0 and reference.max() == 1.0
    assert max(ink_box(reference > 0.05)) in (20, 21)  # longest side 20, plus anti-aliased fringe
    rows, cols = np.indices(reference.shape)
    mass = reference.sum()
    assert abs((rows * reference).sum() / mass - 14) <= 0.5
    assert abs((cols * reference).sum() / mass - 14) <= 0.5
    assert (reference[:2] == 0).all() and (reference[:, :2] == 0).all()  # a clean black border


def test_an_mnist_style_image_goes_through_almost_unchanged(reference):
    assert difference(preprocess(reference), reference) < 0.01


def test_thin_pen_strokes_are_thickened_to_mnist_width():
    thin, thick = preprocess(drawing(width=3)), preprocess(drawing(width=16))
    assert (thin > 0.5).sum() > 0.6 * (thick > 0.5).sum()


def test_a_callers_pil_image_is_left_as_it_was():
    image = Image.fromarray(drawing()).convert("RGBA").resize((600, 600))
    preprocess(image)
    assert image.size == (600, 600) and image.mode == "RGBA"


# ---------------------------------------------------------------- every form of the same drawing

SAME_DRAWING = {
    "RGB array": lambda ink: np.repeat(ink[..., None], 3, axis=2),
    "canvas, transparent background": lambda ink: rgba(ink),
    "canvas, black background": lambda ink: rgba(ink, background_alpha=255),
    "float array in [0, 1]": lambda ink: ink / 255.0,
    "bool array": lambda ink: ink > 127,
    "int64 array": lambda ink: ink.astype(np.int64),
    "(H, W, 1) array": lambda ink: ink[..., None],
    "PIL image": lambda ink: Image.fromarray(ink),
    "PNG bytes": lambda ink: encoded(Image.fromarray(ink), "PNG"),
    "dark ink on white": lambda ink: 255 - ink,
    "blue ink on white, JPEG": lambda ink: encoded(Image.fromarray(in_colour(ink, (20, 40, 160))), "JPEG"),
    "dark ink cut out, transparent": lambda ink: rgba(ink, (20, 20, 20)),
    "grey paper, lighting, noise": on_paper,
    "photo as JPEG": lambda ink: encoded(Image.fromarray(on_paper(ink)), "JPEG", quality=60),
    "16-bit PNG": lambda ink: encoded(Image.fromarray((255 - ink).astype(np.uint16) * 257), "PNG"),
    "CMYK JPEG": lambda ink: encoded(Image.fromarray(255 - ink).convert("CMYK"), "JPEG", quality=90),
    "palette with transparency": lambda ink: encoded(
        Image.fromarray(255 - ink).convert("P"), "PNG", transparency=255
    ),
    "animated GIF, first frame": lambda ink: encoded(
        Image.fromarray(ink), "GIF", save_all=True, append_images=[Image.fromarray(ink.T.copy())]
    ),
    "WebP": lambda ink: encoded(Image.fromarray(ink), "WEBP", quality=90),
    "TIFF": lambda ink: encoded(Image.fromarray(ink), "TIFF"),
    "BMP": lambda ink: encoded(Image.fromarray(ink), "BMP"),
    "JPEG rotated by its EXIF tag": lambda ink: encoded(
        Image.fromarray(ink).transpose(Image.Transpose.ROTATE_90), "JPEG", exif=_exif_rotated_clockwise()
    ),
    "large photo": lambda ink: encoded(Image.fromarray(on_paper(ink)).resize((4000, 4000)), "JPEG"),
    "wide picture": lambda ink: np.pad(ink, ((0, 0), (500, 900))),
}


def _exif_rotated_clockwise() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    return exif


@pytest.mark.parametrize("form", SAME_DRAWING)
def test_every_form_of_a_drawing_gives_the_same_image(form, reference):
    result = preprocess(SAME_DRAWING[form](drawing()))
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert difference(result, reference) < 0.03, form


def test_a_file_path_works_like_its_bytes(tmp_path, reference):
    path = tmp_path / "seven.png"
    Image.fromarray(drawing()).save(path)
    np.testing.assert_array_equal(preprocess(path), preprocess(str(path)))
    np.testing.assert_array_equal(preprocess(path), preprocess(path.read_bytes()))


@pytest.mark.parametrize(
    ("size", "scale", "offset"),
    [((280, 280), 0.3, (10, 150)), ((1200, 800), 3.0, (300, 20)), ((640, 480), 1.0, (400, 200))],
    ids=["small, in a corner", "large", "off-centre"],
)
def test_position_and_size_do_not_matter(size, scale, offset, reference):
    result = preprocess(drawing(size, scale, offset))
    assert difference(result, reference) < 0.03


def test_specks_of_noise_are_ignored(reference):
    ink = drawing().copy()
    rng = np.random.default_rng(1)
    for y, x in rng.integers(0, 280, size=(25, 2)):
        ink[y : y + 3, x : x + 3] = 255
    ink[250:256, 10:16] = 255
    assert difference(preprocess(ink), reference) < 0.03


def test_a_table_around_the_paper_is_not_taken_for_ink(reference):
    photo = on_paper(np.pad(drawing(), 60)).copy()
    photo[:40], photo[-30:], photo[:, :50] = 70, 70, 70  # the table shows along three edges
    assert difference(preprocess(photo), reference) < 0.03


def test_a_digit_drawn_to_the_canvas_edges_is_still_a_digit():
    image = Image.new("L", SIZE, 0)
    ImageDraw.Draw(image).line([(150, 0), (130, 279)], fill=255, width=40)  # a 1 from edge to edge
    result = preprocess(np.asarray(image))
    assert ink_box(result > 0.05)[0] in (20, 21)


# ---------------------------------------------------------------- nothing to see

BLANK = {
    "empty canvas": np.zeros((280, 280, 4), np.uint8),
    "white page": np.full((300, 400), 255, np.uint8),
    "grey page": np.full((300, 400), 128, np.uint8),
    "blank photo": encoded(Image.fromarray(on_paper(np.zeros((480, 640), np.uint8))), "JPEG", quality=70),
    "random noise": np.random.default_rng(2).integers(0, 256, (200, 200), dtype=np.uint8),
    "a speck": np.pad(np.full((4, 4), 255, np.uint8), 138),
    "a faint smudge": np.pad(np.full((60, 20), 12, np.uint8), 100),
}


@pytest.mark.parametrize("picture", BLANK)
def test_a_blank_picture_has_no_digit(picture):
    with pytest.raises(NoDigitError, match="no digit found"):
        preprocess(BLANK[picture])


def test_a_blank_picture_is_reported_like_an_unreadable_one():
    """The CLI's ``predict`` and the Predict page catch ImageError: a blank canvas gets their one-line message."""
    with pytest.raises(ImageError) as caught:
        preprocess(BLANK["empty canvas"])
    message = str(caught.value)
    assert "no digit found" in message and "\n" not in message and len(message) < 200


# ---------------------------------------------------------------- unreadable input

JPEG = encoded(Image.fromarray(on_paper(drawing())), "JPEG")

UNREADABLE = {
    "empty bytes": (b"", "empty"),
    "random bytes": (np.random.default_rng(3).bytes(4000), "not an image"),
    "truncated JPEG": (JPEG[: len(JPEG) // 2], "truncated"),
    "text": (b"hello, this is not a picture\n" * 10, "not an image"),
    "20000x20000 image": (png_header_only(20_000, 20_000), "megapixel"),
    "7000x7000 decompression bomb": (png_header_only(7_000, 7_000), "7000x7000"),
    "too many bytes": (b"\xff\xd8" + bytes(MAX_FILE_BYTES), "MB"),
    "a number": (42, "type int"),
    "an array of the wrong shape": (np.zeros((3, 28, 28)), "(H, W)"),
    "an array of complex numbers": (np.zeros((28, 28), np.complex64), "complex"),
    "an array of numbers past 255": (np.full((28, 28), 1000), "0 to 255"),
    "an empty array": (np.zeros((0, 10), np.uint8), "no pixels"),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_unreadable_input_gets_a_short_clear_error(case):
    source, fragment = UNREADABLE[case]
    with pytest.raises(ImageError) as caught:
        preprocess(source)
    message = str(caught.value)
    assert fragment in message and len(message) < 100 and "\n" not in message


@pytest.mark.parametrize("format", ["PNG", "JPEG", "GIF", "TIFF"])
def test_damaged_files_never_raise_anything_but_image_errors(format):
    original = encoded(Image.fromarray(on_paper(drawing())), format)
    rng = np.random.default_rng(4)
    for attempt in range(30):
        damaged = np.frombuffer(original, np.uint8).copy()
        if attempt % 2:
            damaged = damaged[: rng.integers(1, len(damaged))]
        else:
            damaged[rng.integers(0, len(damaged), size=5)] = rng.integers(0, 256, size=5)
        with contextlib.suppress(ImageError):  # an error is fine as long as it is one a user can read
            assert preprocess(damaged.tobytes()).shape == (28, 28)


def test_missing_files_and_folders_are_named_in_the_error(tmp_path):
    with pytest.raises(ImageError, match=r"file not found: .*nope\.png"):
        preprocess(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="not a file"):
        preprocess(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        preprocess(tmp_path / "empty.png")
