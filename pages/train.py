"""Train: choose a preset and its settings, start a run on the server, watch it live, keep the result.

The run belongs to the server's job manager, not to this tab: navigating away, reloading or closing
the tab leaves it training, and coming back shows it again, live or finished.
"""

import streamlit as st

import app_common
from mnist_core import config
from mnist_core.config import PRESETS, get_preset
from mnist_core.errors import MnistError
from mnist_core.figures import Curve, curves_table, live_curve_spec, training_curves
from mnist_core.jobs import JobState
from mnist_core.precision import PRECISIONS, resolve_precision

app_common.run_inside_app()

# Each refresh costs training time: the rerun on the server and, more, the browser redrawing the page on the
# same cores. Every 1 s the app trained at 88.6% of the CLI's images/s, every 2 s at 96.5% (benchmarks.app_timing).
REFRESH_SECONDS = 2.0

jobs = app_common.training_jobs()


def progress_text(job: JobState) -> str:
    """The job's stage, or while it trains the same progress line the CLI and the pipeline print."""
    event = job.progress
    if job.status == "cancelling" or event is None or event.kind not in ("batch", "epoch"):
        return f"{job.stage}…"
    return event.progress_line()


def curves(job: JobState) -> list[Curve]:
    """Training loss and accuracy as they evolve within each epoch, validation at each epoch's end."""
    result = []
    if job.train_curve:
        points = job.train_curve
        result.append(
            Curve("train", [p.epoch for p in points], [p.loss for p in points], [p.accuracy for p in points])
        )
    if job.epochs:
        epochs = job.epochs
        result.append(
            Curve(
                "validation",
                [e.epoch for e in epochs],
                [e.val_loss for e in epochs],
                [e.val_accuracy for e in epochs],
                markers=True,
            )
        )
    return result


def show_metrics(job: JobState) -> None:
    event, last_epoch = job.progress, job.epochs[-1] if job.epochs else None
    columns = st.columns(4)
    for column, label, value in (
        (columns[0], "Train loss", event.loss if event else None),
        (columns[1], "Train accuracy", event.accuracy if event else None),
        (columns[2], "Validation loss", last_epoch.val_loss if last_epoch else None),
        (columns[3], "Validation accuracy", last_epoch.val_accuracy if last_epoch else None),
    ):
        shown = "–" if value is None else f"{value:.2%}" if "accuracy" in label else f"{value:.4f}"
        column.metric(label, shown, border=True)


@st.fragment(run_every=REFRESH_SECONDS)
def live_job() -> None:
    """Redrawn every REFRESH_SECONDS while the job runs; hands back to the full page once it ends."""
    job = jobs.latest()
    if job is None or not job.active:
        st.rerun()
    st.progress(job.fraction_done, text=progress_text(job))
    show_metrics(job)
    if job.train_curve:  # light charts: building a Plotly or Altair chart each time slows training down
        table = curves_table(curves(job))
        for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
            column.vega_lite_chart(table, live_curve_spec(metric))
    cancelling = job.status == "cancelling"
    if st.button("Cancelling…" if cancelling else "Cancel", icon=":material/stop_circle:", disabled=cancelling):
        jobs.cancel()
        st.rerun(scope="fragment")


def show_result(job: JobState) -> None:
    if job.status == "failed":
        st.error(job.message, icon=":material/error:")
        return
    if job.status == "cancelled":
        st.info(job.message, icon=":material/cancel:")
    else:
        summary = job.summary
        run_id = summary.run_id
        st.success(f"Run `{run_id}` is saved.", icon=":material/task_alt:")
        columns = st.columns(4)
        columns[0].metric("Test accuracy", f"{summary.test_accuracy:.2%}", border=True)
        columns[1].metric("Test loss", f"{summary.test_loss:.4f}", border=True)
        columns[2].metric("Training time", app_common.duration(summary.train_seconds), border=True)
        columns[3].metric("Images per second", f"{summary.images_per_second:,}", border=True)
        if summary.feedback_examples:
            accuracy = summary.feedback_accuracy
            st.markdown(
                f"Learned from **{summary.feedback_examples}** labelled examples; on the held-out ones it reads "
                + (f"**{accuracy:.1%}**." if accuracy is not None else "nothing (too few to hold any out).")
            )
        if summary.spooled:
            st.warning(job.message, icon=":material/cloud_off:")
        else:
            st.caption(job.message)
        active_col, link_col = st.columns([1, 2], vertical_alignment="center")
        if app_common.active_run_id() == run_id:
            active_col.markdown(":green[:material/star:] **This is the active model.**")
        elif active_col.button("Make it the active model", type="primary", icon=":material/star:"):
            app_common.activate(run_id)
            st.toast(f"Run {run_id} now makes the predictions.", icon=":material/star:")
            st.rerun()
        link_col.page_link(app_common.PAGES["evaluate"].path, label="Evaluate it", icon=":material/fact_check:")
    if job.train_curve:
        st.plotly_chart(training_curves(curves(job)), key="final_curves")


