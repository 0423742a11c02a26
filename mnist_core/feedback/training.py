"""Training that learns from the labelled examples, and measuring a model on them.

Two ways, both measured by ``benchmarks/feedback_learning.py`` on handwriting from outside MNIST
(docs/PERFORMANCE.md). With the bundled ``handwriting`` model as the one to fine-tune, retraining
``fast`` read the other writers better (97.5% against 97.1%, median of 3) in half the time
(23 s against 46 s), so it is the default; fine-tuning keeps the bundled model's higher MNIST accuracy.

* ``retrain`` (the default): the preset trained from scratch on MNIST plus the examples, each example
  repeated so that together they are about 5% of what the model sees (one epoch for ``fast``).
* ``finetune``: the active model (else the bundled baseline) trained a few more epochs at a low
  learning rate on the examples mixed with a sample of MNIST, so it does not forget MNIST.

A quarter of each digit's examples is held out of training (:class:`~mnist_core.feedback.Snapshot`)
and the run's evaluation reports its accuracy on them beside MNIST test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from mnist_core.config import Augmentation, Preset
from mnist_core.data import as_model_input
from mnist_core.errors import ConfigError
from mnist_core.feedback.entries import Snapshot

if TYPE_CHECKING:
    import keras

STRATEGIES = ("retrain", "finetune")
DEFAULT_STRATEGY = "retrain"
EXAMPLE_SHARE = 0.05  # retrain: the examples' share of the training set, after repeating them
MAX_REPEATS = 20  # ...but no example is shown more than this many times an epoch
FINETUNE_REPLAY = 8_000  # finetune: MNIST training images mixed in so the model keeps reading MNIST
FINETUNE_REPEATS = 8
FINETUNE_EPOCHS = 3
FINETUNE_LEARNING_RATE = 3e-4
MIN_EXAMPLES = 1


@dataclass(frozen=True)
class FeedbackPlan:
    """Which examples a run learns from and how. ``base_model`` (finetune only): a run id or .keras file."""

    snapshot: Snapshot
    strategy: str = DEFAULT_STRATEGY
    base_model: str | None = None

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown feedback strategy {self.strategy!r}; one of {', '.join(STRATEGIES)}")
        if len(self.snapshot.training[1]) < MIN_EXAMPLES:
            raise ConfigError(
                "there are no labelled examples to learn from yet: correct some predictions in the app "
                "or add pictures with `python -m mnist_core feedback add FILE --label D`"
            )

    def record(self, base_source: str | None = None) -> dict:
        """What the run keeps in its params: the snapshot (count and hash) and the strategy."""
        record = {**self.snapshot.record(), "strategy": self.strategy}
        if self.strategy == "finetune":
            record["base_model"] = base_source
        return record


def prepare(
    plan: FeedbackPlan, preset: Preset, train_data: tuple[np.ndarray, np.ndarray]
) -> tuple[Preset, tuple[np.ndarray, np.ndarray], keras.Model | None, str | None]:
    """The preset, training data and starting model (None: a fresh one) for ``plan``, and the base's name."""
    images, labels = train_data
    examples, example_labels = plan.snapshot.training
    if images.dtype != np.uint8:  # floats in [0, 1], already scaled
        examples = as_model_input(examples)
    examples = examples.reshape((-1, *images.shape[1:]))  # the pipeline hands over (N, 28, 28, 1)
    if plan.strategy == "retrain":
        repeats = int(np.clip(round(EXAMPLE_SHARE * len(labels) / len(example_labels)), 1, MAX_REPEATS))
        return preset, _mixed(images, labels, examples, example_labels, repeats), None, None

    from mnist_core.predict import Predictor

    base = Predictor.load(plan.base_model)
    model, source = base.model, base.source
    replay = np.random.default_rng(preset.seed).choice(len(labels), min(FINETUNE_REPLAY, len(labels)), replace=False)
    tuned = replace(
        preset,
        epochs=FINETUNE_EPOCHS,
        learning_rate=FINETUNE_LEARNING_RATE,
        schedule="constant",
        batch_size=64,
        augmentation=Augmentation(),
    )
    data = _mixed(images[replay], labels[replay], examples, example_labels, FINETUNE_REPEATS)
    return tuned, data, model, source


def _mixed(
    images: np.ndarray, labels: np.ndarray, examples: np.ndarray, example_labels: np.ndarray, repeats: int
) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([images, np.repeat(examples, repeats, axis=0)]),
        np.concatenate([labels, np.repeat(example_labels.astype(labels.dtype), repeats)]),
    )


def accuracy_on_examples(model: keras.Model, snapshot: Snapshot, held_out_only: bool = True) -> dict:
    """The model's accuracy on the held-out examples (or all of them), with what it read for each."""
    from mnist_core.predict import Predictor

    images, labels = snapshot.evaluation if held_out_only else (snapshot.images, snapshot.labels)
    if len(labels) == 0:
        return {"evaluated": 0, "accuracy": None, "predicted": []}
    predicted = Predictor(model).predict_batch(images).argmax(axis=1)
    return {
        "evaluated": len(labels),
        "accuracy": round(float(np.mean(predicted == labels)), 5),
        "predicted": predicted.tolist(),
    }
