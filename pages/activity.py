"""Activity: what users drew, uploaded and corrected, and how each run reads their labelled examples."""

import pandas as pd
import streamlit as st

import app_common
from mnist_core import figures
from mnist_core.feedback.activity import correction_matrix, daily_counts, digit_counts, select
from mnist_core.feedback.entries import EXAMPLES, PREDICTIONS, SOURCES
from mnist_core.predict import ModelChoice

GALLERY_LIMIT = 48
GALLERY_COLUMNS = 6
RUNS_MEASURED = 6


@st.cache_data(max_entries=64, show_spinner="Measuring the runs on the labelled examples…")
def reading(run_id: str | None, snapshot_sha: str) -> dict:
    """A run's accuracy on the held-out examples and on all of them; the hash keys the cache to the snapshot."""
    from mnist_core.feedback.training import accuracy_on_examples

    model = app_common.predictor(ModelChoice(run_id=run_id)).model
    examples = app_common.feedback_snapshot()
    return {
        "held_out": accuracy_on_examples(model, examples)["accuracy"],
        "all": accuracy_on_examples(model, examples, held_out_only=False)["accuracy"],
    }


def show_gallery(chosen: list) -> None:
    """The entries as cards: the 28x28 image, what the model read, the label; each can be deleted."""
    columns = st.columns(GALLERY_COLUMNS)
    for position, entry in enumerate(chosen[:GALLERY_LIMIT]):
        with columns[position % GALLERY_COLUMNS].container(border=True):
            st.image(figures.enlarge(entry.pixels, scale=3))
            read = "–" if entry.digit is None else f"{entry.digit} ({entry.confidence:.0%})"
            label = "" if entry.label is None else f" · **{entry.label}**" + (" ✗" if entry.corrected else " ✓")
            st.caption(f"read {read}{label}  \n{entry.source} · {entry.created[5:16].replace('T', ' ')}")
            if st.button("Delete", key=f"delete_{entry.id}", icon=":material/delete:", width="stretch"):
                app_common.feedback_store().delete(entry.id)
                app_common.forget_feedback()
                st.toast(f"Deleted {entry.id}: it is gone from the store and from the next training.",
                         icon=":material/delete:")
                st.rerun()
    if len(chosen) > GALLERY_LIMIT:
        st.caption(f"Showing the newest {GALLERY_LIMIT} of {len(chosen)}; narrow the filters to see others.")


app_common.run_inside_app()

st.title("Activity")
app_common.prediction_log()  # its thread first uploads entries kept locally during an outage
predictions, examples = app_common.feedback_entries(PREDICTIONS), app_common.feedback_entries(EXAMPLES)
corrections = [entry for entry in examples if entry.corrected]
columns = st.columns(4)
columns[0].metric("Predictions logged", f"{len(predictions):,}", border=True)
columns[1].metric("Labelled examples", f"{len(examples):,}", border=True)
columns[2].metric("Corrections", f"{len(corrections):,}", border=True)
columns[3].metric(
    "Read wrongly", f"{len(corrections) / len(examples):.0%}" if examples else "–", border=True,
    help="Of the predictions users answered, the share they corrected.",
)
if not predictions and not examples:
    st.info("Nothing yet: predictions made on the Predict page, and the corrections users give there, "
            "show up here.", icon=":material/info:")
    st.page_link(app_common.PAGES["predict"].path, label="Predict a digit", icon=":material/draw:")
    st.stop()

over_time, gallery, confusion, runs_tab = st.tabs(["Over time", "Gallery", "Corrections", "Runs on the examples"])

with over_time:
    per_day = pd.DataFrame(daily_counts(predictions, examples)).set_index("day")
    st.bar_chart(per_day, stack=False, y_label="entries", x_label="day (UTC)")
    counts = {"read by the model": digit_counts(entry.digit for entry in predictions)}
    if examples:
        counts["labelled by users"] = digit_counts(entry.label for entry in examples)
    st.plotly_chart(figures.label_distribution(counts), key="digits")

with gallery:
    kind_col, source_col, digit_col = st.columns([1, 2, 2])
    kind = kind_col.radio("Show", ["predictions", "examples"], horizontal=True, key="gallery_kind")
    sources = source_col.multiselect("Source", SOURCES, key="gallery_sources")
    digits = digit_col.multiselect("Digit (read or labelled)", list(range(10)), key="gallery_digits")
    low_col, corrected_col = st.columns(2)
    low = low_col.toggle("Only low confidence", key="gallery_low")
    threshold = low_col.slider("below", 0.1, 1.0, 0.7, 0.05, disabled=not low, key="gallery_threshold")
    corrected = corrected_col.toggle("Only corrected", key="gallery_corrected", disabled=kind != "examples")
    chosen = select(
        predictions if kind == "predictions" else examples,
        sources=sources, digits=digits, below_confidence=threshold if low else None,
        corrected_only=corrected and kind == "examples",
    )
    st.caption(f"{len(chosen)} {kind} match.")
    show_gallery(chosen)

with confusion:
    if not any(entry.digit is not None for entry in examples):
        st.info("No answered predictions yet.", icon=":material/info:")
    else:
        st.plotly_chart(
            figures.confusion_heatmap(correction_matrix(examples), normalise=False,
                                      title="What users said (down) against what the model read (across)"),
            key="corrections",
        )

with runs_tab:
    current = app_common.feedback_snapshot()
    record = current.record()
    st.caption(
        f"Each run measured now on the {record['examples']} labelled examples (snapshot `{record['sha256'][:12]}`) "
        f"and on the {record['held_out']} held out of training, beside its MNIST test accuracy. "
        f"The {RUNS_MEASURED} newest runs and the bundled baseline."
    )
    if not len(current):
        st.info("No labelled examples yet.", icon=":material/info:")
    else:
        rows = []
        candidates = [
            (run.run_id, run.preset, run.test_accuracy, run.feedback_examples or 0)
            for run in app_common.saved_runs()[:RUNS_MEASURED]
        ]
        if app_common.has_baseline():
            candidates.append((None, "baseline", app_common.baseline_evaluation()["test_accuracy"], 0))
        for run_id, preset, test_accuracy, learned_from in candidates:
            measured = reading(run_id, record["sha256"])
            rows.append({
                "run": run_id or "bundled baseline",
                "preset": preset,
                "learned from": learned_from,
                "MNIST test": 100 * test_accuracy,
                "held-out examples": None if measured["held_out"] is None else 100 * measured["held_out"],
                "all examples": 100 * measured["all"],
            })
        percent = st.column_config.NumberColumn(format="%.1f%%")
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
            "MNIST test": percent, "held-out examples": percent, "all examples": percent,
        })
        st.caption("A run that learned from the examples has seen all but the held-out ones: compare runs on those.")
