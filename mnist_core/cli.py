"""Command line: ``python -m mnist_core COMMAND``.

Each command is a small function that parses nothing itself and calls the library. Errors a
user can fix (:class:`MnistError`, bad arguments) print one line on stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from mnist_core import config
from mnist_core.errors import MnistError, StoreError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a learning rate in (0, 1], got {value}")
    return value


def _keras_file(text: str) -> Path:
    if not text.endswith(".keras"):
        raise argparse.ArgumentTypeError(f"expected a .keras file name, got {text!r}")
    return Path(text)


def _print_json(payload: object) -> None:
    print(json.dumps(payload, default=_to_dict), flush=True)


def _to_dict(value: object) -> dict:
    """Records such as RunSummary and SyncReport say how they become JSON."""
    return value.to_dict()


# ---------------------------------------------------------------- data


def cmd_data(args: argparse.Namespace) -> int:
    from mnist_core.data import get_data_batch, imbalance_ratio, label_counts

    splits, report = get_data_batch(args.data, seed=args.seed)
    counts = {
        name: {"images": len(split), "per_digit": label_counts(split.labels).tolist(),
               "imbalance_ratio": round(imbalance_ratio(split.labels), 4)}
        for name, split in splits.items()
    }
    if args.json:
        _print_json({"validation": report.to_dict(), "splits": counts})
        return 0
    for check in report.checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name:<24} {check.detail}")
    print()
    print(f"{'split':<12}{'images':>8}  per digit 0..9{'':<40}imbalance")
    for name, row in counts.items():
        digits = " ".join(f"{count:>5}" for count in row["per_digit"])
        print(f"{name:<12}{row['images']:>8}  {digits}  {row['imbalance_ratio']:.3f}")
    return 0


# ---------------------------------------------------------------- train


class _ProgressPrinter:
    """Readable progress on stderr: an updating line on a terminal, one line per epoch always."""

    def __init__(self):
        self.stream = sys.stderr  # looked up now: silence_native_logs() may have replaced it
        self.live = self.stream.isatty()
        self.line_start = "\r" if self.live else ""

    def __call__(self, event) -> None:
        if event.kind == "batch" and self.live:
            self.stream.write(
                f"\repoch {event.epoch}/{event.epochs}  batch {event.batch}/{event.batches}  "
                f"loss {event.loss:.4f}  acc {event.accuracy:.4f}  "
                f"{event.images_per_second:,.0f} img/s  eta {event.eta_seconds:.0f}s "
            )
        elif event.kind == "epoch":
            self.stream.write(
                f"{self.line_start}epoch {event.epoch}/{event.epochs}  "
                f"loss {event.loss:.4f}  acc {event.accuracy:.4f}  "
                f"val_loss {event.val_loss:.4f}  val_acc {event.val_accuracy:.4f}  "
                f"{event.elapsed_seconds:.1f}s  {event.images_per_second:,.0f} img/s\n"
            )
        self.stream.flush()


def cmd_train(args: argparse.Namespace) -> int:
    from mnist_core.config import get_preset
    from mnist_core.data import get_data_batch
    from mnist_core.runs import train_evaluate_save

    preset = get_preset(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        augment=args.augment,
    )
    splits, _ = get_data_batch(args.data, seed=preset.seed)
    print(f"training {preset.name}: {preset.epochs} epochs, batch {preset.batch_size}, "
          f"learning rate {preset.learning_rate}, seed {preset.seed} (Ctrl-C cancels)", file=sys.stderr)
    cancel = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: cancel.set())
    outcome = train_evaluate_save(preset, splits, on_event=_ProgressPrinter(), cancel=cancel)
    summary = outcome.summary
    if outcome.result.cancelled:
        print(f"cancelled after {summary.epochs} complete epochs; nothing was saved", file=sys.stderr)
        _print_json(summary)
        return 130
    print(f"test accuracy {summary.test_accuracy:.4f}, saved run {summary.run_id} to {summary.location}",
          file=sys.stderr)
    if summary.spooled:
        print("the store was unreachable: the run is kept locally and will be uploaded by "
              "`python -m mnist_core store sync`", file=sys.stderr)
    if args.export:
        export_model(outcome, args.export)
        _print_json({**summary.to_dict(), "exported": str(args.export)})
        return 0
    _print_json(summary)
    return 0


def export_model(outcome, path: Path) -> None:
    """Copy the trained model to ``path`` and its summary and evaluation beside it (``.json``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    outcome.result.model.save(path)
    details = {"summary": outcome.summary.to_dict(), "params": outcome.result.params, "evaluation": outcome.evaluation}
    path.with_suffix(".json").write_text(json.dumps(details, indent=1) + "\n")


# ---------------------------------------------------------------- evaluate


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mnist_core.data import load_mnist
    from mnist_core.evaluate import evaluate
    from mnist_core.predict import resolve_model

    model = resolve_model(args.model)
    _, test = load_mnist(args.data)
    evaluation = evaluate(model, test.images, test.labels, mistakes=args.mistakes)
    if args.json:
        _print_json(evaluation)
        return 0
    print(f"test accuracy {evaluation['test_accuracy']:.4f}   test loss {evaluation['test_loss']:.4f}   "
          f"({evaluation['test_images']:,} images)\n")
    print("digit  precision  recall     f1   support")
    for row in evaluation["per_class"]:
        print(f"{row['digit']:>5}  {row['precision']:>9.4f}  {row['recall']:>6.4f}  {row['f1']:.4f}  "
              f"{row['support']:>7}")
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    for digit, row in enumerate(evaluation["confusion_matrix"]):
        print(f"{digit:>3} " + " ".join(f"{count:>5}" for count in row))
    return 0


# ---------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    from mnist_core.predict import Predictor

    results = Predictor.load(args.model).predict_files(args.files)
    for result in results:
        if args.json:
            _print_json(result.to_dict())
        elif result.prediction is None:
            print(f"{result.file}: error: {result.error}")
        else:
            print(f"{result.file}: {result.prediction.digit} ({result.prediction.confidence:.1%} sure)")
    return 0 if all(result.prediction is not None for result in results) else 1


# ---------------------------------------------------------------- store


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def cmd_store_info(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    store = get_store()
    health = store.health()
    info = {**store.describe(), "ok": health.ok, "status": health.message}
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:<14}{value}")
    return 0 if health.ok else EXIT_USAGE


def cmd_store_list(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    store = get_store()
    runs, active = store.list_runs(), store.get_active()
    if args.json:
        _print_json([{**run.to_dict(), "active": run.run_id == active} for run in runs])
        return 0
    if not runs:
        print("no saved runs")
        return 0
    print(f"  {'run id':<27}{'created':<26}{'preset':<14}{'epochs':>6}{'accuracy':>10}{'train s':>9}")
    for run in runs:
        print(f"{'*' if run.run_id == active else ' '} {run.run_id:<27}{run.created:<26}"
              f"{run.preset or '-':<14}{run.epochs or '-':>6}{_number(run.test_accuracy, '.4f'):>10}"
              f"{_number(run.train_seconds, '.1f'):>9}")
    return 0


def cmd_store_show(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    run = get_store().get_run(args.run_id)
    if args.json:
        _print_json(run)
        return 0
    for key, value in {**run["summary"].to_dict(), "location": run["location"]}.items():
        print(f"{key:<15}{value}")
    print("\nfiles")
    for name, file in run["manifest"]["files"].items():
        print(f"  {name:<17}{file['size']:>12,} bytes  sha256 {file['sha256']}")
    return 0


def cmd_store_delete(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    get_store().delete_run(args.run_id)
    print(f"deleted run {args.run_id}")
    return 0


def cmd_store_activate(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    get_store().set_active(args.run_id)
    print(f"active run: {args.run_id}")
    return 0


def cmd_store_sync(args: argparse.Namespace) -> int:
    from mnist_core.store import get_store

    report = get_store().sync()
    if args.json:
        _print_json(report.to_dict())
        return EXIT_USAGE if report.pending else 0
    if report.pending:
        raise StoreError(report.message)
    print(report.message)
    return 0


# ---------------------------------------------------------------- pipeline


def _pipeline_arguments(args: argparse.Namespace, store_endpoint: str = "", store_bucket: str = "") -> dict:
    from mnist_core.pipeline import pipeline_arguments

    return pipeline_arguments(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        store_endpoint=store_endpoint,
        store_bucket=store_bucket,
    )


def cmd_pipeline_compile(args: argparse.Namespace) -> int:
    from mnist_core.pipeline import DEFAULT_IMAGE, DEFAULT_SECRET, compile_pipeline

    image, secret = args.image or DEFAULT_IMAGE, DEFAULT_SECRET if args.secret is None else args.secret
    path = compile_pipeline(args.output, image=image, secret=secret or None)
    keys = f"the Kubernetes secret {secret}" if secret else "the image's environment"
    print(f"wrote {path}: steps run in {image}, store keys from {keys}")
    return 0


def cmd_pipeline_run(args: argparse.Namespace) -> int:
    import time

    from mnist_core.pipeline import run_locally
    from mnist_core.store import get_store, local_data_dir

    arguments = _pipeline_arguments(args)
    store = get_store()
    health = store.health()
    if not health.ok:  # fail here, in one line, before any step starts
        raise StoreError(health.message)
    root = args.pipeline_root or local_data_dir() / "kfp-local"
    where = store.describe()
    target = where.get("directory") or f"{where.get('endpoint')}, bucket {where.get('bucket')}"
    chosen = ", ".join(f"{name} {value}" for name, value in arguments.items() if value not in ("", 0))
    print(f"running the pipeline here ({chosen}); the run goes to the {where['backend']} store at {target}",
          file=sys.stderr)
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the steps' logs; stdout keeps the one JSON line
        run_id = run_locally(arguments, root)
    wall_seconds = round(time.perf_counter() - started, 1)
    summary = store.get_run(run_id)["summary"]
    print(f"pipeline finished in {wall_seconds}s: run {run_id}, test accuracy {summary.test_accuracy:.4f}",
          file=sys.stderr)
    _print_json({**summary.to_dict(), "wall_seconds": wall_seconds, "pipeline_root": str(root)})
    return 0


def cmd_pipeline_submit(args: argparse.Namespace) -> int:
    from mnist_core.pipeline import DEFAULT_IMAGE, DEFAULT_SECRET, submit

    arguments = _pipeline_arguments(args, args.store_endpoint, args.store_bucket)
    secret = DEFAULT_SECRET if args.secret is None else args.secret
    with contextlib.redirect_stdout(sys.stderr):  # kfp.Client prints links; stdout keeps the one JSON line
        run_id = submit(args.host, arguments, image=args.image or DEFAULT_IMAGE, secret=secret or None,
                        experiment=args.experiment)
    url = f"{args.host.rstrip('/')}/#/runs/details/{run_id}"
    print(f"submitted Kubeflow run {run_id} to experiment {args.experiment}: {url}", file=sys.stderr)
    _print_json({"kubeflow_run_id": run_id, "url": url, "experiment": args.experiment, "arguments": arguments})
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from mnist_core.config import PRESETS

    parser = _Parser(prog="python -m mnist_core", description="MNIST studio: data, training, evaluation.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data_option = argparse.ArgumentParser(add_help=False)
    data_option.add_argument("--data", metavar="NPZ", help=f"MNIST .npz file (default: ${config.MNIST_NPZ_ENV}, "
                             "the Keras cache, or download)")

    data = commands.add_parser("data", parents=[data_option], help="validate MNIST and show the split counts")
    data.add_argument("--seed", type=_non_negative_int, default=config.DEFAULT_SEED)
    data.add_argument("--json", action="store_true", help="print one JSON object")
    data.set_defaults(handler=cmd_data)

    train = commands.add_parser("train", parents=[data_option], help="train a preset, evaluate it, save the run")
    train.add_argument("--preset", required=True, choices=list(PRESETS))
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--learning-rate", type=_learning_rate)
    train.add_argument("--seed", type=_non_negative_int)
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                       help="turn the preset's augmentation on or off")
    train.add_argument("--export", type=_keras_file, metavar="FILE.keras",
                       help="also write the model here, with its evaluation in FILE.json")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", parents=[data_option], help="evaluate a saved model on the test set")
    evaluate.add_argument("model", metavar="MODEL", help="a .keras file or a run id")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--mistakes", type=_non_negative_int, default=50, help="how many mistakes to list")
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser("predict", help="the digit in each image file (exit 1 if any has none)")
    predict.add_argument("files", metavar="FILE", nargs="+", help="PNG, JPEG, BMP, GIF, WebP or TIFF images")
    predict.add_argument(
        "--model", metavar="MODEL", help="a .keras file or a run id (default: the active run, else the baseline)"
    )
    predict.add_argument("--json", action="store_true", help="print one JSON object per file")
    predict.set_defaults(handler=cmd_predict)

    store = commands.add_parser("store", help="saved runs: info, list, show, delete, activate, sync")
    store_commands = store.add_subparsers(dest="store_command", required=True, parser_class=_Parser)
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print JSON")
    run_argument = argparse.ArgumentParser(add_help=False)
    run_argument.add_argument("run_id", metavar="RUN", help="a run id, as `store list` shows it")
    store_commands.add_parser(
        "info", parents=[json_option], help="where runs are stored and whether it answers (exit 2 if not)"
    ).set_defaults(handler=cmd_store_info)
    store_commands.add_parser(
        "list", parents=[json_option], help="saved runs, newest first; * marks the active one"
    ).set_defaults(handler=cmd_store_list)
    store_commands.add_parser(
        "show", parents=[run_argument, json_option], help="a run's metrics, location and files"
    ).set_defaults(handler=cmd_store_show)
    store_commands.add_parser("delete", parents=[run_argument], help="delete a run").set_defaults(
        handler=cmd_store_delete
    )
    store_commands.add_parser(
        "activate", parents=[run_argument], help="make a run the one the app predicts with"
    ).set_defaults(handler=cmd_store_activate)
    store_commands.add_parser(
        "sync", parents=[json_option], help="upload runs kept locally while the store was unreachable"
    ).set_defaults(handler=cmd_store_sync)

    pipeline = commands.add_parser("pipeline", help="the Kubeflow pipeline: compile, run here, submit to a cluster")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, parser_class=_Parser)
    pipeline_parameters = argparse.ArgumentParser(add_help=False)
    pipeline_parameters.add_argument("--preset", default="fast", choices=list(PRESETS))
    pipeline_parameters.add_argument("--epochs", type=_positive_int)
    pipeline_parameters.add_argument("--batch-size", type=_positive_int)
    pipeline_parameters.add_argument("--learning-rate", type=_learning_rate)
    pipeline_parameters.add_argument("--seed", type=_non_negative_int)
    cluster_options = argparse.ArgumentParser(add_help=False)
    cluster_options.add_argument("--image", help="the steps' image, built from the Dockerfile "
                                 "(default: mnist-studio:latest)")
    cluster_options.add_argument("--secret", metavar="NAME", help="Kubernetes secret holding MINIO_ACCESS_KEY and "
                                 "MINIO_SECRET_KEY (default: mnist-store; '' for none)")

    compile_command = pipeline_commands.add_parser("compile", parents=[cluster_options],
                                                   help="write the pipeline YAML for a cluster")
    compile_command.add_argument("-o", "--output", type=Path, default=Path("mnist_pipeline.yaml"), metavar="FILE",
                                 help="where to write it (default: %(default)s)")
    compile_command.set_defaults(handler=cmd_pipeline_compile)

    run = pipeline_commands.add_parser("run", parents=[pipeline_parameters],
                                       help="run the whole pipeline here; the run is saved to the store")
    run.add_argument("--local", action="store_true", required=True,
                     help="each step in a subprocess of this Python (for a cluster, use `pipeline submit`)")
    run.add_argument("--pipeline-root", type=Path, metavar="DIR",
                     help="where KFP keeps the steps' artifacts (default: kfp-local in the local data directory)")
    run.set_defaults(handler=cmd_pipeline_run)

    submit = pipeline_commands.add_parser("submit", parents=[pipeline_parameters, cluster_options],
                                          help="send the pipeline to a Kubeflow Pipelines endpoint")
    submit.add_argument("--host", required=True, metavar="URL", help="the Kubeflow Pipelines API, e.g. "
                        "http://localhost:8080 after `kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`")
    submit.add_argument("--store-endpoint", required=True, metavar="HOST:PORT",
                        help="MinIO/S3 as the cluster's pods reach it, e.g. minio-service.kubeflow:9000")
    submit.add_argument("--store-bucket", default="", metavar="BUCKET", help="default: mnist")
    submit.add_argument("--experiment", default="mnist-studio", help="Kubeflow experiment (default: %(default)s)")
    submit.set_defaults(handler=cmd_pipeline_submit)

    return parser


def silence_native_logs() -> None:
    """Keep TensorFlow's C++ start-up chatter off the terminal; Python's stderr still reaches it.

    TensorFlow logs from C++ straight to file descriptor 2, ignoring ``TF_CPP_MIN_LOG_LEVEL`` for
    its first lines. Pointing fd 2 at /dev/null and ``sys.stderr`` at a copy of the original keeps
    our messages (and any genuine traceback) while dropping the noise.
    """
    if os.environ.get("MNIST_NATIVE_LOGS"):
        return
    original = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(original, "w", buffering=1)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
