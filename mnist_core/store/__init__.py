"""Artifact storage: pipeline arrays and trained runs, on MinIO (S3) or in a local directory.

Both backends keep the same layout, so runs can move from a laptop to a server unchanged::

    data/<name>.npz                 arrays handed from one pipeline step to the next
    runs/<run_id>/model.keras       a trained model, with its records
                  params.json  history.json  evaluation.json  timings.json
                  manifest.json     sizes and sha256 of the files above, written last
    active.json                     the run the app predicts with

The package, one job per module: :mod:`.settings` (where the store is), :mod:`.manifest` (the
layout and the manifest that makes a run exist), :mod:`.base` (the :class:`Store` interface),
:mod:`.spool` (outage recovery), :mod:`.local` and :mod:`.minio` (the two backends).

:func:`get_store` picks the backend: MinIO when ``MINIO_ENDPOINT`` (or ``endpoint`` in the
``[minio]`` table of ``.streamlit/secrets.toml``) is set, else the directory ``MNIST_STORE_DIR``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mnist_core.errors import StoreUnavailableError
from mnist_core.store.base import Health, Store
from mnist_core.store.local import LocalStore
from mnist_core.store.manifest import (
    ACTIVE_KEY,
    ARRAYS_NAME_PATTERN,
    MANIFEST,
    MODEL_FILE,
    RECORDS,
    RUN_FILES,
    RUN_ID_EXAMPLE,
    RUN_ID_PATTERN,
    check_run_id,
    new_run_id,
)
from mnist_core.store.minio import MinioStore
from mnist_core.store.settings import (
    BUCKET_PATTERN,
    DEFAULT_BUCKET,
    STORE_DIR_ENV,
    MinioSettings,
    default_secrets_files,
    local_data_dir,
    minio_settings,
)
from mnist_core.store.spool import STALE_AFTER_SECONDS, SyncReport

__all__ = [
    "ACTIVE_KEY",
    "ARRAYS_NAME_PATTERN",
    "BUCKET_PATTERN",
    "DEFAULT_BUCKET",
    "MANIFEST",
    "MODEL_FILE",
    "RECORDS",
    "RUN_FILES",
    "RUN_ID_EXAMPLE",
    "RUN_ID_PATTERN",
    "STALE_AFTER_SECONDS",
    "STORE_DIR_ENV",
    "Health",
    "LocalStore",
    "MinioSettings",
    "MinioStore",
    "Store",
    "StoreUnavailableError",
    "SyncReport",
    "check_run_id",
    "default_secrets_files",
    "get_store",
    "local_data_dir",
    "minio_settings",
    "new_run_id",
]


def get_store(secrets_files: Sequence[Path] | None = None) -> Store:
    """The configured store: MinIO when an endpoint is set, else the local directory."""
    settings = minio_settings(secrets_files)
    return MinioStore(settings) if settings is not None else LocalStore()
