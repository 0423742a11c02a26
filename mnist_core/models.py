"""The networks behind the presets in :mod:`mnist_core.config`, one short function each.

``keras_example`` is the classic Keras MNIST convnet and our baseline; ``fast`` reaches 99% test
accuracy in the least CPU time we found; ``best`` trades time for the last tenths of a percent;
``handwriting`` is deeper than ``fast`` for other writers' styles, yet small enough that one upload
is read in under 3 ms.

Every network ends in :func:`output_layer`, which computes in float32 whatever the training
precision, so probabilities and the loss stay exact under mixed bfloat16, and normalises with
:func:`batch_norm`, which trains through TensorFlow's fused kernel and is saved as Keras's own layer.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf
from keras import layers

from mnist_core import config
from mnist_core.config import Preset
from mnist_core.errors import ModelError
from mnist_core.precision import dtype_policy

INPUT_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE, 1)


# ---------------------------------------------------------------- layers


class FusedBatchNormalization(layers.BatchNormalization):
    """Keras's ``BatchNormalization`` that trains through TensorFlow's fused kernel.

    Keras 3 normalises a training batch with about twenty small ops (casts to float32, moments,
    multiplies) and as many again in the gradient; ``FusedBatchNormV3`` (oneDNN's on CPU) is one op
    each way, reading bfloat16 and keeping float32 statistics. With it a ``fast`` step at batch 128
    takes 10.4 ms instead of 15.4 ms. The arithmetic and the weights are the same (the moving
    variance without Bessel's correction, as Keras keeps it), so :func:`inference_copy` saves
    Keras's own layer and a model file needs nothing from this project to load.
    Inference, and anything the fused kernel does not cover, is left to Keras.
    """

    def call(self, inputs, training=None, mask=None):
        fusable = (
            training and self.trainable and mask is None and len(inputs.shape) == 4
            and self.axis in (-1, 3) and self.scale and self.center and not self.renorm and not self.synchronized
        )
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma.value, self.beta.value, epsilon=self.epsilon, is_training=True
        )
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], variance.dtype)
        variance = variance * (count - 1) / count  # the kernel applies Bessel's correction; Keras does not
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1 - self.momentum))
        return outputs


def batch_norm() -> layers.Layer:
    """Batch normalisation as every preset uses it: fused for training, Keras's layer in saved models."""
    return FusedBatchNormalization(momentum=0.9)


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
        batch_norm(),
        layers.ReLU(),
        layers.Conv2D(64, 3, use_bias=False),
        layers.MaxPooling2D(2),
        batch_norm(),
        layers.ReLU(),
        layers.Flatten(),
        output_layer(),
    ]


def best() -> list[layers.Layer]:
    """Two double-conv blocks with BatchNorm and dropout, then a BatchNorm dense head."""

    def conv_block(filters: int) -> list[layers.Layer]:
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            batch_norm(),
            layers.ReLU(),
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            batch_norm(),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
        ]

    return [
        *conv_block(32),
        *conv_block(64),
        layers.Flatten(),
        layers.Dense(128, use_bias=False),
        batch_norm(),
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
        batch_norm(),
        layers.ReLU(),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        batch_norm(),
        layers.ReLU(),
        layers.Conv2D(96, 3, use_bias=False),
        layers.MaxPooling2D(2),
        batch_norm(),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(128, use_bias=False),
        batch_norm(),
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


def inference_copy(model: keras.Model) -> keras.Model:
    """The same network and weights in float32 and Keras's own layers: what is saved and predicts.

    Mixed precision keeps its weights in float32 and :class:`FusedBatchNormalization` has Keras's
    weights, so they carry over unchanged. A model that is already so is returned as it is.
    """

    def plain(layer: layers.Layer) -> layers.Layer:
        kind = layers.BatchNormalization if isinstance(layer, FusedBatchNormalization) else type(layer)
        return kind.from_config({**layer.get_config(), "dtype": "float32"})

    def is_plain(layer: layers.Layer) -> bool:
        return layer.compute_dtype == "float32" and not isinstance(layer, FusedBatchNormalization)

    if all(is_plain(layer) for layer in model.layers):
        return model
    copy = keras.models.clone_model(model, clone_function=plain)
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
