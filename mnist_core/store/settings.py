"""Where the store is: MinIO settings from ``MINIO_*`` variables or ``.streamlit/secrets.toml``, else a directory."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mnist_core.errors import StoreError

STORE_DIR_ENV = "MNIST_STORE_DIR"
DEFAULT_BUCKET = "mnist"
BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


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

