"""``data``: validate MNIST and show the split counts."""

from __future__ import annotations

import argparse

from mnist_core import config
from mnist_core.cli.common import data_option, print_json, seed


def register(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", parents=[data_option()], help="validate MNIST and show the split counts")
    data.add_argument("--seed", type=seed, default=config.DEFAULT_SEED)
    data.add_argument("--json", action="store_true", help="print one JSON object")
    data.set_defaults(handler=cmd_data)


def cmd_data(args: argparse.Namespace) -> int:
    from mnist_core.data import get_data_batch, imbalance_ratio, label_counts

    splits, report = get_data_batch(args.data, seed=args.seed)
    counts = {
        name: {"images": len(split), "per_digit": label_counts(split.labels).tolist(),
               "imbalance_ratio": round(imbalance_ratio(split.labels), 4)}
        for name, split in splits.items()
    }
    if args.json:
        print_json({"validation": report.to_dict(), "splits": counts})
        return 0
    for check in report.checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name:<24} {check.detail}")
    print()
    print(f"{'split':<12}{'images':>8}  per digit 0..9{'':<40}imbalance")
    for name, row in counts.items():
        digits = " ".join(f"{count:>5}" for count in row["per_digit"])
        print(f"{name:<12}{row['images']:>8}  {digits}  {row['imbalance_ratio']:.3f}")
    return 0
