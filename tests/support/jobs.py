"""Waiting for the app's training job to end: tests need it, the app never blocks on a run."""

from __future__ import annotations

import threading

from mnist_core.jobs import JobState, TrainingJobs


def wait_for_job(jobs: TrainingJobs, timeout: float = 5.0) -> JobState | None:
    """The latest job's final state, once its training thread (and so its ``on_finish``) has ended.

    Gives up after ``timeout`` seconds and returns the state as it is then.
    """
    state = jobs.latest()
    if state is not None:
        for thread in threading.enumerate():
            if thread.name == f"training-{state.job_id}":
                thread.join(timeout)
    return jobs.latest()
