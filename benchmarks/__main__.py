"""Run every benchmark, then write docs/PERFORMANCE.md from the results.

    python -m benchmarks                  # all of them (about 30 minutes on 2 cores)
    python -m benchmarks time_to_accuracy # one or more, by short or module name: time (time_to_accuracy,
                                          # ~10 min), best (best_accuracy, ~6 min), latency (predict_latency),
                                          # style (style_shift, ~1 min), numbers (multi_digit, ~2 min),
                                          # app (app_timing), app-load (app_load), serving (~8 min),
                                          # feedback (feedback_learning, ~6 min)
    python -m benchmarks --report         # only rebuild docs/PERFORMANCE.md from benchmarks/results
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks.report import write_report

BENCHMARKS = {
    "time": "benchmarks.time_to_accuracy",
    "best": "benchmarks.best_accuracy",
    "latency": "benchmarks.predict_latency",
    "style": "benchmarks.style_shift",
    "numbers": "benchmarks.multi_digit",
    "app": "benchmarks.app_timing",
    "app-load": "benchmarks.app_load",
    "serving": "benchmarks.serving",
    "feedback": "benchmarks.feedback_learning",
}
BY_NAME = {**BENCHMARKS, **{module.rpartition(".")[2]: module for module in BENCHMARKS.values()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which to run (default: all): {', '.join(BY_NAME)}")
    parser.add_argument("--only", nargs="+", choices=list(BY_NAME), default=[], help="the same, as an option")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from: {', '.join(BY_NAME)}")
    if not args.report:
        for name in args.names + args.only or list(BENCHMARKS):
            print(f"== {name}", flush=True)
            subprocess.run([sys.executable, "-m", BY_NAME[name]], check=True)
    print(f"wrote {write_report()}")


if __name__ == "__main__":
    main()
