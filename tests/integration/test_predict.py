"""Prediction with a real model: the samples, the Predictor API, choosing a model, and robustness.

The robustness suite takes MNIST test digits, changes how they look the ways real pictures
differ from MNIST (position, size, stroke width, polarity, noise, compression, lighting, the
canvas's transparency) and checks that preprocess + Predictor still give the digit that the
model reads in the clean original.
"""

from __future__ import annotations

import functools
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageFilter

from mnist_core import config
from mnist_core.errors import ModelError, NoDigitError
from mnist_core.predict import ModelChoice, Predictor, resolve
from mnist_core.preprocess import preprocess

SAMPLES = sorted(config.ASSETS_DIR.glob("sample_*_*.*"))


# ---------------------------------------------------------------- the bundled pictures


def test_img1_is_a_3(predictor):
    prediction = predictor.predict_image(config.ASSETS_DIR / "img1.jpg")
    assert prediction.digit == 3 and prediction.confidence > 0.5


def test_there_are_samples_of_most_digits_each_under_100_kb():
    digits = {int(re.match(r"sample_(\d)_", path.name).group(1)) for path in SAMPLES}
    assert len(digits) >= 5
    assert all(path.stat().st_size < 100_000 for path in [*SAMPLES, config.ASSETS_DIR / "img1.jpg"])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_each_sample_shows_its_digit(predictor, path):
    assert predictor.predict_image(path).digit == int(path.name.split("_")[1])


# ---------------------------------------------------------------- the Predictor


def test_a_prediction_carries_probabilities_and_the_image_the_model_saw(predictor):
    prediction = predictor.predict_image((config.ASSETS_DIR / "img1.jpg").read_bytes())
    assert isinstance(prediction.digit, int) and len(prediction.probabilities) == 10
    assert prediction.confidence == max(prediction.probabilities) == prediction.probabilities[prediction.digit]
    assert abs(sum(prediction.probabilities) - 1) < 1e-4
    assert prediction.image.shape == (28, 28) and prediction.image.dtype == np.float32
    assert set(prediction.to_dict()) == {"digit", "confidence", "probabilities"}
    assert prediction.runner_up != prediction.digit


def test_batches_accept_raw_and_reshaped_images(predictor, mnist_test):
    images = mnist_test.images[:50]
    raw = predictor.predict_batch(images)
    reshaped = predictor.predict_batch(images[..., None] / np.float32(255))
    assert raw.shape == (50, 10)
    np.testing.assert_allclose(raw, reshaped, atol=1e-5)
    assert (raw.argmax(axis=1) == mnist_test.labels[:50]).mean() > 0.9
    assert predictor.predict_batch(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_the_single_image_path_matches_the_batch_path(predictor):
    prediction = predictor.predict_image(config.ASSETS_DIR / "img1.jpg")
    np.testing.assert_allclose(prediction.probabilities, predictor.predict_batch(prediction.image[None])[0], atol=1e-5)


def test_a_written_number_is_read_digit_by_digit_in_one_batch(predictor, mnist_test):
    from PIL import Image

    digits = [2, 0, 2, 6]
    picks = [int(np.flatnonzero(mnist_test.labels == digit)[0]) for digit in digits]
    row = np.concatenate([np.pad(mnist_test.images[i], ((4, 4), (10, 10))) for i in picks], axis=1)
    picture = np.asarray(Image.fromarray(row).resize((row.shape[1] * 4, row.shape[0] * 4), Image.Resampling.BILINEAR))
    reading = predictor.read(picture)
    assert reading.number == "2026"
    boxes = [prediction.box for prediction in reading.digits]
    assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)
    assert all(0 <= box[0] < box[2] <= picture.shape[1] and 0 <= box[1] < box[3] <= picture.shape[0] for box in boxes)
    answer = reading.to_dict()
    assert "digit" not in answer and answer["number"] == "2026" and len(answer["digits"]) == 4
    assert set(answer["digits"][0]) == {"digit", "confidence", "probabilities", "box"}


