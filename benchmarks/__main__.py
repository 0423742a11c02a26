"""Run every benchmark, then write docs/PERFORMANCE.md from the results.

    python -m benchmarks                  # all of them (about 15 minutes on 2 cores)
    python -m benchmarks --only latency   # one or more of: time, best, latency, app
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
    "app": "benchmarks.app_timing",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    args = parser.parse_args()
    if not args.report:
        for name in args.only:
            print(f"== {name}", flush=True)
            subprocess.run([sys.executable, "-m", BENCHMARKS[name]], check=True)
    print(f"wrote {write_report()}")


if __name__ == "__main__":
    main()
