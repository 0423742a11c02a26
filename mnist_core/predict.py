"""Prediction: which model to use, and the digit it sees in an image.

:func:`resolve` turns what a user names (a ``.keras`` file, a run id, or nothing: the active run,
else the bundled baseline) into a :class:`ModelChoice`: the one home of that rule, used by the CLI and
the app alike. :class:`Predictor` wraps the chosen model in a traced function, so one image costs one
small graph call rather than a ``model.predict`` setup, and sends every image through
:func:`mnist_core.preprocess.preprocess` first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_core import config
from mnist_core.data import as_model_input
from mnist_core.errors import ImageError, ModelError, StoreError
from mnist_core.preprocess import ImageSource, preprocess

if TYPE_CHECKING:  # TensorFlow loads when a model does: pages that only choose a model start fast
    import keras

    from mnist_core.store import Store

BATCH_SIZE = 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """The digit a model sees, how sure it is, and the 28x28 image it was shown."""

    digit: int
    confidence: float
    probabilities: list[float]
    image: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
        }


@dataclass(frozen=True)
class FileResult:
    """One file's outcome: a prediction, or why there is none."""

    file: str
    prediction: Prediction | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        if self.prediction is None:
            return {"file": self.file, "error": self.error}
        return {"file": self.file, **self.prediction.to_dict()}


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


class Predictor:
    """A model ready to predict one image at a time (the app, the CLI) or many (evaluation, batches of files)."""

    def __init__(self, model: keras.Model, source: str = "model", run_id: str | None = None):
        import tensorflow as tf

        self.model = model
        self.source = source
        self.run_id = run_id  # None for a model file or the bundled baseline
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
        self._forward = tf.function(
            lambda images: model(images, training=False),
            input_signature=[tf.TensorSpec((None, *input_shape), tf.float32)],
        )
        # Trace now: the first real prediction is then as quick as the rest.
        self.predict_batch(np.zeros((1, config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32))

    @classmethod
    def load(cls, ref: str | None = None) -> Predictor:
        """A predictor for the model ``ref`` names (see :func:`resolve`)."""
        choice = resolve(ref)
        return cls(choice.load(), choice.description, choice.run_id)

    def predict_image(self, source: ImageSource) -> Prediction:
        """The digit in one picture (bytes, path, PIL image or array); raises ImageError or NoDigitError."""
        image = preprocess(source)
        return prediction_of(image, self.predict_batch(image[None])[0])

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, 10)`` for ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` images.

        uint8 images are taken as 0..255, floats as already in [0, 1] (what :func:`preprocess` gives).
        """
        images = as_model_input(np.asarray(images)).reshape(-1, *self._input_shape)
        chunks = [
            self._forward(images[start : start + BATCH_SIZE]).numpy()
            for start in range(0, len(images), BATCH_SIZE)
        ]
        return _as_probabilities(
            np.concatenate(chunks) if chunks else np.zeros((0, config.NUM_CLASSES), np.float32)
        )

    def predict_files(self, files: Iterable[str | Path]) -> list[FileResult]:
        """Every file's digit, or the reason it has none; the readable ones go through the model together."""
        names = [str(file) for file in files]
        outcomes: list[np.ndarray | str] = []  # the image the model will see, or what went wrong
        for name in names:
            try:
                outcomes.append(preprocess(name))
            except ImageError as error:
                outcomes.append(str(error))
        images = [outcome for outcome in outcomes if isinstance(outcome, np.ndarray)]
        side = config.IMAGE_SIZE
        probabilities = iter(self.predict_batch(np.array(images, dtype=np.float32).reshape(-1, side, side)))
        return [
            FileResult(name, prediction=prediction_of(outcome, next(probabilities)))
            if isinstance(outcome, np.ndarray)
            else FileResult(name, error=outcome)
            for name, outcome in zip(names, outcomes, strict=True)
        ]


def prediction_of(image: np.ndarray, probabilities: np.ndarray) -> Prediction:
    """The prediction a model's class probabilities for ``image`` make."""
    digit = int(np.argmax(probabilities))
    return Prediction(digit, float(probabilities[digit]), [float(p) for p in probabilities], image)


def _as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as probabilities: already so for our models (softmax), logits for some others."""
    if len(outputs) == 0 or (outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
