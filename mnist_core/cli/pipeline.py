"""``pipeline``: the Kubeflow pipeline: compile it, run it here, or submit it to a cluster."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from mnist_core.cli.common import Parser, batch_size, epochs, learning_rate, print_json, seed
from mnist_core.config import PRESETS
from mnist_core.errors import StoreError


def register(commands: argparse._SubParsersAction) -> None:
    pipeline = commands.add_parser("pipeline", help="the Kubeflow pipeline: compile, run here, submit to a cluster")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, parser_class=Parser)
    pipeline_parameters = argparse.ArgumentParser(add_help=False)
    pipeline_parameters.add_argument("--preset", default="fast", choices=list(PRESETS))
    pipeline_parameters.add_argument("--epochs", type=epochs)
    pipeline_parameters.add_argument("--batch-size", type=batch_size)
    pipeline_parameters.add_argument("--learning-rate", type=learning_rate)
    pipeline_parameters.add_argument("--seed", type=seed)
    pipeline_parameters.add_argument("--feedback", action="store_true",
                                     help="also learn from the labelled examples in the store")
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
    submit.add_argument("--deploy", action="store_true", help="then serve the run with a KServe InferenceService "
                        "(the model_serving step)")
    submit.set_defaults(handler=cmd_pipeline_submit)


def _pipeline_arguments(args: argparse.Namespace, store_endpoint: str = "", store_bucket: str = "",
                        deploy: bool = False) -> dict:
    from mnist_core.pipeline import pipeline_arguments

    return pipeline_arguments(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        store_endpoint=store_endpoint,
        store_bucket=store_bucket,
        deploy=deploy,
        feedback=args.feedback,
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
    print_json({**summary.to_dict(), "wall_seconds": wall_seconds, "pipeline_root": str(root)})
    return 0


def cmd_pipeline_submit(args: argparse.Namespace) -> int:
    from mnist_core.pipeline import DEFAULT_IMAGE, DEFAULT_SECRET, submit

    arguments = _pipeline_arguments(args, args.store_endpoint, args.store_bucket, args.deploy)
    secret = DEFAULT_SECRET if args.secret is None else args.secret
    with contextlib.redirect_stdout(sys.stderr):  # kfp.Client prints links; stdout keeps the one JSON line
        run_id = submit(args.host, arguments, image=args.image or DEFAULT_IMAGE, secret=secret or None,
                        experiment=args.experiment)
    url = f"{args.host.rstrip('/')}/#/runs/details/{run_id}"
    print(f"submitted Kubeflow run {run_id} to experiment {args.experiment}: {url}", file=sys.stderr)
    print_json({"kubeflow_run_id": run_id, "url": url, "experiment": args.experiment, "arguments": arguments})
    return 0
