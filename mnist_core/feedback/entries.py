"""Logged predictions and labelled examples in the store, beside the runs.

Layout (the same on MinIO and in the local directory)::

    predictions/<id>.json   one prediction: the 28x28 image the model saw, a small copy of the input,
                            the model, digit, confidence, probabilities, source and time
    examples/<id>.json      one labelled example: a correction ("wrong, it is a 4"), a confirmation
                            ("right") or a file added with ``feedback add``; the same fields plus the label

Every entry is one small object under its own id, written in one request: two people correcting at
the same moment write two objects and both land. When MinIO cannot be reached the entry goes to the
spool (``<spool>/feedback/``) and is uploaded by the next successful write, ``feedback sync`` or the
app's start. A deleted entry is removed from the store and the spool, so no later snapshot sees it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from mnist_core import config
from mnist_core.errors import ConfigError, ImageError, StoreError
from mnist_core.store import RUN_ID_PATTERN, Store, StoreUnavailableError, new_run_id

log = logging.getLogger(__name__)

PREDICTIONS = "predictions"
EXAMPLES = "examples"
KINDS = (PREDICTIONS, EXAMPLES)
SOURCES = ("canvas", "upload", "cli", "api")
THUMBNAIL_SIZE = 64  # the small copy of the input kept with each entry, longest side in pixels
HELD_OUT_SHARE = 0.25  # of each digit's examples, kept out of training to measure the run on
LOG_SETTING_ENV = "MNIST_PREDICTION_LOG"
SPOOL_FOLDER = "feedback"


def logging_enabled() -> bool:
    """Whether predictions are logged: on unless ``MNIST_PREDICTION_LOG`` is off, 0, false or no."""
    return os.environ.get(LOG_SETTING_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def check_label(label: object) -> int:
    """The label as an int if it is a digit 0-9; anything else is refused before anything is written."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer, str)):
        raise ConfigError(f"the label must be a digit 0-9, got {label!r}")
    text = str(label).strip()
    if not (text.isdigit() and len(text) == 1):
        raise ConfigError(f"the label must be a digit 0-9, got {text[:20]!r}")
    return int(text)


def check_entry_id(entry_id: str) -> str:
    if not isinstance(entry_id, str) or not RUN_ID_PATTERN.fullmatch(entry_id):
        raise StoreError(f"invalid entry id {str(entry_id)[:40]!r} (ids look like 20261124T063012Z-3f9a1c2b)")
    return entry_id


# ---------------------------------------------------------------- images


def image_png(image: np.ndarray) -> bytes:
    """The 28x28 image the model saw (float in [0, 1] or uint8) as a grey PNG."""
    return _png(Image.fromarray(as_uint8(image), "L"))


def as_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def thumbnail_png(original: bytes | np.ndarray | None) -> bytes | None:
    """A small copy of what the user gave (encoded picture bytes or the canvas's RGBA array)."""
    if original is None:
        return None
    try:
        if isinstance(original, np.ndarray):
            picture = Image.fromarray(np.asarray(original, dtype=np.uint8))
        else:
            picture = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))
        picture.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        return _png(picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB"))
    except (OSError, ValueError, TypeError):
        return None  # the model's 28x28 view is what matters; a missing thumbnail loses nothing


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.uint8)


# ---------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """A logged prediction (``kind == "predictions"``) or a labelled example (``kind == "examples"``)."""

    id: str
    kind: str
    created: str
    source: str
    image: bytes = field(repr=False)  # PNG of the 28x28 image
    thumbnail: bytes | None = field(default=None, repr=False)  # PNG, small copy of the input
    model: str | None = None  # "run <id>", "bundled baseline", a file...
    digit: int | None = None  # what the model read
    confidence: float | None = None
    probabilities: list[float] | None = None
    label: int | None = None  # examples only: the true digit
    prediction_id: str | None = None  # examples only: the logged prediction it corrects or confirms
    name: str | None = None  # the file name, for uploads and `feedback add`

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}.json"

    @property
    def pixels(self) -> np.ndarray:
        """The 28x28 uint8 image."""
        return _decode_png(self.image)

    @property
    def corrected(self) -> bool:
        """An example whose label differs from what the model read."""
        return self.label is not None and self.digit is not None and self.label != self.digit

    def to_json(self) -> bytes:
        record = asdict(self)
        record["image"] = base64.b64encode(self.image).decode()
        record["thumbnail"] = base64.b64encode(self.thumbnail).decode() if self.thumbnail else None
        return json.dumps(record).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Entry:
        record = json.loads(data)
        record["image"] = base64.b64decode(record["image"])
        record["thumbnail"] = base64.b64decode(record["thumbnail"]) if record.get("thumbnail") else None
        return cls(**record)

    def summary(self) -> dict:
        """The entry without its images, for ``feedback list --json`` and tables."""
        return {key: value for key, value in asdict(self).items() if key not in ("image", "thumbnail")}


