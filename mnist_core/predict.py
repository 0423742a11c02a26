"""Prediction: which model to use, and the digits it sees in an image.

:func:`resolve` turns what a user names (a ``.keras`` file, a run id, or nothing: the active run,
else the bundled baseline) into a :class:`ModelChoice`: the one home of that rule, used by the CLI and
the app alike. :class:`Predictor` wraps the chosen model in a traced function, so one image costs one
small graph call rather than a ``model.predict`` setup, applies the model's calibrated temperature
(:mod:`mnist_core.calibrate`), and sends every picture through :func:`mnist_core.segment.segment` first:
one digit or a whole number, read in one batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_core import config
from mnist_core.calibrate import sidecar_evaluation, stored_temperature, temperature_scaled
from mnist_core.data import as_model_input
from mnist_core.errors import ImageError, ModelError, StoreError
from mnist_core.preprocess import DigitImage, ImageSource, find_ink, single_digit
from mnist_core.segment import segment

if TYPE_CHECKING:  # TensorFlow loads when a model does: pages that only choose a model start fast
    import keras

    from mnist_core.store import Store

BATCH_SIZE = 1024
SURE_FROM = 0.8  # below this calibrated confidence the answer is "not sure: 4 or 9?"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """The digit a model sees, how sure it is, and the 28x28 image it was shown.

    ``box`` is where the digit is in the picture, ``(left, top, right, bottom)`` in its pixels, and
    ``placed`` where that box lies in the 28x28 image (both None for an image given as 28x28).
    """

    digit: int
    confidence: float
    probabilities: list[float]
    image: np.ndarray = field(repr=False)
    box: tuple[int, int, int, int] | None = None
    placed: tuple[int, int, int, int] | None = field(default=None, repr=False)

    @property
    def runner_up(self) -> int:
        """The digit the model thought next most likely."""
        return int(np.argsort(self.probabilities)[-2])

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE_FROM

    @property
    def verdict(self) -> str:
        """The digit, or ``not sure: 4 or 9?`` when the calibrated confidence is below :data:`SURE_FROM`."""
        return str(self.digit) if self.sure else f"not sure: {self.digit} or {self.runner_up}?"

    def to_dict(self) -> dict:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
        }


@dataclass(frozen=True)
class Reading:
    """Every digit in one picture, left to right: a number such as ``2026``, or a single digit."""

    digits: tuple[Prediction, ...]

    @property
    def number(self) -> str:
        return "".join(str(prediction.digit) for prediction in self.digits)

    def to_dict(self) -> dict:
        """``digit``, ``confidence`` and ``probabilities`` for a single digit (as always), then for every
        picture ``number`` and ``digits`` (each with its ``box`` in the picture's pixels)."""
        single = self.digits[0].to_dict() if len(self.digits) == 1 else {}
        digits = [{**prediction.to_dict(), "box": list(prediction.box or ())} for prediction in self.digits]
        return {**single, "number": self.number, "digits": digits}


@dataclass(frozen=True)
class FileResult:
    """One file's outcome: what was read in it, or why nothing was."""

    file: str
    reading: Reading | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        if self.reading is None:
            return {"file": self.file, "error": self.error}
        return {"file": self.file, **self.reading.to_dict()}


# ---------------------------------------------------------------- choosing a model


@dataclass(frozen=True)
class ModelChoice:
    """Which model predicts: a saved run, a ``.keras`` file, or (neither given) the bundled baseline.

    Cheap to make and hashable, so the app can key its cached predictors on it; :meth:`load` does the work.
    """

    run_id: str | None = None
    path: Path | None = None
    active: bool = False  # the run is the active one, chosen because nothing was named

    @property
    def description(self) -> str:
        if self.run_id is not None:
            return f"run {self.run_id} (active)" if self.active else f"run {self.run_id}"
        if self.path is not None:
            return str(self.path)
        return "bundled baseline"

    def load(self, store: Store | None = None) -> keras.Model:
        """The chosen model, read from ``store`` (by default the configured one) when it is a run."""
        from mnist_core.models import load_model_file
        from mnist_core.store import get_store

        if self.run_id is not None:
            return (store or get_store()).load_run_model(self.run_id)
        if self.path is not None:
            return load_model_file(self.path)
        if not config.BUNDLED_MODEL.is_file():
            raise ModelError(
                f"no model to predict with: no run is active and the bundled {config.BUNDLED_MODEL.name} is "
                "missing; train one with `python -m mnist_core train --preset fast`"
            )
        return load_model_file(config.BUNDLED_MODEL)

    def temperature(self, store: Store | None = None) -> float:
        """The calibrated temperature kept with the chosen run or model file (1 when there is none)."""
        from mnist_core.store import get_store

        if self.run_id is not None:
            return stored_temperature((store or get_store()).get_run(self.run_id)["evaluation"])
        return stored_temperature(sidecar_evaluation(self.path or config.BUNDLED_MODEL))


def resolve(ref: str | None = None, *, active_run: Callable[[], str | None] | None = None) -> ModelChoice:
    """The model ``ref`` names: a ``.keras`` path or a run id; None means the active run, else the baseline.

    ``active_run`` says which run is active (the app passes its cached lookup); by default the store is asked,
    and an unreachable store means the baseline, with a warning in the log.
    """
    from mnist_core.store import RUN_ID_PATTERN

    if ref is None:
        active = (active_run or _active_run)()
        return ModelChoice(run_id=active, active=True) if active is not None else ModelChoice()
    path = Path(ref).expanduser()
    if path.suffix == ".keras" or path.exists():
        return ModelChoice(path=path)
    if RUN_ID_PATTERN.fullmatch(ref):
        return ModelChoice(run_id=ref)
    raise ModelError(f"{ref!r} is neither a .keras file nor a run id")


def _active_run() -> str | None:
    """The active run's id; None when none is set or the store cannot be reached right now."""
    from mnist_core.store import get_store

    try:
        return get_store().get_active()
    except StoreError as error:
        log.warning("using the bundled model: %s", error)
        return None


# ---------------------------------------------------------------- predicting


class PictureReader:
    """Reads pictures through :meth:`predict_batch`: one digit, every digit of a number, or many files.

    The in-process :class:`Predictor` and the model-server client
    (:class:`mnist_core.predict_client.RemotePredictor`) differ only in ``predict_batch``, so both read a
    picture the same way, segmentation included.
    """

    source: str

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_image(self, source: ImageSource) -> Prediction:
        """The digit in a picture of one digit (bytes, path, PIL image or array); raises ImageError or NoDigitError."""
        digit = single_digit(find_ink(source))
        return prediction_of(digit.image, self.predict_batch(digit.image[None])[0], digit.box, digit.placed)

    def read(self, source: ImageSource) -> Reading:
        """Every digit in a picture, left to right, in one batch; raises ImageError or NoDigitError."""
        digits = segment(source)
        return _reading(digits, self.predict_batch(np.array([digit.image for digit in digits])))

    def predict_files(self, files: Iterable[str | Path]) -> list[FileResult]:
        """What every file shows, or the reason it shows nothing; all the digits go through the model together."""
        names = [str(file) for file in files]
        outcomes: list[list[DigitImage] | str] = []  # the digits the model will see, or what went wrong
        for name in names:
            try:
                outcomes.append(segment(name))
            except ImageError as error:
                outcomes.append(str(error))
        images = [digit.image for outcome in outcomes if isinstance(outcome, list) for digit in outcome]
        side = config.IMAGE_SIZE
        probabilities = self.predict_batch(np.array(images, dtype=np.float32).reshape(-1, side, side))
        results, used = [], 0
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, str):
                results.append(FileResult(name, error=outcome))
                continue
            results.append(FileResult(name, reading=_reading(outcome, probabilities[used : used + len(outcome)])))
            used += len(outcome)
        return results


