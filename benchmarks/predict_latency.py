"""Prediction latency: one image through the whole public path, and the 10,000 test images in a batch.

Single image: a 280x280 PNG (what the canvas sends) is decoded, preprocessed MNIST-style and
classified by ``Predictor.predict_image``; p50 and p99 over 1,000 different test digits. The
baseline in the same run is the common way to do it: the same preprocessing, then
``model.predict`` on one image. Batch: ``Predictor.predict_batch`` on the 10,000 test images
against ``model.predict`` with its default batch size.

    python -m benchmarks.predict_latency [--images 1000]
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np

from benchmarks.common import write_result


def percentiles(seconds: list[float]) -> dict:
    milliseconds = np.array(seconds) * 1000
    return {f"p{q}_ms": round(float(np.percentile(milliseconds, q)), 3) for q in (50, 90, 99)}


def canvas_png(digit: np.ndarray) -> bytes:
    """An MNIST digit as the canvas would send it: 280x280, white ink on black, PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR).save(buffer, format="PNG")
    return buffer.getvalue()


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()

    from mnist_core.data import load_mnist
    from mnist_core.predict import Predictor
    from mnist_core.preprocess import preprocess

    _, test = load_mnist()
    predictor = Predictor.load()
    model = predictor.model
    pngs = [canvas_png(image) for image in test.images[: args.images]]
    for png in pngs[:20]:  # warm up both paths
        predictor.predict_image(png)
        model.predict(preprocess(png)[None, ..., None], verbose=0)

    # Each path in a loop of its own: interleaved, model.predict's thread pools slow the next call down.
    ours, digits = [], []
    for png in pngs:
        seconds, prediction = timed(predictor.predict_image, png)
        ours.append(seconds)
        digits.append(prediction.digit)
    baseline, agree = [], 0
    for png, digit in zip(pngs, digits, strict=True):
        seconds, probabilities = timed(lambda data: model.predict(preprocess(data)[None, ..., None], verbose=0), png)
        baseline.append(seconds)
        agree += int(digit == int(np.argmax(probabilities)))
    preprocess_only = [timed(preprocess, png)[0] for png in pngs]

    batch_seconds, probabilities = timed(predictor.predict_batch, test.images)
    baseline_batch_seconds, _ = timed(lambda images: model.predict(images[..., None] / 255.0, verbose=0), test.images)
    accuracy = float((probabilities.argmax(axis=1) == test.labels).mean())

    single = {
        "images": len(pngs),
        "predictor": percentiles(ours),
        "baseline_model_predict": percentiles(baseline),
        "preprocess_only": percentiles(preprocess_only),
        "speedup_p50": round(np.median(baseline) / np.median(ours), 1),
        "same_digit_as_baseline": f"{agree}/{len(pngs)}",
        "model": predictor.source,
    }
    batch = {
        "images": len(test.images),
        "predictor_seconds": round(batch_seconds, 3),
        "baseline_model_predict_seconds": round(baseline_batch_seconds, 3),
        "images_per_second": round(len(test.images) / batch_seconds),
        "speedup": round(baseline_batch_seconds / batch_seconds, 1),
        "test_accuracy": round(accuracy, 5),
    }
    path = write_result("predict_latency", {"single_image": single, "batch": batch})
    print(f"single image p50 {single['predictor']['p50_ms']} ms, p99 {single['predictor']['p99_ms']} ms "
          f"(model.predict: p50 {single['baseline_model_predict']['p50_ms']} ms, {single['speedup_p50']}x); "
          f"10,000 images in {batch['predictor_seconds']} s ({batch['speedup']}x) -> {path}")


if __name__ == "__main__":
    main()