def new_entry(
    kind: str,
    image: np.ndarray,
    *,
    source: str,
    original: bytes | np.ndarray | None = None,
    model: str | None = None,
    probabilities: Sequence[float] | None = None,
    label: int | None = None,
    prediction_id: str | None = None,
    name: str | None = None,
    entry_id: str | None = None,
) -> Entry:
    """An entry ready to store; the images are encoded here (a millisecond), so call it off the hot path."""
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    digit = confidence = None
    if probabilities is not None:
        probabilities = [round(float(value), 6) for value in probabilities]
        digit = int(np.argmax(probabilities))
        confidence = probabilities[digit]
    return Entry(
        id=check_entry_id(entry_id) if entry_id else new_run_id(),
        kind=kind,
        created=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        source=source,
        image=image_png(image),
        thumbnail=thumbnail_png(original),
        model=model,
        digit=digit,
        confidence=confidence,
        probabilities=probabilities,
        label=None if label is None else check_label(label),
        prediction_id=None if prediction_id is None else check_entry_id(prediction_id),
        name=name,
    )


# ---------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshot:
    """The labelled examples a training run uses, frozen: ids, 28x28 uint8 images, labels and a content hash.

    ``held_out`` marks a stratified share of each digit's examples kept out of training to measure on.
    """

    ids: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray
    held_out: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def sha256(self) -> str:
        """Changes when any example is added, deleted or relabelled."""
        digest = hashlib.sha256()
        for entry_id, image, label in zip(self.ids, self.images, self.labels, strict=True):
            digest.update(f"{entry_id}:{int(label)}:".encode())
            digest.update(np.ascontiguousarray(image).tobytes())
        return digest.hexdigest()

    @property
    def training(self) -> tuple[np.ndarray, np.ndarray]:
        return self.images[~self.held_out], self.labels[~self.held_out]

    @property
    def evaluation(self) -> tuple[np.ndarray, np.ndarray]:
        return self.images[self.held_out], self.labels[self.held_out]

    def record(self) -> dict:
        """What a run keeps about the snapshot it used."""
        return {"examples": len(self), "held_out": int(self.held_out.sum()), "sha256": self.sha256}

    @classmethod
    def from_arrays(cls, ids: Sequence[str], images: np.ndarray, labels: np.ndarray) -> Snapshot:
        order = np.argsort(np.asarray(ids, dtype=str), kind="stable")
        ids = tuple(str(ids[position]) for position in order)
        labels = np.asarray(labels, dtype=np.uint8)[order]
        return cls(ids, as_uint8(np.asarray(images))[order], labels, held_out_mask(ids, labels))


