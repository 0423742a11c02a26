"""Outage recovery: runs kept in a local spool while the server is down, and their later upload.

When MinIO cannot be reached, or refuses the credentials, a new run is written to a local spool
instead and :meth:`Spool.sync` uploads it later: a trained model is never lost to an outage.
The same all-or-nothing folder writes serve the spool and :class:`~mnist_core.store.local.LocalStore`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mnist_core.errors import StoreError, StoreUnavailableError
from mnist_core.store.manifest import (
    MANIFEST,
    RUN_FILES,
    RUN_ID_PATTERN,
    check_run_id,
    is_manifest,
    parse_json,
    run_key,
    sha256_file,
)

# Leftovers of an interrupted save older than this are removed by cleanup().
STALE_AFTER_SECONDS = 3600
# Local files and folders being written carry this prefix until they are renamed into place.
TEMP_PREFIX = ".tmp-"


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


class Spool:
    """The outage-recovery half of :class:`~mnist_core.store.base.Store`, built on its primitives."""

    spool_dir: Path

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
            self._delete([entry.key for entry in self._list(run_key(run_id))])
        return stale + self._remove_stale_temps(cutoff)

    def _remove_stale_temps(self, cutoff: float) -> list[str]:
        """Half-written temporary copies last touched before ``cutoff``; local backends add their folders."""
        return remove_stale_temps(self.spool_dir, cutoff)

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
        manifest = parse_json(manifest_bytes, f"spooled manifest of run {run_id}")
        if not is_manifest(manifest, run_id):
            raise StoreError(f"spooled run {run_id} is damaged: its manifest is not valid")
        for name in RUN_FILES:
            if sha256_file(folder / name) != manifest["files"][name]["sha256"]:
                raise StoreError(f"spooled run {run_id} is damaged: {name} does not match its checksum")
        stored = self._manifest_or_none(run_id)
        if stored is None:
            self._write_run(run_id, folder)
        elif stored != manifest:
            raise StoreError(f"run {run_id} already exists at {self.run_location(run_id)} with other files")
        for name in RUN_FILES:
            data = self._read(run_key(run_id, name))
            if data is None or hashlib.sha256(data).hexdigest() != manifest["files"][name]["sha256"]:
                raise StoreError(f"uploaded run {run_id} does not match its checksums: {name}")
        if self._read(run_key(run_id, MANIFEST)) != manifest_bytes:
            raise StoreError(f"uploaded run {run_id} does not match its checksums: {MANIFEST}")


def write_run_dir(parent: Path, run_id: str, folder: Path) -> Path:
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


def remove_stale_temps(folder: Path, cutoff: float) -> list[str]:
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
