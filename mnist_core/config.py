"""Constants and settings shared by every stage.

Settings that a user may change come from environment variables, read when they are
needed (not at import time) so tests and the app can change them at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_SIZE = 28
NUM_CLASSES = 10
TRAIN_SIZE = 60_000
TEST_SIZE = 10_000
VALIDATION_SIZE = 6_000
DEFAULT_SEED = 42

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL_DIR = PROJECT_ROOT / "models"
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