def test_a_blank_canvas_is_not_guessed_at(predictor):
    with pytest.raises(NoDigitError):
        predictor.predict_image(np.zeros((280, 280, 4), np.uint8))


def test_files_that_cannot_be_read_are_reported_and_the_rest_predicted(predictor, awkward_files):
    names = list(awkward_files)
    results = predictor.predict_files([awkward_files[name][0] for name in names])
    for name, result in zip(names, results, strict=True):
        expected = awkward_files[name][1]
        if isinstance(expected, int):
            assert result.error is None and result.reading.number == str(expected), name
        else:
            assert result.reading is None and expected in result.error, (name, result.error)


# ---------------------------------------------------------------- choosing the model


def test_a_model_is_found_by_path_and_reads_a_known_digit(digit_model_path, mnist_test):
    choice = resolve(str(digit_model_path))
    assert choice == ModelChoice(path=digit_model_path) and choice.description == str(digit_model_path)
    first_seven = int(np.flatnonzero(mnist_test.labels == 7)[0])
    probabilities = choice.load().predict(mnist_test.images[first_seven][None, ..., None] / 255, verbose=0)[0]
    assert abs(probabilities.sum() - 1) < 1e-4 and probabilities.argmax() == 7


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("missing.keras", "not found"),
        (str(config.PROJECT_ROOT / "pyproject.toml"), "not a Keras model"),
        ("yesterday", "neither"),
    ],
)
def test_a_model_that_cannot_be_loaded_gets_a_clear_error(ref, fragment):
    with pytest.raises(ModelError, match=fragment):
        resolve(ref).load()


def test_runs_are_found_by_id_and_the_active_one_is_the_default(store_env, tiny_model, run_records):
    from mnist_core.store import get_store

    store = get_store()
    run_id = store.save_run(tiny_model, **run_records).run_id
    assert resolve(run_id).load().count_params() == tiny_model.count_params()
    store.set_active(run_id)
    assert resolve() == ModelChoice(run_id=run_id, active=True)
    predictor = Predictor.load()
    assert predictor.source == f"run {run_id} (active)"
    probabilities = predictor.predict_batch(np.zeros((2, 28, 28), np.uint8))  # tiny_model gives logits
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_without_an_active_run_the_bundled_baseline_is_used(store_env, monkeypatch, digit_model_path, tmp_path):

    monkeypatch.setattr(config, "BUNDLED_MODEL", digit_model_path)
    assert Predictor.load().source == "bundled baseline"
    assert resolve(active_run=lambda: None) == ModelChoice()
    assert resolve(active_run=lambda: "20260101T000000Z-0123abcd").description.endswith("(active)")
    monkeypatch.setattr(config, "BUNDLED_MODEL", tmp_path / "baseline.keras")
    with pytest.raises(ModelError, match="no run is active"):
        Predictor.load()


# ---------------------------------------------------------------- robustness

COUNT = 400
CANVAS = (480, 360)


def placed(digit: np.ndarray, rng: np.random.Generator, scale: float, canvas=CANVAS, grow=None) -> np.ndarray:
    """The digit scaled up at a random spot of a black canvas; ``grow`` filters it at 4x on the way."""
    side = round(28 * scale)
    big = Image.fromarray(digit)
    if grow is not None:
        big = big.resize((112, 112), Image.Resampling.BILINEAR).filter(grow)
    big = big.resize((side, side), Image.Resampling.BILINEAR)
    result = np.zeros(canvas[::-1], np.uint8)
    top, left = rng.integers(0, canvas[1] - side + 1), rng.integers(0, canvas[0] - side + 1)
    result[top : top + side, left : left + side] = np.asarray(big)
    return result


