"""Time to 99% test accuracy, DAWNBench style: the Keras example as published against ``fast``, in one run.

The baseline is ``keras-example`` in float32, as keras.io publishes it. ``fast`` runs in the
precision ``auto`` picks here (bfloat16 on a CPU with AVX512_BF16 or AMX) and in float32, and
``keras-example`` in bfloat16 too, to show what mixed precision alone gives the baseline.
Each repetition trains each configuration in a fresh process on the same split and seed,
evaluating test accuracy after every epoch. The clock counts training only (the test evaluation is
subtracted); the result is the training time until test accuracy first reaches the target.
Model selection never looks at the test set: the presets are fixed before this runs.

    python -m benchmarks.time_to_accuracy [--repeats 3] [--target 0.99]   # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.common import median, peak_memory_mib, run_worker, write_result

BASELINE = "keras-example float32"
CONFIGURATIONS = {  # name: (preset, precision); "auto" is bfloat16 where the machine has it
    BASELINE: ("keras-example", "float32"),
    "fast": ("fast", "auto"),
    "fast float32": ("fast", "float32"),
    "keras-example bfloat16": ("keras-example", "bfloat16"),
}


def measure(preset_name: str, precision: str, target: float) -> dict:
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
    preset = get_preset(preset_name, precision=precision)
    train(
        preset,
        (splits.train.images, splits.train.labels),
        (splits.validation.images, splits.validation.labels),
        callbacks=[tracker],
    )
    reached = next((row for row in tracker.epochs if row["test_accuracy"] >= target), None)
    train_seconds = tracker.epochs[-1]["train_seconds"]
    return {
        "preset": preset_name,
        "precision": preset.precision,
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
        "preset": runs[0]["preset"],
        "precision": runs[0]["precision"],
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
    parser.add_argument("--worker", nargs=2, metavar=("PRESET", "PRECISION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(*args.worker, args.target)))
        return

    runs: dict[str, list[dict]] = {name: [] for name in CONFIGURATIONS}
    for repeat in range(args.repeats):
        for name, (preset, precision) in CONFIGURATIONS.items():  # interleaved: a slow spell hits all alike
            run = run_worker("benchmarks.time_to_accuracy", "--worker", preset, precision, "--target", str(args.target))
            runs[name].append(run)
            print(f"repeat {repeat + 1}: {name:<24} {run['precision']:<9} {run['seconds_to_target']}s to "
                  f"{args.target:.1%} (epoch {run['epochs_to_target']}), final {run['final_test_accuracy']:.4f}",
                  flush=True)
    summary = {name: summarise(config_runs) for name, config_runs in runs.items()}
    speedups = {name: speedup(summary[BASELINE], row) for name, row in summary.items() if name != BASELINE}
    path = write_result("time_to_accuracy", {
        "target": args.target, "baseline": BASELINE, "summary": summary, "speedup_over_baseline": speedups,
        "runs": runs,
    })
    for name, ratio in speedups.items():
        print(f"{BASELINE} / {name} ({summary[name]['precision']}), time to {args.target:.1%}: {ratio}x")
    print(path)


def speedup(baseline: dict, row: dict) -> float | None:
    """How many times less training time ``row`` needed to reach the target than the baseline (medians)."""
    ours, theirs = row["median_seconds_to_target"], baseline["median_seconds_to_target"]
    return round(theirs / ours, 2) if ours and theirs else None


if __name__ == "__main__":
    main()
