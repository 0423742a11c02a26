"""Evaluate: a run's test metrics, confusion matrix and most confident mistakes; two runs side by side.

Runs carry the evaluation made when they were saved, so nothing is recomputed here; only the bundled
baseline, which has no records, is evaluated (once per server).
"""

import numpy as np
import pandas as pd
import streamlit as st

import app_common
from mnist_core import figures
from mnist_core.predict import ModelChoice

app_common.run_inside_app()

BASELINE = "baseline"
GALLERY_COLUMNS = 8

runs = {summary.run_id: summary for summary in app_common.saved_runs()}
active = app_common.active_run_id()
choices = [*runs, *([BASELINE] if app_common.has_baseline() else [])]


def label(choice: str) -> str:
    return "Bundled baseline" if choice == BASELINE else app_common.run_label(runs[choice], active)


def evaluation_of(choice: str) -> dict:
    return app_common.baseline_evaluation() if choice == BASELINE else app_common.run_details(choice)["evaluation"]


def history_of(choice: str) -> dict:
    return {} if choice == BASELINE else app_common.run_details(choice)["history"]


def mistakes_count(evaluation: dict) -> int:
    correct = sum(row[digit] for digit, row in enumerate(evaluation["confusion_matrix"]))
    return evaluation["test_images"] - correct


def per_class_table(evaluation: dict) -> None:
    table = pd.DataFrame(evaluation["per_class"])
    table[["precision", "recall", "f1"]] *= 100
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "digit": st.column_config.NumberColumn("Digit", width="small"),
            "precision": st.column_config.NumberColumn("Precision", format="%.2f%%"),
            "recall": st.column_config.NumberColumn("Recall", format="%.2f%%"),
            "f1": st.column_config.NumberColumn("F1", format="%.2f%%"),
            "support": st.column_config.NumberColumn("Images", format="localized"),
        },
    )


def mistakes_gallery(evaluation: dict, count: int) -> None:
    test_images = app_common.splits().test.images
    mistakes = evaluation["mistakes"][:count]
    for start in range(0, len(mistakes), GALLERY_COLUMNS):
        row = mistakes[start : start + GALLERY_COLUMNS]
        for column, mistake in zip(st.columns(GALLERY_COLUMNS), row, strict=False):
            column.image(
                figures.enlarge(test_images[mistake["index"]], scale=3),
                caption=f"{mistake['true']} read as {mistake['predicted']} ({mistake['confidence']:.0%})",
            )


@st.cache_data(max_entries=8, show_spinner="Reading the test set…")
def test_predictions(choice: str) -> np.ndarray:
    """The digit the model reads in every test image, to find the images behind a confusion-matrix cell."""
    predictor = app_common.predictor(ModelChoice(run_id=None if choice == BASELINE else choice))
    return predictor.predict_batch(app_common.splits().test.images).argmax(axis=1)


def cell_images(choice: str, true: int, predicted: int, limit: int = 48) -> None:
    test = app_common.splits().test
    indices = np.flatnonzero((test.labels == true) & (test_predictions(choice) == predicted))
    what = f"true {true}, read as {predicted}"
    st.markdown(f"**{app_common.plural(len(indices), 'test image')}: {what}**"
                + (f" (the first {limit})" if len(indices) > limit else ""))
    if len(indices):
        st.image(figures.montage(test.images[indices[:limit]], columns=16, scale=2), caption=what)


def comparison_metrics(evaluation: dict, reference: dict | None) -> None:
    """Test accuracy and loss, with the difference from ``reference`` (run A) when given."""
    accuracy_col, loss_col = st.columns(2)
    for column, title, key, spec, better in (
        (accuracy_col, "Test accuracy", "test_accuracy", ".2%", "normal"),
        (loss_col, "Test loss", "test_loss", ".4f", "inverse"),  # a lower loss is the good direction
    ):
        value = evaluation[key]
        difference = value - reference[key] if reference else 0.0
        column.metric(
            title,
            format(value, spec),
            delta=f"{difference:+{spec}} vs A" if reference else None,
            delta_color=better if difference else "off",
            border=True,
        )


st.title("Evaluate")
if not choices:
    st.info("No runs yet: train one first.", icon=":material/info:")
    st.page_link(app_common.PAGES["train"].path, label="Train a model", icon=":material/model_training:")
    st.stop()

