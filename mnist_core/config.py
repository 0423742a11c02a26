"""Constants, settings and the model presets: configuration as data, shared by every stage.

Settings that a user may change come from environment variables, read when they are
needed (not at import time) so tests and the app can change them at run time.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from mnist_core.errors import ConfigError
from mnist_core.precision import resolve_precision

IMAGE_SIZE = 28
NUM_CLASSES = 10
TRAIN_SIZE = 60_000
TEST_SIZE = 10_000
VALIDATION_SIZE = 6_000
DEFAULT_SEED = 42

# The allowed hyperparameters, in one place: get_preset checks them, the CLI's arguments and the
# Train page's number inputs offer exactly these ranges. The learning rate must be above 0.
MIN_EPOCHS, MAX_EPOCHS = 1, 200
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 1, 8192
MAX_LEARNING_RATE = 1.0
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = PROJECT_ROOT / "models" / "baseline.keras"  # evaluation beside it, in baseline.json
ASSETS_DIR = PROJECT_ROOT / "assets"

MNIST_NPZ_ENV = "MNIST_NPZ"


def mnist_npz_from_env() -> Path | None:
    """The data file named by ``MNIST_NPZ``, if set."""
    value = os.environ.get(MNIST_NPZ_ENV, "").strip()
    return Path(value).expanduser() if value else None


def keras_cache_npz() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its download."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return keras_home / "datasets" / "mnist.npz"


# ---------------------------------------------------------------- presets


@dataclass(frozen=True)
class Augmentation:
    """Random geometric changes applied to training images only."""

    rotation_degrees: float = 0.0
    shift_fraction: float = 0.0
    zoom_fraction: float = 0.0
    shear_degrees: float = 0.0  # slant
    aspect_fraction: float = 0.0  # squeezed or stretched: width over height changes by up to this share
    elastic_pixels: float = 0.0  # smooth random displacement of up to this many pixels
    stroke_pixels: float = 0.0  # strokes up to this many pixels wider or narrower
    mnist_layout: bool = False  # then laid out as uploads are (20-pixel box, mass centred); see augment.py
    changed_share: float = 1.0  # share of the images changed; the others are shown as they are

    @property
    def active(self) -> bool:
        return self != Augmentation()


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
    seed: int = DEFAULT_SEED
    precision: str = "auto"  # "auto", "bfloat16" or "float32"; get_preset resolves "auto" for this machine
    steps_per_execution: int = 8  # training steps per call into TensorFlow: fewer round trips through Python

    def to_dict(self) -> dict:
        return asdict(self)


# What `best` uses, and what `--augment` turns on for a preset that has none.
STANDARD_AUGMENTATION = Augmentation(rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1)

# How people write beyond MNIST: slanted, squeezed or stretched, wobbly, with thin or heavy pens.
# Zoom and shift are small jitters here, around the upload layout the digit is put back into.
HANDWRITING_AUGMENTATION = Augmentation(
    rotation_degrees=12,
    shift_fraction=0.04,
    zoom_fraction=0.05,
    shear_degrees=20,
    aspect_fraction=0.35,
    elastic_pixels=2.0,
    stroke_pixels=1.0,
    mnist_layout=True,
    changed_share=0.5,  # half the digits stay as MNIST made them, so the model keeps their crisp look
)

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
            steps_per_execution=1,  # as published
        ),
        Preset(
            name="fast",
            description="99% in one epoch: BatchNorm after pooling, no dropout, one-cycle LR, label smoothing.",
            architecture="fast",
            epochs=1,
            batch_size=128,
            learning_rate=1.3e-2,
            schedule="onecycle",
            label_smoothing=0.1,
        ),
        Preset(
            name="best",
            description="Highest accuracy: two double-conv blocks with BatchNorm, augmentation, one-cycle LR.",
            architecture="best",
            epochs=15,
            batch_size=128,
            learning_rate=3e-3,
            schedule="onecycle",
            augmentation=STANDARD_AUGMENTATION,
            label_smoothing=0.1,
        ),
        Preset(
            name="handwriting",
            description="Real handwriting: a compact deep net trained on slanted, stretched, wobbly, thick and "
            "thin digits laid out as uploads are. The bundled model.",
            architecture="handwriting",
            epochs=15,
            batch_size=128,
            learning_rate=4e-3,
            schedule="onecycle",
            augmentation=HANDWRITING_AUGMENTATION,
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
    precision: str = "auto",
) -> Preset:
    """A preset by name with optional overrides, checked so bad values fail before training.

    ``precision`` "auto" becomes bfloat16 where this machine computes it natively, else float32.
    """
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
    overrides["precision"] = resolve_precision(precision)
    if augment is False:
        overrides["augmentation"] = Augmentation()
    elif augment is True and not preset.augmentation.active:
        overrides["augmentation"] = STANDARD_AUGMENTATION
    preset = replace(preset, **overrides)
    if not MIN_EPOCHS <= preset.epochs <= MAX_EPOCHS:
        raise ConfigError(f"epochs must be between {MIN_EPOCHS} and {MAX_EPOCHS}, got {preset.epochs}")
    if not MIN_BATCH_SIZE <= preset.batch_size <= MAX_BATCH_SIZE:
        raise ConfigError(
            f"batch size must be between {MIN_BATCH_SIZE} and {MAX_BATCH_SIZE}, got {preset.batch_size}"
        )
    if not 0 < preset.learning_rate <= MAX_LEARNING_RATE:
        raise ConfigError(f"learning rate must be in (0, {MAX_LEARNING_RATE:g}], got {preset.learning_rate}")
    if not 0 <= preset.seed <= MAX_SEED:
        raise ConfigError(f"seed must be between 0 and {MAX_SEED}, got {preset.seed}")
    return preset
