"""Predict: draw a digit or upload pictures, and see what the model reads and the 28x28 image it was shown.

Under every digit read the user can say it was right or give the true digit: that makes a labelled
example the Train page can learn from. Predictions are logged (off the hot path) unless switched off.
"""

import hashlib
import io

import numpy as np
import streamlit as st
from PIL import Image, ImageOps

import app_common
from mnist_core import config, figures
from mnist_core.errors import ImageError, NoDigitError
from mnist_core.feedback import logging_enabled
from mnist_core.predict import FileResult, ModelChoice, Prediction, Reading

app_common.run_inside_app()

CANVAS_WIDTH, CANVAS_HEIGHT = 448, 280  # wide enough for a number of four digits
PICTURE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
SAMPLES = sorted(path for path in config.ASSETS_DIR.iterdir() if path.suffix.lstrip(".") in PICTURE_TYPES)


@st.cache_data(max_entries=256, show_spinner=False)
def read_picture(name: str, picture: bytes, choice: ModelChoice) -> FileResult:
    """One picture's reading or what is wrong with it; the same bytes and model give the same answer."""
    try:
        return FileResult(name, reading=app_common.predictor(choice).read(picture))
    except ImageError as error:
        return FileResult(name, error=str(error))


def show_reading(reading: Reading, key: str, original: Image.Image, full_size: tuple[int, int] | None = None) -> None:
    """The number (or digit), how sure, each digit boxed on the ``original`` (a thumbnail of a picture of
    ``full_size``, where the boxes are), the images the model saw, and on request which strokes decided."""
    full_size = full_size or original.size
    scale = original.width / full_size[0]
    digits = reading.digits
    single = len(digits) == 1
    columns = st.columns([1.3, 1, 1], vertical_alignment="center")
    labels = [f"{d.digit} {d.confidence:.0%}" if d.sure else f"{d.digit}|{d.runner_up}?" for d in digits]
    boxes = [tuple(round(value * scale) for value in d.box) for d in digits]
    columns[0].image(figures.boxed(original, boxes, labels, [d.sure for d in digits]), caption="Original")
    seen = figures.montage(np.array([d.image for d in digits]), columns=len(digits), scale=4 if single else 2)
    columns[1].image(seen, caption="What the model saw (28×28 each)")
    columns[2].metric("Prediction", digits[0].verdict if single else reading.number)
    columns[2].metric("Confidence", f"{min(d.confidence for d in digits):.1%}", help="calibrated; the least sure digit")
    for position, digit in enumerate(digits):
        if not digit.sure:
            where = "" if single else f"digit {position + 1}: "
            st.warning(f"{where}not sure: {digit.digit} or {digit.runner_up}? ({digit.confidence:.0%} {digit.digit})",
                       icon=":material/help:")
    if single:
        st.plotly_chart(figures.probability_bars(digits[0].probabilities), key=key, config={"displayModeBar": False})
    if st.toggle("Why? Show which strokes decided", key=f"{key}_why"):
        show_saliency(reading, original, full_size)


@st.cache_data(max_entries=256, show_spinner=False)
def saliency(image: np.ndarray, digit: int, choice: ModelChoice) -> np.ndarray:
    """One digit's occlusion map: a few hundred model inputs, so kept across reruns (a click elsewhere on the
    page, a Right / Wrong answer) instead of computed again."""
    from mnist_core.explain import occlusion

    return occlusion(app_common.predictor(choice), image, digit)


def show_saliency(reading: Reading, original: Image.Image, full_size: tuple[int, int]) -> None:
    """Occlusion maps: over each 28x28 input, and all of them laid over the original picture."""
    from mnist_core.explain import over_picture

    choice = app_common.model_in_use()
    maps = [saliency(digit.image, digit.digit, choice) for digit in reading.digits]
    over = np.max([over_picture(heat, digit, full_size) for heat, digit in zip(maps, reading.digits, strict=True)],
                  axis=0)
    over = np.asarray(Image.fromarray(over).resize(original.size, Image.Resampling.BILINEAR))
    left, right = st.columns([1, 1.3])
    left.image(
        [figures.heat_overlay(figures.enlarge(d.image, 4), np.kron(heat, np.ones((4, 4)))) for d, heat in
         zip(reading.digits, maps, strict=True)],
        caption=[f"{d.digit}; runner-up {d.runner_up} at {d.probabilities[d.runner_up]:.1%}" for d in reading.digits],
    )
    right.image(figures.heat_overlay(original, over), caption="Saliency over the original: where erasing ink would "
                "weaken the answer most")


def log_prediction(key: str, prediction: Prediction, *, source: str, original, name=None, drawing=False) -> str | None:
    """The prediction's log entry id; logged once per picture, and once per drawing in its latest state."""
    if not st.session_state.get("keep_log", logging_enabled()):
        return None
    logged = st.session_state.setdefault("logged", {})
    if key not in logged or drawing:
        logged[key] = app_common.prediction_log().record(
            prediction.image, prediction.probabilities, source=source, model=model.source, original=original,
            name=name, entry_id=logged.get(key), settle=drawing,
        )
    return logged[key]


