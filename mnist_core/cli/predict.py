"""``predict``: the digit, or the number, in each image file."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.cli.common import print_json


def register(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser("predict", help="the digit in each image file (exit 1 if any has none)")
    predict.add_argument("files", metavar="FILE", nargs="+", help="PNG, JPEG, BMP, GIF, WebP or TIFF images")
    predict.add_argument(
        "--model", metavar="MODEL", help="a .keras file or a run id (default: the active run, else the baseline)"
    )
    predict.add_argument("--json", action="store_true", help="print one JSON object per file")
    predict.add_argument("--log", action="store_true", help="keep the predictions in the store's prediction log")
    predict.set_defaults(handler=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from mnist_core.predict import Predictor, describe_reading

    predictor = Predictor.load(args.model)
    results = predictor.predict_files(args.files)
    if args.log:
        _log_predictions(predictor.source, results)
    for result in results:
        if args.json:
            print_json(result.to_dict())
        elif result.reading is None:
            print(f"{result.file}: error: {result.error}")
        else:
            print(f"{result.file}: {describe_reading(result.reading)}")
    return 0 if all(result.reading is not None for result in results) else 1


def _log_predictions(model: str, results) -> None:
    """Keep every digit the readable files showed in the store's prediction log (spooled if it is down)."""
    from mnist_core.feedback import FeedbackStore, PredictionLog
    from mnist_core.store import get_store

    prediction_log = PredictionLog(FeedbackStore(get_store()))
    for result in results:
        if result.reading is None:
            continue
        path = Path(result.file)
        original = path.read_bytes()
        for prediction in result.reading.digits:
            prediction_log.record(prediction.image, prediction.probabilities, source="cli",
                                  model=model, original=original, name=path.name)
    prediction_log.flush()
