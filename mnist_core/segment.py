"""Split a picture of several digits ("2026", a postcode) into one MNIST-style image per digit.

The ink is found exactly as for one digit (:func:`mnist_core.preprocess.find_ink`), then grouped:

1. Connected blobs of ink are the candidates; blobs along the picture's edge and specks are dropped.
2. Blobs stacked one above the other (a 5's hat over its body) belong to one digit, and so do blobs
   side by side that overlap in columns and nearly touch (a 4 written in two strokes). Other blobs side
   by side stay apart, even where a 7's bar overhangs a 1. What is left far shorter than the tallest
   digit (a loose hat beside its 5, a stroke's broken end) joins the nearest digit.
3. A group much wider than it is tall is digits that touch: it is cut into as many digit-wide pieces
   as fit, each cut at the column with the least ink near where an even split would put it, unless
   a piece would be far shorter than the group or a cut would cross a loop (then it is one wide digit:
   a 5 with a long hat, a 2 with a long tail, a round 0).
4. The digits are read left to right, each cropped and laid out as MNIST was
   (:func:`mnist_core.preprocess.cut_out`).

A picture with one group of ink gives exactly what :func:`mnist_core.preprocess.preprocess` gives.
"""

from __future__ import annotations

import itertools

import numpy as np

from mnist_core.preprocess import (
    MIN_DIGIT_SHARE,
    SPECK_SHARE,
    Blobs,
    DigitImage,
    ImageSource,
    cut_out,
    find_blobs,
    find_ink,
    rank_filter,
    single_digit,
    stroke_width,
)

STACKED_SHARE = 0.5  # blobs whose columns overlap by this share of the narrower one's width...
SIDE_BY_SIDE_SHARE = 0.5  # ...and whose rows overlap by less than this share of the shorter one are one digit
OVERLAP_SHARE = 0.3  # blobs side by side whose columns overlap by this share of the narrower one...
NEAR_STROKES = 0.5  # ...and whose ink comes within this many stroke widths are one digit (a 4 in two strokes)
FRAGMENT_SHARE = 0.55  # groups shorter than this share of the tallest are part of a digit (a loose hat)...
FRAGMENT_REACH = 0.25  # ...the nearest one, if within this share of the tallest; else they are specks
TOUCHING_RATIO = 1.3  # a group wider than this many times its height is digits that touch...
DIGIT_RATIO = 0.7  # ...cut into pieces about this many times its height wide
PIECE_SHARE = 0.75  # ...unless a piece would be shorter than this share of the group: one wide digit
CUT_WINDOW = 0.35  # a cut may move this share of a piece's width to find the column with the least ink

Box = tuple[int, int, int, int]  # (top, bottom, left, right) in work-image pixels


def segment(source: ImageSource) -> list[DigitImage]:
    """Every digit in the picture, left to right, each as the 28x28 image the model expects.

    Raises :class:`~mnist_core.errors.ImageError` for what cannot be read and
    :class:`~mnist_core.errors.NoDigitError` when the picture holds no ink.
    """
    ink = find_ink(source)
    pieces = digit_masks(ink.mask)
    if len(pieces) <= 1:
        return [single_digit(ink)]
    return [cut_out(ink, mask, box, masked=True) for mask, box in pieces]


def digit_masks(mask: np.ndarray) -> list[tuple[np.ndarray, Box]]:
    """One ``(mask, box)`` per digit in an ink mask, left to right; empty when there is no digit."""
    blobs = find_blobs(mask)
    groups = _group(blobs, _candidates(blobs, mask.shape), mask)
    groups = _attach_fragments(blobs, groups)
    pieces: list[tuple[np.ndarray, Box]] = []
    for group in groups:
        chosen = np.zeros(len(blobs.area), dtype=bool)
        chosen[group] = True
        pieces.extend(_split_touching(blobs.paint(chosen, mask.shape), _box_of(blobs, group)))
    return sorted(pieces, key=lambda piece: piece[1][2] + piece[1][3])


def _attach_fragments(blobs: Blobs, groups: list[list[int]]) -> list[list[int]]:
    """Groups far shorter than the tallest (a loose hat or bar, a dot) join the nearest digit, or are dropped.

    A fragment farther than :data:`FRAGMENT_REACH` of the line's height from every digit is a speck.
    """
    boxes = [_box_of(blobs, group) for group in groups]
    tallest = max((bottom - top for top, bottom, _, _ in boxes), default=0)
    is_digit = [bottom - top >= FRAGMENT_SHARE * tallest for top, bottom, _, _ in boxes]
    digits = [list(group) for group, keep in zip(groups, is_digit, strict=True) if keep]
    digit_boxes = [box for box, keep in zip(boxes, is_digit, strict=True) if keep]
    for group, box, keep in zip(groups, boxes, is_digit, strict=True):
        if keep:
            continue
        gaps = [_gap(box, other) for other in digit_boxes]
        nearest = int(np.argmin(gaps))
        if gaps[nearest] <= FRAGMENT_REACH * tallest:
            digits[nearest].extend(group)
    return digits


