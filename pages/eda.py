"""Explore the data: the validation report, label balance, random samples, mean digits, pixel intensities."""

import numpy as np
import pandas as pd
import streamlit as st

import app_common
from mnist_core import config, data, figures

app_common.run_inside_app()

DIGITS = list(range(config.NUM_CLASSES))


@st.cache_data(show_spinner=False)
def label_counts() -> dict[str, np.ndarray]:
    return {name: data.label_counts(split.labels) for name, split in app_common.splits().items()}


@st.cache_data(show_spinner=False)
def imbalance_ratios() -> dict[str, float]:
    return {name: data.imbalance_ratio(split.labels) for name, split in app_common.splits().items()}


@st.cache_data(show_spinner=False)
def mean_images() -> np.ndarray:
    return data.mean_images(app_common.splits().train)


@st.cache_data(show_spinner=False)
def pixel_histogram() -> np.ndarray:
    return data.pixel_histogram(app_common.splits().train.images)


@st.cache_data(show_spinner=False, max_entries=64)
def sample_rows(digits: tuple[int, ...], per_digit: int, seed: int) -> dict[int, np.ndarray]:
    """For each digit, ``per_digit`` random training images side by side as one picture."""
    train = app_common.splits().train
    chosen = data.sample_indices(train.labels, per_digit, seed, list(digits))
    return {digit: figures.montage(train.images[indices], columns=per_digit) for digit, indices in chosen.items()}


st.title("Explore the data")
st.caption(
    "The 60,000 MNIST training images are split, keeping each digit's share, into "
    f"{config.TRAIN_SIZE - config.VALIDATION_SIZE:,} for training and {config.VALIDATION_SIZE:,} for "
    f"validation; the {config.TEST_SIZE:,} test images are kept for the final evaluation."
)

# ---------------------------------------------------------------- validation report

report = app_common.mnist()[1]
if report.ok:
    st.success(f"The data passed all {len(report.checks)} checks.", icon=":material/verified:")
else:
    st.error(f"{len(report.failures())} of {len(report.checks)} checks failed.", icon=":material/error:")
with st.expander("Validation report", expanded=not report.ok):
    st.dataframe(
        pd.DataFrame(
            {
                "": ["✅" if check.passed else "❌" for check in report.checks],
                "check": [check.name for check in report.checks],
                "result": [check.detail for check in report.checks],
            }
        ),
        hide_index=True,
    )

# ---------------------------------------------------------------- labels

st.subheader("Label distribution")
chart_col, ratio_col = st.columns([3, 1])
chart_col.plotly_chart(figures.label_distribution(label_counts()))
with ratio_col:
    st.markdown("**Imbalance ratio**")
    st.caption("Most common digit over the rarest; 1.0 is perfectly balanced.")
    for name, ratio in imbalance_ratios().items():
        st.metric(f"{name}", f"{ratio:.2f}")

# ---------------------------------------------------------------- samples

st.subheader("Random samples")
if "sample_seed" not in st.session_state:
    st.session_state.sample_seed = config.DEFAULT_SEED
digits_col, count_col, button_col = st.columns([3, 2, 1], vertical_alignment="bottom")
digits = digits_col.pills("Digits", DIGITS, selection_mode="multi", default=DIGITS, key="sample_digits")
per_digit = count_col.slider("Images per digit", 4, 16, 10, key="sample_count")
if button_col.button("New samples", icon=":material/shuffle:", width="stretch"):
    st.session_state.sample_seed += 1
if not digits:
    st.info("Choose at least one digit.")
for digit, row in sample_rows(tuple(sorted(digits)), per_digit, st.session_state.sample_seed).items():
    label_col, images_col = st.columns([1, 20], vertical_alignment="center")
    label_col.markdown(f"### {digit}")
    images_col.image(row)

# ---------------------------------------------------------------- mean images and pixels

st.subheader("Mean image per digit")
st.caption("The average of every training image of each digit: where the ink usually is.")
st.image([figures.enlarge(image, 3) for image in mean_images()], caption=[str(digit) for digit in DIGITS])

st.subheader("Pixel intensities")
histogram = pixel_histogram()
include_black = st.toggle("Include black background pixels (0)", value=False)
st.plotly_chart(figures.pixel_histogram(histogram, include_black=include_black))
ink = histogram[1:].sum()
st.caption(
    f"{histogram[0] / histogram.sum():.0%} of all pixels are black background. Of the rest, "
    f"{histogram[128:].sum() / ink:.0%} are brighter than mid-grey: solid strokes with soft, anti-aliased edges."
)
