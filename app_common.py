"""What the pages share: the cached data, store, models and job manager, the sidebar, and run labels.

Everything expensive is made once per server process and reused by every session and rerun:

* ``st.cache_resource`` for big or live objects that are shared, never copied: the MNIST arrays
  (55 MB, which ``st.cache_data`` would unpickle afresh on every call), the store client, the
  predictors and the training job manager;
* ``st.cache_data`` for small results that each caller gets a copy of: statistics, run records,
  evaluations. Run records expire after a few seconds, since the CLI or another tab may change them.

TensorFlow is imported only inside the functions that need a model, so pages without one start fast.
"""

from __future__ import annotations

import gc
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import streamlit as st

from mnist_core import config, data
from mnist_core.errors import MnistError, StoreError
from mnist_core.jobs import TrainingJobs
from mnist_core.runs import RunSummary
from mnist_core.store import Health, Store, SyncReport, get_store

if TYPE_CHECKING:
    from mnist_core.predict import Predictor

RUNS_TTL_SECONDS = 15
HEALTH_TTL_SECONDS = 30


@dataclass(frozen=True)
class PageInfo:
    """One page of the app, for the navigation and for the links on the overview."""

    name: str  # the file app_pages/<name>.py, shown at the URL /<name>
    title: str
    icon: str
    blurb: str

    @property
    def path(self) -> str:
        return f"app_pages/{self.name}.py"


PAGES = {
    page.name: page
    for page in (
        PageInfo("overview", "Overview", ":material/home:", "What the studio does and how good the model is."),
        PageInfo(
            "eda", "Explore the data", ":material/bar_chart:",
            "Checks, label balance, random samples, mean digits and pixel intensities.",
        ),
        PageInfo(
            "train", "Train", ":material/model_training:", "Pick a preset, tune it, watch loss and accuracy live."
        ),
        PageInfo(
            "evaluate", "Evaluate", ":material/fact_check:",
            "Per-digit metrics, the confusion matrix, the worst mistakes; compare two runs.",
        ),
        PageInfo(
            "predict", "Predict", ":material/draw:", "Draw a digit or upload photos and see what the model reads."
        ),
        PageInfo(
            "runs", "Runs", ":material/history:", "Every saved run: make one active, download its model, delete it."
        ),
    )
}


# ---------------------------------------------------------------- reruns


def keep_reruns_fast() -> None:
    """Once TensorFlow is loaded, take every object alive now out of the garbage collector's sight.

    Importing TensorFlow adds about 330,000 objects the garbage collector tracks, and Streamlit runs
    a full garbage collection after every rerun: walking them made each rerun of every page 150-400 ms slower
    (measured by benchmarks/app_timing.py). ``gc.freeze()`` moves them to a generation that is
    never scanned; the app calls this after each page, so the first rerun that loads TensorFlow
    (the Predict page, or a training job's thread) is the last slow one.
    """
    if "tensorflow" in sys.modules:
        _freeze_loaded_objects()


@st.cache_resource(show_spinner=False)
def _freeze_loaded_objects() -> None:
    gc.freeze()


# ---------------------------------------------------------------- store and jobs


@st.cache_resource(show_spinner=False)
def store() -> Store:
    return get_store()


@st.cache_resource(show_spinner="Uploading runs saved while the store was unreachable…")
def startup_sync() -> SyncReport:
    """Once per server start: upload runs spooled during an outage (the same as ``store sync``)."""
    return store().sync()


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner=False)
def store_health() -> Health:
    return store().health()


@st.cache_resource(show_spinner=False)
def training_jobs() -> TrainingJobs:
    """The server's one training slot; living here, it outlasts every browser tab."""
    return TrainingJobs(on_finish=lambda _state: forget_runs())


@st.cache_data(ttl=RUNS_TTL_SECONDS, show_spinner=False)
def saved_runs() -> list[RunSummary]:
    return store().list_runs()


@st.cache_data(ttl=RUNS_TTL_SECONDS, show_spinner=False)
def active_run_id() -> str | None:
    return store().get_active()


