"""The app's words for runs, counts and durations: the same on every page, so checked once here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app_common.labels import created_at, duration, plural, run_label
from mnist_core.runs import RunSummary

RUN_ID = "20261124T063012Z-3f9a1c2b"


def summary(**fields) -> RunSummary:
    return RunSummary(RUN_ID, **{"created": "2026-11-24T06:30:12.345Z", "preset": "fast", "epochs": 1, **fields})


@pytest.mark.parametrize(("count", "text"), [(0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs")])
def test_plural(count, text):
    assert plural(count, "epoch") == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0 s"), (42, "42 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"), (3720, "1 h 02 min"), (7199, "1 h 59 min")],
)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_created_at_reads_the_stored_utc_time():
    assert created_at(summary()) == datetime(2026, 11, 24, 6, 30, 12, 345000, tzinfo=UTC)


def test_run_label_says_when_what_and_how_good_and_marks_the_active_run():
    assert run_label(summary(test_accuracy=0.99123), active=RUN_ID) == (
        "2026-11-24 06:30 UTC · fast, 1 epoch · 99.12%  ★ active"
    )
    assert run_label(summary(epochs=None), active="20261124T063013Z-00000000") == (
        "2026-11-24 06:30 UTC · fast, 0 epochs · no accuracy"
    )
