"""What the Kubeflow pipeline's steps do besides calling the library: find the store, hand arrays on.

A step runs inside KFP's executor, which loads only part of KFP; importing the compiler there breaks
it. So this module imports no KFP at all, and takes KFP's artifacts for what they are to it: objects
with ``name``, ``path`` and a ``metadata`` dict.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_core.data import MnistSplits, Split
from mnist_core.errors import StoreError
from mnist_core.feedback.entries import Snapshot
from mnist_core.store import Store, get_store, new_run_id

if TYPE_CHECKING:
    import keras

    from mnist_core.train import TrainEvent  # TensorFlow: only the training step needs it

SPLIT_NAMES = ("train", "validation", "test")
SECRET_KEYS = ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY")  # what the Kubernetes secret holds, as the steps' env


class Artifact(Protocol):
    """The part of a KFP artifact (``Dataset``, ``Model``...) the steps use."""

    name: str
    path: str
    metadata: dict


def open_store(endpoint: str, bucket: str) -> Store:
    """The store a step uses: the pipeline's endpoint and bucket where given, else the environment's.

    Each step is a process of its own, so setting its environment is the simplest way to reuse every
    check :func:`mnist_core.store.get_store` makes. The keys are never parameters: they come from the
    environment (on a cluster, from the Kubernetes secret).
    """
    for name, value in (("MINIO_ENDPOINT", endpoint), ("MINIO_BUCKET", bucket)):
        if value:
            os.environ[name] = value
    return get_store()


def new_batch_id() -> str:
    """A name for one pipeline run's arrays: sortable by time, unique, and valid as a store name."""
    return new_run_id().lower()


def splits_to_arrays(splits: MnistSplits) -> dict[str, np.ndarray]:
    """``train_images``, ``train_labels``, ``validation_images``... as one dict, ready to store."""
    return {
        f"{name}_{part}": getattr(split, part) for name, split in splits.items() for part in ("images", "labels")
    }


def arrays_to_splits(arrays: dict[str, np.ndarray]) -> MnistSplits:
    """The splits back from what :func:`splits_to_arrays` stored."""
    return MnistSplits(*(Split(arrays[f"{name}_images"], arrays[f"{name}_labels"]) for name in SPLIT_NAMES))


def feedback_to_arrays(snapshot: Snapshot) -> dict[str, np.ndarray]:
    """The labelled examples as arrays that travel with the splits (named so reshaping leaves them be)."""
    return {
        "feedback_ids": np.array(snapshot.ids, dtype=str),
        "feedback_examples": snapshot.images,
        "feedback_labels": snapshot.labels,
    }


def arrays_to_feedback(arrays: dict[str, np.ndarray]) -> Snapshot | None:
    """The snapshot :func:`feedback_to_arrays` stored, or None when the run was asked for none."""
    if "feedback_ids" not in arrays:
        return None
    return Snapshot.from_arrays(list(arrays["feedback_ids"]), arrays["feedback_examples"], arrays["feedback_labels"])


def save_step_arrays(artifact: Artifact, store: Store, batch: str, stage: str, arrays: dict[str, np.ndarray]) -> None:
    """Store arrays as ``data/<batch>-<stage>.npz`` and make ``artifact`` point to them.

    The pointer is in the artifact's metadata (what the next step reads, and what the UI shows) and,
    for people browsing the pipeline root, in the artifact's file too.
    """
    name = f"{batch}-{stage}"
    location = store.save_arrays(name, arrays)
    artifact.metadata.update(
        {
            "batch": batch,
            "store_name": name,
            "location": location,
            "arrays": {key: f"{value.dtype} {list(value.shape)}" for key, value in arrays.items()},
        }
    )
    Path(artifact.path).write_text(json.dumps(artifact.metadata, indent=2), encoding="utf-8")


def load_step_arrays(artifact: Artifact, store: Store) -> dict[str, np.ndarray]:
    """The arrays an upstream step's artifact points to."""
    if "store_name" not in artifact.metadata:
        raise StoreError(f"the input artifact {artifact.name!r} does not point to stored arrays")
    return store.load_arrays(artifact.metadata["store_name"])


def print_epoch(event: TrainEvent) -> None:
    """One line per epoch in the step's log, which is what Kubeflow shows of a running step."""
    if event.kind == "epoch":
        print(event.progress_line(), flush=True)


def export_saved_model(model: keras.Model, store: Store, run_id: str) -> str:
    """The run's model as a TensorFlow SavedModel in ``runs/<id>/saved_model/1/``; returns where.

    That numbered version folder is the layout TensorFlow Serving, KServe's standard TensorFlow
    runtime, loads from (``storageUri`` points at ``saved_model``).
    """
    from mnist_core.inference_service import SAVED_MODEL_FOLDER, SAVED_MODEL_VERSION

    with tempfile.TemporaryDirectory(prefix="mnist-saved-model-") as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        return store.save_run_folder(run_id, f"{SAVED_MODEL_FOLDER}/{SAVED_MODEL_VERSION}", Path(tmp))
