"""The store contract: every backend keeps the same layout and the same promises.

Runs against a local directory, moto's S3 server on loopback, and a real MinIO when
``MINIO_ENDPOINT`` is set (see the ``store`` fixture).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from mnist_core.errors import StoreError
from mnist_core.runs import RunSummary
from mnist_core.store import ACTIVE_KEY, MANIFEST, RUN_FILES, STALE_AFTER_SECONDS, new_run_id
from mnist_core.store import spool as spool_module

RUN_KEYS = {"run_id", "created", "preset", "epochs", "test_accuracy", "test_loss", "train_seconds"}


def test_a_saved_run_is_listed_with_its_key_metrics(store, tiny_model, run_records):
    saved = store.save_run(tiny_model, **run_records)

    assert saved.spooled is False
    assert saved.location == store.run_location(saved.run_id)
    assert saved.run_id in saved.location
    assert saved.to_dict().keys() >= RUN_KEYS
    assert (saved.preset, saved.epochs, saved.test_accuracy, saved.train_seconds) == (
        "fast",
        2,
        0.9123,
        12.5,
    )
    [listed] = store.list_runs()
    assert listed.to_dict() == {key: saved.to_dict()[key] for key in listed.to_dict()}
    assert listed.to_dict().keys() >= RUN_KEYS


def test_get_run_returns_every_record_as_saved(store, tiny_model, run_records):
    run_id = store.save_run(tiny_model, **run_records).run_id
    run = store.get_run(run_id)

    assert run["params"] == run_records["params"]
    assert run["history"] == run_records["history"]
    assert run["timings"] == run_records["timings"]
    assert run["evaluation"]["confusion_matrix"] == (np.eye(10, dtype=int) * 100).tolist()
    assert run["evaluation"]["mistakes"] == [{"index": 7, "true": 3, "predicted": 5, "confidence": 0.98}]
    assert run["evaluation"]["test_accuracy"] == 0.9123
    assert set(run["manifest"]["files"]) == set(RUN_FILES)
    model_file = run["manifest"]["files"]["model.keras"]
    data = store.model_bytes(run_id)
    assert (len(data), hashlib.sha256(data).hexdigest()) == (model_file["size"], model_file["sha256"])


def test_the_loaded_model_predicts_like_the_saved_one(store, tiny_model, run_records):
    run_id = store.save_run(tiny_model, **run_records).run_id
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)

    loaded = store.load_run_model(run_id)

    assert isinstance(loaded, keras.Model)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), tiny_model.predict(images, verbose=0), rtol=1e-6)


def test_runs_are_listed_newest_first(store, tiny_model, run_records):
    first = store.save_run(tiny_model, **run_records).run_id
    chosen_id = new_run_id()
    second = store.save_run(tiny_model, **run_records, run_id=chosen_id).run_id

    assert second == chosen_id
    assert [run.run_id for run in store.list_runs()] == [second, first]


def test_a_run_id_cannot_be_saved_twice(store, tiny_model, run_records):
    run_id = store.save_run(tiny_model, **run_records).run_id
    with pytest.raises(StoreError, match="already exists"):
        store.save_run(tiny_model, **run_records, run_id=run_id)


def test_the_active_run_pointer(store, tiny_model, run_records):
    assert store.get_active() is None
    first = store.save_run(tiny_model, **run_records).run_id
    second = store.save_run(tiny_model, **run_records).run_id

    store.set_active(first)
    assert store.get_active() == first
    store.delete_run(second)
    assert store.get_active() == first
    store.delete_run(first)
    assert store.get_active() is None
    with pytest.raises(StoreError, match="no run"):
        store.set_active(second)


def test_a_crafted_active_pointer_is_ignored(store):
    store._write(ACTIVE_KEY, json.dumps({"run_id": "../../etc"}).encode())
    assert store.get_active() is None


def test_delete_removes_every_file(store, tiny_model, run_records):
    run_id = store.save_run(tiny_model, **run_records).run_id
    store.delete_run(run_id)

    assert store.list_runs() == []
    assert store._list("runs/") == []
    with pytest.raises(StoreError, match="no run"):
        store.get_run(run_id)
    with pytest.raises(StoreError, match="no run"):
        store.delete_run(run_id)


def test_arrays_round_trip(store):
    arrays = {
        "x_train": np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        "y_train": np.array([3, 7], dtype=np.uint8),
        "x_scaled": np.linspace(0, 1, 2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1),
    }
    location = store.save_arrays("splits", arrays)
    assert location.endswith("data/splits.npz")

    loaded = store.load_arrays("splits")
    assert loaded.keys() == arrays.keys()
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)

    store.save_arrays("splits", {"y_train": np.array([1])})
    assert list(store.load_arrays("splits")) == ["y_train"]
    with pytest.raises(StoreError, match="no arrays named 'reshaped'"):
        store.load_arrays("reshaped")


def test_a_run_without_manifest_is_invisible_then_cleaned(store, tiny_model, run_records, tmp_path, monkeypatch):
    complete = store.save_run(tiny_model, **run_records).run_id
    half = new_run_id()
    leftover = tmp_path / "leftover.json"
    leftover.write_text("{}")
    for name in RUN_FILES[1:3]:
        store._upload(f"runs/{half}/{name}", leftover)

    assert [run.run_id for run in store.list_runs()] == [complete]
    with pytest.raises(StoreError, match="no run"):
        store.get_run(half)
    with pytest.raises(StoreError, match="no run"):
        store.load_run_model(half)

    assert store.cleanup() == []  # too fresh: it may still be uploading
    later = time.time() + 2 * STALE_AFTER_SECONDS
    monkeypatch.setattr(spool_module, "time", SimpleNamespace(time=lambda: later))
    assert store.cleanup() == [half]
    assert store._list(f"runs/{half}/") == []
    assert [run.run_id for run in store.list_runs()] == [complete]


def test_a_damaged_model_is_detected(store, tiny_model, run_records):
    run_id = store.save_run(tiny_model, **run_records).run_id
    store._write(f"runs/{run_id}/model.keras", b"not a model")
    with pytest.raises(StoreError, match="does not match its checksum"):
        store.model_bytes(run_id)
    with pytest.raises(StoreError, match="does not match its checksum"):
        store.load_run_model(run_id)


CRAFTED_IDS = ["../x", "/etc/passwd", "..", "20261124T063012Z-3f9a1c2b/../../x", "20261124T063012Z-3f9a1c2b\n"]


@pytest.mark.parametrize("run_id", CRAFTED_IDS)
def test_crafted_run_ids_never_reach_the_store(store, tiny_model, run_records, run_id, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    calls = [
        lambda: store.save_run(tiny_model, **run_records, run_id=run_id),
        lambda: store.get_run(run_id),
        lambda: store.delete_run(run_id),
        lambda: store.set_active(run_id),
        lambda: store.model_bytes(run_id),
        lambda: store.load_run_model(run_id),
        lambda: store.run_location(run_id),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="invalid run id"):
            call()
    with pytest.raises(StoreError, match="invalid arrays name"):
        store.save_arrays(run_id, {"x": np.zeros(1)})
    assert sorted(tmp_path.rglob("*")) == before
    assert store._list("") == []


def test_runs_saved_at_the_same_time_are_all_kept(store, tiny_model, run_records):
    models = [tiny_model, *(keras.models.clone_model(tiny_model) for _ in range(2))]
    start_together = threading.Barrier(len(models))

    def save(model: keras.Model) -> RunSummary:
        start_together.wait()
        return store.save_run(model, **run_records)

    with ThreadPoolExecutor(len(models)) as pool:
        saved = list(pool.map(save, models))

    assert not any(summary.spooled for summary in saved)
    assert sorted(run.run_id for run in store.list_runs()) == sorted(summary.run_id for summary in saved)
    for summary in saved:
        files = store.get_run(summary.run_id)["manifest"]["files"]
        assert hashlib.sha256(store.model_bytes(summary.run_id)).hexdigest() == files["model.keras"]["sha256"]


def test_a_run_is_invisible_until_its_manifest_is_written(store, tiny_model, run_records, monkeypatch):
    seen = []  # (file just written, runs listed right after)

    def look(name: str) -> None:
        if name in (*RUN_FILES, MANIFEST):
            seen.append((name, [run.run_id for run in store.list_runs()]))

    if store.backend == "local":  # it copies into a hidden folder, then renames the folder into place
        copyfile = shutil.copyfile

        def watched_copy(source, target, **options):
            copyfile(source, target, **options)
            look(Path(target).name)

        monkeypatch.setattr(shutil, "copyfile", watched_copy)
    else:
        upload = store._upload

        def watched_upload(key: str, path: Path) -> None:
            upload(key, path)
            look(key.rsplit("/", 1)[-1])

        monkeypatch.setattr(store, "_upload", watched_upload)

    run_id = store.save_run(tiny_model, **run_records).run_id

    assert [name for name, _ in seen][-1] == MANIFEST
    assert sorted(name for name, _ in seen) == sorted([*RUN_FILES, MANIFEST])
    assert all(listed == [] for _, listed in seen[:-1])
    assert [run.run_id for run in store.list_runs()] == [run_id]


def test_describe_and_health(store):
    info = store.describe()
    assert info["backend"] == store.backend
    assert info["spooled_runs"] == 0
    health = store.health()
    assert health.ok, health.message
