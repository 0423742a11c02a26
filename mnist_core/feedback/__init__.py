"""The learning loop: predictions kept, corrections turned into labelled examples, training that uses them.

* :mod:`~mnist_core.feedback.entries`: what is kept in the store (``predictions/`` and ``examples/``),
  spooled while the store is down, listed, deleted, exported, and frozen into a training snapshot;
* :mod:`~mnist_core.feedback.log`: the prediction log, which writes off the hot path;
* :mod:`~mnist_core.feedback.training`: training on MNIST plus the examples, or fine-tuning a model
  on them, evaluated on MNIST test and on the held-out examples (imports TensorFlow).
"""

from mnist_core.feedback.entries import (
    Entry,
    FeedbackStore,
    Snapshot,
    check_label,
    logging_enabled,
)
from mnist_core.feedback.log import PredictionLog

__all__ = ["Entry", "FeedbackStore", "PredictionLog", "Snapshot", "check_label", "logging_enabled"]
