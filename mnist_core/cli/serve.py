"""``serve``: the predictor as a KServe model server (see :mod:`mnist_core.model_server`)."""

from __future__ import annotations

import argparse

from mnist_core import model_server
from mnist_core.cli.common import int_between, number_in

port = int_between(1, 65535)
positive_int = int_between(1)


wait_ms = number_in(0, 1000, "a number of milliseconds")


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve predictions over HTTP with KServe's model server (v1 and v2)")
    serve.add_argument("--model", metavar="MODEL", help="a .keras file or a run id (default: the active run, "
                       "else the baseline)")
    serve.add_argument("--port", type=port, default=model_server.DEFAULT_PORT, help="HTTP port (default: %(default)s)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s; "
                       "0.0.0.0 in a container)")
    serve.add_argument("--max-instances", type=positive_int, default=model_server.DEFAULT_MAX_INSTANCES,
                       help="most pictures in one request (default: %(default)s)")
    serve.add_argument("--max-body-mb", type=positive_int, default=model_server.DEFAULT_MAX_BODY_MB,
                       help="largest request body in MB (default: %(default)s)")
    serve.add_argument("--micro-batch", action=argparse.BooleanOptionalAction, default=True,
                       help="one model call for the pictures of all requests waiting (default: on)")
    serve.add_argument("--batch-wait-ms", type=wait_ms, default=model_server.DEFAULT_BATCH_WAIT_MS,
                       help="how long a micro-batch waits for more requests (default: %(default)s)")
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    model_server.serve(args.model, host=args.host, port=args.port, max_instances=args.max_instances,
                       max_body_mb=args.max_body_mb, batch_wait_ms=args.batch_wait_ms if args.micro_batch else None)
    return 0
