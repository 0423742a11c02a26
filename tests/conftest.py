"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def mnist_splits():
    """The real MNIST data, split as every stage splits it (``$MNIST_NPZ`` in CI)."""
    from mnist_core.data import get_data_batch

    splits, _report = get_data_batch()
    return splits


# ---------------------------------------------------------------- store

# The store contract runs against the local directory, moto's S3 server, and a real MinIO when
# MINIO_ENDPOINT is set (without it that parameter is not generated at all).
STORE_BACKENDS = ["local", "moto", *(["minio"] if os.environ.get("MINIO_ENDPOINT") else [])]
MINIO_VARIABLES = ("MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET", "MINIO_SECURE")


@pytest.fixture
def store_env(monkeypatch, tmp_path):
    """No MinIO settings, no secrets file, and ``MNIST_STORE_DIR`` in tmp_path; returns that directory."""
    for name in (*MINIO_VARIABLES, "XDG_DATA_HOME"):
        # Set, then delete: monkeypatch then remembers the variable and removes it again afterwards even if
        # the code under test sets it (pipeline_steps.open_store does), so it cannot leak into later tests.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNIST_STORE_DIR", str(tmp_path / "store"))
    return tmp_path / "store"


@pytest.fixture(scope="session")
def moto_endpoint():
    """``host:port`` of an S3 server on loopback: moto, in a thread of this process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def make_minio_store(tmp_path, moto_endpoint):
    """Builds MinioStores on a fresh bucket of the moto server (or of ``endpoint``), spooling in tmp_path."""
    import secrets

    from mnist_core.store import MinioSettings, MinioStore

    def make(endpoint=moto_endpoint, *, secret_key="test-secret-key", bucket=None, spool_dir=None):
        settings = MinioSettings(endpoint, "test-access-key", secret_key, bucket or f"test-{secrets.token_hex(6)}")
        return MinioStore(settings, spool_dir=spool_dir or tmp_path / "spool")

    return make


@pytest.fixture(params=STORE_BACKENDS)
def store(request, tmp_path):
    """An empty store of each backend in turn."""
    import dataclasses
    import secrets

    from mnist_core.store import LocalStore, MinioStore, minio_settings

    if request.param == "local":
        yield LocalStore(tmp_path / "store")
    elif request.param == "moto":
        yield request.getfixturevalue("make_minio_store")()
    else:
        settings = dataclasses.replace(minio_settings(secrets_files=[]), bucket=f"mnist-test-{secrets.token_hex(6)}")
        real = MinioStore(settings, spool_dir=tmp_path / "spool")
        yield real
        client, bucket = real._client, settings.bucket
        if client.bucket_exists(bucket):
            for item in client.list_objects(bucket, recursive=True):
                client.remove_object(bucket, item.object_name)
            client.remove_bucket(bucket)


@pytest.fixture(scope="session")
def tiny_model():
    """A model small enough to save and load in milliseconds."""
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])


@pytest.fixture
def run_records():
    """The keyword arguments a training run passes to ``save_run``, with NumPy values as real runs have."""
    import numpy as np

    return {
        "params": {"preset": "fast", "epochs": 2, "batch_size": 128, "learning_rate": 0.001, "seed": 42},
        "history": {"loss": [0.52, 0.31], "accuracy": [0.85, 0.91], "val_accuracy": [0.88, 0.92]},
        "evaluation": {
            "test_accuracy": np.float64(0.9123),
            "test_loss": 0.3101,
            "per_class": [{"digit": digit, "f1": 0.9, "support": 100} for digit in range(10)],
            "confusion_matrix": np.eye(10, dtype=np.int64) * 100,
            "mistakes": [{"index": np.int64(7), "true": 3, "predicted": 5, "confidence": 0.98}],
        },
        "timings": {"train_seconds": 12.5},
    }
