"""Random changes to training images that look like the ways people write, applied inside ``tf.data``.

One warp moves every pixel at once: rotation, slant (shear), aspect ratio, zoom and shift as an
affine map, plus an elastic distortion (a smooth random displacement field, interpolated from a
4x4 grid of random offsets). Strokes are then made thicker or thinner (a blend towards a 3x3 grey
dilation or erosion). With ``mnist_layout`` the digit is then laid out the way
:mod:`mnist_core.preprocess` lays out uploads: its box's longest side scaled to 20 pixels and its
centre of mass put in the middle, so a digit squeezed or stretched by the warp trains the model
on what an upload of such a digit turns into, not on a shape prediction never sees. Zoom and
shift are then small jitters around that layout.

A share of the images (``changed_share``) is changed, the rest left as they are. Everything runs
on whole batches with stateless random numbers, seeded per batch from the preset's seed: about
12 ms per batch of 128 on one core, in parallel with the training step, and it repeats exactly.
"""

from __future__ import annotations

import math

import tensorflow as tf

from mnist_core.config import Augmentation
from mnist_core.preprocess import BOX_SIZE, CENTRE

INK_LEVEL = 0.1  # what counts as ink when measuring the digit's box, as in preprocess._tight_crop
SATURATED_SHARE = 0.3  # share of the ink set to full white after resampling: MNIST has 0.48 above 0.9,
# but saturating that much after bilinear blur widens strokes past MNIST's (2.3 px against 1.96)
ELASTIC_GRID = 4  # control points across the image for the displacement field


def augment_batch(images: tf.Tensor, augmentation: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    """A randomly changed copy of ``images`` ``(B, 28, 28, 1)`` float32 in [0, 1]; ``seed`` is ``[2]`` ints."""
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, num=9))
    grey = images[..., 0]
    batch, size = tf.shape(grey)[0], grey.shape[1]
    layout = augmentation.mnist_layout

    inverse = _inverse_affine(batch, augmentation, seeds[:5], with_zoom_and_shift=not layout)
    rows, cols = _grid(batch, size)
    centre = (size - 1) / 2
    source_rows = inverse[:, 0, 0, None, None] * (rows - centre) + inverse[:, 0, 1, None, None] * (cols - centre)
    source_cols = inverse[:, 1, 0, None, None] * (rows - centre) + inverse[:, 1, 1, None, None] * (cols - centre)
    source_rows, source_cols = source_rows + centre, source_cols + centre
    if not layout:
        shift = _uniform(seeds[4], (batch, 2), augmentation.shift_fraction * size)
        source_rows -= shift[:, 0, None, None]
        source_cols -= shift[:, 1, None, None]
    if augmentation.elastic_pixels:
        displacement = _elastic_field(batch, size, augmentation.elastic_pixels, seeds[5])
        source_rows += displacement[..., 0]
        source_cols += displacement[..., 1]
    grey = _sample(grey, source_rows, source_cols)

    if augmentation.stroke_pixels:
        grey = _change_strokes(grey, augmentation.stroke_pixels, seeds[6])
    if layout:
        grey = _mnist_layout(grey, augmentation, seeds[7])
    changed = tf.clip_by_value(grey, 0.0, 1.0)[..., None]
    if augmentation.changed_share >= 1:
        return changed
    chosen = tf.random.stateless_uniform((batch, 1, 1, 1), seeds[8]) < augmentation.changed_share
    return tf.where(chosen, changed, images)


def _uniform(seed: tf.Tensor, shape, limit: float) -> tf.Tensor:
    """Uniform in ``[-limit, limit]``."""
    return tf.random.stateless_uniform(shape, seed, minval=-limit, maxval=limit)


def _inverse_affine(batch: tf.Tensor, augmentation: Augmentation, seeds: list[tf.Tensor], with_zoom_and_shift: bool):
    """Per image, the 2x2 matrix taking output (row, col) offsets from the centre to source offsets."""
    angle = _uniform(seeds[0], (batch,), math.radians(augmentation.rotation_degrees))
    slant = tf.tan(_uniform(seeds[1], (batch,), math.radians(augmentation.shear_degrees)))
    log_aspect = _uniform(seeds[2], (batch,), math.log1p(augmentation.aspect_fraction))
    zoom = 1.0 + (_uniform(seeds[3], (batch,), augmentation.zoom_fraction) if with_zoom_and_shift else 0.0)
    height, width = zoom * tf.exp(-log_aspect / 2), zoom * tf.exp(log_aspect / 2)
    cos, sin, zero, one = tf.cos(angle), tf.sin(angle), tf.zeros_like(angle), tf.ones_like(angle)
    # forward map on (row, col): scale, then slant (columns move with the row), then rotate
    scale = tf.reshape(tf.stack([height, zero, zero, width], axis=1), (-1, 2, 2))
    shear = tf.reshape(tf.stack([one, zero, slant, one], axis=1), (-1, 2, 2))
    rotate = tf.reshape(tf.stack([cos, -sin, sin, cos], axis=1), (-1, 2, 2))
    return tf.linalg.inv(rotate @ shear @ scale)


