"""What the pages share, one role per module.

* :mod:`.navigation`: the page registry, and running every page inside ``app.py``;
* :mod:`.cached`: the data, store, runs, models and job manager, made once per server process;
* :mod:`.feedback`: the learning loop's store, prediction log and cached entries;
* :mod:`.labels`: runs, counts and durations in words (plain functions, unit tested);
* :mod:`.sidebar`: the sidebar every page shows;
* :mod:`.reruns`: keeping reruns fast once TensorFlow is loaded.

Pages ``import app_common`` and use the names below.
"""

from app_common.cached import (
    activate,
    active_run_id,
    baseline_evaluation,
    forget_runs,
    has_baseline,
    mnist,
    model_in_use,
    predictor,
    run_details,
    saved_runs,
    splits,
    startup_sync,
    store,
    store_health,
    training_jobs,
)
from app_common.feedback import (
    feedback_entries,
    feedback_snapshot,
    feedback_store,
    forget_feedback,
    prediction_log,
)
from app_common.labels import created_at, duration, plural, run_label
from app_common.navigation import PAGES, PageInfo, navigation_pages, run_inside_app, running_page
from app_common.reruns import keep_reruns_fast
from app_common.sidebar import sidebar

__all__ = [
    "PAGES",
    "PageInfo",
    "activate",
    "active_run_id",
    "baseline_evaluation",
    "created_at",
    "duration",
    "feedback_entries",
    "feedback_snapshot",
    "feedback_store",
    "forget_feedback",
    "forget_runs",
    "has_baseline",
    "keep_reruns_fast",
    "mnist",
    "model_in_use",
    "navigation_pages",
    "plural",
    "prediction_log",
    "predictor",
    "run_details",
    "run_inside_app",
    "run_label",
    "running_page",
    "saved_runs",
    "sidebar",
    "splits",
    "startup_sync",
    "store",
    "store_health",
    "training_jobs",
]
