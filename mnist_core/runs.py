"""A training run end to end: data, train, evaluate on the test set, save to the store.

The CLI's ``train``, the app's background job and the pipeline's ``model_building`` step
all call :func:`train_evaluate_save`, so a run looks the same wherever it was made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module stays light: the store imports it for run_summary
    from mnist_core.config import Preset
    from mnist_core.data import MnistSplits
    from mnist_core.feedback.training import FeedbackPlan
    from mnist_core.train import CancelFlag, TrainEvent, TrainResult


@dataclass(frozen=True)
class RunSummary:
    """A run's key facts, in one shape wherever they are read: the store's list, a save, a training job.

    A field is None where that source does not know it: a listed run has no ``message``, a run
    trained in this process knows its ``images_per_second``; :meth:`to_dict` leaves those out.
    """

    run_id: str | None
    preset: str | None = None
    epochs: int | None = None
    test_accuracy: float | None = None
    test_loss: float | None = None
    train_seconds: float | None = None
    created: str | None = None  # ISO 8601, UTC
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    model_bytes: int | None = None
    # Once saved: where the run is, whether it waits in the outage spool, and a sentence for people.
    location: str | None = None
    spooled: bool | None = None
    message: str | None = None
    # Known to the process that trained it.
    cancelled: bool | None = None
    images_per_second: float | None = None
    # Runs that learned from labelled examples: how many, and the accuracy on those held out.
    feedback_examples: int | None = None
    feedback_accuracy: float | None = None

    def to_dict(self) -> dict:
        """The known fields, for JSON (the manifest, the CLI's output line)."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict) -> RunSummary:
        """Read a stored summary; keys this version does not know are ignored."""
        return cls(**{field.name: data.get(field.name) for field in fields(cls)})


def run_summary(
    run_id: str, created: str, params: dict, evaluation: dict, timings: dict, model_bytes: int
) -> RunSummary:
    """The key facts of a saved run, kept in its manifest so listing runs reads one small file each."""
    return RunSummary(
        run_id=run_id,
        created=created,
        preset=params.get("preset"),
        epochs=params.get("epochs"),
        batch_size=params.get("batch_size"),
        learning_rate=params.get("learning_rate"),
        seed=params.get("seed"),
        test_accuracy=evaluation.get("test_accuracy"),
        test_loss=evaluation.get("test_loss"),
        train_seconds=timings.get("train_seconds"),
        model_bytes=model_bytes,
        feedback_examples=evaluation.get("feedback", {}).get("examples"),
        feedback_accuracy=evaluation.get("feedback", {}).get("accuracy"),
    )


@dataclass
class RunOutcome:
    """What a finished (or cancelled) run produced. ``saved`` is the store's summary, if saved."""

    result: TrainResult
    evaluation: dict | None
    saved: RunSummary | None

    @property
    def summary(self) -> RunSummary:
        """What the CLI prints as one JSON line and the app shows: the saved summary plus the run's speed."""
        return replace(
            self.saved or RunSummary(run_id=None, preset=self.result.preset.name),
            epochs=self.result.epochs_completed,
            cancelled=self.result.cancelled,
            test_accuracy=self.evaluation["test_accuracy"] if self.evaluation else None,
            test_loss=self.evaluation["test_loss"] if self.evaluation else None,
            train_seconds=round(self.result.train_seconds, 2),
            images_per_second=round(self.result.images_per_second),
        )


def train_evaluate_save(
    preset: Preset,
    splits: MnistSplits | None = None,
    *,
    store=None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: CancelFlag | None = None,
    feedback: FeedbackPlan | None = None,
) -> RunOutcome:
    """Train ``preset``, evaluate on the test set and save the run; a cancelled run is not saved.

    ``splits`` defaults to :func:`mnist_core.data.get_data_batch` with the preset's seed;
    ``store`` defaults to the configured store. With ``feedback`` the run also learns from the
    labelled examples (see :mod:`mnist_core.feedback.training`), records which ones, and is
    evaluated on the held-out ones too.
    """
    from mnist_core.data import get_data_batch
    from mnist_core.evaluate import evaluate
    from mnist_core.store import get_store
    from mnist_core.train import train

    if splits is None:
        splits, _ = get_data_batch(seed=preset.seed)
    train_data, start_model, base_source = (splits.train.images, splits.train.labels), None, None
    if feedback is not None:
        from mnist_core.feedback.training import prepare

        preset, train_data, start_model, base_source = prepare(feedback, preset, train_data)
    result = train(
        preset,
        train_data,
        (splits.validation.images, splits.validation.labels),
        on_event=on_event,
        cancel=cancel,
        model=start_model,
    )
    if result.cancelled:
        return RunOutcome(result, evaluation=None, saved=None)
    evaluation = evaluate(result.model, splits.test.images, splits.test.labels, temperature=result.temperature)
    params = result.params
    if feedback is not None:
        from mnist_core.feedback.training import accuracy_on_examples

        record = feedback.record(base_source)
        params = {**params, "feedback": record}
        evaluation["feedback"] = {**record, **accuracy_on_examples(result.model, feedback.snapshot)}
    store = store or get_store()
    saved = store.save_run(
        result.model,
        params=params,
        history=result.history,
        evaluation=evaluation,
        timings=result.timings,
    )
    return RunOutcome(result, evaluation, saved)


def export_model(outcome: RunOutcome, path: Path) -> None:
    """Copy the trained model to ``path`` and its summary and evaluation beside it (``.json``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    outcome.result.model.save(path)
    details = {"summary": outcome.summary.to_dict(), "params": outcome.result.params, "evaluation": outcome.evaluation}
    path.with_suffix(".json").write_text(json.dumps(details, indent=1) + "\n")
