"""What every command shares: one-line argument errors, argument types, JSON output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mnist_core import config

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")


def learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a learning rate in (0, 1], got {value}")
    return value


def keras_file(text: str) -> Path:
    if not text.endswith(".keras"):
        raise argparse.ArgumentTypeError(f"expected a .keras file name, got {text!r}")
    return Path(text)


def print_json(payload: object) -> None:
    print(json.dumps(payload, default=_to_dict), flush=True)


def _to_dict(value: object) -> dict:
    """Records such as RunSummary and SyncReport say how they become JSON."""
    return value.to_dict()


def data_option() -> argparse.ArgumentParser:
    """The ``--data`` option of the commands that read MNIST."""
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--data", metavar="NPZ", help=f"MNIST .npz file (default: ${config.MNIST_NPZ_ENV}, "
                        "the Keras cache, or download)")
    return option

