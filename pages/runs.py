"""Runs: every saved run; make one the active model, download its model file, or delete it."""

import pandas as pd
import streamlit as st

import app_common

app_common.run_inside_app()

st.title("Runs")
if "deleted" in st.session_state:
    st.toast(f"Deleted run {st.session_state.pop('deleted')}.", icon=":material/delete:")

runs = app_common.saved_runs()
active = app_common.active_run_id()
if not runs:
    st.info("No runs saved yet.", icon=":material/info:")
    st.page_link(app_common.PAGES["train"].path, label="Train a model", icon=":material/model_training:")
    st.stop()

st.caption(f"{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first. ★ marks the active model.")
st.dataframe(
    pd.DataFrame(
        {
            "active": ["★" if run.run_id == active else "" for run in runs],
            "created": [app_common.created_at(run) for run in runs],
            "preset": [run.preset for run in runs],
            "epochs": [run.epochs for run in runs],
            "test_accuracy": [100 * run.test_accuracy for run in runs],
            "test_loss": [run.test_loss for run in runs],
            "train_seconds": [run.train_seconds for run in runs],
            "run_id": [run.run_id for run in runs],
        }
    ),
    hide_index=True,
    column_config={
        "active": st.column_config.TextColumn("", width=30),
        "created": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
        "preset": "Preset",
        "epochs": st.column_config.NumberColumn("Epochs"),
        "test_accuracy": st.column_config.NumberColumn("Test accuracy", format="%.2f%%"),
        "test_loss": st.column_config.NumberColumn("Test loss", format="%.4f"),
        "train_seconds": st.column_config.NumberColumn("Training time (s)", format="%.1f"),
        "run_id": "Run id",
    },
)

with st.container(border=True):
    run_ids = [run.run_id for run in runs]
    summaries = dict(zip(run_ids, runs, strict=True))
    chosen = st.selectbox(
        "Run", run_ids, format_func=lambda run_id: app_common.run_label(summaries[run_id], active), key="chosen_run"
    )
    activate_col, download_col, delete_col = st.columns(3)
    if activate_col.button(
        "Make active", icon=":material/star:", type="primary", disabled=chosen == active, width="stretch"
    ):
        app_common.activate(chosen)
        st.toast(f"Run {chosen} now makes the predictions.", icon=":material/star:")
        st.rerun()
    download_col.download_button(
        "Download model",
        data=lambda: app_common.store().model_bytes(chosen),
        file_name=f"mnist-{chosen}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
    with delete_col.popover("Delete…", icon=":material/delete:", width="stretch"):
        st.markdown(f"Delete run `{chosen}` and its model from the store? This cannot be undone.")
        if st.button("Delete it", type="primary", icon=":material/delete_forever:", key="confirm_delete"):
            app_common.store().delete_run(chosen)
            app_common.forget_runs()
            st.session_state.deleted = chosen
            st.rerun()
