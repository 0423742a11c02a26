"""App responsiveness in a real browser: cold start, the Predict page after a stroke, training from the Train page.

Cold start: from launching ``streamlit run app.py`` until the Overview page has rendered in headless
Chromium (its heading visible and its script finished), on a fresh server each time. Stroke: from
releasing the mouse on the canvas (drawing is not timed) until the rerun it triggers has finished and
the prediction shows; the first stroke is reported apart from the others, and every stroke is split into
the canvas component's own wait before it sends the drawing (mouse up to rerun start) and the rerun.
The floor to compare with is a rerun of the Overview page, which does no model work.

Training: the ``fast`` preset (one epoch) trained by the CLI and, in the same run, from the Train page
with the page open and its live charts updating (every 2 s); images per second as each run records
them, and how long the live fragment's reruns took meanwhile.

    python -m benchmarks.app_timing [--starts 3] [--strokes 15] [--trainings 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import median, write_result
from tests.support.app_server import running_app
from tests.support.canvas import stroke

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"
STROKES = [  # fractions of the canvas: a one, a seven, a zero-ish loop
    [(0.52, 0.15), (0.5, 0.85)],
    [(0.25, 0.18), (0.75, 0.18), (0.45, 0.85)],
    [(0.5, 0.15), (0.3, 0.5), (0.5, 0.85), (0.7, 0.5), (0.5, 0.15)],
]


def nth_stroke(index: int) -> list[tuple[float, float]]:
    """The ``index``-th stroke to draw: the three shapes in turn, each moved a little (up to 5% of the canvas
    sideways, 10% down) so that no stroke leaves the drawing as it was, and every one has a new picture to show.

    Never up: the canvas's toolbar, invisible until the pointer has rested on the canvas, lies over its top
    right (see ``tests.support.canvas``), and a stroke that starts there draws nothing."""
    dx, dy = ((index * 37) % 11 - 5) / 100, ((index * 53) % 11) / 100
    return [(x + dx, y + dy) for x, y in STROKES[index % len(STROKES)]]


WATCH_RERUN = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__actionAt = window.__rerunStartedAt = window.__rerunDoneAt = null;
  const acted = () => { window.__actionAt = performance.now(); };
  window.addEventListener('pointerup', acted, {capture: true, once: true});
  window.addEventListener('touchend', acted, {capture: true, once: true});
  window.addEventListener('keyup', acted, {capture: true, once: true});
  const watcher = new MutationObserver(() => {  // changes may come batched: any change starts, notRunning ends
    if (window.__rerunStartedAt === null) window.__rerunStartedAt = performance.now();
    if (app.getAttribute('data-test-script-state') === 'notRunning') {
      window.__rerunDoneAt = performance.now();
      watcher.disconnect();
    }
  });
  watcher.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

# A stroke's rerun is over when its prediction shows: a picture that was not on the page before (the drawing
# as the model read it) with the script no longer running. Watching the script state alone misses reruns:
# when the browser is busy (8 sessions in one Chromium) React can apply a whole rerun's messages in one
# render, so the attribute never leaves 'notRunning' although the page did change.
WATCH_PREDICTION = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  const pictures = () => [...app.querySelectorAll('[data-testid=stMain] img')].map(img => img.src);
  const before = new Set(pictures());
  window.__actionAt = window.__rerunStartedAt = window.__rerunDoneAt = null;
  const acted = () => { window.__actionAt = performance.now(); };
  window.addEventListener('pointerup', acted, {capture: true, once: true});
  window.addEventListener('touchend', acted, {capture: true, once: true});
  const watcher = new MutationObserver(records => {
    const now = performance.now();
    if (window.__rerunStartedAt === null && records.some(r => r.attributeName === 'data-test-script-state'))
      window.__rerunStartedAt = now;
    if (app.getAttribute('data-test-script-state') === 'notRunning' && pictures().some(src => !before.has(src))) {
      if (window.__rerunStartedAt === null) window.__rerunStartedAt = now;  // the whole rerun in one render
      window.__rerunDoneAt = now;
      watcher.disconnect();
    }
  });
  watcher.observe(app, {attributes: true, childList: true, subtree: true,
                        attributeFilter: ['data-test-script-state', 'src']});
}"""

WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__runs = [];
  let began = null;
  new MutationObserver(records => {
    for (const record of records) {
      if (record.oldValue !== 'running') began = performance.now();
      else if (began !== null) { window.__runs.push(performance.now() - began); began = null; }
    }
  }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""


MOMENTS = "() => [window.__actionAt, window.__rerunStartedAt, window.__rerunDoneAt]"


def timed_rerun(page, action, *args) -> float:
    """Seconds from the end of ``action(*args)`` (which must start a rerun) until that rerun has finished."""
    return timed_rerun_parts(page, action, *args)[0]


def timed_rerun_parts(page, action, *args, watch: str = WATCH_RERUN) -> tuple[float, float]:
    """Seconds from the end of ``action(*args)`` (its last pointer or key release, as the page saw it) until
    the rerun it starts has finished (as ``watch`` defines it), and until that rerun started.

    A MutationObserver installed before the action sees every change, however short the run; all three
    moments are read from the page's own clock.
    """
    page.evaluate(watch)
    action(*args)
    deadline = time.monotonic() + 120  # polled from here: page.wait_for_function stalled on this machine
    while (moments := page.evaluate(MOMENTS))[2] is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the rerun did not finish within 2 minutes: {moments}")
        time.sleep(0.02)
    acted, started, done = moments
    return (done - acted) / 1000, (started - acted) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--strokes", type=int, default=15)
    parser.add_argument("--trainings", type=int, default=2, help="CLI and app trainings of the fast preset, each")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    health, first_page, first_stroke, strokes, floor, component_wait = [], [], [], [], [], []
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
                    seconds, wait = timed_rerun_parts(page, stroke, page, nth_stroke(index), watch=WATCH_PREDICTION)
                    (first_stroke if index == 0 else strokes).append(seconds)
                    if index:
                        component_wait.append(wait)
                page.close()
        trainings = train_throughput(browser, args.trainings)
        browser.close()

    measurements = [
        {"name": "cold start: server healthy", "median_seconds": round(median(health), 2), "runs": len(health)},
        {"name": "cold start: first page rendered", "median_seconds": round(median(first_page), 2),
         "runs": len(first_page)},
        {"name": "Predict: first stroke of a session", "median_seconds": round(median(first_stroke), 3),
         "runs": len(first_stroke)},
        {"name": "Predict: rerun after a stroke", "median_seconds": round(median(strokes), 3), "runs": len(strokes)},
        {"name": "Predict: of which the canvas component's wait (mouse up to rerun start)",
         "median_seconds": round(median(component_wait), 3), "runs": len(component_wait)},
        {"name": "Predict: of which the rerun (start to prediction shown)",
         "median_seconds": round(median([a - b for a, b in zip(strokes, component_wait, strict=True)]), 3),
         "runs": len(component_wait)},
        {"name": "floor: Overview rerun (no model work)", "median_seconds": round(median(floor), 3),
         "runs": len(floor)},
        {"name": "Train: live fragment rerun while training", "median_seconds": trainings["fragment_rerun_seconds"],
         "runs": trainings["fragment_reruns"]},
    ]
    write_result("app", {"measurements": measurements, "training": trainings})
    for row in measurements:
        print(f"{row['name']:<45} {row['median_seconds']:>7} s  ({row['runs']} runs)")
    print(trainings)


def train_throughput(browser, repeats: int) -> dict:
    """Images per second of the fast preset from the CLI and from the Train page (open, charts live), interleaved."""
    import json
    import os
    import subprocess
    import sys

    from benchmarks.common import PROJECT_ROOT
    from mnist_core.store import LocalStore

    cli, app, fragment = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "MNIST_STORE_DIR": folder, "TF_CPP_MIN_LOG_LEVEL": "2"}
            env = {key: value for key, value in env.items() if not key.startswith("MINIO_")}
            done = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--preset", "fast"], cwd=PROJECT_ROOT,
                                  env=env, capture_output=True, text=True, check=True)
            cli.append(json.loads(done.stdout.strip().splitlines()[-1])["images_per_second"])
        with tempfile.TemporaryDirectory() as folder, running_app(Path(folder)) as server:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/train")
            page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
            page.wait_for_function(f"{SCRIPT_STATE} === 'notRunning'", timeout=120_000)
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Train loss").wait_for(timeout=120_000)
            page.evaluate(WATCH_RUNS)
            page.get_by_text("is saved").wait_for(timeout=600_000)
            fragment += page.evaluate("() => window.__runs")[:-1]  # the last is the full page once it ended
            page.close()
            run_id = LocalStore(Path(folder) / "store").list_runs()[0].run_id
            app.append(LocalStore(Path(folder) / "store").get_run(run_id)["timings"]["images_per_second"])
    return {
        "preset": "fast",
        "cli_images_per_second": cli,
        "app_images_per_second": app,
        "app_over_cli": round(median(app) / median(cli), 3),
        "fragment_rerun_seconds": round(median(fragment) / 1000, 3) if fragment else None,
        "fragment_reruns": len(fragment),
    }


if __name__ == "__main__":
    main()
