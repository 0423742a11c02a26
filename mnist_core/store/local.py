"""The embedded default store: the layout in a directory on this machine."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mnist_core.errors import StoreError
from mnist_core.store.base import Entry, Health, Store
from mnist_core.store.settings import local_data_dir
from mnist_core.store.spool import TEMP_PREFIX, remove_stale_temps, write_run_dir


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

    def _list(self, prefix: str) -> list[Entry]:
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        entries = []
        for path in base.rglob("*") if base.is_dir() else []:
            try:
                if path.is_file():
                    entries.append(Entry(path.relative_to(self.root).as_posix(), path.stat().st_mtime))
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
        write_run_dir(self.root / "runs", run_id, folder)

    def _location(self, key: str) -> str:
        return str(self.root / key)

    def _remove_stale_temps(self, cutoff: float) -> list[str]:
        """Also half-written files and folders left in the store itself by a killed process."""
        stale = super()._remove_stale_temps(cutoff)
        for folder in (self.root, self.root / "data", self.root / "runs"):
            stale += remove_stale_temps(folder, cutoff)
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
