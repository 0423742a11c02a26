"""Pictures of the numbers: Plotly charts and digit image grids for the app and notebooks.

Plain functions from arrays to figures or images, with no Streamlit in them, so every chart looks
the same wherever it is drawn and can be checked without a browser.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageOps
from plotly.subplots import make_subplots

from mnist_core import config

DIGITS = list(range(config.NUM_CLASSES))
PALETTE = ["#4f46e5", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"]
HEIGHT = 340


def _layout(figure: go.Figure, **changes) -> go.Figure:
    """The look every chart shares: compact margins and the legend underneath."""
    shared = {
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "y": -0.2},
    }
    figure.update_layout(**(shared | changes))
    return figure


# ---------------------------------------------------------------- data


def label_distribution(counts: dict[str, np.ndarray]) -> go.Figure:
    """Images per digit, one group of bars per digit and one colour per split."""
    figure = go.Figure(
        [
            go.Bar(name=split, x=DIGITS, y=per_digit, marker_color=PALETTE[position])
            for position, (split, per_digit) in enumerate(counts.items())
        ]
    )
    figure.update_xaxes(title="digit", tickmode="array", tickvals=DIGITS)
    figure.update_yaxes(title="images")
    return _layout(figure, barmode="group", title="Images per digit")


def pixel_histogram(counts: np.ndarray, *, include_black: bool) -> go.Figure:
    """How many pixels have each intensity, on a log scale since black background dominates."""
    start = 0 if include_black else 1
    figure = go.Figure(go.Bar(x=np.arange(start, len(counts)), y=counts[start:], marker_color=PALETTE[0]))
    figure.update_xaxes(title="pixel intensity (0 = black, 255 = white)")
    figure.update_yaxes(title="pixels", type="log")
    return _layout(figure, bargap=0, title="Pixel intensities")


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class Curve:
    """One line on the training chart: loss and accuracy against (possibly fractional) epochs."""

    name: str
    epochs: Sequence[float]
    loss: Sequence[float]
    accuracy: Sequence[float]
    markers: bool = False


def history_curves(history: dict, prefix: str = "") -> list[Curve]:
    """The train and validation curves of a stored run's ``history.json``."""
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    within = history.get("batch_curve") or {}
    if within.get("epoch"):  # the curve as the Train page drew it, batch by batch
        curves = [Curve(f"{prefix}train", within["epoch"], within["loss"], within["accuracy"])]
    else:
        curves = [Curve(f"{prefix}train", epochs, history.get("loss", []), history.get("accuracy", []), markers=True)]
    if history.get("val_loss"):
        curves.append(
            Curve(f"{prefix}validation", epochs, history["val_loss"], history["val_accuracy"], markers=True)
        )
    return curves


