"""Artifact storage: pipeline arrays and trained runs, on MinIO (S3) or in a local directory.

Both backends keep the same layout, so runs can move from a laptop to a server unchanged::

    data/<name>.npz                 arrays handed from one pipeline step to the next
    runs/<run_id>/model.keras       a trained model, with its records
                  params.json  history.json  evaluation.json  timings.json
                  manifest.json     sizes and sha256 of the files above, written last
    active.json                     the run the app predicts with

A run exists once its manifest does. The manifest is written after every other file, so a
reader never sees half a run. When MinIO cannot be reached, or refuses the credentials, a new
run is written to a local spool instead and :meth:`Store.sync` uploads it later: a trained
model is never lost to an outage.

:func:`get_store` picks the backend: MinIO when ``MINIO_ENDPOINT`` (or ``endpoint`` in the
``[minio]`` table of ``.streamlit/secrets.toml``) is set, else the directory ``MNIST_STORE_DIR``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

import certifi
import numpy as np
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from mnist_core.errors import StoreError

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)

STORE_DIR_ENV = "MNIST_STORE_DIR"
DEFAULT_BUCKET = "mnist"

MODEL_FILE = "model.keras"
RECORDS = ("params", "history", "evaluation", "timings")
RUN_FILES = (MODEL_FILE, *(f"{record}.json" for record in RECORDS))
MANIFEST = "manifest.json"
ACTIVE_KEY = "active.json"

RUN_ID_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
RUN_ID_EXAMPLE = "20261124T063012Z-3f9a1c2b"
ARRAYS_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

# Leftovers of an interrupted save older than this are removed by cleanup().
STALE_AFTER_SECONDS = 3600
# Local files and folders being written carry this prefix until they are renamed into place.
TEMP_PREFIX = ".tmp-"

# An unreachable server should fail in seconds: the minio default is 5 minutes and 5 retries.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 30.0
RETRIES = 2

CREDENTIAL_ERRORS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
}


class StoreUnavailableError(StoreError):
    """The server could not be reached, refused the credentials, or failed a request."""


@dataclass(frozen=True)
class Health:
    """Whether the store answers, with a sentence for the app sidebar."""

    ok: bool
    message: str


@dataclass
class SyncReport:
    """What :meth:`Store.sync` did: runs uploaded, runs still waiting, leftovers removed."""

    uploaded: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def message(self) -> str:
        parts = []
        if self.uploaded:
            parts.append(f"Uploaded {len(self.uploaded)} spooled run(s): {', '.join(self.uploaded)}.")
        if self.pending:
            parts.append(f"{len(self.pending)} run(s) still waiting in the spool: {self.error}")
        elif self.error:
            parts.append(self.error)
        if self.cleaned:
            parts.append(f"Removed {len(self.cleaned)} incomplete leftover(s).")
        return " ".join(parts) or "Nothing to sync."

    def to_dict(self) -> dict:
        return {**asdict(self), "message": self.message}


class _Entry(NamedTuple):
    key: str
    modified: float  # seconds since the epoch


# ---------------------------------------------------------------- names


def new_run_id() -> str:
    """A fresh run id: UTC time first so ids sort by age, then 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if well formed. Anything else could name a path outside the store."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise StoreError(f"invalid run id {str(run_id)[:40]!r} (expected one like {RUN_ID_EXAMPLE})")
    return run_id


def _run_key(run_id: str, name: str = "") -> str:
    return f"runs/{check_run_id(run_id)}/{name}"


def _arrays_key(name: str) -> str:
    if not isinstance(name, str) or not ARRAYS_NAME_PATTERN.fullmatch(name):
        raise StoreError(f"invalid arrays name {str(name)[:40]!r} (use lowercase letters, digits, - and _)")
    return f"data/{name}.npz"


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class MinioSettings:
    """Where the MinIO store is. The keys stay out of ``repr`` so they never reach a log."""

    endpoint: str  # host:port
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    bucket: str = DEFAULT_BUCKET
    secure: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"


def default_secrets_files() -> list[Path]:
    """Where Streamlit looks for secrets; the project's file overrides the user's."""
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]


