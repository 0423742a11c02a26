"""``predict``: the digit, or the number, in each image file."""

from __future__ import annotations

import argparse

from mnist_core.cli.common import print_json


def register(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser("predict", help="the digit in each image file (exit 1 if any has none)")
    predict.add_argument("files", metavar="FILE", nargs="+", help="PNG, JPEG, BMP, GIF, WebP or TIFF images")
    predict.add_argument(
        "--model", metavar="MODEL", help="a .keras file or a run id (default: the active run, else the baseline)"
    )
    predict.add_argument("--json", action="store_true", help="print one JSON object per file")
    predict.set_defaults(handler=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from mnist_core.predict import Predictor, describe_reading

    results = Predictor.load(args.model).predict_files(args.files)
    for result in results:
        if args.json:
            print_json(result.to_dict())
        elif result.reading is None:
            print(f"{result.file}: error: {result.error}")
        else:
            print(f"{result.file}: {describe_reading(result.reading)}")
    return 0 if all(result.reading is not None for result in results) else 1