def training_curves(curves: Sequence[Curve]) -> go.Figure:
    """Loss and accuracy side by side, one line per curve."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.08)
    for position, curve in enumerate(curves):
        style = {
            "name": curve.name,
            "legendgroup": curve.name,
            "mode": "lines+markers" if curve.markers else "lines",
            "line": {"color": PALETTE[position % len(PALETTE)]},
        }
        figure.add_trace(go.Scatter(x=list(curve.epochs), y=list(curve.loss), **style), row=1, col=1)
        figure.add_trace(
            go.Scatter(x=list(curve.epochs), y=list(curve.accuracy), showlegend=False, **style), row=1, col=2
        )
    figure.update_xaxes(title="epoch", rangemode="tozero")
    return _layout(figure)


def curves_table(curves: Sequence[Curve]) -> pd.DataFrame:
    """The curves as one long table (``curve``, ``epoch``, ``loss``, ``accuracy``), for :func:`live_curve_spec`."""
    return pd.DataFrame(
        [
            {"curve": curve.name, "epoch": epoch, "loss": loss, "accuracy": accuracy}
            for curve in curves
            for epoch, loss, accuracy in zip(curve.epochs, curve.loss, curve.accuracy, strict=True)
        ],
        columns=["curve", "epoch", "loss", "accuracy"],
    )


def live_curve_spec(metric: str) -> dict:
    """A plain Vega-Lite line chart of one column of :func:`curves_table`, one line per curve.

    For the Train page's live charts, redrawn every two seconds while a run trains in the same process: a
    Plotly figure (60 ms) or ``st.line_chart`` (Altair builds and validates a spec) hold the interpreter
    lock the training thread needs; a ready spec is passed through as it is.
    """
    return {
        "title": metric.capitalize(),
        "height": 280,
        "mark": {"type": "line", "point": False},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
            "y": {"field": metric, "type": "quantitative", "title": None, "scale": {"zero": False}},
            "color": {"field": "curve", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        },
    }


# ---------------------------------------------------------------- evaluation


def confusion_heatmap(
    matrix: Sequence[Sequence[int]], *, normalise: bool, title: str = "", clickable: bool = False
) -> go.Figure:
    """The confusion matrix, true digits down and predictions across; normalised rows show recall.

    ``clickable`` lays a selectable point over every cell, for ``st.plotly_chart(on_select=...)``.
    """
    counts = np.asarray(matrix, dtype=float)
    if normalise:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        text = [[f"{value:.1%}" if value else "" for value in row] for row in values]
    else:
        values = counts
        text = [[f"{int(value)}" if value else "" for value in row] for row in counts]
    # Colour by the log of the value, so the few mistakes stand out next to the large diagonal.
    colour = np.log10(1 + (values * 1000 if normalise else values))
    figure = go.Figure(
        go.Heatmap(
            z=colour,
            x=DIGITS,
            y=DIGITS,
            text=text,
            texttemplate="%{text}",
            customdata=values,
            hovertemplate="true %{y}, predicted %{x}: %{customdata:" + (".2%" if normalise else ",d") + "}"
            "<extra></extra>",
            colorscale="Blues",
            showscale=False,
        )
    )
    if clickable:  # Plotly reports no selection for heatmap cells: a clear marker over each cell is clicked instead
        cells = [(true, predicted) for true in DIGITS for predicted in DIGITS]
        figure.add_trace(
            go.Scatter(
                x=[predicted for _, predicted in cells],
                y=[true for true, _ in cells],
                mode="markers",
                marker={"size": 30, "symbol": "square", "color": "rgba(0,0,0,0)"},
                customdata=[values[true][predicted] for true, predicted in cells],
                hovertemplate="true %{y}, predicted %{x}: %{customdata:" + (".2%" if normalise else ",d") + "}"
                "<br>click to see these images<extra></extra>",
                showlegend=False,
            )
        )
    figure.update_xaxes(title="predicted digit", tickvals=DIGITS, side="top")
    figure.update_yaxes(title="true digit", tickvals=DIGITS, autorange="reversed")
    return _layout(figure, height=460, title=title, margin={"l": 10, "r": 10, "t": 70, "b": 10})


def reliability_diagram(calibration: dict) -> go.Figure:
    """How often the model is right against how sure it says it is, before and after temperature scaling."""
    figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                                  line={"color": "#9ca3af", "dash": "dash"}))
    for position, (key, name) in enumerate(
        (("reliability_uncalibrated", f"raw (ECE {calibration['ece_uncalibrated']:.2%})"),
         ("reliability", f"T = {calibration['temperature']:.3g} (ECE {calibration['ece']:.2%})"))
    ):
        bins = calibration[key]
        figure.add_trace(
            go.Scatter(
                x=[row["confidence"] for row in bins],
                y=[row["accuracy"] for row in bins],
                customdata=[row["count"] for row in bins],
                mode="lines+markers",
                name=name,
                marker={"color": PALETTE[position * 2], "size": 8},
                hovertemplate="sure %{x:.1%}, right %{y:.1%} (%{customdata:,d} images)<extra></extra>",
            )
        )
    figure.update_xaxes(title="confidence (mean of the bin)", range=[0, 1.02], tickformat=".0%")
    figure.update_yaxes(title="accuracy", range=[0, 1.02], tickformat=".0%")
    return _layout(figure, height=380, title="Reliability on the test set")


def per_class_comparison(rows: dict[str, Sequence[dict]], metric: str = "f1") -> go.Figure:
    """One metric of ``evaluation["per_class"]`` per digit, one colour per run."""
    figure = go.Figure(
        [
            go.Bar(name=name, x=DIGITS, y=[row[metric] for row in per_class], marker_color=PALETTE[position])
            for position, (name, per_class) in enumerate(rows.items())
        ]
    )
    lowest = min(row[metric] for per_class in rows.values() for row in per_class)
    figure.update_xaxes(title="digit", tickvals=DIGITS)
    figure.update_yaxes(title=metric, range=[max(0.0, lowest - 0.02), 1.0])
    return _layout(figure, barmode="group", title=f"{metric.upper()} per digit")


# ---------------------------------------------------------------- prediction


def probability_bars(probabilities: Sequence[float]) -> go.Figure:
    """The model's probability for each digit, the winner highlighted."""
    winner = int(np.argmax(probabilities))
    colours = [PALETTE[0] if digit == winner else "#c7d2fe" for digit in DIGITS]
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=list(probabilities),
            marker_color=colours,
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_xaxes(tickvals=DIGITS, title="digit")
    figure.update_yaxes(range=[0, 1.15], tickformat=".0%", title=None)
    return _layout(figure, height=240, margin={"l": 10, "r": 10, "t": 10, "b": 10})


