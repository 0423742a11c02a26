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


def number_in(low: float, high: float, what: str, *, above_low: bool = False) -> Callable[[str], float]:
    """An argument type for ``what`` (a number) in ``[low, high]``, or ``(low, high]`` with ``above_low``."""
    shown = f"{'(' if above_low else '['}{low:g}, {high:g}]"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (low < value if above_low else low <= value) or value > high:
            raise argparse.ArgumentTypeError(f"expected {what} in {shown}, got {value:g}")
        return value

    return parse


learning_rate = number_in(0, config.MAX_LEARNING_RATE, "a learning rate", above_low=True)


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

