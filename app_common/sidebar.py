"""The sidebar on every page: where runs are kept and whether it answers, the active model, a running job."""

from __future__ import annotations

import streamlit as st

from app_common.cached import (
    active_run_id,
    has_baseline,
    run_details,
    startup_sync,
    store,
    store_health,
    training_jobs,
)
from app_common.navigation import PAGES
from mnist_core.errors import MnistError


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