def held_out_mask(ids: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """A quarter of each digit's examples (at least one when a digit has two), chosen by a hash of the id.

    Choosing by hash rather than at random keeps an example on the same side as long as its digit's
    count does not change, and needs no seed.
    """
    mask = np.zeros(len(ids), dtype=bool)
    rank = np.array([hashlib.sha256(entry_id.encode()).hexdigest() for entry_id in ids], dtype=str)
    for digit in range(config.NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        if len(members) < 2:
            continue
        take = max(1, round(len(members) * HELD_OUT_SHARE))
        mask[members[np.argsort(rank[members], kind="stable")[:take]]] = True
    return mask


# ---------------------------------------------------------------- the store side


@dataclass
class FeedbackSync:
    """What :meth:`FeedbackStore.sync` did."""

    uploaded: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def message(self) -> str:
        if self.pending:
            return f"{len(self.pending)} feedback entries still waiting to be uploaded: {self.error}"
        if self.uploaded:
            return f"Uploaded {len(self.uploaded)} feedback entries kept while the store was unreachable."
        return "No feedback entries were waiting."


class FeedbackStore:
    """Predictions and labelled examples kept in a :class:`~mnist_core.store.Store`."""

    def __init__(self, store: Store):
        self.store = store
        self.spool = Path(store.spool_dir) / SPOOL_FOLDER

    # ------------------------------------------------------------ writing

    def save(self, entry: Entry) -> bool:
        """Store ``entry``; returns False when the store was down and it was spooled instead."""
        data = entry.to_json()
        try:
            self.store._write(entry.key, data)
        except StoreUnavailableError as exc:
            self._spool(entry.key, data)
            log.warning("feedback entry %s spooled: %s", entry.id, exc)
            return False
        if self.spooled():
            self.sync()  # the store answers again: send what waited
        return True

    def add_example(
        self,
        image: np.ndarray,
        label: int | str,
        *,
        source: str,
        original: bytes | np.ndarray | None = None,
        model: str | None = None,
        probabilities: Sequence[float] | None = None,
        prediction_id: str | None = None,
        name: str | None = None,
    ) -> tuple[Entry, bool]:
        """Keep a labelled example; returns it and whether it reached the store (False: spooled)."""
        entry = new_entry(
            EXAMPLES,
            image,
            source=source,
            original=original,
            model=model,
            probabilities=probabilities,
            label=check_label(label),
            prediction_id=prediction_id,
            name=name,
        )
        return entry, self.save(entry)

    def add_files(self, files: Iterable[str | Path], label: int | str, predictor=None) -> list[tuple[Entry, bool]]:
        """Label picture files; every file is read first, so one bad file means nothing is written.

        With a ``predictor`` each example also keeps what that model read.
        """
        from mnist_core.preprocess import preprocess

        digit = check_label(label)
        prepared = []
        for file in files:
            path = Path(file)
            try:
                image = preprocess(path)
            except ImageError as error:
                raise ImageError(f"{path}: {error}; nothing was added") from None
            probabilities = predictor.predict_batch(image[None])[0] if predictor is not None else None
            original = path.read_bytes()
            prepared.append((image, original, probabilities, path.name))
        return [
            self.add_example(
                image, digit, source="cli", original=original, probabilities=probabilities, name=name,
                model=predictor.source if predictor is not None else None,
            )
            for image, original, probabilities, name in prepared
        ]

    def _spool(self, key: str, data: bytes) -> None:
        path = self.spool / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".tmp-{path.name}")
            temp.write_bytes(data)
            os.replace(temp, path)
        except OSError as exc:
            raise StoreError(f"the store is unreachable and keeping the entry locally failed ({exc})") from None

    # ------------------------------------------------------------ reading

    def entries(self, kind: str = EXAMPLES) -> list[Entry]:
        """Every entry of ``kind`` in the store, newest first (spooled ones are not in the store yet)."""
        result = []
        for item in self.store._list(f"{kind}/"):
            entry_id = item.key.rsplit("/", 1)[-1].removesuffix(".json")
            if not RUN_ID_PATTERN.fullmatch(entry_id):
                continue
            data = self.store._read(item.key)
            if data is None:
                continue  # deleted while we listed
            try:
                result.append(Entry.from_json(data))
            except (ValueError, TypeError, KeyError):
                log.warning("skipping a damaged feedback entry %s", item.key)
        return sorted(result, key=lambda entry: entry.id, reverse=True)

    def get(self, entry_id: str) -> Entry:
        check_entry_id(entry_id)
        for kind in KINDS:
            data = self.store._read(f"{kind}/{entry_id}.json")
            if data is not None:
                return Entry.from_json(data)
        raise StoreError(f"no feedback entry {entry_id}")

    def snapshot(self) -> Snapshot:
        """The labelled examples as they are now, for training."""
        examples = self.entries(EXAMPLES)
        if not examples:
            return Snapshot((), np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.zeros(0, bool))
        return Snapshot.from_arrays(
            [entry.id for entry in examples],
            np.stack([entry.pixels for entry in examples]),
            np.array([entry.label for entry in examples]),
        )

    # ------------------------------------------------------------ deleting and exporting

    def delete(self, entry_id: str) -> list[str]:
        """Delete an entry (with the examples made from it, for a prediction); returns the ids deleted."""
        check_entry_id(entry_id)
        keys = [f"{kind}/{entry_id}.json" for kind in KINDS]
        found = [key for key in keys if self.store._read(key) is not None]
        spooled = [self.spool / key for key in keys if (self.spool / key).is_file()]
        if not found and not spooled:
            raise StoreError(f"no feedback entry {entry_id}")
        if f"{PREDICTIONS}/{entry_id}.json" in found:
            found += [entry.key for entry in self.entries(EXAMPLES) if entry.prediction_id == entry_id]
        self.store._delete(found)
        for path in spooled:
            path.unlink(missing_ok=True)
        return sorted({key.rsplit("/", 1)[-1].removesuffix(".json") for key in found} | {entry_id})

    def export(self, folder: str | Path) -> Path:
        """The labelled examples as ``<id>.png`` files (28x28) and ``labels.csv``; returns the CSV path."""
        folder = Path(folder)
        examples = sorted(self.entries(EXAMPLES), key=lambda entry: entry.id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            csv_path = folder / "labels.csv"
            with csv_path.open("w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow(["file", "label", "predicted", "confidence", "source", "created", "id"])
                for entry in examples:
                    (folder / f"{entry.id}.png").write_bytes(entry.image)
                    writer.writerow([f"{entry.id}.png", entry.label, "" if entry.digit is None else entry.digit,
                                     "" if entry.confidence is None else entry.confidence, entry.source,
                                     entry.created, entry.id])
        except OSError as exc:
            raise StoreError(f"cannot write to {folder} ({exc.strerror or exc})") from None
        return csv_path

    # ------------------------------------------------------------ outage recovery

    def spooled(self) -> list[Path]:
        """Entries waiting in the spool (not the temporary file of one being written)."""
        if not self.spool.is_dir():
            return []
        return sorted(path for path in self.spool.glob("*/*.json") if RUN_ID_PATTERN.fullmatch(path.stem))

    def sync(self) -> FeedbackSync:
        """Upload the entries spooled during an outage; never raises for an unreachable store."""
        report = FeedbackSync()
        waiting = self.spooled()
        for position, path in enumerate(waiting):
            key = path.relative_to(self.spool).as_posix()
            try:
                self.store._write(key, path.read_bytes())
            except StoreUnavailableError as exc:
                report.pending = [item.stem for item in waiting[position:]]
                report.error = str(exc)
                return report
            except FileNotFoundError:
                continue  # another sync sent it first
            path.unlink(missing_ok=True)
            report.uploaded.append(path.stem)
        return report