def minio_settings(secrets_files: Sequence[Path] | None = None) -> MinioSettings | None:
    """MinIO settings from ``MINIO_*`` variables, else the ``[minio]`` secrets table; None if no endpoint."""
    table = _minio_secrets(default_secrets_files() if secrets_files is None else secrets_files)

    def setting(name: str) -> str:
        from_env = os.environ.get(f"MINIO_{name.upper()}", "").strip()
        return from_env or str(table.get(name, "")).strip()

    endpoint = setting("endpoint")
    if not endpoint:
        return None
    access_key, secret_key = setting("access_key"), setting("secret_key")
    if not (access_key and secret_key):
        raise StoreError("MINIO_ENDPOINT is set but MINIO_ACCESS_KEY or MINIO_SECRET_KEY is missing")
    host, secure = _parse_endpoint(endpoint)
    if setting("secure"):
        secure = _parse_bool(setting("secure"), "MINIO_SECURE")
    bucket = setting("bucket") or DEFAULT_BUCKET
    if not BUCKET_PATTERN.fullmatch(bucket):
        raise StoreError(f"invalid MINIO_BUCKET {bucket[:70]!r} (3-63 lowercase letters, digits, . and -)")
    return MinioSettings(host, access_key, secret_key, bucket, secure)


def _minio_secrets(files: Sequence[Path]) -> dict:
    table: dict = {}
    for path in files:
        if not path.is_file():
            continue
        try:
            parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # The decoder names a line and column, never the text, so no secret can leak here.
            raise StoreError(f"cannot read {path}: {exc}") from None
        minio_table = parsed.get("minio", {})
        if isinstance(minio_table, dict):
            table.update(minio_table)
    return table


def _parse_endpoint(value: str) -> tuple[str, bool]:
    """``host:port`` or ``http(s)://host:port`` to ``(host:port, secure)``."""
    if "@" in value:
        raise StoreError("MINIO_ENDPOINT must not contain credentials; use MINIO_ACCESS_KEY and MINIO_SECRET_KEY")
    if "://" not in value:
        value = f"http://{value}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise StoreError(f"MINIO_ENDPOINT must be host:port or http(s)://host:port, got {value[:80]!r}")
    return parts.netloc, parts.scheme == "https"


