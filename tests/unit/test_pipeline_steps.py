"""The pipeline steps' plumbing on tiny arrays: the store they pick, and how they hand arrays on."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_core.data import MnistSplits, Split
from mnist_core.errors import ConfigError, StoreError
from mnist_core.pipeline import pipeline_arguments
from mnist_core.pipeline_steps import (
    arrays_to_splits,
    load_step_arrays,
    new_batch_id,
    open_store,
    save_step_arrays,
    splits_to_arrays,
)
from mnist_core.store import ARRAYS_NAME_PATTERN, LocalStore, MinioStore


def tiny_splits() -> MnistSplits:
    rng = np.random.default_rng(0)
    sizes = (6, 3, 2)  # train, validation, test
    return MnistSplits(
        *(Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10) for n in sizes)
    )


def artifact(tmp_path, name: str = "splits", metadata: dict | None = None) -> SimpleNamespace:
    """What the steps use of a KFP artifact: a name, a local path and a metadata dict."""
    return SimpleNamespace(name=name, path=str(tmp_path / "artifacts" / name), metadata=metadata or {})


def test_splits_survive_the_trip_through_arrays():
    splits = tiny_splits()
    arrays = splits_to_arrays(splits)
    assert sorted(arrays) == sorted(f"{name}_{part}" for name in ("train", "validation", "test")
                                    for part in ("images", "labels"))
    back = arrays_to_splits(arrays)
    for (name, before), (_, after) in zip(splits.items(), back.items(), strict=True):
        assert np.array_equal(before.images, after.images) and np.array_equal(before.labels, after.labels), name


def test_a_step_stores_arrays_and_its_artifact_points_to_them(tmp_path):
    store = LocalStore(tmp_path / "store")
    output = artifact(tmp_path)
    (tmp_path / "artifacts").mkdir()  # KFP creates the artifact's folder before the step runs
    batch = new_batch_id()
    save_step_arrays(output, store, batch, "splits", splits_to_arrays(tiny_splits()))

    assert ARRAYS_NAME_PATTERN.fullmatch(f"{batch}-reshaped")
    assert output.metadata["store_name"] == f"{batch}-splits"
    assert output.metadata["location"] == str(tmp_path / "store" / "data" / f"{batch}-splits.npz")
    assert output.metadata["arrays"]["train_images"] == "uint8 [6, 28, 28]"
    assert json.loads((tmp_path / "artifacts" / "splits").read_text()) == output.metadata

    downstream = artifact(tmp_path, metadata=dict(output.metadata))
    assert np.array_equal(load_step_arrays(downstream, store)["test_labels"], [0, 1])


def test_an_artifact_without_a_pointer_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not point to stored arrays"):
        load_step_arrays(artifact(tmp_path, name="reshaped"), LocalStore(tmp_path / "store"))


def test_the_pipeline_endpoint_and_bucket_win_and_the_keys_come_from_the_environment(store_env, monkeypatch):
    assert isinstance(open_store("", ""), LocalStore)

    monkeypatch.setenv("MINIO_ACCESS_KEY", "key")
    monkeypatch.setenv("MINIO_SECRET_KEY", "secret")
    store = open_store("minio-service.kubeflow:9000", "pipeline-runs")
    assert isinstance(store, MinioStore)
    assert (store.settings.endpoint, store.settings.bucket, store.settings.access_key) == (
        "minio-service.kubeflow:9000", "pipeline-runs", "key"
    )


def test_an_endpoint_without_keys_is_refused(store_env):
    with pytest.raises(StoreError, match="MINIO_ACCESS_KEY"):
        open_store("minio:9000", "")


def test_pipeline_arguments_are_checked_before_anything_runs():
    assert pipeline_arguments("fast", epochs=3) == {
        "preset": "fast", "epochs": 3, "batch_size": 0, "learning_rate": 0.0, "seed": 42,
        "store_endpoint": "", "store_bucket": "", "deploy": False, "feedback": False,
    }
    assert pipeline_arguments("fast", deploy=True)["deploy"] is True
    with pytest.raises(ConfigError, match="epochs"):
        pipeline_arguments("fast", epochs=500)
    with pytest.raises(ConfigError, match="unknown preset"):
        pipeline_arguments("huge")
