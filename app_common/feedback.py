"""The learning loop's shared objects: the feedback store, the prediction log's writer, cached entries."""

from __future__ import annotations

import streamlit as st

from app_common.cached import store
from mnist_core.feedback import Entry, FeedbackStore, PredictionLog, Snapshot

FEEDBACK_TTL_SECONDS = 10


@st.cache_resource(show_spinner=False)
def feedback_store() -> FeedbackStore:
    """Logged predictions and labelled examples."""
    return FeedbackStore(store())


@st.cache_resource(show_spinner=False)
def prediction_log() -> PredictionLog:
    """The server's one writer thread for the prediction log; it starts by uploading what waited in the spool."""
    return PredictionLog(feedback_store())


@st.cache_data(ttl=FEEDBACK_TTL_SECONDS, show_spinner="Reading the activity log…")
def feedback_entries(kind: str) -> list[Entry]:
    return feedback_store().entries(kind)


@st.cache_data(ttl=FEEDBACK_TTL_SECONDS, show_spinner=False)
def feedback_snapshot() -> Snapshot:
    return feedback_store().snapshot()


def forget_feedback() -> None:
    """Drop cached entries after this app added or deleted one; predictions logged in the background show up
    within ``FEEDBACK_TTL_SECONDS``."""
    feedback_entries.clear()
    feedback_snapshot.clear()
