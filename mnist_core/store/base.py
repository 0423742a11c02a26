"""The store interface: pipeline arrays and trained runs on top of a few object primitives.

A backend (:mod:`~mnist_core.store.local`, :mod:`~mnist_core.store.minio`) supplies the
primitives; the layout, the manifest and the all-or-nothing rules live here, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mnist_core.errors import StoreError, StoreUnavailableError
from mnist_core.runs import RunSummary
from mnist_core.store.manifest import (
    ACTIVE_KEY,
    MANIFEST,
    MODEL_FILE,
    RECORDS,
    RUN_FILES,
    RUN_ID_PATTERN,
    arrays_key,
    check_run_id,
    is_manifest,
    new_run_id,
    now,
    parse_json,
    prepare_run,
    run_key,
)
from mnist_core.store.settings import local_data_dir
from mnist_core.store.spool import Spool

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """Whether the store answers, with a sentence for the app sidebar."""

    ok: bool
    message: str


class Entry(NamedTuple):
    key: str
    modified: float  # seconds since the epoch


class Store(Spool, ABC):
    """Everything the CLI, the app and the pipeline store, on top of a few object primitives.

    A backend supplies the primitives (read, write, upload, fetch, list and delete objects by
    key); the layout, the manifest and the all-or-nothing rules live here, once.
    """

    backend: str

    def __init__(self, spool_dir: Path | None = None):
        self.spool_dir = Path(spool_dir) if spool_dir is not None else local_data_dir() / "spool"

    # ------------------------------------------------------------ primitives

    @abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object."""

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _upload(self, key: str, path: Path) -> None:
        """Store the file at ``path`` under ``key``."""

    @abstractmethod
    def _fetch(self, key: str, folder: Path) -> Path | None:
        """A local file holding the object (downloaded into ``folder`` if need be), or None."""

    @abstractmethod
    def _list(self, prefix: str) -> list[Entry]:
        """Every object whose key starts with ``prefix``."""

    @abstractmethod
    def _delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def _location(self, key: str) -> str:
        """Where ``key`` lives, for people: a URL or a path."""

    @abstractmethod
    def describe(self) -> dict:
        """Backend and where it stores, for the app sidebar and ``store info``; never a secret."""

    @abstractmethod
    def health(self) -> Health: ...

    def _write_run(self, run_id: str, folder: Path) -> None:
        """Store a prepared run folder, manifest last, so the run appears only when complete."""
        for name in (*RUN_FILES, MANIFEST):
            self._upload(run_key(run_id, name), folder / name)

    # ------------------------------------------------------------ pipeline arrays

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> str:
        """Store arrays handed between pipeline steps as ``data/<name>.npz``; returns where."""
        key = arrays_key(name)
        with tempfile.TemporaryDirectory(prefix="mnist-store-") as tmp:
            path = Path(tmp) / f"{name}.npz"
            np.savez_compressed(path, **arrays)  # MNIST is mostly zeros: 12x smaller for 1-2 s of CPU
            self._upload(key, path)
        return self._location(key)

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        """The arrays saved by :meth:`save_arrays` under ``name``."""
        key = arrays_key(name)
        with tempfile.TemporaryDirectory(prefix="mnist-store-") as tmp:
            path = self._fetch(key, Path(tmp))
            if path is None:
                raise StoreError(f"no arrays named {name!r} at {self._location(key)}")
            try:
                with np.load(path, allow_pickle=False) as npz:
                    return {array: npz[array] for array in npz.files}
            except (OSError, ValueError, EOFError) as exc:
                raise StoreError(f"{self._location(key)} is not a readable .npz file ({exc})") from None

    # ------------------------------------------------------------ runs

    def run_location(self, run_id: str) -> str:
        return self._location(run_key(run_id))

    def save_run(
        self,
        model: keras.Model,
        *,
        params: dict,
        history: dict,
        evaluation: dict,
        timings: dict,
        run_id: str | None = None,
    ) -> RunSummary:
        """Store a trained model and its records as one run; returns its summary.

        The summary has the key metrics plus ``run_id``, ``location``, ``spooled`` (True when the
        server was down and the run waits in the local spool) and a ``message`` for people.
        """
        run_id = new_run_id() if run_id is None else check_run_id(run_id)
        with tempfile.TemporaryDirectory(prefix="mnist-run-") as tmp:
            folder = Path(tmp)
            manifest = prepare_run(
                folder, run_id, model, params=params, history=history, evaluation=evaluation, timings=timings
            )
            return self._publish(run_id, folder, manifest)

    def _publish(self, run_id: str, folder: Path, manifest: dict) -> RunSummary:
        if self._manifest_or_none(run_id) is not None:
            raise StoreError(f"run {run_id} already exists at {self.run_location(run_id)}")
        self._write_run(run_id, folder)
        location = self.run_location(run_id)
        return replace(
            RunSummary.from_dict(manifest["summary"]),
            location=location,
            spooled=False,
            message=f"Saved run {run_id} to {location}.",
        )

    def list_runs(self) -> list[RunSummary]:
        """Summaries of the complete runs, newest first. Runs without a manifest are not shown."""
        summaries = []
        for entry in self._list("runs/"):
            parts = entry.key.split("/")
            if len(parts) != 3 or parts[2] != MANIFEST or not RUN_ID_PATTERN.fullmatch(parts[1]):
                continue
            try:
                manifest = self._manifest_or_none(parts[1])
            except StoreUnavailableError:
                raise
            except StoreError as exc:
                log.warning("skipping run %s: %s", parts[1], exc)
                continue
            if manifest is not None:
                summaries.append(RunSummary.from_dict(manifest["summary"]))
        return sorted(summaries, key=lambda summary: (summary.created, summary.run_id), reverse=True)

    def get_run(self, run_id: str) -> dict:
        """A run's manifest, summary and records (params, history, evaluation, timings)."""
        manifest = self._manifest(run_id)
        details = {
            "run_id": run_id,
            "location": self.run_location(run_id),
            "summary": RunSummary.from_dict(manifest["summary"]),
            "manifest": manifest,
        }
        for record in RECORDS:
            data = self._read(run_key(run_id, f"{record}.json"))
            if data is None:
                raise StoreError(f"run {run_id} is damaged: {record}.json is missing")
            details[record] = parse_json(data, f"{record}.json of run {run_id}")
        return details

    def delete_run(self, run_id: str) -> None:
        """Delete a run: its manifest first, so it disappears at once, then its files."""
        self._manifest(run_id)
        self._delete([run_key(run_id, MANIFEST)])
        self._delete([entry.key for entry in self._list(run_key(run_id))])
        if self._active_pointer() == run_id:
            self._delete([ACTIVE_KEY])

    def set_active(self, run_id: str) -> None:
        """Make ``run_id`` the run the app predicts with."""
        self._manifest(run_id)
        pointer = {"run_id": run_id, "activated": now()}
        self._write(ACTIVE_KEY, json.dumps(pointer, indent=2).encode())

    def get_active(self) -> str | None:
        """The active run's id; None if none was chosen or the chosen run is gone."""
        run_id = self._active_pointer()
        if run_id is None or self._manifest_or_none(run_id) is None:
            return None
        return run_id

    def _active_pointer(self) -> str | None:
        data = self._read(ACTIVE_KEY)
        if data is None:
            return None
        try:
            return check_run_id(parse_json(data, ACTIVE_KEY).get("run_id"))
        except (StoreError, AttributeError):
            log.warning("ignoring a damaged %s", ACTIVE_KEY)
            return None

    def save_run_folder(self, run_id: str, name: str, folder: Path) -> str:
        """Store every file under ``folder`` as ``runs/<id>/<name>/...`` of a saved run (a SavedModel export); returns
        where. The run's manifest does not list them: they are derived from its model."""
        self._manifest(run_id)
        for path in sorted(path for path in folder.rglob("*") if path.is_file()):
            self._upload(run_key(run_id, f"{name}/{path.relative_to(folder).as_posix()}"), path)
        return self._location(run_key(run_id, name))

    def model_bytes(self, run_id: str) -> bytes:
        """The run's ``model.keras`` file, checked against its manifest; for downloads."""
        expected = self._manifest(run_id)["files"][MODEL_FILE]["sha256"]
        data = self._read(run_key(run_id, MODEL_FILE))
        if data is None or hashlib.sha256(data).hexdigest() != expected:
            raise StoreError(f"the model of run {run_id} is missing or does not match its checksum")
        return data

    def load_run_model(self, run_id: str) -> keras.Model:
        """The run's trained model, ready to predict."""
        from mnist_core.models import load_model_file

        data = self.model_bytes(run_id)
        with tempfile.TemporaryDirectory(prefix="mnist-model-") as tmp:
            path = Path(tmp) / MODEL_FILE
            path.write_bytes(data)
            return load_model_file(path)

    def _manifest(self, run_id: str) -> dict:
        manifest = self._manifest_or_none(run_id)
        if manifest is None:
            raise StoreError(f"no run {run_id} at {self._location('runs/')}")
        return manifest

    def _manifest_or_none(self, run_id: str) -> dict | None:
        data = self._read(run_key(run_id, MANIFEST))
        if data is None:
            return None
        manifest = parse_json(data, f"manifest of run {run_id}")
        if not is_manifest(manifest, run_id):
            raise StoreError(f"the manifest of run {run_id} is damaged")
        return manifest
