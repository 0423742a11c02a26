"""What users did, summed up for the Activity page: counts per day, digits read, corrections, a filter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from mnist_core import config
from mnist_core.evaluate import confusion_matrix
from mnist_core.feedback.entries import Entry


def daily_counts(predictions: Sequence[Entry], examples: Sequence[Entry]) -> list[dict]:
    """One row per day (oldest first): predictions logged, examples labelled, and corrections among them."""
    days: dict[str, Counter] = {}
    for entry in predictions:
        days.setdefault(entry.created[:10], Counter())["predictions"] += 1
    for entry in examples:
        counts = days.setdefault(entry.created[:10], Counter())
        counts["examples"] += 1
        counts["corrections"] += entry.corrected
    return [
        {"day": day, **{name: counts[name] for name in ("predictions", "examples", "corrections")}}
        for day, counts in sorted(days.items())
    ]


def digit_counts(digits: Iterable[int | None]) -> np.ndarray:
    """How often each digit occurs, ignoring unknowns."""
    known = [digit for digit in digits if digit is not None]
    return np.bincount(np.array(known, dtype=np.int64), minlength=config.NUM_CLASSES)


def correction_matrix(examples: Sequence[Entry]) -> np.ndarray:
    """Counts ``[true label, digit the model read]`` over the examples that record what it read."""
    known = [entry for entry in examples if entry.digit is not None]
    labels = np.array([entry.label for entry in known], dtype=np.int64)
    read = np.array([entry.digit for entry in known], dtype=np.int64)
    return confusion_matrix(labels, read)


def select(
    entries: Sequence[Entry],
    *,
    sources: Sequence[str] | None = None,
    digits: Sequence[int] | None = None,
    below_confidence: float | None = None,
    corrected_only: bool = False,
) -> list[Entry]:
    """The entries that pass every filter given; ``digits`` matches what the model read or the label."""
    chosen = []
    for entry in entries:
        if sources and entry.source not in sources:
            continue
        if digits and entry.digit not in digits and entry.label not in digits:
            continue
        if below_confidence is not None and (entry.confidence is None or entry.confidence >= below_confidence):
            continue
        if corrected_only and not entry.corrected:
            continue
        chosen.append(entry)
    return chosen