@st.cache_data(max_entries=32, show_spinner=False)
def run_details(run_id: str) -> dict:
    """A run's records; runs never change once saved, so these are kept until a run is deleted."""
    return store().get_run(run_id)


def model_in_use() -> str | None:
    """The active run's id, or None for the bundled baseline; the baseline also stands in while the store is down."""
    try:
        return active_run_id()
    except StoreError as error:
        st.warning(f"{error} Using the bundled baseline until it is back.", icon=":material/cloud_off:")
        return None


def forget_runs() -> None:
    """Drop cached run records after this app changed them (trained, activated or deleted a run)."""
    saved_runs.clear()
    active_run_id.clear()
    run_details.clear()


def activate(run_id: str) -> None:
    store().set_active(run_id)
    forget_runs()


# ---------------------------------------------------------------- data


@st.cache_resource(show_spinner="Loading and checking MNIST…", max_entries=2)
def mnist(seed: int = config.DEFAULT_SEED) -> tuple[data.MnistSplits, data.ValidationReport]:
    """The validated splits (the seed picks the validation images), shared read-only by pages and trainer."""
    return data.get_data_batch(seed=seed)


def splits(seed: int = config.DEFAULT_SEED) -> data.MnistSplits:
    return mnist(seed)[0]


# ---------------------------------------------------------------- models


def has_baseline() -> bool:
    return config.BUNDLED_MODEL.is_file()


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def predictor(run_id: str | None) -> Predictor:
    """A ready predictor for a run, or for the bundled baseline when ``run_id`` is None."""
    from mnist_core.models import load_model_file
    from mnist_core.predict import Predictor

    if run_id is None:
        return Predictor(load_model_file(config.BUNDLED_MODEL), "bundled baseline")
    return Predictor(store().load_run_model(run_id), f"run {run_id}")


@st.cache_data(show_spinner=False)
def baseline_evaluation() -> dict:
    """The baseline's test evaluation, kept beside it in ``models/baseline.json`` when it was trained."""
    return json.loads(config.BUNDLED_MODEL.with_suffix(".json").read_text(encoding="utf-8"))["evaluation"]


# ---------------------------------------------------------------- labels


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


# ---------------------------------------------------------------- sidebar


def sidebar() -> None:
    """Where runs are kept and whether it answers, the start-up sync, the active model, a running job."""
    with st.sidebar:
        st.markdown("#### Store")
        try:
            _store_status()
            st.markdown("#### Model")
            _model_status()
        except MnistError as error:
            st.error(str(error), icon=":material/error:")
        job = training_jobs().latest()
        if job is not None and job.active:
            st.info(f"A **{job.preset.name}** run is training.", icon=":material/model_training:")
            st.page_link(PAGES["train"].path, label="Watch it train", icon=":material/monitoring:")


def _store_status() -> None:
    described = store().describe()
    if described["backend"] == "minio":
        st.markdown(f"**MinIO** `{described['endpoint']}`  \nbucket `{described['bucket']}`")
    else:
        st.markdown(f"**Local folder** `{described['directory']}`")
    health = store_health()
    if health.ok:
        st.caption(":green[:material/check_circle:] Healthy", help=health.message)
    else:
        st.error(health.message, icon=":material/cloud_off:")
    report = startup_sync()
    if report.pending or report.error:
        st.warning(f"At start-up: {report.message}", icon=":material/sync_problem:")
    elif report.uploaded:
        st.success(f"At start-up: {report.message}", icon=":material/cloud_done:")
    else:
        st.caption(":material/sync: Start-up sync: no runs were waiting to be uploaded.")


def _model_status() -> None:
    active = active_run_id()
    if active is not None:
        summary = run_details(active)["summary"]
        st.markdown(f"**Run** `{active}`  \n{summary.preset} · test accuracy **{summary.test_accuracy:.2%}**")
    elif has_baseline():
        st.markdown("**Bundled baseline** (no run is active)")
    else:
        st.warning("No model yet: train one and make it active.", icon=":material/warning:")