class Predictor(PictureReader):
    """A model ready to read one picture at a time (the app, the CLI) or many images (evaluation, the pipeline).

    ``run_id`` is None for a model file or the bundled baseline; ``temperature`` is the model's calibrated
    temperature (1 leaves its probabilities as they are).
    """

    def __init__(
        self, model: keras.Model, source: str = "model", run_id: str | None = None, temperature: float = 1.0
    ):
        import tensorflow as tf

        self.model = model
        self.source = source
        self.run_id = run_id
        self.temperature = temperature
        try:
            input_shape = tuple(model.input_shape[1:])
            classes = model.output_shape[-1]
        except (AttributeError, ValueError):
            raise ModelError(f"{source}: the model has no fixed input and output shape") from None
        if classes != config.NUM_CLASSES:
            raise ModelError(f"{source}: the model has {classes} outputs, not {config.NUM_CLASSES}")
        if int(np.prod(input_shape)) != config.IMAGE_SIZE**2:
            raise ModelError(f"{source}: the model takes {input_shape} inputs, not 28x28 images")
        self._input_shape = input_shape
        # Batches: one graph traced for any batch size, called as a concrete function (no per-call dispatch).
        # One image, what the app and the server mostly see: XLA compiles the network into one program,
        # 0.2 ms quicker than the graph (in a preprocess-then-predict loop); for batches it is slower.
        def forward(images):
            return model(images, training=False)

        self._forward = tf.function(
            forward, input_signature=[tf.TensorSpec((None, *input_shape), tf.float32)]
        ).get_concrete_function()
        self._forward_one = tf.function(
            forward, input_signature=[tf.TensorSpec((1, *input_shape), tf.float32)], jit_compile=True
        ).get_concrete_function()
        # Compile now: the first real prediction is then as quick as the rest.
        self.predict_batch(np.zeros((1, config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32))
        self.predict_batch(np.zeros((2, config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32))

    @classmethod
    def load(cls, ref: str | None = None) -> Predictor:
        """A predictor for the model ``ref`` names (see :func:`resolve`), with its stored temperature."""
        choice = resolve(ref)
        return cls(choice.load(), choice.description, choice.run_id, choice.temperature())

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, 10)`` for ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` images.

        uint8 images are taken as 0..255, floats as already in [0, 1] (what preprocessing gives).
        """
        images = as_model_input(np.asarray(images)).reshape(-1, *self._input_shape)
        if len(images) == 1:
            return temperature_scaled(_as_probabilities(self._forward_one(images).numpy()), self.temperature)
        chunks = [
            self._forward(images[start : start + BATCH_SIZE]).numpy()
            for start in range(0, len(images), BATCH_SIZE)
        ]
        outputs = np.concatenate(chunks) if chunks else np.zeros((0, config.NUM_CLASSES), np.float32)
        return temperature_scaled(_as_probabilities(outputs), self.temperature)


def read_as_one_digit(result: FileResult) -> int:
    """For pictures of one digit: that digit; -1 when nothing could be read, -2 when several digits were found."""
    if result.reading is None:
        return -1
    return result.reading.digits[0].digit if len(result.reading.digits) == 1 else -2


def describe_reading(reading: Reading) -> str:
    """A reading in words: ``7 (98.0% sure)``, ``not sure: 4 or 9? (4 at 52.0%)``, ``2026 (2 99%, 0 97%, ...)``."""
    if len(reading.digits) == 1:
        only = reading.digits[0]
        if only.sure:
            return f"{only.verdict} ({only.confidence:.1%} sure)"
        return f"{only.verdict} ({only.digit} at {only.confidence:.1%})"
    digits = ", ".join(f"{p.digit} {p.confidence:.0%}" if p.sure else p.verdict for p in reading.digits)
    return f"{reading.number} ({digits})"


def prediction_of(
    image: np.ndarray, probabilities: np.ndarray, box: tuple | None = None, placed: tuple | None = None
) -> Prediction:
    """The prediction a model's class probabilities for ``image`` make (``box``: where it was in the picture)."""
    digit = int(np.argmax(probabilities))
    return Prediction(digit, float(probabilities[digit]), [float(p) for p in probabilities], image, box, placed)


def _reading(digits: list[DigitImage], probabilities: np.ndarray) -> Reading:
    return Reading(
        tuple(
            prediction_of(digit.image, row, digit.box, digit.placed)
            for digit, row in zip(digits, probabilities, strict=True)
        )
    )


def _as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as probabilities: already so for our models (softmax), logits for some others."""
    if len(outputs) == 0 or (outputs.min() >= 0 and np.abs(outputs.sum(axis=1) - 1.0).max() <= 1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
