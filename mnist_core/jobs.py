"""Background training for the app: one run at a time per server, owned by the server, not a browser tab.

The app keeps a single :class:`TrainingJobs` for the life of the server process. :meth:`~TrainingJobs.start`
runs :func:`mnist_core.runs.train_evaluate_save` in a thread; its progress events are folded into an
immutable :class:`JobState` that is swapped in under a lock, so any page, in any tab, reads a consistent
picture with :meth:`~TrainingJobs.latest`. Closing or reloading a tab changes nothing: the thread keeps
going, saves the run, and the finished state waits for whoever looks next. Cancelling sets a flag that
training checks after every batch.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from mnist_core.errors import MnistError

if TYPE_CHECKING:
    from mnist_core.config import Preset
    from mnist_core.data import MnistSplits
    from mnist_core.feedback.training import FeedbackPlan
    from mnist_core.runs import RunSummary
    from mnist_core.store import Store
    from mnist_core.train import TrainEvent

log = logging.getLogger(__name__)

Status = Literal["running", "cancelling", "finished", "cancelled", "failed"]
ACTIVE: tuple[Status, ...] = ("running", "cancelling")


class TrainingBusyError(MnistError):
    """A run is already training on this server; there is one CPU budget, so runs take turns."""


@dataclass(frozen=True)
class TrainPoint:
    """Training loss and accuracy so far in an epoch, at ``epoch`` (fractional: 1.5 is half-way through epoch 2)."""

    epoch: float
    loss: float
    accuracy: float


@dataclass(frozen=True)
class JobState:
    """Everything the Train page shows about a run, as one immutable snapshot."""

    job_id: str
    preset: Preset
    status: Status = "running"
    stage: str = "Loading the data and building the model"
    progress: TrainEvent | None = None  # the latest event
    train_curve: tuple[TrainPoint, ...] = ()
    epochs: tuple[TrainEvent, ...] = ()  # one per finished epoch, with the validation metrics
    summary: RunSummary | None = None  # RunOutcome.summary, once finished or cancelled
    message: str = ""  # for people: where the run was saved, or what went wrong

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fraction_done(self) -> float:
        return self.progress.fraction_done if self.progress is not None else 0.0


class TrainingJobs:
    """The server's training slot, shared by every browser session."""

    def __init__(self, on_finish: Callable[[JobState], None] | None = None) -> None:
        """``on_finish`` is called from the training thread with the final state, e.g. to refresh caches."""
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._state: JobState | None = None
        self._cancel = threading.Event()

    def latest(self) -> JobState | None:
        """The running job, else the last one to finish (so a reloaded page still sees its result)."""
        return self._state

    def start(
        self,
        preset: Preset,
        splits: MnistSplits | None = None,
        store: Store | None = None,
        feedback: FeedbackPlan | None = None,
    ) -> JobState:
        """Start training ``preset`` in the background; raises :class:`TrainingBusyError` if a run is active.

        With ``feedback`` the run also learns from those labelled examples.
        """
        with self._lock:
            if self._state is not None and self._state.active:
                raise TrainingBusyError(
                    f"A {self._state.preset.name} run is already training on this server. "
                    "Wait for it to finish or cancel it, then start yours."
                )
            self._cancel = threading.Event()
            self._state = JobState(job_id=secrets.token_hex(4), preset=preset)
            thread = threading.Thread(
                target=self._work,
                args=(preset, splits, store, feedback, self._cancel),
                name=f"training-{self._state.job_id}",
                daemon=True,  # a server shutting down does not wait for a half-trained model
            )
            thread.start()
            return self._state

    def cancel(self) -> None:
        """Ask the running job to stop after its current batch; nothing is saved."""
        with self._lock:
            if self._state is None or self._state.status != "running":
                return
            self._cancel.set()
            self._state = replace(self._state, status="cancelling", stage="Stopping after the current batch")

    # ------------------------------------------------------------ the worker thread

    def _record(self, event: TrainEvent) -> None:
        """Fold one training event into the state; called from the training thread."""
        with self._lock:
            state = self._state
            changes: dict = {"progress": event}
            if event.kind == "start":
                changes["stage"] = "Training"
            elif event.kind == "batch" and event.loss is not None:
                point = TrainPoint(event.epoch - 1 + event.batch / event.batches, event.loss, event.accuracy)
                changes["train_curve"] = (*state.train_curve, point)
            elif event.kind == "epoch":
                changes["epochs"] = (*state.epochs, event)
            elif event.kind == "end" and state.status == "running":
                changes["stage"] = "Evaluating on the test set and saving the run"
            self._state = replace(state, **changes)

    def _work(
        self,
        preset: Preset,
        splits: MnistSplits | None,
        store: Store | None,
        feedback: FeedbackPlan | None,
        cancel: threading.Event,
    ) -> None:
        from mnist_core.runs import train_evaluate_save  # TensorFlow loads here, not when the app asks for status

        try:
            outcome = train_evaluate_save(
                preset, splits, store=store, on_event=self._record, cancel=cancel, feedback=feedback
            )
        except MnistError as error:
            self._finish("failed", message=str(error))
        except Exception:
            log.exception("training job %s failed", self._state.job_id)
            self._finish("failed", message="Training failed unexpectedly; the server log has the details.")
        else:
            if outcome.result.cancelled:
                epochs = outcome.result.epochs_completed
                message = f"Cancelled after {epochs} complete epoch{'s' if epochs != 1 else ''}; nothing was saved."
                self._finish("cancelled", summary=outcome.summary, message=message)
            else:
                self._finish("finished", summary=outcome.summary, message=outcome.saved.message)

    def _finish(self, status: Status, **changes) -> None:
        with self._lock:
            self._state = replace(self._state, status=status, stage="", **changes)
            state = self._state
        if self._on_finish is not None:
            self._on_finish(state)
