"""MNIST data: load, validate, split, reshape, and the statistics the EDA page shows.

The pipeline's first two steps are plain functions here: :func:`get_data_batch` (load,
validate, split) and :func:`reshape_data` (to ``(N, 28, 28, 1)``, still uint8).
"""

from __future__ import annotations

import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mnist_core import config
from mnist_core.errors import DataError

ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Split:
    """Images ``(N, 28, 28)`` uint8 and their labels ``(N,)`` uint8."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class MnistSplits:
    """The three splits every stage works with. ``test`` is only for final evaluation."""

    train: Split
    validation: Split
    test: Split

    def items(self) -> list[tuple[str, Split]]:
        return [("train", self.train), ("validation", self.validation), ("test", self.test)]


# ---------------------------------------------------------------- loading


def find_mnist_file(path: str | Path | None = None) -> Path | None:
    """The first MNIST file that exists: ``path``, then ``$MNIST_NPZ``, then the Keras cache."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataError(f"MNIST file not found: {path}")
        return path
    from_env = config.mnist_npz_from_env()
    if from_env is not None:
        if not from_env.is_file():
            raise DataError(f"{config.MNIST_NPZ_ENV} points to a missing file: {from_env}")
        return from_env
    cached = config.keras_cache_npz()
    return cached if cached.is_file() else None


def load_mnist(path: str | Path | None = None) -> tuple[Split, Split]:
    """Load MNIST as ``(train, test)`` with 60,000 and 10,000 images.

    Looks at ``path``, ``$MNIST_NPZ``, the Keras cache, and last downloads it the Keras way.
    """
    found = find_mnist_file(path)
    arrays = _read_npz(found) if found is not None else _download_with_keras()
    _check_layout(arrays, source=str(found or "the Keras download"))
    return (
        Split(arrays["x_train"], arrays["y_train"]),
        Split(arrays["x_test"], arrays["y_test"]),
    )


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in ARRAY_NAMES if name not in npz.files]
            if missing:
                raise DataError(f"{path} is not an MNIST file: missing {', '.join(missing)}")
            return {name: npz[name] for name in ARRAY_NAMES}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc.__class__.__name__})") from None


def _download_with_keras() -> dict[str, np.ndarray]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # the Keras downloader raises many kinds when offline
        raise DataError(
            "MNIST is not on this machine and could not be downloaded "
            f"({exc.__class__.__name__}). Set {config.MNIST_NPZ_ENV} to the path of mnist.npz."
        ) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _check_layout(arrays: dict[str, np.ndarray], source: str) -> None:
    """Refuse files whose arrays cannot be MNIST, before anything downstream trips on them."""
    image_shape = (config.IMAGE_SIZE, config.IMAGE_SIZE)
    for prefix in ("train", "test"):
        images, labels = arrays[f"x_{prefix}"], arrays[f"y_{prefix}"]
        if images.ndim != 3 or images.shape[1:] != image_shape:
            raise DataError(f"{source}: x_{prefix} has shape {images.shape}, expected (N, 28, 28)")
        if labels.shape != (images.shape[0],):
            raise DataError(
                f"{source}: y_{prefix} has shape {labels.shape}, expected ({images.shape[0]},)"
            )


