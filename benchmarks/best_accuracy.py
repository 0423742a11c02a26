"""The ``best`` preset's test accuracy and training time, trained as users train it.

    python -m benchmarks.best_accuracy [--repeats 1]
"""

from __future__ import annotations

import argparse
import json

from benchmarks.common import median, peak_memory_mib, run_worker, write_result


def measure() -> dict:
    """Worker: the full ``best`` recipe, then one evaluation on the test set."""
    from mnist_core.config import get_preset
    from mnist_core.data import get_data_batch
    from mnist_core.evaluate import evaluate
    from mnist_core.train import train

    splits, _ = get_data_batch()
    result = train(
        get_preset("best"),
        (splits.train.images, splits.train.labels),
        (splits.validation.images, splits.validation.labels),
    )
    evaluation = evaluate(result.model, splits.test.images, splits.test.labels, mistakes=0)
    return {
        "precision": result.preset.precision,
        "epochs": result.epochs_completed,
        "train_seconds": round(result.train_seconds, 2),
        "images_per_second": round(result.images_per_second),
        "best_val_accuracy": max(result.history["val_accuracy"]),
        "test_accuracy": evaluation["test_accuracy"],
        "test_loss": evaluation["test_loss"],
        "peak_memory_mib": peak_memory_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure()))
        return
    runs = [run_worker("benchmarks.best_accuracy", "--worker") for _ in range(args.repeats)]
    summary = {
        "median_test_accuracy": median([run["test_accuracy"] for run in runs]),
        "median_train_seconds": median([run["train_seconds"] for run in runs]),
        "epochs": runs[0]["epochs"],
        "precision": runs[0]["precision"],
    }
    path = write_result("best_accuracy", {"summary": summary, "runs": runs})
    print(f"best: test accuracy {summary['median_test_accuracy']:.4f} in {summary['median_train_seconds']:.0f}s "
          f"({path})")


if __name__ == "__main__":
    main()
