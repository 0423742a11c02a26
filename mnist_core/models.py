"""The networks behind the presets in :mod:`mnist_core.config`, one short function each.

``keras_example`` is the classic Keras MNIST convnet and our baseline; ``fast`` reaches 99% test
accuracy in the least CPU time we found; ``best`` trades time for the last tenths of a percent;
``handwriting`` is deeper than ``fast`` for other writers' styles, yet small enough that one upload
is read in under 3 ms.

Every network ends in :func:`output_layer`, which computes in float32 whatever the training
precision, so probabilities and the loss stay exact under mixed bfloat16.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from mnist_core import config
from mnist_core.config import Preset
from mnist_core.errors import ModelError
from mnist_core.precision import dtype_policy

INPUT_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE, 1)


# ---------------------------------------------------------------- architectures


def output_layer() -> layers.Layer:
    """Ten softmax probabilities, always in float32."""
    return layers.Dense(config.NUM_CLASSES, activation="softmax", dtype="float32")


def keras_example() -> list[layers.Layer]:
    """https://keras.io/examples/vision/mnist_convnet/ layer for layer."""
    return [
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        output_layer(),
    ]


def fast() -> list[layers.Layer]:
    """Two conv layers, each pooled before BatchNorm and ReLU so those run on a quarter of the pixels."""
    return [
        layers.Conv2D(48, 5, use_bias=False),
        layers.MaxPooling2D(2),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Conv2D(64, 3, use_bias=False),
        layers.MaxPooling2D(2),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Flatten(),
        output_layer(),
    ]


def best() -> list[layers.Layer]:
    """Two double-conv blocks with BatchNorm and dropout, then a BatchNorm dense head."""

    def conv_block(filters: int) -> list[layers.Layer]:
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
        ]

    return [
        *conv_block(32),
        *conv_block(64),
        layers.Flatten(),
        layers.Dense(128, use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Dropout(0.4),
        output_layer(),
    ]


def handwriting() -> list[layers.Layer]:
    """Three convs (5x5, 3x3, 3x3), pooled before BatchNorm like ``fast``, then a small dense head.

    About 10.5 million multiply-adds per image (``best``: 18.7 million, ``fast``: 3.4 million).
    """
    return [
        layers.Conv2D(48, 5, use_bias=False),
        layers.MaxPooling2D(2),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Conv2D(96, 3, use_bias=False),
        layers.MaxPooling2D(2),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(128, use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Dropout(0.3),
        output_layer(),
    ]


ARCHITECTURES = {"keras_example": keras_example, "fast": fast, "best": best, "handwriting": handwriting}


def build_model(preset: Preset, precision: str | None = None) -> keras.Model:
    """The preset's network, taking ``(N, 28, 28, 1)`` floats in [0, 1] and returning float32 probabilities.

    It computes in ``precision`` (by default the preset's); augmentation is not part of the model,
    it happens in the training data pipeline (:mod:`mnist_core.augment`).
    """
    with dtype_policy(precision or preset.precision):
        return keras.Sequential(
            [keras.Input(shape=INPUT_SHAPE), *ARCHITECTURES[preset.architecture]()],
            name=preset.name.replace("-", "_"),
        )


def float32_copy(model: keras.Model, preset: Preset) -> keras.Model:
    """The same network and weights computing in float32: what is saved and predicts, whatever trained it.

    Mixed precision keeps its weights in float32, so they carry over unchanged.
    """
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in model.layers):
        return model
    copy = build_model(preset, precision="float32")
    copy.set_weights(model.get_weights())
    return copy


def load_model_file(path: str | Path) -> keras.Model:
    """Load a saved ``.keras`` model, with a clear message when the file is missing or not a model."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds for a file that is not a model
        raise ModelError(f"{path} is not a Keras model ({exc.__class__.__name__})") from None
