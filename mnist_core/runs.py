"""A training run end to end: data, train, evaluate on the test set, save to the store.

The CLI's ``train``, the app's background job and the pipeline's ``model_building`` step
all call :func:`train_evaluate_save`, so a run looks the same wherever it was made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module stays light: the store imports it for run_summary
    from mnist_core.config import Preset
    from mnist_core.data import MnistSplits
    from mnist_core.train import CancelFlag, TrainEvent, TrainResult


def run_summary(
    run_id: str, created: str, params: dict, evaluation: dict, timings: dict, model_bytes: int
) -> dict:
    """The key facts of a saved run, kept in its manifest so listing runs reads one small file each."""
    return {
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
        "model_bytes": model_bytes,
    }


@dataclass
class RunOutcome:
    """What a finished (or cancelled) run produced. ``saved`` is the store's summary, if saved."""

    result: TrainResult
    evaluation: dict | None
    saved: dict | None

    @property
    def summary(self) -> dict:
        """The one-line JSON the CLI prints and the app shows."""
        summary = {
            "run_id": self.saved["run_id"] if self.saved else None,
            "preset": self.result.preset.name,
            "epochs": self.result.epochs_completed,
            "cancelled": self.result.cancelled,
            "test_accuracy": self.evaluation["test_accuracy"] if self.evaluation else None,
            "test_loss": self.evaluation["test_loss"] if self.evaluation else None,
            "train_seconds": round(self.result.train_seconds, 2),
            "images_per_second": round(self.result.images_per_second),
        }
        if self.saved:
            summary["model"] = self.saved["location"]
            summary["spooled"] = self.saved.get("spooled", False)
        return summary


def train_evaluate_save(
    preset: Preset,
    splits: MnistSplits | None = None,
    *,
    store=None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: CancelFlag | None = None,
) -> RunOutcome:
    """Train ``preset``, evaluate on the test set and save the run; a cancelled run is not saved.

    ``splits`` defaults to :func:`mnist_core.data.get_data_batch` with the preset's seed;
    ``store`` defaults to the configured store.
    """
    from mnist_core.data import get_data_batch
    from mnist_core.evaluate import evaluate
    from mnist_core.store import get_store
    from mnist_core.train import train

    if splits is None:
        splits, _ = get_data_batch(seed=preset.seed)
    result = train(
        preset,
        (splits.train.images, splits.train.labels),
        (splits.validation.images, splits.validation.labels),
        on_event=on_event,
        cancel=cancel,
    )
    if result.cancelled:
        return RunOutcome(result, evaluation=None, saved=None)
    evaluation = evaluate(result.model, splits.test.images, splits.test.labels)
    store = store or get_store()
    saved = store.save_run(
        result.model,
        params=result.params,
        history=result.history,
        evaluation=evaluation,
        timings=result.timings,
    )
    return RunOutcome(result, evaluation, saved)
