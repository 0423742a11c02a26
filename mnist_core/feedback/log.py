"""The prediction log: every prediction kept, without slowing any of them down.

:meth:`PredictionLog.record` only puts the prediction on a queue (microseconds) and returns the id
the entry will have; a background thread encodes the images and writes the entry, spooling it when
the store is down. A drawing is recorded under one id from its first stroke to its last: each
stroke replaces the waiting entry, and the entry is written once the drawing has been left alone for
``settle_seconds``, so the log keeps each drawing in its final state, not every stroke. On start the
thread first uploads any entries spooled during an outage.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from mnist_core.errors import MnistError
from mnist_core.feedback.entries import PREDICTIONS, FeedbackStore, new_entry
from mnist_core.store import new_run_id

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class _Pending:
    due: float
    image: np.ndarray
    probabilities: tuple[float, ...]
    source: str
    model: str | None
    original: bytes | np.ndarray | None
    name: str | None


class PredictionLog:
    """A writer thread in front of :class:`FeedbackStore`; one per process is enough."""

    def __init__(self, feedback: FeedbackStore, settle_seconds: float = SETTLE_SECONDS):
        self.feedback = feedback
        self.settle_seconds = settle_seconds
        self._pending: dict[str, _Pending] = {}
        self._writing = 0
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(
        self,
        image: np.ndarray,
        probabilities,
        *,
        source: str,
        model: str | None = None,
        original: bytes | np.ndarray | None = None,
        name: str | None = None,
        entry_id: str | None = None,
        settle: bool = False,
    ) -> str:
        """Queue a prediction for the log; returns its entry id.

        Recording again with the same ``entry_id`` replaces the queued entry (a drawing that grew a
        stroke). With ``settle`` the write waits until the entry has not changed for ``settle_seconds``.
        """
        entry_id = entry_id or new_run_id()
        due = time.monotonic() + (self.settle_seconds if settle else 0.0)
        pending = _Pending(due, image, tuple(float(p) for p in probabilities), source, model, original, name)
        with self._condition:
            self._pending[entry_id] = pending
            self._condition.notify()
        return entry_id

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything queued now, settled or not; True once the queue is empty."""
        deadline = time.monotonic() + timeout
        with self._condition:
            for entry_id, pending in self._pending.items():
                self._pending[entry_id] = replace(pending, due=0.0)
            self._condition.notify()
            while self._pending or self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
        return True

    def _run(self) -> None:
        report = self.feedback.sync()  # entries kept locally during an outage go first, off the hot path too
        if report.uploaded or report.pending:
            log.info("%s", report.message)
        while True:
            with self._condition:
                while True:
                    now = time.monotonic()
                    due = [(pending.due, entry_id) for entry_id, pending in self._pending.items()]
                    if due and min(due)[0] <= now:
                        entry_id = min(due)[1]
                        pending = self._pending.pop(entry_id)
                        self._writing += 1
                        break
                    self._condition.wait(min(due)[0] - now if due else None)
            try:
                self._write(entry_id, pending)
            except MnistError as error:  # both the store and the spool failed: the prediction itself is fine
                log.warning("could not log prediction %s: %s", entry_id, error)
            except Exception:
                log.exception("could not log prediction %s", entry_id)
            finally:
                with self._condition:
                    self._writing -= 1
                    self._condition.notify_all()

    def _write(self, entry_id: str, pending: _Pending) -> None:
        entry = new_entry(
            PREDICTIONS,
            pending.image,
            source=pending.source,
            original=pending.original,
            model=pending.model,
            probabilities=pending.probabilities,
            name=pending.name,
            entry_id=entry_id,
        )
        self.feedback.save(entry)

