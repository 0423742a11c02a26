"""CNN presets: each one is data (architecture and training recipe), built by one short function.

``keras-example`` is the classic Keras MNIST convnet and our baseline; ``fast`` reaches 99% test
accuracy in the least CPU time we found; ``best`` trades time for the last tenths of a percent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
from keras import layers

from mnist_core import config
from mnist_core.errors import ConfigError, ModelError

INPUT_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE, 1)


@dataclass(frozen=True)
class Augmentation:
    """Random geometric changes applied to training images only."""

    rotation_degrees: float = 0.0
    shift_fraction: float = 0.0
    zoom_fraction: float = 0.0


@dataclass(frozen=True)
class Preset:
    """Everything needed to build and train one model, as plain data."""

    name: str
    description: str
    architecture: str
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str = "constant"  # "constant", "onecycle" or "cosine"
    augmentation: Augmentation = field(default_factory=Augmentation)
    label_smoothing: float = 0.0
    seed: int = config.DEFAULT_SEED

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="keras-example",
            description="The Keras mnist_convnet example: conv32-pool-conv64-pool-dropout-dense.",
            architecture="keras_example",
            epochs=15,
            batch_size=128,
            learning_rate=1e-3,
        ),
        Preset(
            name="fast",
            description="99% in the least CPU time: BatchNorm, no dropout, large batches, one-cycle LR.",
            architecture="fast",
            epochs=2,
            batch_size=256,
            learning_rate=5e-3,
            schedule="onecycle",
        ),
        Preset(
            name="best",
            description="Highest accuracy: two conv blocks with BatchNorm, augmentation, cosine decay.",
            architecture="best",
            epochs=15,
            batch_size=128,
            learning_rate=3e-3,
            schedule="onecycle",
            augmentation=Augmentation(rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1),
            label_smoothing=0.1,
        ),
    )
}


def get_preset(
    name: str,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int | None = None,
    augment: bool | None = None,
) -> Preset:
    """A preset by name with optional overrides, checked so bad values fail before training."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    overrides = {
        key: value
        for key, value in {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
        }.items()
        if value is not None
    }
    if augment is False:
        overrides["augmentation"] = Augmentation()
    elif augment is True and preset.augmentation == Augmentation():
        overrides["augmentation"] = Augmentation(rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1)
    preset = replace(preset, **overrides)
    if not 1 <= preset.epochs <= 200:
        raise ConfigError(f"epochs must be between 1 and 200, got {preset.epochs}")
    if not 1 <= preset.batch_size <= 8192:
        raise ConfigError(f"batch size must be between 1 and 8192, got {preset.batch_size}")
    if not 0 < preset.learning_rate <= 1:
        raise ConfigError(f"learning rate must be in (0, 1], got {preset.learning_rate}")
    if preset.seed < 0:
        raise ConfigError(f"seed must be non-negative, got {preset.seed}")
    return preset


# ---------------------------------------------------------------- architectures


def keras_example() -> list[layers.Layer]:
    """https://keras.io/examples/vision/mnist_convnet/ layer for layer."""
    return [
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(config.NUM_CLASSES, activation="softmax"),
    ]


def fast() -> list[layers.Layer]:
    """Small and wide enough to learn in one or two epochs; BatchNorm makes high LRs safe."""
    return [
        layers.Conv2D(32, 3, use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(config.NUM_CLASSES, activation="softmax"),
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
        layers.Dense(config.NUM_CLASSES, activation="softmax"),
    ]


ARCHITECTURES = {"keras_example": keras_example, "fast": fast, "best": best}


def augmentation_layers(augmentation: Augmentation) -> list[layers.Layer]:
    """Keras preprocessing layers that are active in training and pass images through otherwise."""
    result: list[layers.Layer] = []
    if augmentation.rotation_degrees:
        result.append(layers.RandomRotation(augmentation.rotation_degrees / 360, fill_mode="constant"))
    if augmentation.zoom_fraction:
        result.append(layers.RandomZoom(augmentation.zoom_fraction, fill_mode="constant"))
    if augmentation.shift_fraction:
        shift = augmentation.shift_fraction
        result.append(layers.RandomTranslation(shift, shift, fill_mode="constant"))
    return result


def build_model(preset: Preset) -> keras.Model:
    """The preset's network, taking ``(N, 28, 28, 1)`` floats in [0, 1] and returning probabilities."""
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            *augmentation_layers(preset.augmentation),
            *ARCHITECTURES[preset.architecture](),
        ],
        name=preset.name.replace("-", "_"),
    )


def load_model_file(path: str | Path) -> keras.Model:
    """Load a saved ``.keras`` model, with a clear message when the file is missing or not a model."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds for a file that is not a model
        raise ModelError(f"{path} is not a Keras model ({exc.__class__.__name__})") from None
