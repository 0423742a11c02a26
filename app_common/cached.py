"""The cached objects the pages share: the data, the store and its runs, the models, the job manager.

Everything expensive is made once per server process and reused by every session and rerun:

* ``st.cache_resource`` for big or live objects that are shared, never copied: the MNIST arrays
  (55 MB, which ``st.cache_data`` would unpickle afresh on every call), the store client, the
  predictors and the training job manager;
* ``st.cache_data`` for small results that each caller gets a copy of: statistics, run records,
  evaluations. Run records expire after a few seconds, since the CLI or another tab may change them.

TensorFlow is imported only when a model loads (:mod:`mnist_core.predict` defers it), so pages without one start fast.
"""

from __future__ import annotations

import json
import os

import streamlit as st

from mnist_core import config, data
from mnist_core.errors import StoreError
from mnist_core.jobs import TrainingJobs
from mnist_core.predict import ModelChoice, PictureReader, Predictor, resolve
from mnist_core.predict_client import PREDICT_URL_ENV, RemotePredictor
from mnist_core.runs import RunSummary
from mnist_core.store import Health, Store, SyncReport, get_store

RUNS_TTL_SECONDS = 15
HEALTH_TTL_SECONDS = 30


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


def model_in_use() -> ModelChoice:
    """The model that predicts (:func:`mnist_core.predict.resolve` with the cached active run)."""
    return resolve(active_run=_active_run_or_warn)


def _active_run_or_warn() -> str | None:
    """The active run's id; None while the store is down, when the bundled baseline stands in."""
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
def predictor(choice: ModelChoice) -> PictureReader:
    """A ready predictor for the chosen model (see :func:`model_in_use`); with ``MNIST_PREDICT_URL`` set, the
    model server there, whichever run it serves."""
    if os.environ.get(PREDICT_URL_ENV):
        return RemotePredictor(os.environ[PREDICT_URL_ENV])
    return Predictor(choice.load(store()), choice.description, choice.run_id, choice.temperature(store()))


@st.cache_data(show_spinner=False)
def baseline_evaluation() -> dict:
    """The baseline's test evaluation, kept beside it in ``models/baseline.json`` when it was trained."""
    return json.loads(config.BUNDLED_MODEL.with_suffix(".json").read_text(encoding="utf-8"))["evaluation"]