def _gap(first: Box, second: Box) -> int:
    """How far apart two boxes are: the larger of the vertical and horizontal gaps (negative if overlapping)."""
    return max(second[0] - first[1], first[0] - second[1], second[2] - first[3], first[2] - second[3])


def _candidates(blobs: Blobs, shape: tuple[int, ...]) -> np.ndarray:
    """Indices of the blobs that may be (part of) a digit: not along the edge, not specks."""
    inside = np.flatnonzero(~blobs.along_edge)
    if len(inside) == 0:
        return inside
    largest = blobs.area[inside].max()
    size = np.maximum(blobs.bottom - blobs.top, blobs.right - blobs.left)
    keep = (blobs.area[inside] >= SPECK_SHARE * largest) & (size[inside] >= max(4, MIN_DIGIT_SHARE * max(shape)))
    return inside[keep]


def _group(blobs: Blobs, candidates: np.ndarray, mask: np.ndarray) -> list[list[int]]:
    """The candidates gathered into digits (see :func:`_same_digit`)."""
    parent = {int(index): int(index) for index in candidates}
    reach = max(1, round(NEAR_STROKES * stroke_width(mask.astype(np.float32))))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for position, first in enumerate(candidates):
        for second in candidates[position + 1 :]:
            if _same_digit(blobs, int(first), int(second), mask.shape, reach):
                parent[root(int(first))] = root(int(second))
    groups: dict[int, list[int]] = {}
    for index in parent:
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _same_digit(blobs: Blobs, first: int, second: int, shape: tuple[int, ...], reach: int) -> bool:
    """Two blobs are one digit when one sits above the other (their columns overlap, their rows barely do:
    a 5's hat), or when they overlap in columns and their ink nearly touches (a 4 in two strokes)."""
    top, bottom, left, right = blobs.top, blobs.bottom, blobs.left, blobs.right
    columns = min(right[first], right[second]) - max(left[first], left[second])
    rows = min(bottom[first], bottom[second]) - max(top[first], top[second])
    narrower = min(right[first] - left[first], right[second] - left[second])
    shorter = min(bottom[first] - top[first], bottom[second] - top[second])
    if columns >= STACKED_SHARE * narrower and rows < SIDE_BY_SIDE_SHARE * shorter:
        return True
    return columns >= OVERLAP_SHARE * narrower and _within(blobs, first, second, shape, reach)


def _within(blobs: Blobs, first: int, second: int, shape: tuple[int, ...], reach: int) -> bool:
    """Whether any ink of the two blobs is within ``reach`` pixels."""
    top = max(0, min(blobs.top[first], blobs.top[second]) - reach)
    bottom = max(blobs.bottom[first], blobs.bottom[second]) + reach
    left = max(0, min(blobs.left[first], blobs.left[second]) - reach)
    right = max(blobs.right[first], blobs.right[second]) + reach
    chosen = np.zeros(len(blobs.area), dtype=bool)
    chosen[first] = True
    near_first = rank_filter(blobs.paint(chosen, shape)[top:bottom, left:right], 2 * reach + 1, np.maximum)
    chosen[:] = False
    chosen[second] = True
    return bool((near_first & blobs.paint(chosen, shape)[top:bottom, left:right]).any())


def _box_of(blobs: Blobs, group: list[int]) -> Box:
    return (
        int(blobs.top[group].min()),
        int(blobs.bottom[group].max()),
        int(blobs.left[group].min()),
        int(blobs.right[group].max()),
    )


def _split_touching(mask: np.ndarray, box: Box) -> list[tuple[np.ndarray, Box]]:
    """A group as it is, or, when it is too wide for one digit, cut into digit-wide pieces."""
    top, bottom, left, right = box
    height, width = bottom - top, right - left
    if width <= TOUCHING_RATIO * height:
        return [(mask, box)]
    count = max(2, round(width / (DIGIT_RATIO * height)))
    ink_per_column = mask[top:bottom, left:right].sum(axis=0)
    window = max(1, round(CUT_WINDOW * width / count))
    cuts = [0]
    for step in range(1, count):
        ideal = round(step * width / count)
        low, high = max(cuts[-1] + 1, ideal - window), min(width - 1, ideal + window)
        cuts.append(low + int(np.argmin(ink_per_column[low : high + 1])) if high >= low else ideal)
    cuts.append(width)
    for cut in cuts[1:-1]:
        column = mask[top:bottom, left + cut].astype(np.int8)
        if np.count_nonzero(np.diff(column) == 1) + column[0] > 1:  # cutting through a loop: one wide 0
            return [(mask, box)]
    pieces = []
    for start, stop in itertools.pairwise(cuts):
        piece = np.zeros_like(mask)
        piece[top:bottom, left + start : left + stop] = mask[top:bottom, left + start : left + stop]
        rows = np.flatnonzero(piece[top:bottom].any(axis=1))
        if len(rows) < PIECE_SHARE * height:  # a wide digit (a 5's long hat), not digits side by side
            return [(mask, box)]
        pieces.append((piece, (top + int(rows[0]), top + int(rows[-1]) + 1, left + start, left + stop)))
    return pieces
