"""App responsiveness in a real browser: cold start to first page, and the Predict page's rerun after a stroke.

Cold start: from launching ``streamlit run app.py`` until the Overview page has rendered in headless
Chromium (its heading visible and its script finished), on a fresh server each time. Stroke: from
releasing the mouse on the canvas (drawing is not timed) until the rerun it triggers has finished and
the prediction shows; the first stroke is reported apart from the others. The floor to compare with is a
rerun of the Overview page, which does no model work.

    python -m benchmarks.app_timing [--starts 3] [--strokes 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import median, write_result
from tests.support.app_server import running_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"
STROKES = [  # fractions of the canvas: a one, a seven, a zero-ish loop
    [(0.52, 0.15), (0.5, 0.85)],
    [(0.25, 0.18), (0.75, 0.18), (0.45, 0.85)],
    [(0.5, 0.15), (0.3, 0.5), (0.5, 0.85), (0.7, 0.5), (0.5, 0.15)],
]


WATCH_RERUN = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__rerunDone = new Promise(resolve => {
    let started = false;
    const watcher = new MutationObserver(() => {
      const state = app.getAttribute('data-test-script-state');
      if (state === 'running') started = true;
      else if (started && state === 'notRunning') { watcher.disconnect(); resolve(); }
    });
    watcher.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  });
}"""


def timed_rerun(page, action, *args) -> float:
    """Seconds from the end of ``action(*args)`` (which must start a rerun) until that rerun has finished.

    A MutationObserver installed before the action sees every state change, however short the run.
    """
    page.evaluate(WATCH_RERUN)
    action(*args)
    started = time.perf_counter()
    page.evaluate("() => window.__rerunDone")
    return time.perf_counter() - started


def stroke(page, points) -> None:
    """Drag the mouse through ``points`` (fractions of the canvas) with the button held down."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(box["x"] + px * box["width"], box["y"] + py * box["height"], steps=8)
    page.mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--strokes", type=int, default=15)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    health, first_page, first_stroke, strokes, floor = [], [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(args.starts):
            launched = time.perf_counter()
            with tempfile.TemporaryDirectory() as folder, running_app(Path(folder)) as server:
                health.append(time.perf_counter() - launched)
                url = server.url
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.get_by_role("heading", name="MNIST digit-recognition studio").wait_for(timeout=120_000)
                page.wait_for_function(f"{SCRIPT_STATE} === 'notRunning'", timeout=120_000)
                first_page.append(time.perf_counter() - launched)

                for _ in range(5):  # the floor: a rerun that does no model work
                    floor.append(timed_rerun(page, page.keyboard.press, "r"))  # Streamlit's rerun key

                page.goto(f"{url}/predict")
                page.get_by_text("Draw a digit in the black box").wait_for(timeout=120_000)
                page.wait_for_function(f"{SCRIPT_STATE} === 'notRunning'", timeout=120_000)
                for index in range(args.strokes):
                    seconds = timed_rerun(page, stroke, page, STROKES[index % len(STROKES)])
                    (first_stroke if index == 0 else strokes).append(seconds)
                page.close()
        browser.close()

    measurements = [
        {"name": "cold start: server healthy", "median_seconds": round(median(health), 2), "runs": len(health)},
        {"name": "cold start: first page rendered", "median_seconds": round(median(first_page), 2),
         "runs": len(first_page)},
        {"name": "Predict: first stroke of a session", "median_seconds": round(median(first_stroke), 3),
         "runs": len(first_stroke)},
        {"name": "Predict: rerun after a stroke", "median_seconds": round(median(strokes), 3), "runs": len(strokes)},
        {"name": "floor: Overview rerun (no model work)", "median_seconds": round(median(floor), 3),
         "runs": len(floor)},
    ]
    write_result("app", {"measurements": measurements})
    for row in measurements:
        print(f"{row['name']:<45} {row['median_seconds']:>7} s  ({row['runs']} runs)")


if __name__ == "__main__":
    main()
