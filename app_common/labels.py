"""Runs, counts and durations in words, the same on every page. Plain functions: no Streamlit."""

from __future__ import annotations

from datetime import datetime

from mnist_core.runs import RunSummary


def created_at(summary: RunSummary) -> datetime:
    return datetime.fromisoformat(summary.created.replace("Z", "+00:00"))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def run_label(summary: RunSummary, active: str | None = None) -> str:
    """A run in one line: when, which preset, how good; marked when it is the active one."""
    accuracy = summary.test_accuracy
    parts = [
        f"{created_at(summary):%Y-%m-%d %H:%M} UTC",
        f"{summary.preset}, {plural(summary.epochs or 0, 'epoch')}",
        f"{accuracy:.2%}" if accuracy is not None else "no accuracy",
    ]
    return " · ".join(parts) + ("  ★ active" if summary.run_id == active else "")


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