def _grid(batch: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Row and column index of every output pixel, ``(B, size, size)`` each."""
    index = tf.range(size, dtype=tf.float32)
    rows, cols = tf.meshgrid(index, index, indexing="ij")
    return tf.tile(rows[None], [batch, 1, 1]), tf.tile(cols[None], [batch, 1, 1])


def _elastic_field(batch: tf.Tensor, size: int, pixels: float, seed: tf.Tensor) -> tf.Tensor:
    """A smooth random displacement ``(B, size, size, 2)`` of at most about ``pixels``."""
    coarse = _uniform(seed, (batch, ELASTIC_GRID, ELASTIC_GRID, 2), pixels)
    return tf.image.resize(coarse, (size, size), method="bicubic")


def _sample(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Bilinear samples of ``images`` ``(B, H, W)`` at fractional ``rows``/``cols``; zero outside."""
    height, width = images.shape[1], images.shape[2]
    flat = tf.reshape(images, (tf.shape(images)[0], -1))
    top, left = tf.floor(rows), tf.floor(cols)
    down, right = rows - top, cols - left

    def at(row: tf.Tensor, col: tf.Tensor) -> tf.Tensor:
        inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
        index = tf.cast(tf.clip_by_value(row, 0, height - 1) * width + tf.clip_by_value(col, 0, width - 1), tf.int32)
        values = tf.gather(flat, tf.reshape(index, (tf.shape(index)[0], -1)), batch_dims=1)
        return tf.reshape(values, tf.shape(rows)) * tf.cast(inside, images.dtype)

    return (
        (1 - down) * ((1 - right) * at(top, left) + right * at(top, left + 1))
        + down * ((1 - right) * at(top + 1, left) + right * at(top + 1, left + 1))
    )


def _change_strokes(images: tf.Tensor, pixels: float, seed: tf.Tensor) -> tf.Tensor:
    """Strokes up to ``pixels`` wider or half that narrower: a blend towards a 3x3 dilation (which adds 2
    pixels) or erosion. Thinning is milder: it fades thin strokes more than it narrows them."""
    amount = tf.random.stateless_uniform((tf.shape(images)[0], 1, 1), seed, minval=-pixels / 4, maxval=pixels / 2)
    padded = images[..., None]
    dilated = tf.nn.max_pool2d(padded, 3, 1, "SAME")[..., 0]
    eroded = -tf.nn.max_pool2d(-padded, 3, 1, "SAME")[..., 0]
    target = tf.where(amount > 0, dilated, eroded)
    return images + tf.abs(amount) * (target - images)


def _mnist_layout(images: tf.Tensor, augmentation: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    """Scale each digit's box to 20 pixels and centre its mass, as uploads are, give or take a small jitter."""
    batch, size = tf.shape(images)[0], images.shape[1]
    zoom_seed, shift_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    index = tf.range(size, dtype=tf.float32)
    ink = images > INK_LEVEL

    def extent(present: tf.Tensor) -> tf.Tensor:
        first = tf.reduce_min(tf.where(present, index, float(size)), axis=1)
        last = tf.reduce_max(tf.where(present, index, -1.0), axis=1)
        return last - first + 1

    longest = tf.maximum(extent(tf.reduce_any(ink, axis=2)), extent(tf.reduce_any(ink, axis=1)))
    zoom = 1.0 + _uniform(zoom_seed, (batch,), augmentation.zoom_fraction)
    scale = tf.where(longest > 0, BOX_SIZE * zoom / tf.maximum(longest, 1.0), 1.0)[:, None, None]
    mass = tf.reduce_sum(images, axis=[1, 2])
    centre_row = tf.math.divide_no_nan(tf.reduce_sum(images * index[:, None], axis=[1, 2]), mass)
    centre_col = tf.math.divide_no_nan(tf.reduce_sum(images * index, axis=[1, 2]), mass)
    centre_row = tf.where(mass > 0, centre_row, CENTRE)[:, None, None]
    centre_col = tf.where(mass > 0, centre_col, CENTRE)[:, None, None]
    shift = _uniform(shift_seed, (batch, 2), augmentation.shift_fraction * size)
    # output (col, row) -> source: (col - CENTRE - shift) / scale + centre, for the fused resampling kernel
    inverse_scale = 1.0 / scale[:, 0, 0]
    zero = tf.zeros_like(inverse_scale)
    transform = tf.stack(
        [
            inverse_scale, zero, centre_col[:, 0, 0] - (CENTRE + shift[:, 1]) * inverse_scale,
            zero, inverse_scale, centre_row[:, 0, 0] - (CENTRE + shift[:, 0]) * inverse_scale,
            zero, zero,
        ],
        axis=1,
    )
    laid_out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images[..., None], transforms=transform, output_shape=[size, size], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )
    return _saturate_strokes(laid_out[..., 0])


def _saturate_strokes(images: tf.Tensor) -> tf.Tensor:
    """Scale so the brightest ink is full white again, as much of it as in MNIST.

    Resampling blurs strokes; without this the model would train on softer digits than MNIST's
    and than those :mod:`mnist_core.preprocess` makes of uploads (it saturates stroke cores too).
    """
    flat = tf.reshape(images, (tf.shape(images)[0], -1))
    ordered = tf.sort(flat, axis=1, direction="DESCENDING")
    ink = tf.reduce_sum(tf.cast(flat > INK_LEVEL, tf.int32), axis=1)
    level = tf.gather(ordered, tf.cast(tf.cast(ink, tf.float32) * SATURATED_SHARE, tf.int32), batch_dims=1)
    return tf.clip_by_value(tf.math.divide_no_nan(images, level[:, None, None]), 0.0, 1.0)