def ask_feedback(prediction: Prediction, key: str, *, source: str, original, prediction_id: str | None, name=None):
    """"Right" or "Wrong, it is a [0-9]": either answer keeps the image as a labelled example; undo deletes it."""
    answers = st.session_state.setdefault("answers", {})
    if key in answers:
        entry_id, label = answers[key]
        saved_col, undo_col = st.columns([3, 1], vertical_alignment="center")
        saved_col.success(f"Kept as a **{label}** for training.", icon=":material/school:")
        if undo_col.button("Undo", key=f"undo_{key}", icon=":material/undo:"):
            app_common.feedback_store().delete(entry_id)
            app_common.forget_feedback()
            del answers[key]
            st.session_state.pop(f"wrong_{key}", None)
            st.rerun()
        return
    right_col, wrong_col = st.columns([1, 3], vertical_alignment="bottom")
    right = right_col.button("Right", key=f"right_{key}", icon=":material/thumb_up:")
    wrong = wrong_col.segmented_control("Wrong, it is a", list(range(config.NUM_CLASSES)), key=f"wrong_{key}")
    label = prediction.digit if right else wrong
    if label is None:
        return
    entry, stored = app_common.feedback_store().add_example(
        prediction.image, label, source=source, original=original, probabilities=prediction.probabilities,
        model=model.source, prediction_id=prediction_id, name=name,
    )
    answers[key] = (entry.id, label)
    app_common.forget_feedback()
    if not stored:
        st.toast("The store is unreachable: the example is kept on the server and sent when it is back.",
                 icon=":material/cloud_off:")
    st.rerun()


def keep_and_ask(reading: Reading, key: str, *, source: str, original, name=None, drawing=False) -> None:
    """Log every digit read (a drawing in its latest state) and ask under each whether it was right."""
    several = len(reading.digits) > 1
    for position, digit in enumerate(reading.digits):
        if several:
            st.caption(f"Digit {position + 1}, read as {digit.digit}")
        digit_key = f"{key}_{position}"
        logged = log_prediction(digit_key, digit, source=source, original=original, name=name, drawing=drawing)
        # A drawing's answer belongs to the digit as it looks now: the next stroke asks again.
        answer_key = f"{digit_key}_{hashlib.sha256(digit.image.tobytes()).hexdigest()[:16]}" if drawing else digit_key
        ask_feedback(digit, answer_key, source=source, original=original, prediction_id=logged, name=name)


def show_pictures(pictures: list[tuple[str, bytes]], choice: ModelChoice, key: str) -> None:
    """A card per picture, two to a row; a picture that cannot be read gets a short message instead."""
    columns = st.columns(2)
    for position, (name, picture) in enumerate(pictures):
        result = read_picture(name, picture, choice)
        with columns[position % 2].container(border=True):
            st.markdown(f"**{name}**")
            if result.reading is None:
                st.warning(result.error, icon=":material/broken_image:")
                continue
            full_size = ImageOps.exif_transpose(Image.open(io.BytesIO(picture))).size
            show_reading(result.reading, key=f"{key}_{position}", original=figures.thumbnail(picture, 512),
                         full_size=full_size)
            picture_key = f"{key}_{hashlib.sha256(picture).hexdigest()[:16]}_{choice.run_id}"
            keep_and_ask(result.reading, picture_key, source="upload", original=picture, name=name)


st.title("Predict")

choice = app_common.model_in_use()
if choice.run_id is None and not app_common.has_baseline():
    st.info("There is no model yet: train one and make it active.", icon=":material/info:")
    st.page_link(app_common.PAGES["train"].path, label="Train a model", icon=":material/model_training:")
    st.stop()
model = app_common.predictor(choice)
st.caption(f"Predicting with the {model.source}. Every picture is cropped, scaled and centred the way MNIST was.")
st.toggle(
    "Keep my predictions so the studio can learn from them (see the Activity page)",
    value=logging_enabled(),
    key="keep_log",
    help="Each picture and each finished drawing is kept in the store with what the model read. "
    "Corrections are always kept: they are how you teach the model.",
)

draw_tab, upload_tab, samples_tab = st.tabs(["Draw", "Upload", "Samples"])

with draw_tab:
    from streamlit_drawable_canvas import st_canvas  # needs a running app: importing it registers the component

    canvas_col, result_col = st.columns([1, 1.6], gap="large")
    with canvas_col:
        stroke = st.slider("Stroke width", 8, 40, 20, key="stroke")
        canvas = st_canvas(
            stroke_width=stroke,
            stroke_color="#ffffff",
            background_color="#000000",
            width=CANVAS_WIDTH,
            height=CANVAS_HEIGHT,
            drawing_mode="freedraw",
            return_image_data=True,
            key="canvas",
        )
        st.caption("White ink on black, like MNIST. One digit or a whole number. Undo, redo or clear with the "
                   "canvas toolbar.")
    with result_col:
        drawn = bool(canvas.json_data and canvas.json_data.get("objects"))
        try:
            if not drawn or canvas.image_data is None:
                st.session_state.drawing = st.session_state.get("drawing", 0) + 1  # the next stroke starts a new one
                raise NoDigitError("nothing drawn yet")
            drawing = np.array(canvas.image_data, dtype=np.uint8)
            reading = model.read(drawing)
            show_reading(reading, key="canvas_probabilities", original=Image.fromarray(drawing))
            keep_and_ask(reading, f"drawing_{st.session_state.get('drawing', 0)}", source="canvas",
                         original=drawing, drawing=True)
        except NoDigitError:
            st.info("Draw a digit in the black box, or a whole number; the prediction follows every stroke.",
                    icon=":material/draw:")

with upload_tab:
    uploads = st.file_uploader(
        "Pictures of handwritten digits or numbers", type=PICTURE_TYPES, accept_multiple_files=True, key="uploads"
    )
    if uploads:
        show_pictures([(upload.name, upload.getvalue()) for upload in uploads], choice, key="upload")
    else:
        st.caption("Photos of a digit on paper work too: the ink is found, cropped and centred.")

with samples_tab:
    st.caption("Digits photographed in different ways: pencil, ballpoint, marker, chalk on a board, a cut-out.")
    if st.button("Try the sample pictures", icon=":material/photo_library:", key="try_samples"):
        st.session_state.show_samples = True
    if st.session_state.get("show_samples"):
        show_pictures([(path.name, path.read_bytes()) for path in SAMPLES], choice, key="sample")
