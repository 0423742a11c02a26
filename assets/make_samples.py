"""Draw the sample pictures in ``assets/``: handwritten digits photographed in different ways.

Run ``python assets/make_samples.py`` to remake them; the same seed gives the same pictures.
Each digit is a few smooth pen strokes (Catmull-Rom curves through hand-placed points) drawn
with a varying width, slightly jittered and rotated, then laid on a surface (paper, blackboard,
nothing) with uneven lighting, vignetting, sensor noise and a little blur, and saved as a JPEG
(or a PNG when the sample is about transparency). ``img1.jpg`` is the project's reference photo:
a 3 in dark ink on paper, off-centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ASSETS = Path(__file__).resolve().parent
SUPERSAMPLE = 3  # strokes are drawn this much larger, then shrunk: smooth anti-aliased edges

Point = tuple[float, float]

# Each digit as strokes through points in a box 1 high and about 0.8 wide (x right, y down).
STROKES: dict[int, list[list[Point]]] = {
    0: [[(0.5, 0.0), (0.2, 0.15), (0.1, 0.5), (0.2, 0.88), (0.5, 1.0), (0.8, 0.85), (0.88, 0.5),
         (0.78, 0.12), (0.5, 0.0), (0.35, 0.06)]],
    1: [[(0.4, 0.12), (0.56, 0.0), (0.53, 0.5), (0.5, 1.0)]],
    2: [[(0.12, 0.25), (0.35, 0.03), (0.65, 0.02), (0.82, 0.22), (0.72, 0.48), (0.42, 0.74),
         (0.1, 0.98)], [(0.1, 0.98), (0.5, 0.95), (0.9, 0.97)]],
    3: [[(0.12, 0.14), (0.4, 0.0), (0.72, 0.06), (0.78, 0.26), (0.6, 0.42), (0.36, 0.48)],
        [(0.36, 0.48), (0.7, 0.53), (0.86, 0.74), (0.72, 0.94), (0.42, 1.0), (0.1, 0.88)]],
    4: [[(0.62, 0.0), (0.35, 0.35), (0.08, 0.66)], [(0.08, 0.66), (0.5, 0.65), (0.92, 0.63)],
        [(0.68, 0.3), (0.66, 0.65), (0.64, 1.0)]],
    5: [[(0.85, 0.02), (0.5, 0.03), (0.25, 0.03)], [(0.25, 0.03), (0.22, 0.25), (0.18, 0.46)],
        [(0.18, 0.46), (0.5, 0.37), (0.8, 0.52), (0.84, 0.78), (0.55, 0.98), (0.12, 0.9)]],
    6: [[(0.72, 0.02), (0.42, 0.2), (0.2, 0.55), (0.24, 0.88), (0.5, 1.0), (0.76, 0.86), (0.76, 0.6),
         (0.5, 0.48), (0.22, 0.62)]],
    7: [[(0.08, 0.06), (0.5, 0.04), (0.88, 0.05)], [(0.88, 0.05), (0.62, 0.5), (0.42, 1.0)]],
    8: [[(0.5, 0.47), (0.24, 0.3), (0.3, 0.05), (0.52, 0.0), (0.74, 0.08), (0.74, 0.3), (0.5, 0.47),
         (0.2, 0.68), (0.28, 0.95), (0.52, 1.0), (0.78, 0.92), (0.8, 0.68), (0.5, 0.47)]],
    9: [[(0.76, 0.28), (0.5, 0.45), (0.24, 0.36), (0.24, 0.12), (0.5, 0.0), (0.76, 0.1), (0.76, 0.28)],
        [(0.76, 0.2), (0.74, 0.6), (0.68, 1.0)]],
}  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """One picture: which digit, how it was written and on what, and how it was photographed."""

    name: str
    digit: int
    seed: int
    size: tuple[int, int] = (480, 360)
    centre: Point = (0.5, 0.5)  # where the digit sits, as shares of width and height
    height: float = 0.55  # digit height as a share of the picture's height
    rotation: float = 0.0  # degrees, anticlockwise
    pen: float = 0.035  # stroke width as a share of the digit's height
    ink: tuple[int, int, int] = (25, 25, 35)
    surface: tuple[int, int, int] | None = (232, 228, 218)  # None: transparent
    grain: float = 0.0  # chalk and pencil: how much of the stroke is missing, at random
    lighting: float = 0.25  # strength of the brightness gradient across the picture
    noise: float = 4.0  # sensor noise, grey levels
    quality: int = 85  # JPEG quality


SAMPLES = [
    Sample("img1.jpg", 3, seed=1, size=(640, 480), centre=(0.62, 0.42), height=0.45, rotation=6,
           ink=(30, 32, 60), lighting=0.35, noise=5.0),
    Sample("sample_0_pencil.jpg", 0, seed=10, ink=(85, 85, 90), pen=0.03, grain=0.25,
           surface=(240, 240, 236), centre=(0.45, 0.55)),
    Sample("sample_1_ballpoint.jpg", 1, seed=11, ink=(20, 40, 150), pen=0.025, rotation=-4),
    Sample("sample_2_ballpoint.jpg", 2, seed=12, ink=(25, 45, 160), pen=0.025, centre=(0.4, 0.45),
           height=0.4, rotation=3),
    Sample("sample_4_marker.jpg", 4, seed=14, ink=(10, 10, 10), pen=0.09, surface=(248, 248, 248),
           lighting=0.15, centre=(0.55, 0.5), height=0.7),
    Sample("sample_5_red_pen.jpg", 5, seed=15, ink=(170, 25, 30), pen=0.04, surface=(196, 192, 184),
           lighting=0.45, centre=(0.35, 0.6), rotation=-7),
    Sample("sample_6_felt_tip.jpg", 6, seed=16, ink=(20, 110, 50), pen=0.06, surface=(245, 245, 240),
           centre=(0.6, 0.5), height=0.6),
    Sample("sample_7_chalk.jpg", 7, seed=17, ink=(225, 228, 220), pen=0.06, grain=0.35,
           surface=(42, 58, 48), lighting=0.3, noise=6.0, centre=(0.45, 0.45), height=0.6),
    Sample("sample_8_canvas.png", 8, seed=18, size=(280, 280), height=0.75, pen=0.08,
           ink=(255, 255, 255), surface=None, lighting=0.0, noise=0.0),
    Sample("sample_9_cutout.png", 9, seed=19, size=(300, 300), height=0.7, pen=0.05,
           ink=(20, 20, 20), surface=None, lighting=0.0, noise=0.0, rotation=5),
]  # fmt: skip


def catmull_rom(points: list[Point], steps: int = 32) -> np.ndarray:
    """A smooth curve through ``points`` (each segment sampled ``steps`` times), as an (N, 2) array."""
    p = np.array([points[0], *points, points[-1]], dtype=float)
    t = np.linspace(0, 1, steps, endpoint=False)[:, None]
    segments = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        segments.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    return np.vstack([*segments, p[-2][None]])


def evenly_spaced(curve: np.ndarray, spacing: float) -> np.ndarray:
    """Points ``spacing`` apart along a polyline, as rows ``(x, y, distance travelled)``."""
    travelled = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(curve, axis=0).T))])
    at = np.arange(0.0, travelled[-1] + spacing, spacing)
    return np.column_stack([np.interp(at, travelled, curve[:, 0]), np.interp(at, travelled, curve[:, 1]), at])


def ink_coverage(sample: Sample, rng: np.random.Generator) -> np.ndarray:
    """How much ink covers each pixel, 0..1, as a float array of the picture's size."""
    width, height = sample.size
    big = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    digit_height = sample.height * height * SUPERSAMPLE
    angle = np.radians(sample.rotation)
    rotate = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    centre = np.array([sample.centre[0] * width, sample.centre[1] * height]) * SUPERSAMPLE
    for stroke in STROKES[sample.digit]:
        points = np.array(stroke) + rng.normal(0, 0.012, (len(stroke), 2))  # a human hand
        curve = (catmull_rom([tuple(p) for p in points]) - [0.5, 0.5]) @ rotate.T * digit_height + centre
        radius = max(0.6, 0.5 * sample.pen * digit_height)
        phase = rng.uniform(0, 2 * np.pi)
        for x, y, travelled in evenly_spaced(curve, spacing=radius / 4):
            nib = radius * (0.85 + 0.15 * np.sin(phase + travelled / digit_height * 8))  # pressure varies
            draw.ellipse((x - nib, y - nib, x + nib, y + nib), fill=255)
    coverage = np.asarray(big.resize(sample.size, Image.Resampling.BOX), dtype=np.float32) / 255
    if sample.grain:
        speckle = rng.random(coverage.shape) < sample.grain
        coverage = coverage * np.where(speckle, 0.35, 1.0)
    return coverage


