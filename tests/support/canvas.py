"""Drawing on the Predict page's canvas (streamlit-drawable-canvas) with Playwright's mouse, as a person does.

The component loads its empty starting drawing asynchronously and only then switches fabric.js into drawing
mode: a drag before that is a selection that draws nothing and sends nothing. A person waits until the
pointer over the canvas turns into the drawing crosshair; so does ``stroke``. On a busy browser (eight
sessions in one Chromium, training beside it) that wait can take seconds after the page has rendered.

The canvas's toolbar (undo, redo, clear) sits over its top right corner, about 32 pixels deep, even while it
is invisible: it fades in only after the pointer has rested on the canvas for 0.1 s and then moves up. A stroke
that starts in that corner presses the toolbar and draws nothing, so strokes here start lower.
"""

from __future__ import annotations

import asyncio
import time

CANVAS = "canvas.upper-canvas"  # fabric's top layer, which takes the pointer
DRAWING_CURSOR = "crosshair"  # fabric's freeDrawingCursor, set on every pointer move in drawing mode
CURSOR = "canvas => canvas.style.cursor"
HOVER = ((0.02, 0.02), (0.04, 0.04))  # top left, clear of the toolbar; two moves: fabric sets the cursor on a move
STEPS = 12  # mouse moves between two points of a stroke


def point_on(box: dict, fraction: tuple[float, float]) -> tuple[float, float]:
    """The page coordinates of a point given as fractions of the canvas's width and height."""
    return box["x"] + fraction[0] * box["width"], box["y"] + fraction[1] * box["height"]


def wait_until_ready_to_draw(page, timeout: float = 120) -> dict:
    """Hover over the canvas until the pointer is the drawing crosshair; returns the canvas's bounding box."""
    canvas = page.locator(CANVAS)
    deadline = time.monotonic() + timeout
    while True:
        box = canvas.bounding_box()
        for fraction in HOVER:
            page.mouse.move(*point_on(box, fraction))
        if canvas.evaluate(CURSOR) == DRAWING_CURSOR:
            return box
        if time.monotonic() > deadline:
            raise TimeoutError(f"the canvas was not ready to draw within {timeout} s")
        time.sleep(0.05)


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Drag the mouse through ``points`` (fractions of the canvas) with the button held down."""
    box = wait_until_ready_to_draw(page)
    page.mouse.move(*point_on(box, points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point_on(box, point), steps=STEPS)
    page.mouse.up()


# The same two for Playwright's async API (many sessions at once, as in benchmarks.app_load).


async def wait_until_ready_to_draw_async(page, timeout: float = 120) -> dict:
    canvas = page.locator(CANVAS)
    deadline = time.monotonic() + timeout
    while True:
        box = await canvas.bounding_box()
        for fraction in HOVER:
            await page.mouse.move(*point_on(box, fraction))
        if await canvas.evaluate(CURSOR) == DRAWING_CURSOR:
            return box
        if time.monotonic() > deadline:
            raise TimeoutError(f"the canvas was not ready to draw within {timeout} s")
        await asyncio.sleep(0.05)


async def stroke_async(page, points: list[tuple[float, float]]) -> None:
    box = await wait_until_ready_to_draw_async(page)
    await page.mouse.move(*point_on(box, points[0]))
    await page.mouse.down()
    for point in points[1:]:
        await page.mouse.move(*point_on(box, point), steps=STEPS)
    await page.mouse.up()