# ---------------------------------------------------------------- validation


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ValidationReport:
    """What was checked about the data, for the CLI, the EDA page and the pipeline log."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(all(check.passed for check in self.checks))

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict:
        checks = [asdict(check) | {"passed": bool(check.passed)} for check in self.checks]  # no numpy bools
        return {"ok": self.ok, "checks": checks}


def validate(train: Split, test: Split) -> ValidationReport:
    """Check shapes, dtypes, value range, missing values and labels of both splits."""
    checks = []
    for name, split, expected in (("train", train, config.TRAIN_SIZE), ("test", test, config.TEST_SIZE)):
        images, labels = split.images, split.labels
        checks += [
            Check(f"{name} count", len(split) == expected, f"{len(split):,} images (expected {expected:,})"),
            Check(
                f"{name} image shape",
                images.shape[1:] == (config.IMAGE_SIZE, config.IMAGE_SIZE),
                f"{images.shape[1:]}",
            ),
            Check(f"{name} image dtype", images.dtype == np.uint8, str(images.dtype)),
            Check(f"{name} label dtype", np.issubdtype(labels.dtype, np.integer), str(labels.dtype)),
            _value_range_check(name, images),
            _missing_values_check(name, images, labels),
            _label_check(name, labels),
        ]
    return ValidationReport(checks)


def _value_range_check(name: str, images: np.ndarray) -> Check:
    low, high = (images.min(), images.max()) if images.size else (0, 0)
    return Check(f"{name} pixel range", low >= 0 and high <= 255, f"{low}..{high} (expected within 0..255)")


def _missing_values_check(name: str, images: np.ndarray, labels: np.ndarray) -> Check:
    missing = sum(
        int(np.isnan(array).sum()) for array in (images, labels) if np.issubdtype(array.dtype, np.floating)
    )
    return Check(f"{name} missing values", missing == 0, f"{missing} missing")


def _label_check(name: str, labels: np.ndarray) -> Check:
    present = np.unique(labels)
    ok = set(present.tolist()) == set(range(config.NUM_CLASSES))
    return Check(f"{name} labels", ok, f"values {present.min()}..{present.max()}, {len(present)} distinct")


# ---------------------------------------------------------------- splitting


def stratified_split(
    split: Split, validation_size: int = config.VALIDATION_SIZE, seed: int = config.DEFAULT_SEED
) -> tuple[Split, Split]:
    """Split into ``(train, validation)`` keeping each digit's share; same seed, same split.

    Each digit gets its proportional share of the validation set; the remainders left by rounding
    go to the digits with the largest fractional parts, so the total is exactly ``validation_size``.
    """
    if not 0 < validation_size < len(split):
        raise DataError(f"validation size must be between 1 and {len(split) - 1}, got {validation_size}")
    labels = split.labels
    counts = np.bincount(labels, minlength=config.NUM_CLASSES)
    exact = counts * validation_size / len(labels)
    per_class = np.floor(exact).astype(int)
    shortfall = validation_size - per_class.sum()
    per_class[np.argsort(-(exact - per_class), kind="stable")[:shortfall]] += 1

    rng = np.random.default_rng(seed)
    is_validation = np.zeros(len(labels), dtype=bool)
    for digit, take in enumerate(per_class):
        members = np.flatnonzero(labels == digit)
        is_validation[rng.choice(members, size=take, replace=False)] = True
    return (
        Split(split.images[~is_validation], labels[~is_validation]),
        Split(split.images[is_validation], labels[is_validation]),
    )


def get_data_batch(
    path: str | Path | None = None,
    seed: int = config.DEFAULT_SEED,
    validation_size: int = config.VALIDATION_SIZE,
) -> tuple[MnistSplits, ValidationReport]:
    """Pipeline step 1: load, validate and split MNIST. Raises :class:`DataError` if invalid."""
    train, test = load_mnist(path)
    report = validate(train, test)
    if not report.ok:
        problems = "; ".join(f"{check.name}: {check.detail}" for check in report.failures())
        raise DataError(f"MNIST failed validation: {problems}")
    train, validation = stratified_split(train, validation_size, seed)
    return MnistSplits(train, validation, test), report


# ---------------------------------------------------------------- reshaping


def reshape_data(images: np.ndarray) -> np.ndarray:
    """Pipeline step 2: ``(28, 28)`` or ``(N, 28, 28)`` images to the ``(N, 28, 28, 1)`` the network takes.

    The pixels stay uint8, the one format images are stored and handed around in (a quarter of the
    bytes of floats); :func:`as_model_input` scales them as they go into the model.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    return images[..., None] if images.ndim == 3 else images


def as_model_input(images: np.ndarray) -> np.ndarray:
    """What the model reads: uint8 images (0..255) reshaped and scaled to float32 in [0, 1]; floats as they are.

    Floats are taken as already in [0, 1], which is what :func:`mnist_core.preprocess.preprocess` gives.
    """
    if images.dtype == np.uint8:
        return reshape_data(images).astype(np.float32) / np.float32(255)
    return np.asarray(images, dtype=np.float32)


# ---------------------------------------------------------------- statistics for EDA


def label_counts(labels: np.ndarray) -> np.ndarray:
    """How many images of each digit, as an array of 10 counts."""
    return np.bincount(labels, minlength=config.NUM_CLASSES)


def imbalance_ratio(labels: np.ndarray) -> float:
    """Most common digit's count over the rarest one's (1.0 is perfectly balanced)."""
    counts = label_counts(labels)
    return float(counts.max() / counts.min()) if counts.min() else float("inf")


def mean_images(split: Split) -> np.ndarray:
    """The average image of each digit, ``(10, 28, 28)`` float32 in [0, 255]."""
    return np.stack(
        [split.images[split.labels == digit].mean(axis=0) for digit in range(config.NUM_CLASSES)]
    ).astype(np.float32)


def pixel_histogram(images: np.ndarray) -> np.ndarray:
    """How many pixels have each intensity 0..255, as an array of 256 counts."""
    return np.bincount(images.reshape(-1), minlength=256)


def sample_indices(
    labels: np.ndarray, per_digit: int, seed: int, digits: list[int] | None = None
) -> dict[int, np.ndarray]:
    """Random indices of ``per_digit`` images for each requested digit."""
    rng = np.random.default_rng(seed)
    chosen = {}
    for digit in digits if digits is not None else range(config.NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        chosen[digit] = rng.choice(members, size=min(per_digit, len(members)), replace=False)
    return chosen