st.title("Train a model")
st.caption(
    "Training runs on the server, one run at a time. You can leave this page or close the tab: "
    "the run carries on, is evaluated on the test set and saved to the store."
)

job = jobs.latest()
if job is not None:
    preset = job.preset
    state = "Training" if job.active else f"Last run ({job.status})"
    with st.container(border=True):
        st.markdown(
            f"#### {state}: {preset.name}\n{app_common.plural(preset.epochs, 'epoch')} · batch {preset.batch_size} · "
            f"learning rate {preset.learning_rate:g} · seed {preset.seed} · {preset.precision}"
            + (" · augmentation" if preset.augmentation.active else "")
        )
        if job.active:
            live_job()
        else:
            show_result(job)

st.subheader("New run")
name = st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index("fast"), key="preset")
preset = PRESETS[name]
st.caption(preset.description)
with st.form("train"):
    epochs_col, batch_col, rate_col = st.columns(3)
    # The ranges are config's, the same the CLI and get_preset accept.
    epochs = epochs_col.number_input(
        "Epochs", config.MIN_EPOCHS, config.MAX_EPOCHS, preset.epochs, key=f"epochs_{name}"
    )
    batch_size = batch_col.number_input(
        "Batch size", config.MIN_BATCH_SIZE, config.MAX_BATCH_SIZE, preset.batch_size, step=32, key=f"batch_{name}"
    )
    learning_rate = rate_col.number_input(  # the smallest step the input shows; any rate above 0 trains
        "Learning rate", 0.0001, config.MAX_LEARNING_RATE, preset.learning_rate, step=0.0005, format="%.4f",
        key=f"rate_{name}",
    )
    augment_col, seed_col = st.columns([2, 1], vertical_alignment="bottom")
    augment = augment_col.toggle(
        "Augmentation: small random rotations, shifts and zooms of the training images",
        value=preset.augmentation.active,
        key=f"augment_{name}",
    )
    seed = seed_col.number_input("Seed", 0, config.MAX_SEED, preset.seed, key=f"seed_{name}")
    precision = st.segmented_control(
        "Precision", PRECISIONS, default="auto", key="precision", required=True,
        format_func=lambda choice: f"auto ({resolve_precision()})" if choice == "auto" else choice,
        help="bfloat16 mixed precision trains about twice as fast on CPUs with AVX512_BF16 or AMX and on "
        "recent GPUs; auto uses it where this machine has it. The saved model predicts in float32 either way.",
    )
    feedback_col, strategy_col = st.columns([2, 1], vertical_alignment="bottom")
    learn = feedback_col.toggle(
        "Learn from the labelled examples: the corrections users made on the Predict page",
        key="learn_from_feedback",
        help="A quarter of each digit's examples is held out: the run reports its accuracy on them.",
    )
    strategy = strategy_col.radio(
        "How", ["retrain", "finetune"], horizontal=True, key="feedback_strategy",
        help="retrain: this preset on MNIST plus the examples. finetune: the active model, a few epochs "
        "on the examples and a sample of MNIST (ignores the settings above).",
    )
    start = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

if start:
    try:
        chosen = get_preset(
            name,
            epochs=int(epochs),
            batch_size=int(batch_size),
            learning_rate=float(learning_rate),
            seed=int(seed),
            augment=augment,
            precision=precision,
        )
        plan = None
        if learn:
            from mnist_core.feedback.training import FeedbackPlan

            examples = app_common.feedback_store().snapshot()
            plan = FeedbackPlan(examples, strategy, base_model=app_common.model_in_use().run_id)
        jobs.start(chosen, splits=app_common.splits(chosen.seed), store=app_common.store(), feedback=plan)
    except MnistError as error:
        st.error(str(error), icon=":material/error:")
    else:
        st.rerun()