def _parse_bool(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise StoreError(f"{name} must be true or false, got {value[:20]!r}")


def local_data_dir() -> Path:
    """``$MNIST_STORE_DIR``, else ``$XDG_DATA_HOME/mnist-studio`` (``~/.local/share/mnist-studio``)."""
    chosen = os.environ.get(STORE_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "mnist-studio"


def get_store(secrets_files: Sequence[Path] | None = None) -> Store:
    """The configured store: MinIO when an endpoint is set, else the local directory."""
    settings = minio_settings(secrets_files)
    return MinioStore(settings) if settings is not None else LocalStore()


# ---------------------------------------------------------------- the store interface


class Store(ABC):
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
    def _list(self, prefix: str) -> list[_Entry]:
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
            self._upload(_run_key(run_id, name), folder / name)

    # ------------------------------------------------------------ pipeline arrays

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> str:
        """Store arrays handed between pipeline steps as ``data/<name>.npz``; returns where."""
        key = _arrays_key(name)
        with tempfile.TemporaryDirectory(prefix="mnist-store-") as tmp:
            path = Path(tmp) / f"{name}.npz"
            np.savez_compressed(path, **arrays)  # MNIST is mostly zeros: 12x smaller for 1-2 s of CPU
            self._upload(key, path)
        return self._location(key)

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        """The arrays saved by :meth:`save_arrays` under ``name``."""
        key = _arrays_key(name)
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
        return self._location(_run_key(run_id))

    def save_run(
        self,
        model: keras.Model,
        *,
        params: dict,
        history: dict,
        evaluation: dict,
        timings: dict,
        run_id: str | None = None,
    ) -> dict:
        """Store a trained model and its records as one run; returns its summary.

        The summary has the key metrics plus ``run_id``, ``location``, ``spooled`` (True when the
        server was down and the run waits in the local spool) and a ``message`` for people.
        """
        run_id = new_run_id() if run_id is None else check_run_id(run_id)
        with tempfile.TemporaryDirectory(prefix="mnist-run-") as tmp:
            folder = Path(tmp)
            manifest = _prepare_run(
                folder, run_id, model, params=params, history=history, evaluation=evaluation, timings=timings
            )
            return self._publish(run_id, folder, manifest)

    def _publish(self, run_id: str, folder: Path, manifest: dict) -> dict:
        if self._manifest_or_none(run_id) is not None:
            raise StoreError(f"run {run_id} already exists at {self.run_location(run_id)}")
        self._write_run(run_id, folder)
        location = self.run_location(run_id)
        return {
            **manifest["summary"],
            "location": location,
            "spooled": False,
            "message": f"Saved run {run_id} to {location}.",
        }

    def list_runs(self) -> list[dict]:
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
                summaries.append(manifest["summary"])
        return sorted(summaries, key=lambda summary: (summary["created"], summary["run_id"]), reverse=True)

    def get_run(self, run_id: str) -> dict:
        """A run's manifest, summary and records (params, history, evaluation, timings)."""
        manifest = self._manifest(run_id)
        details = {
            "run_id": run_id,
            "location": self.run_location(run_id),
            "summary": manifest["summary"],
            "manifest": manifest,
        }
        for record in RECORDS:
            data = self._read(_run_key(run_id, f"{record}.json"))
            if data is None:
                raise StoreError(f"run {run_id} is damaged: {record}.json is missing")
            details[record] = _parse_json(data, f"{record}.json of run {run_id}")
        return details

    def delete_run(self, run_id: str) -> None:
        """Delete a run: its manifest first, so it disappears at once, then its files."""
        self._manifest(run_id)
        self._delete([_run_key(run_id, MANIFEST)])
        self._delete([entry.key for entry in self._list(_run_key(run_id))])
        if self._active_pointer() == run_id:
            self._delete([ACTIVE_KEY])

    def set_active(self, run_id: str) -> None:
        """Make ``run_id`` the run the app predicts with."""
        self._manifest(run_id)
        pointer = {"run_id": run_id, "activated": _now()}
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
            return check_run_id(_parse_json(data, ACTIVE_KEY).get("run_id"))
        except (StoreError, AttributeError):
            log.warning("ignoring a damaged %s", ACTIVE_KEY)
            return None

    def model_bytes(self, run_id: str) -> bytes:
        """The run's ``model.keras`` file, checked against its manifest; for downloads."""
        expected = self._manifest(run_id)["files"][MODEL_FILE]["sha256"]
        data = self._read(_run_key(run_id, MODEL_FILE))
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
        data = self._read(_run_key(run_id, MANIFEST))
        if data is None:
            return None
        manifest = _parse_json(data, f"manifest of run {run_id}")
        if not _is_manifest(manifest, run_id):
            raise StoreError(f"the manifest of run {run_id} is damaged")
        return manifest

    # ------------------------------------------------------------ outage recovery

    def cleanup(self, older_than_seconds: float = STALE_AFTER_SECONDS) -> list[str]:
        """Remove runs left without a manifest by an interrupted save, once they are this old."""
        newest: dict[str, float] = {}
        complete = set()
        for entry in self._list("runs/"):
            parts = entry.key.split("/")
            if len(parts) != 3 or not RUN_ID_PATTERN.fullmatch(parts[1]):
                continue
            if parts[2] == MANIFEST:
                complete.add(parts[1])
            newest[parts[1]] = max(newest.get(parts[1], 0.0), entry.modified)
        cutoff = time.time() - older_than_seconds
        stale = sorted(run_id for run_id, modified in newest.items() if run_id not in complete and modified < cutoff)
        for run_id in stale:
            self._delete([entry.key for entry in self._list(_run_key(run_id))])
        return stale + _remove_stale_temps(self.spool_dir, cutoff)

    def spooled_runs(self) -> list[str]:
        """Runs saved in the local spool during an outage, waiting for :meth:`sync`."""
        if not self.spool_dir.is_dir():
            return []
        return sorted(
            path.name
            for path in self.spool_dir.iterdir()
            if RUN_ID_PATTERN.fullmatch(path.name) and (path / MANIFEST).is_file()
        )

    def sync(self) -> SyncReport:
        """Upload spooled runs, check them against their checksums, then drop the local copies.

        Never raises for an unreachable server: the runs stay spooled and the report says why.
        """
        report = SyncReport()
        waiting = self.spooled_runs()
        for position, run_id in enumerate(waiting):
            folder = self.spool_dir / run_id
            try:
                self._sync_one(run_id, folder)
            except StoreUnavailableError as exc:
                report.pending += waiting[position:]
                report.error = str(exc)
                return report
            except StoreError as exc:
                report.pending.append(run_id)
                report.error = str(exc)
                continue
            except FileNotFoundError:
                if folder.exists():
                    raise
                continue  # another sync took this run first
            shutil.rmtree(folder, ignore_errors=True)
            report.uploaded.append(run_id)
        try:
            report.cleaned = self.cleanup()
        except StoreUnavailableError as exc:
            report.error = str(exc)
        return report

    def _sync_one(self, run_id: str, folder: Path) -> None:
        manifest_bytes = (folder / MANIFEST).read_bytes()
        manifest = _parse_json(manifest_bytes, f"spooled manifest of run {run_id}")
        if not _is_manifest(manifest, run_id):
            raise StoreError(f"spooled run {run_id} is damaged: its manifest is not valid")
        for name in RUN_FILES:
            if _sha256_file(folder / name) != manifest["files"][name]["sha256"]:
                raise StoreError(f"spooled run {run_id} is damaged: {name} does not match its checksum")
        stored = self._manifest_or_none(run_id)
        if stored is None:
            self._write_run(run_id, folder)
        elif stored != manifest:
            raise StoreError(f"run {run_id} already exists at {self.run_location(run_id)} with other files")
        for name in RUN_FILES:
            data = self._read(_run_key(run_id, name))
            if data is None or hashlib.sha256(data).hexdigest() != manifest["files"][name]["sha256"]:
                raise StoreError(f"uploaded run {run_id} does not match its checksums: {name}")
        if self._read(_run_key(run_id, MANIFEST)) != manifest_bytes:
            raise StoreError(f"uploaded run {run_id} does not match its checksums: {MANIFEST}")


# ---------------------------------------------------------------- local directory


class LocalStore(Store):
    """The embedded default: the same layout in a directory on this machine."""

    backend = "local"

    def __init__(self, root: Path | None = None, spool_dir: Path | None = None):
        self.root = Path(root) if root is not None else local_data_dir()
        super().__init__(spool_dir if spool_dir is not None else self.root / "spool")

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise StoreError(f"invalid store key {key[:80]!r}")
        return self.root.joinpath(*parts)

    def _read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def _write(self, key: str, data: bytes) -> None:
        with self._replacing(self._path(key)) as temp:
            temp.write_bytes(data)

    def _upload(self, key: str, path: Path) -> None:
        with self._replacing(self._path(key)) as temp:
            shutil.copyfile(path, temp)

    @contextmanager
    def _replacing(self, path: Path) -> Iterator[Path]:
        """A temporary file next to ``path`` that replaces it in one step once written."""
        temp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            yield temp
            os.replace(temp, path)
        except OSError as exc:
            raise StoreError(f"cannot write {path} ({exc.strerror or exc})") from None
        finally:
            temp.unlink(missing_ok=True)

    def _fetch(self, key: str, folder: Path) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def _list(self, prefix: str) -> list[_Entry]:
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        entries = []
        for path in base.rglob("*") if base.is_dir() else []:
            try:
                if path.is_file():
                    entries.append(_Entry(path.relative_to(self.root).as_posix(), path.stat().st_mtime))
            except FileNotFoundError:
                continue  # deleted while we looked
        return entries

    def _delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            if path.parent.parent == self.root / "runs":
                with suppress(OSError):
                    path.parent.rmdir()  # the run's folder, once empty

    def _write_run(self, run_id: str, folder: Path) -> None:
        _write_run_dir(self.root / "runs", run_id, folder)

    def _location(self, key: str) -> str:
        return str(self.root / key)

    def cleanup(self, older_than_seconds: float = STALE_AFTER_SECONDS) -> list[str]:
        """Also removes half-written temporary files and folders left by a killed process."""
        stale = super().cleanup(older_than_seconds)
        cutoff = time.time() - older_than_seconds
        for folder in (self.root, self.root / "data", self.root / "runs"):
            stale += _remove_stale_temps(folder, cutoff)
        return stale

    def describe(self) -> dict:
        return {"backend": self.backend, "directory": str(self.root), "spooled_runs": len(self.spooled_runs())}

    def health(self) -> Health:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f"{TEMP_PREFIX}{secrets.token_hex(4)}-health"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return Health(False, f"Cannot write to the local store {self.root} ({exc.strerror or exc}).")
        return Health(True, f"Local store at {self.root}.")


# ---------------------------------------------------------------- MinIO / S3


class MinioStore(Store):
    """The same layout in a bucket on MinIO or any S3-compatible server."""

    backend = "minio"

    def __init__(self, settings: MinioSettings, spool_dir: Path | None = None):
        super().__init__(spool_dir)
        self.settings = settings
        try:
            self._client = Minio(
                settings.endpoint,
                access_key=settings.access_key,
                secret_key=settings.secret_key,
                secure=settings.secure,
                http_client=_http_client(),
            )
        except ValueError as exc:
            raise StoreError(f"invalid MINIO_ENDPOINT {settings.endpoint[:80]!r} ({exc})") from None
        self._bucket_ready = False

    def __repr__(self) -> str:
        return f"MinioStore(endpoint={self.settings.url!r}, bucket={self.settings.bucket!r})"

    @contextmanager
    def _talking(self, action: str) -> Iterator[None]:
        """Turn the many exceptions of the minio client and urllib3 into one short message."""
        where = f"MinIO at {self.settings.url}"
        try:
            yield
        except S3Error as exc:
            if exc.code in CREDENTIAL_ERRORS:
                raise StoreUnavailableError(
                    f"{where} refused the credentials ({exc.code}); check MINIO_ACCESS_KEY and MINIO_SECRET_KEY."
                ) from None
            raise StoreUnavailableError(f"{where} could not {action} ({exc.code}).") from None
        except (MinioException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            raise StoreUnavailableError(f"{where} is unreachable ({_network_reason(exc)}).") from None

    def _create_bucket(self) -> None:
        bucket = self.settings.bucket
        if not self._client.bucket_exists(bucket):
            try:
                self._client.make_bucket(bucket)
            except S3Error as exc:  # another writer created it a moment ago
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_ready = True

    def _put(self, key: str, upload: Callable[[], object]) -> None:
        """Upload, creating the bucket when it is missing: on first use, or when the server lost it."""
        with self._talking(f"write {key}"):
            if not self._bucket_ready:
                self._create_bucket()
            try:
                upload()
            except S3Error as exc:
                if exc.code != "NoSuchBucket":
                    raise
                self._create_bucket()
                upload()

    def _read(self, key: str) -> bytes | None:
        with self._talking(f"read {key}"):
            try:
                response = self._client.get_object(self.settings.bucket, key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchBucket"):
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def _write(self, key: str, data: bytes) -> None:
        self._put(key, lambda: self._client.put_object(self.settings.bucket, key, io.BytesIO(data), len(data)))

    def _upload(self, key: str, path: Path) -> None:
        self._put(key, lambda: self._client.fput_object(self.settings.bucket, key, str(path)))

    def _fetch(self, key: str, folder: Path) -> Path | None:
        path = folder / key.rsplit("/", 1)[-1]
        with self._talking(f"read {key}"):
            try:
                self._client.fget_object(self.settings.bucket, key, str(path))
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchBucket"):
                    return None
                raise
        return path

    def _list(self, prefix: str) -> list[_Entry]:
        with self._talking(f"list {prefix}"):
            try:
                return [
                    _Entry(item.object_name, item.last_modified.timestamp() if item.last_modified else 0.0)
                    for item in self._client.list_objects(self.settings.bucket, prefix=prefix, recursive=True)
                ]
            except S3Error as exc:
                if exc.code == "NoSuchBucket":
                    return []
                raise

    def _delete(self, keys: list[str]) -> None:
        with self._talking("delete objects"):
            for key in keys:
                self._client.remove_object(self.settings.bucket, key)

    def _location(self, key: str) -> str:
        return f"s3://{self.settings.bucket}/{key}"

    def _publish(self, run_id: str, folder: Path, manifest: dict) -> dict:
        """Store the run; if the server is down, keep it in the local spool for :meth:`sync`."""
        try:
            return super()._publish(run_id, folder, manifest)
        except StoreUnavailableError as exc:
            try:
                path = _write_run_dir(self.spool_dir, run_id, folder)
            except StoreError as spool_exc:
                raise StoreError(f"{exc} Keeping the run locally failed too: {spool_exc}") from None
            log.warning("run %s spooled to %s: %s", run_id, path, exc)
            return {
                **manifest["summary"],
                "location": str(path),
                "spooled": True,
                "message": (
                    f"{exc} The run was saved locally in {path} and will be uploaded "
                    "by the next sync (`python -m mnist_core store sync`, or restarting the app)."
                ),
            }

    def describe(self) -> dict:
        return {
            "backend": self.backend,
            "endpoint": self.settings.url,
            "bucket": self.settings.bucket,
            "spooled_runs": len(self.spooled_runs()),
        }

    def health(self) -> Health:
        bucket = self.settings.bucket
        try:
            with self._talking(f"check the bucket {bucket}"):
                exists = self._client.bucket_exists(bucket)
        except StoreUnavailableError as exc:
            return Health(False, str(exc))
        missing = "" if exists else " (created on the first save)"
        return Health(True, f"Connected to MinIO at {self.settings.url}, bucket {bucket}{missing}.")


def _http_client() -> urllib3.PoolManager:
    """Short timeouts and few retries, so a dead endpoint fails in seconds rather than minutes."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        retries=urllib3.Retry(total=RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


def _network_reason(exc: BaseException) -> str:
    """A few words on why a request failed; urllib3's own messages run to several lines."""
    reason = getattr(exc, "reason", None) or exc  # MaxRetryError wraps the real cause
    errors = urllib3.exceptions
    if isinstance(reason, errors.NameResolutionError):
        return "unknown host"
    if isinstance(reason, errors.SSLError):
        return "TLS failed; check MINIO_SECURE"
    if isinstance(reason, errors.NewConnectionError):
        return "connection refused"
    if isinstance(reason, (errors.TimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(reason, MinioException):
        return "the answer was not S3; check MINIO_ENDPOINT and MINIO_SECURE"
    if isinstance(reason, (errors.ProtocolError, ConnectionError)):
        return "connection lost"
    return reason.__class__.__name__


# ---------------------------------------------------------------- run folders


def _prepare_run(
    folder: Path, run_id: str, model: keras.Model, *, params: dict, history: dict, evaluation: dict, timings: dict
) -> dict:
    """Write a run's files and manifest into ``folder``; returns the manifest."""
    model.save(folder / MODEL_FILE)
    records = {"params": params, "history": history, "evaluation": evaluation, "timings": timings}
    for record, content in records.items():
        (folder / f"{record}.json").write_text(_to_json(content), encoding="utf-8")
    created = _now()
    files = {
        name: {"size": (folder / name).stat().st_size, "sha256": _sha256_file(folder / name)} for name in RUN_FILES
    }
    manifest = {
        "format": 1,
        "run_id": run_id,
        "created": created,
        "files": files,
        "summary": {
            "run_id": run_id,
            "created": created,
            "preset": params.get("preset"),
            "epochs": params.get("epochs"),
            "batch_size": params.get("batch_size"),
            "learning_rate": params.get("learning_rate"),
            "seed": params.get("seed"),
            "test_accuracy": evaluation.get("test_accuracy"),
            "test_loss": evaluation.get("test_loss"),
            "train_seconds": timings.get("train_seconds"),
            "model_bytes": files[MODEL_FILE]["size"],
        },
    }
    (folder / MANIFEST).write_text(_to_json(manifest), encoding="utf-8")
    return manifest


def _is_manifest(manifest: Any, run_id: str) -> bool:
    """Whether ``manifest`` belongs to ``run_id`` and gives a checksum for each of the run's files."""
    return (
        isinstance(manifest, dict)
        and manifest.get("run_id") == run_id
        and isinstance(manifest.get("summary"), dict)
        and isinstance(manifest.get("files"), dict)
        and manifest["files"].keys() == set(RUN_FILES)
        and all(isinstance(entry, dict) and "sha256" in entry for entry in manifest["files"].values())
    )


def _write_run_dir(parent: Path, run_id: str, folder: Path) -> Path:
    """Copy a prepared run to ``parent/<run_id>`` so that it appears whole or not at all."""
    target = parent / check_run_id(run_id)
    if target.exists():
        raise StoreError(f"run {run_id} already exists at {target}")
    staging = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{run_id}-", dir=parent))
        for name in (*RUN_FILES, MANIFEST):
            shutil.copyfile(folder / name, staging / name)
        staging.rename(target)
    except OSError as exc:
        raise StoreError(f"cannot write {target} ({exc.strerror or exc})") from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove_stale_temps(folder: Path, cutoff: float) -> list[str]:
    """Remove temporary files and folders in ``folder`` last touched before ``cutoff``."""
    removed = []
    for path in folder.glob(f"{TEMP_PREFIX}*") if folder.is_dir() else []:
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path.name)
    return removed


# ---------------------------------------------------------------- small helpers


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _to_json(content: object) -> str:
    return json.dumps(content, indent=2, default=_json_default)


def _json_default(value: object) -> object:
    """NumPy values become plain numbers and lists; anything else is a bug in the caller."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value.__class__.__name__} is not JSON serialisable")


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise StoreError(f"{what} is not valid JSON") from None
