"""Predict: draw a digit or upload pictures, and see what the model reads and the 28x28 image it was shown."""

import streamlit as st

import app_common
from mnist_core import config, figures
from mnist_core.errors import ImageError, NoDigitError
from mnist_core.predict import FileResult, ModelChoice, Prediction

app_common.run_inside_app()

CANVAS_SIZE = 280
PICTURE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
SAMPLES = sorted(path for path in config.ASSETS_DIR.iterdir() if path.suffix.lstrip(".") in PICTURE_TYPES)


@st.cache_data(max_entries=256, show_spinner=False)
def read_picture(name: str, picture: bytes, choice: ModelChoice) -> FileResult:
    """One picture's prediction or what is wrong with it; the same bytes and model give the same answer."""
    try:
        return FileResult(name, prediction=app_common.predictor(choice).predict_image(picture))
    except ImageError as error:
        return FileResult(name, error=str(error))


def show_prediction(prediction: Prediction, key: str, original: bytes | None = None) -> None:
    """The digit, how sure the model is, the image it saw (beside the ``original``) and every digit's probability."""
    columns = st.columns([1, 1, 1.2] if original else [1, 1.4], vertical_alignment="center")
    if original:
        columns[0].image(figures.thumbnail(original), caption="Original")
    seen_col, digit_col = columns[-2:]
    seen_col.image(figures.enlarge(prediction.image, scale=4), caption="What the model saw (28×28)")
    digit_col.metric("Prediction", prediction.digit)
    digit_col.metric("Confidence", f"{prediction.confidence:.1%}")
    st.plotly_chart(figures.probability_bars(prediction.probabilities), key=key, config={"displayModeBar": False})


def show_pictures(pictures: list[tuple[str, bytes]], choice: ModelChoice, key: str) -> None:
    """A card per picture, two to a row; a picture that cannot be read gets a short message instead."""
    columns = st.columns(2)
    for position, (name, picture) in enumerate(pictures):
        result = read_picture(name, picture, choice)
        with columns[position % 2].container(border=True):
            st.markdown(f"**{name}**")
            if result.prediction is None:
                st.warning(result.error, icon=":material/broken_image:")
                continue
            show_prediction(result.prediction, key=f"{key}_{position}", original=picture)


st.title("Predict")

choice = app_common.model_in_use()
if choice.run_id is None and not app_common.has_baseline():
    st.info("There is no model yet: train one and make it active.", icon=":material/info:")
    st.page_link(app_common.PAGES["train"].path, label="Train a model", icon=":material/model_training:")
    st.stop()
model = app_common.predictor(choice)
st.caption(f"Predicting with the {model.source}. Every picture is cropped, scaled and centred the way MNIST was.")

draw_tab, upload_tab, samples_tab = st.tabs(["Draw", "Upload", "Samples"])

with draw_tab:
    from streamlit_drawable_canvas import st_canvas  # needs a running app: importing it registers the component

    canvas_col, result_col = st.columns([1, 2], gap="large")
    with canvas_col:
        stroke = st.slider("Stroke width", 8, 40, 20, key="stroke")
        canvas = st_canvas(
            stroke_width=stroke,
            stroke_color="#ffffff",
            background_color="#000000",
            width=CANVAS_SIZE,
            height=CANVAS_SIZE,
            drawing_mode="freedraw",
            return_image_data=True,
            key="canvas",
        )
        st.caption("White ink on black, like MNIST. Undo, redo or clear with the canvas toolbar.")
    with result_col:
        drawn = bool(canvas.json_data and canvas.json_data.get("objects"))
        try:
            if not drawn or canvas.image_data is None:
                raise NoDigitError("nothing drawn yet")
            show_prediction(model.predict_image(canvas.image_data), key="canvas_probabilities")
        except NoDigitError:
            st.info("Draw a digit in the black box; the prediction follows every stroke.", icon=":material/draw:")

with upload_tab:
    uploads = st.file_uploader(
        "Pictures of handwritten digits, one digit each", type=PICTURE_TYPES, accept_multiple_files=True, key="uploads"
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
