"""Command line: ``python -m mnist_core COMMAND``.

One module per command group, each with ``register(commands)`` adding its parser and handlers.
A handler parses nothing itself and calls the library. Errors a user can fix
(:class:`MnistError`, bad arguments) print one line on stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mnist_core.cli import calibrate, data, evaluate, feedback, pipeline, predict, serve, store, train
from mnist_core.cli.common import EXIT_USAGE, Parser
from mnist_core.errors import MnistError

COMMAND_GROUPS = (data, train, evaluate, calibrate, predict, feedback, serve, store, pipeline)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m mnist_core", description="MNIST studio: data, training, evaluation.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


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
