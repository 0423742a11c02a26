"""Overview: what the studio does, the data at a glance, the active model, and a way into every page."""

import numpy as np
import streamlit as st

import app_common
from mnist_core import config
from mnist_core.data import sample_indices
from mnist_core.figures import montage

app_common.run_inside_app()

st.title("MNIST digit-recognition studio")
st.markdown(
    "Train small convolutional networks on **MNIST**, the 70,000 handwritten digits every vision "
    "course starts with; see where they go wrong; and try them on your own handwriting. "
    "Every run is saved with its metrics, so you can compare runs and choose the one that predicts."
)

splits, report = app_common.mnist()
train_col, validation_col, test_col, size_col = st.columns(4)
train_col.metric("Training images", f"{len(splits.train):,}", border=True)
validation_col.metric("Validation images", f"{len(splits.validation):,}", border=True)
test_col.metric("Test images", f"{len(splits.test):,}", border=True)
size_col.metric("Image size", f"{config.IMAGE_SIZE}×{config.IMAGE_SIZE} grey", border=True)

examples = sample_indices(splits.train.labels, per_digit=2, seed=config.DEFAULT_SEED)
images = np.stack([splits.train.images[index] for digit in range(config.NUM_CLASSES) for index in examples[digit]])
st.image(montage(images, columns=20, scale=2), caption="Two training images of each digit")
if report.ok:
    st.caption(f":green[:material/verified:] The data passed all {len(report.checks)} validation checks.")

st.subheader("The model in use")
active = app_common.model_in_use().run_id
if active is not None:
    summary = app_common.run_details(active)["summary"]
    accuracy_col, details_col = st.columns([1, 3])
    accuracy_col.metric("Test accuracy", f"{summary.test_accuracy:.2%}", border=True)
    details_col.markdown(
        f"Run `{active}`: the **{summary.preset}** preset, {app_common.plural(summary.epochs, 'epoch')}, "
        f"trained in {summary.train_seconds:.0f} s, saved {app_common.created_at(summary):%Y-%m-%d %H:%M} UTC."
    )
elif app_common.has_baseline():
    accuracy_col, details_col = st.columns([1, 3])
    accuracy_col.metric("Test accuracy", f"{app_common.baseline_evaluation()['test_accuracy']:.2%}", border=True)
    details_col.markdown(
        "The **bundled baseline** predicts until you make one of your runs active on the *Runs* page."
    )
else:
    st.info("There is no model yet: train one and make it active.", icon=":material/info:")

st.subheader("Pages")
columns = st.columns(3)
for position, info in enumerate(page for name, page in app_common.PAGES.items() if name != "overview"):
    with columns[position % 3].container(border=True):
        st.page_link(info.path, label=f"**{info.title}**", icon=info.icon)
        st.caption(info.blurb)
