"""What every command shares: one-line argument errors, argument types, JSON output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from mnist_core import config

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def int_between(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argument type for a whole number in ``[low, high]`` (no upper end if ``high`` is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"expected a whole number of at most {high}, got {value}")
        return value

    return parse


epochs = int_between(config.MIN_EPOCHS, config.MAX_EPOCHS)
batch_size = int_between(config.MIN_BATCH_SIZE, config.MAX_BATCH_SIZE)
seed = int_between(0, config.MAX_SEED)
non_negative_int = int_between(0)


def learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= config.MAX_LEARNING_RATE:
        raise argparse.ArgumentTypeError(f"expected a learning rate in (0, {config.MAX_LEARNING_RATE:g}], got {value}")
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