# ---------------------------------------------------------------- images


def thumbnail(picture: bytes, size: int = 256) -> Image.Image:
    """A small, upright RGBA copy of an encoded picture that every browser can show (TIFF, 16-bit, CMYK...)."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(picture)))
    image.thumbnail((size, size))
    return image.convert("RGBA")


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """An image ``scale`` times larger with square pixels (browsers blur small images when they scale them).

    ``image`` is uint8 0..255 or float 0..1 (float 0..255 for mean images is also fine once clipped).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        top = 1.0 if image.max(initial=0) <= 1.0 else 255.0
        image = (np.clip(image / top, 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.kron(image, np.ones((scale, scale), dtype=np.uint8))


def montage(images: np.ndarray, columns: int, scale: int = 3, gap: int = 2) -> np.ndarray:
    """Images ``(N, 28, 28)`` in a grid ``columns`` wide, enlarged, separated by grey lines."""
    size = config.IMAGE_SIZE * scale
    rows = max(1, -(-len(images) // columns))
    grid = np.full((rows * (size + gap) - gap, columns * (size + gap) - gap), 64, dtype=np.uint8)
    for position, image in enumerate(images):
        row, column = divmod(position, columns)
        top, left = row * (size + gap), column * (size + gap)
        grid[top : top + size, left : left + size] = enlarge(image, scale)
    return grid


def boxed(picture: Image.Image, boxes: Sequence[tuple[int, int, int, int]], labels: Sequence[str],
          sure: Sequence[bool]) -> Image.Image:
    """The picture with each digit's box drawn on it and labelled (green when sure, amber when not)."""
    result = picture.convert("RGB")
    draw = ImageDraw.Draw(result)
    line = max(2, round(max(result.size) / 200))
    for box, label, confident in zip(boxes, labels, sure, strict=True):
        colour = "#10b981" if confident else "#f59e0b"
        draw.rectangle(box, outline=colour, width=line)
        draw.text((box[0] + line, max(0, box[1] - 12 - line)), label, fill=colour,
                  font_size=max(12, round(max(result.size) / 30)))
    return result


def heat_overlay(picture: np.ndarray | Image.Image, heat: np.ndarray) -> np.ndarray:
    """A grey picture dimmed, with ``heat`` (same size, in [0, 1]) laid over it in red to yellow."""
    grey = np.asarray(Image.fromarray(np.asarray(picture)).convert("L") if isinstance(picture, np.ndarray)
                      else picture.convert("L"), dtype=np.float32) / 255
    heat = np.clip(heat, 0, 1)[..., None]
    base = np.repeat(0.45 * grey[..., None], 3, axis=2)
    colour = np.stack([np.ones_like(heat[..., 0]), heat[..., 0] ** 0.5 * 0.85, np.zeros_like(heat[..., 0])], axis=2)
    mixed = base * (1 - heat) + colour * heat
    return (np.clip(mixed, 0, 1) * 255 + 0.5).astype(np.uint8)
