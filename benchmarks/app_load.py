"""The app under load: 8 browser sessions drawing on the Predict page at once while a training job runs.

Every session (its own browser context in one headless Chromium) draws strokes on the canvas one after
another; each stroke is timed from releasing the mouse until the rerun it triggers has finished and the
prediction shows (as in ``benchmarks.app_timing``). Meanwhile ``python -m mnist_core train --preset fast``
runs again and again beside the app. Reported: p50/p99 of those times, errors (a rerun that never
finished, or an exception on the page), and the app server's resident memory after 100 predictions and
after all of them.

    python -m benchmarks.app_load [--sessions 8] [--predictions 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.app_timing import CHROMIUM_ARGS, MOMENTS, SCRIPT_STATE, WATCH_PREDICTION, nth_stroke
from benchmarks.common import PROJECT_ROOT, write_result
from benchmarks.predict_latency import percentiles
from tests.support.canvas import stroke_async

RERUN_TIMEOUT_SECONDS = 60
RELOAD_EVERY = 10  # strokes: a clean canvas now and then, as people do
WARM_UP_PREDICTIONS = 100


def keep_training(folder: Path, stop: threading.Event) -> int:
    """Train the ``fast`` preset again and again, beside the app, until ``stop``; returns how many finished."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINIO_")}
    env |= {"MNIST_STORE_DIR": str(folder / "training-store"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    finished = 0
    while not stop.is_set():
        process = subprocess.Popen([sys.executable, "-m", "mnist_core", "train", "--preset", "fast"], cwd=PROJECT_ROOT,
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and not stop.wait(0.5):
            pass
        if process.poll() is None:
            process.terminate()
            process.wait(30)
        else:
            finished += process.returncode == 0
    return finished


async def session(browser, url: str, strokes: int, record) -> None:
    """One user: open the Predict page, then draw ``strokes`` strokes, each timed until its prediction shows."""
    from playwright.async_api import Error as PlaywrightError

    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/predict")
    await page.get_by_text("Draw a digit in the black box").wait_for(timeout=120_000)
    await page.wait_for_function(f"{SCRIPT_STATE} === 'notRunning'", timeout=120_000)
    for index in range(strokes):
        if index % RELOAD_EVERY == 0:
            await page.reload()
            await page.get_by_text("Draw a digit in the black box").wait_for(timeout=120_000)
            await page.wait_for_function(f"{SCRIPT_STATE} === 'notRunning'", timeout=120_000)
        await page.evaluate(WATCH_PREDICTION)
        seconds, failure = None, None
        try:  # polled: the moments are read from the page's own clock, as in benchmarks.app_timing
            await stroke_async(page, nth_stroke(index))
            deadline = time.monotonic() + RERUN_TIMEOUT_SECONDS
            while (moments := await page.evaluate(MOMENTS))[2] is None or moments[0] is None:
                if time.monotonic() > deadline:
                    raise TimeoutError
                await asyncio.sleep(0.02)
            seconds = (moments[2] - moments[0]) / 1000
            failure = "exception on the page" if await page.locator("[data-testid=stException]").count() else None
        except TimeoutError as error:
            after = "the first stroke after a reload" if index % RELOAD_EVERY == 0 else "a later stroke"
            failure = f"{str(error) or f'no prediction within {RERUN_TIMEOUT_SECONDS} s'} ({after})"
        except PlaywrightError as error:
            failure = str(error).splitlines()[0]
        record(seconds, failure)
    await context.close()


async def drive(url: str, sessions: int, predictions: int, server_pid: int) -> dict:
    import psutil
    from playwright.async_api import async_playwright

    server = psutil.Process(server_pid)
    seconds, errors, memory = [], [], {}

    def record(elapsed: float | None, failure: str | None) -> None:
        if failure is None:
            seconds.append(elapsed)
        else:
            errors.append(failure)
        done = len(seconds) + len(errors)
        if done == WARM_UP_PREDICTIONS:
            memory["after_100_mib"] = round(server.memory_info().rss / 2**20, 1)
        if done % 100 == 0:
            print(f"{done} predictions, {len(errors)} errors", flush=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        each = -(-predictions // sessions)
        await asyncio.gather(*(session(browser, url, each, record) for _ in range(sessions)))
        await browser.close()
    memory[f"after_{len(seconds) + len(errors)}_mib"] = round(server.memory_info().rss / 2**20, 1)
    return {"seconds": seconds, "errors": errors, "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--predictions", type=int, default=2000)
    args = parser.parse_args()

    from tests.support.app_server import running_app

    load_average = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp)) as server:
        stop = threading.Event()
        trainings: list[int] = []
        trainer = threading.Thread(target=lambda: trainings.append(keep_training(Path(tmp), stop)))
        trainer.start()
        try:
            result = asyncio.run(drive(server.url, args.sessions, args.predictions, server.process.pid))
        finally:
            stop.set()
            trainer.join(60)
    memory = result["memory"]
    after = [value for key, value in memory.items() if key != "after_100_mib"]
    summary = {
        "sessions": args.sessions,
        "predictions": len(result["seconds"]) + len(result["errors"]),
        "errors": len(result["errors"]),
        "error_kinds": sorted(set(result["errors"])),
        "stroke_to_prediction": percentiles(result["seconds"]),
        "memory_mib": memory,
        "memory_growth_mib": round(after[0] - memory["after_100_mib"], 1),
        "trainings_finished_meanwhile": trainings[0] if trainings else 0,
        "load_average_at_start": load_average,
    }
    path = write_result("app_load", summary)
    print(f"{summary} -> {path}")


if __name__ == "__main__":
    main()
