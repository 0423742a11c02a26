"""The app's training job manager, with a stand-in for the real training so each test takes milliseconds."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from mnist_core import runs
from mnist_core.config import get_preset
from mnist_core.errors import DataError
from mnist_core.jobs import TrainingBusyError, TrainingJobs
from mnist_core.runs import RunSummary
from mnist_core.train import TrainEvent
from tests.support.jobs import wait_for_job

PRESET = get_preset("fast", epochs=2)
RUN_ID = "20261124T063012Z-3f9a1c2b"
BATCHES = 4


def event(kind: str, epoch: int, batch: int, **metrics) -> TrainEvent:
    return TrainEvent(kind, epoch, PRESET.epochs, batch, BATCHES, 1.0, 500.0, 2.0, **metrics)


class FakeTraining:
    """Emits the events a two-epoch run would; can be held mid-epoch to test busy and cancel."""

    def __init__(self, hold: bool = False, fail: Exception | None = None):
        self.release = threading.Event()
        self.holding = threading.Event()
        self.hold, self.fail = hold, fail

    def __call__(self, preset, splits, *, store, on_event, cancel, feedback=None):
        self.feedback = feedback
        on_event(event("start", 1, 0))
        for epoch in (1, 2):
            for batch in range(1, BATCHES + 1):
                on_event(event("batch", epoch, batch, loss=1 / batch, accuracy=0.5))
                if self.hold and epoch == 1 and batch == 2:
                    self.holding.set()
                    self.release.wait(5)
                if cancel.is_set():
                    on_event(event("end", epoch, 0))
                    return self.outcome(cancelled=True, epochs=epoch - 1)
            on_event(event("epoch", epoch, BATCHES, loss=0.3, accuracy=0.9, val_loss=0.2, val_accuracy=0.95))
        on_event(event("end", 2, BATCHES))
        if self.fail is not None:
            raise self.fail
        return self.outcome(cancelled=False, epochs=2)

    @staticmethod
    def outcome(cancelled: bool, epochs: int) -> SimpleNamespace:
        saved = None if cancelled else RunSummary(RUN_ID, message=f"Saved run {RUN_ID} to /store.")
        return SimpleNamespace(
            result=SimpleNamespace(cancelled=cancelled, epochs_completed=epochs),
            saved=saved,
            summary=RunSummary(None if cancelled else RUN_ID, test_accuracy=0.99),
        )


@pytest.fixture
def fake(monkeypatch):
    def install(**options) -> FakeTraining:
        training = FakeTraining(**options)
        monkeypatch.setattr(runs, "train_evaluate_save", training)
        return training

    return install


def test_a_finished_job_keeps_its_progress_curves_and_summary(fake):
    fake()
    finished = []
    jobs = TrainingJobs(on_finish=finished.append)
    jobs.start(PRESET)
    state = wait_for_job(jobs)
    assert state.status == "finished" and not state.active
    assert state.summary.run_id == "20261124T063012Z-3f9a1c2b"
    assert state.message.startswith("Saved run")
    assert state.fraction_done == 1.0
    assert [point.epoch for point in state.train_curve][:2] == [0.25, 0.5]
    assert [e.val_accuracy for e in state.epochs] == [0.95, 0.95]
    assert finished == [state]


def test_one_job_at_a_time_then_cancel_stops_it_without_saving(fake):
    training = fake(hold=True)
    jobs = TrainingJobs()
    jobs.start(PRESET)
    assert training.holding.wait(5)
    with pytest.raises(TrainingBusyError, match="already training"):
        jobs.start(PRESET)
    jobs.cancel()
    assert jobs.latest().status == "cancelling"
    training.release.set()
    state = wait_for_job(jobs)
    assert state.status == "cancelled"
    assert state.message == "Cancelled after 0 complete epochs; nothing was saved."
    jobs.start(PRESET)  # the slot is free again
    assert wait_for_job(jobs).status == "finished"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (DataError("MNIST file not found: /nope"), "MNIST file not found: /nope"),
        (RuntimeError("a bug"), "Training failed unexpectedly; the server log has the details."),
    ],
)
def test_a_failing_job_reports_a_message_not_a_traceback(fake, error, message):
    fake(fail=error)
    jobs = TrainingJobs()
    jobs.start(PRESET)
    state = wait_for_job(jobs)
    assert (state.status, state.message) == ("failed", message)
