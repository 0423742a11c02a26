"""The store on MinIO or any S3-compatible server, with short timeouts and one-line errors."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from mnist_core.errors import StoreError, StoreUnavailableError
from mnist_core.runs import RunSummary
from mnist_core.store.base import Entry, Health, Store
from mnist_core.store.settings import MinioSettings
from mnist_core.store.spool import write_run_dir

log = logging.getLogger(__name__)


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

    def _list(self, prefix: str) -> list[Entry]:
        with self._talking(f"list {prefix}"):
            try:
                return [
                    Entry(item.object_name, item.last_modified.timestamp() if item.last_modified else 0.0)
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

    def _publish(self, run_id: str, folder: Path, manifest: dict) -> RunSummary:
        """Store the run; if the server is down, keep it in the local spool for :meth:`sync`."""
        try:
            return super()._publish(run_id, folder, manifest)
        except StoreUnavailableError as exc:
            try:
                path = write_run_dir(self.spool_dir, run_id, folder)
            except StoreError as spool_exc:
                raise StoreError(f"{exc} Keeping the run locally failed too: {spool_exc}") from None
            log.warning("run %s spooled to %s: %s", run_id, path, exc)
            return replace(
                RunSummary.from_dict(manifest["summary"]),
                location=str(path),
                spooled=True,
                message=(
                    f"{exc} The run was saved locally in {path} and will be uploaded "
                    "by the next sync (`python -m mnist_core store sync`, or restarting the app)."
                ),
            )

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
