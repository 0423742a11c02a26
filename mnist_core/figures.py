"""Pictures of the numbers: Plotly charts and digit image grids for the app and notebooks.

Plain functions from arrays to figures or images, with no Streamlit in them, so every chart looks
the same wherever it is drawn and can be checked without a browser.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageOps
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


# ---------------------------------------------------------------- evaluation


def confusion_heatmap(matrix: Sequence[Sequence[int]], *, normalise: bool, title: str = "") -> go.Figure:
    """The confusion matrix, true digits down and predictions across; normalised rows show recall."""
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
    figure.update_xaxes(title="predicted digit", tickvals=DIGITS, side="top")
    figure.update_yaxes(title="true digit", tickvals=DIGITS, autorange="reversed")
    return _layout(figure, height=460, title=title, margin={"l": 10, "r": 10, "t": 70, "b": 10})


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