one_tab, compare_tab = st.tabs(["One run", "Compare two runs"])

with one_tab:
    choice = st.selectbox(
        "Run", choices, index=choices.index(active) if active in choices else 0, format_func=label, key="run"
    )
    evaluation = evaluation_of(choice)
    accuracy_col, loss_col, mistakes_col = st.columns(3)
    accuracy_col.metric("Test accuracy", f"{evaluation['test_accuracy']:.2%}", border=True)
    loss_col.metric("Test loss", f"{evaluation['test_loss']:.4f}", border=True)
    mistakes_col.metric(
        "Mistakes", f"{mistakes_count(evaluation):,} of {evaluation['test_images']:,}", border=True
    )

    matrix_col, table_col = st.columns([3, 2])
    with matrix_col:
        scale = st.radio("Confusion matrix", ["Counts", "Normalised by true digit"], horizontal=True, key="scale")
        matrix = st.plotly_chart(
            figures.confusion_heatmap(evaluation["confusion_matrix"], normalise=scale != "Counts", clickable=True),
            key=f"matrix_{choice}",
            on_select="rerun",
            selection_mode="points",
        )
        st.caption("Click a cell to see the test images behind it.")
    with table_col:
        st.markdown("**Per digit**")
        per_class_table(evaluation)
    if matrix.selection.points:
        cell = matrix.selection.points[0]
        cell_images(choice, true=int(cell["y"]), predicted=int(cell["x"]))

    calibration = evaluation.get("calibration")
    st.subheader("How sure, how right")
    if calibration:
        diagram_col, notes_col = st.columns([3, 2])
        diagram_col.plotly_chart(figures.reliability_diagram(calibration), key="reliability")
        notes_col.metric("Expected calibration error", f"{calibration['ece']:.2%}",
                         delta=f"{calibration['ece'] - calibration['ece_uncalibrated']:+.2%} vs raw",
                         delta_color="inverse", border=True)
        notes_col.caption(
            f"Confidence is calibrated by temperature scaling: the model's logits are divided by "
            f"T = {calibration['temperature']:.3g}, fitted on the validation split. A perfectly calibrated model "
            "is right 90% of the time when it says 90%; below 80% the Predict page says \"not sure\"."
        )
    else:
        st.info("This run was saved before calibration existed; its confidences are the model's raw ones.",
                icon=":material/info:")

    st.subheader("Most confident mistakes")
    st.caption("Test images the model got wrong while being surest of itself: true digit, what it read, how sure.")
    available = len(evaluation["mistakes"])
    if available:
        count = st.slider("How many", 1, available, min(16, available), key="mistakes")
        mistakes_gallery(evaluation, count)
    else:
        st.success("No mistakes at all.")

    if history_of(choice):
        st.subheader("Training curves")
        st.plotly_chart(figures.training_curves(figures.history_curves(history_of(choice))), key="curves")

with compare_tab:
    if len(choices) < 2:
        st.info("Comparing needs two runs; train another one.", icon=":material/info:")
    else:
        first_col, second_col = st.columns(2)
        first = first_col.selectbox("Run A", choices, index=0, format_func=label, key="compare_a")
        second = second_col.selectbox("Run B", choices, index=1, format_func=label, key="compare_b")
        evaluations = {"A": evaluation_of(first), "B": evaluation_of(second)}
        with first_col:
            comparison_metrics(evaluations["A"], reference=None)
        with second_col:
            comparison_metrics(evaluations["B"], reference=evaluations["A"])
        for column, (name, evaluation) in zip(st.columns(2), evaluations.items(), strict=True):
            column.plotly_chart(
                figures.confusion_heatmap(evaluation["confusion_matrix"], normalise=True, title=f"Run {name}"),
                key=f"compare_matrix_{name}",
            )
        st.plotly_chart(
            figures.per_class_comparison({name: evaluation["per_class"] for name, evaluation in evaluations.items()}),
            key="compare_f1",
        )
        histories = {"A": history_of(first), "B": history_of(second)}
        if all(histories.values()):
            curves = [
                curve
                for name, history in histories.items()
                for curve in figures.history_curves(history, prefix=f"{name} ")
                if "validation" in curve.name
            ]
            st.caption("Validation loss and accuracy after each epoch.")
            st.plotly_chart(figures.training_curves(curves), key="compare_curves")
