"""``calibrate``: fit a model file's temperature on the validation split and keep it beside the file."""

from __future__ import annotations

import argparse

from mnist_core.cli.common import data_option, keras_file, print_json


def register(commands: argparse._SubParsersAction) -> None:
    calibrate = commands.add_parser(
        "calibrate", parents=[data_option()],
        help="fit a model file's temperature on the validation split; saved with its evaluation in FILE.json",
    )
    calibrate.add_argument("model", metavar="FILE.keras", type=keras_file)
    calibrate.add_argument("--json", action="store_true", help="print the calibration as one JSON object")
    calibrate.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from mnist_core.calibrate import calibrate_model_file

    calibration = calibrate_model_file(args.model, args.data)["calibration"]
    if args.json:
        print_json(calibration)
    else:
        print(f"temperature {calibration['temperature']:.4f}: expected calibration error on the test set "
              f"{calibration['ece_uncalibrated']:.2%} -> {calibration['ece']:.2%}; "
              f"saved in {args.model.with_suffix('.json')}")
    return 0
