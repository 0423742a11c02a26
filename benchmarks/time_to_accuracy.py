"""Time to 99% test accuracy, DAWNBench style: ``keras-example`` against ``fast`` in one run.

Each repetition trains one preset in a fresh process on the same split and seed, evaluating
test accuracy after every epoch. The clock counts training only (the test evaluation is
subtracted); the result is the training time until test accuracy first reaches the target.
Model selection never looks at the test set: the presets are fixed before this runs.

    python -m benchmarks.time_to_accuracy [--repeats 3] [--target 0.99]
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.common import median, peak_memory_mib, run_worker, write_result

PRESETS = ("keras-example", "fast")


def measure(preset_name: str, target: float) -> dict:
    """Worker: train one preset, evaluating the test set after every epoch off the clock."""
    import keras

    from mnist_core.config import get_preset
    from mnist_core.data import get_data_batch
    from mnist_core.evaluate import evaluate
    from mnist_core.train import train

    splits, _ = get_data_batch()

    class EpochTestAccuracy(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []
            self.excluded = 0.0

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            stopped = time.perf_counter()
            accuracy = evaluate(self.model, splits.test.images, splits.test.labels, mistakes=0)["test_accuracy"]
            self.epochs.append({
                "epoch": epoch + 1,
                "train_seconds": round(stopped - self.start - self.excluded, 3),
                "test_accuracy": accuracy,
                "val_accuracy": round(float(logs["val_accuracy"]), 5),
            })
            self.excluded += time.perf_counter() - stopped

    tracker = EpochTestAccuracy()
    train(
        get_preset(preset_name),
        (splits.train.images, splits.train.labels),
        (splits.validation.images, splits.validation.labels),
        callbacks=[tracker],
    )
    reached = next((row for row in tracker.epochs if row["test_accuracy"] >= target), None)
    train_seconds = tracker.epochs[-1]["train_seconds"]
    return {
        "preset": preset_name,
        "epochs": tracker.epochs,
        "epochs_to_target": reached["epoch"] if reached else None,
        "seconds_to_target": reached["train_seconds"] if reached else None,
        "final_test_accuracy": tracker.epochs[-1]["test_accuracy"],
        "train_seconds": train_seconds,
        "images_per_second": round(len(splits.train) * len(tracker.epochs) / train_seconds),
        "peak_memory_mib": peak_memory_mib(),
    }


def summarise(runs: list[dict]) -> dict:
    reached = [run["seconds_to_target"] for run in runs if run["seconds_to_target"] is not None]
    return {
        "repeats": len(runs),
        "reached_target": f"{len(reached)}/{len(runs)}",
        "median_seconds_to_target": round(median(reached), 2) if reached else None,
        "median_epochs_to_target": median([run["epochs_to_target"] for run in runs if run["epochs_to_target"]])
        if reached
        else None,
        "median_images_per_second": round(median([run["images_per_second"] for run in runs])),
        "median_final_test_accuracy": median([run["final_test_accuracy"] for run in runs]),
        "median_train_seconds": round(median([run["train_seconds"] for run in runs]), 2),
        "max_peak_memory_mib": max(run["peak_memory_mib"] for run in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--worker", choices=PRESETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.target)))
        return

    runs: dict[str, list[dict]] = {name: [] for name in PRESETS}
    for repeat in range(args.repeats):
        for name in PRESETS:  # interleaved, so a slow spell of the machine hits both alike
            run = run_worker("benchmarks.time_to_accuracy", "--worker", name, "--target", str(args.target))
            runs[name].append(run)
            print(f"repeat {repeat + 1}: {name:<14} {run['seconds_to_target']}s to {args.target:.1%} "
                  f"(epoch {run['epochs_to_target']}), final {run['final_test_accuracy']:.4f}", flush=True)
    summary = {name: summarise(preset_runs) for name, preset_runs in runs.items()}
    baseline, fast = summary["keras-example"]["median_seconds_to_target"], summary["fast"]["median_seconds_to_target"]
    ratio = round(baseline / fast, 2) if baseline and fast else None
    path = write_result("time_to_accuracy", {
        "target": args.target, "summary": summary, "speedup_keras_example_over_fast": ratio, "runs": runs,
    })
    print(f"keras-example / fast time to {args.target:.1%}: {ratio}x  ({path})")


if __name__ == "__main__":
    main()