def surface(sample: Sample, rng: np.random.Generator) -> np.ndarray:
    """Paper or board under uneven light: texture, a gradient from one side, darker corners."""
    width, height = sample.size
    texture = Image.fromarray((rng.random((height // 8, width // 8)) * 255).astype(np.uint8))
    texture = np.asarray(texture.resize(sample.size, Image.Resampling.BICUBIC), dtype=np.float32) / 255
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(direction) * x / width + np.sin(direction) * y / height) * sample.lighting
    vignette = ((x / width - 0.5) ** 2 + (y / height - 0.5) ** 2) * 0.5
    light = 1.0 - sample.lighting / 2 + gradient - vignette + (texture - 0.5) * 0.06
    return np.array(sample.surface, dtype=np.float32) * np.clip(light, 0.3, 1.3)[..., None]


def render(sample: Sample) -> Image.Image:
    rng = np.random.default_rng(sample.seed)
    coverage = ink_coverage(sample, rng)
    ink = np.array(sample.ink, dtype=np.float32)
    if sample.surface is None:
        alpha = (coverage * 255 + 0.5).astype(np.uint8)
        colour = np.broadcast_to(ink.astype(np.uint8), (*coverage.shape, 3))
        return Image.fromarray(np.dstack([colour, alpha]))
    background = surface(sample, rng)
    picture = background * (1 - coverage[..., None]) + ink * coverage[..., None]
    picture += rng.normal(0, sample.noise, picture.shape)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
    return image.filter(ImageFilter.GaussianBlur(0.7))


def main() -> None:
    for sample in SAMPLES:
        path = ASSETS / sample.name
        image = render(sample)
        if path.suffix == ".jpg":
            image.save(path, quality=sample.quality, optimize=True)
        else:
            image.save(path, optimize=True)
        print(f"{path.name}: {image.size[0]}x{image.size[1]}, {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
