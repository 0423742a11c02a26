"""The store's layout: run ids, object keys, and the manifest that makes a run exist.

A run exists once its manifest does. The manifest lists every file of the run with its size and
sha256, and carries the run's summary (:func:`mnist_core.runs.run_summary`), so listing runs
reads one small file per run.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_core.errors import StoreError
from mnist_core.runs import run_summary

if TYPE_CHECKING:
    import keras

MODEL_FILE = "model.keras"
RECORDS = ("params", "history", "evaluation", "timings")
RUN_FILES = (MODEL_FILE, *(f"{record}.json" for record in RECORDS))
MANIFEST = "manifest.json"
ACTIVE_KEY = "active.json"

RUN_ID_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
RUN_ID_EXAMPLE = "20261124T063012Z-3f9a1c2b"
ARRAYS_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def new_run_id() -> str:
    """A fresh run id: UTC time first so ids sort by age, then 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if well formed. Anything else could name a path outside the store."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise StoreError(f"invalid run id {str(run_id)[:40]!r} (expected one like {RUN_ID_EXAMPLE})")
    return run_id


def run_key(run_id: str, name: str = "") -> str:
    return f"runs/{check_run_id(run_id)}/{name}"


def arrays_key(name: str) -> str:
    if not isinstance(name, str) or not ARRAYS_NAME_PATTERN.fullmatch(name):
        raise StoreError(f"invalid arrays name {str(name)[:40]!r} (use lowercase letters, digits, - and _)")
    return f"data/{name}.npz"


def prepare_run(
    folder: Path, run_id: str, model: keras.Model, *, params: dict, history: dict, evaluation: dict, timings: dict
) -> dict:
    """Write a run's files and manifest into ``folder``; returns the manifest."""
    model.save(folder / MODEL_FILE)
    records = {"params": params, "history": history, "evaluation": evaluation, "timings": timings}
    for record, content in records.items():
        (folder / f"{record}.json").write_text(to_json(content), encoding="utf-8")
    created = now()
    files = {
        name: {"size": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)} for name in RUN_FILES
    }
    manifest = {
        "format": 1,
        "run_id": run_id,
        "created": created,
        "files": files,
        "summary": run_summary(run_id, created, params, evaluation, timings, files[MODEL_FILE]["size"]).to_dict(),
    }
    (folder / MANIFEST).write_text(to_json(manifest), encoding="utf-8")
    return manifest


def is_manifest(manifest: Any, run_id: str) -> bool:
    """Whether ``manifest`` belongs to ``run_id`` and gives a checksum for each of the run's files."""
    return (
        isinstance(manifest, dict)
        and manifest.get("run_id") == run_id
        and isinstance(manifest.get("summary"), dict)
        and isinstance(manifest.get("files"), dict)
        and manifest["files"].keys() == set(RUN_FILES)
        and all(isinstance(entry, dict) and "sha256" in entry for entry in manifest["files"].values())
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_json(content: object) -> str:
    return json.dumps(content, indent=2, default=json_default)


def json_default(value: object) -> object:
    """NumPy values become plain numbers and lists; anything else is a bug in the caller."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value.__class__.__name__} is not JSON serialisable")


def parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise StoreError(f"{what} is not valid JSON") from None