def as_jpeg(picture: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def _grid(shape: tuple[int, int]) -> np.ndarray:
    return np.indices(shape, dtype=np.float32) / max(shape)


@functools.cache
def _noise(shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(2).standard_normal((2 * shape[0], 2 * shape[1]), dtype=np.float32)


def lit_paper(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Grey paper, brighter towards a random side."""
    rows, cols = _grid(shape)
    slope = rng.uniform(-1, 1, 2).astype(np.float32)
    return 160 + 60 * (rows * slope[0] + cols * slope[1])


def noise(shape: tuple[int, int], rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Gaussian noise: a random window of one big field, much quicker than fresh numbers each time."""
    top, left = rng.integers(0, shape[0]), rng.integers(0, shape[1])
    return sigma * _noise(shape)[top : top + shape[0], left : left + shape[1]]


def transform_placed(digit, rng):
    return placed(digit, rng, rng.uniform(1.5, 12))


def transform_inverted(digit, rng):
    return 255 - placed(digit, rng, rng.uniform(2, 10))


def transform_thick(digit, rng):
    return placed(digit, rng, rng.uniform(3, 10), grow=ImageFilter.MaxFilter(7))  # 0.75 MNIST pixels a side


def transform_thin(digit, rng):
    return placed(digit, rng, rng.uniform(3, 10), grow=ImageFilter.MinFilter(5))  # 0.5 MNIST pixels a side


def transform_noise(digit, rng):
    noisy = placed(digit, rng, rng.uniform(3, 10)) + noise(CANVAS[::-1], rng, 25)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def transform_jpeg(digit, rng):
    return as_jpeg(255 - placed(digit, rng, rng.uniform(2, 10)), quality=int(rng.integers(20, 50)))


def transform_lighting(digit, rng):
    ink = placed(digit, rng, rng.uniform(3, 10)) / np.float32(255)
    paper = lit_paper(ink.shape, rng)
    return (paper * (1 - 0.7 * ink)).astype(np.uint8)


def transform_canvas(digit, rng):
    ink = placed(digit, rng, rng.uniform(3, 9.5), canvas=(280, 280))
    return np.dstack([np.full((280, 280, 3), 255, np.uint8), ink])


def transform_photo(digit, rng):
    ink = placed(digit, rng, rng.uniform(3, 12), canvas=(640, 480)) / np.float32(255)
    picture = lit_paper(ink.shape, rng) * (1 - 0.75 * ink) + noise(ink.shape, rng, 6)
    return as_jpeg(np.clip(picture, 0, 255).astype(np.uint8), quality=75)


# How often the prediction must match the clean original's. The bundled baseline reaches 97.8%
# with thick strokes and 98.8-99.5% with each of the others.
TRANSFORMS = {
    "mnist as is": (lambda digit, rng: digit, 0.98),
    "placed: position and size": (transform_placed, 0.97),
    "inverted: dark on white": (transform_inverted, 0.97),
    "thick strokes": (transform_thick, 0.95),
    "thin strokes": (transform_thin, 0.95),
    "gaussian noise": (transform_noise, 0.95),
    "jpeg quality 20-50": (transform_jpeg, 0.97),
    "grey paper, uneven light": (transform_lighting, 0.97),
    "canvas rgba": (transform_canvas, 0.97),
    "photo: paper, light, noise, jpeg": (transform_photo, 0.95),
}


@pytest.fixture(scope="session")
def mnist_test():
    from mnist_core.data import load_mnist

    return load_mnist()[1]


@pytest.fixture(scope="session")
def robustness_digits(mnist_test, predictor):
    """A fixed sample of test digits and what the model reads in each, untouched."""
    chosen = np.random.default_rng(0).choice(len(mnist_test), COUNT, replace=False)
    images = mnist_test.images[chosen]
    return images, predictor.predict_batch(images).argmax(axis=1)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_predictions_survive_real_world_changes(name, robustness_digits, predictor):
    transform, bar = TRANSFORMS[name]
    images, clean = robustness_digits
    rng = np.random.default_rng(1)
    seen, blank = [], 0
    for digit in images:
        try:
            seen.append(preprocess(transform(digit, rng)))
        except NoDigitError:
            seen.append(np.zeros((28, 28), np.float32))
            blank += 1
    agreement = float((predictor.predict_batch(np.stack(seen)).argmax(axis=1) == clean).mean())
    print(f"\n{name}: {agreement:.1%} agree with the clean originals ({blank} seen as blank)")
    assert agreement >= bar
