"""The model server for tests and benchmarks: ``python -m mnist_core serve`` on a loopback port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mnist_core.model_server import MODEL_NAME, SHUTDOWN_GRACE_SECONDS
from tests.support.processes import ServerProcess
from tests.support.processes import running_server as running_process

STARTUP_SECONDS = 120  # TensorFlow and the model load first: a busy machine takes its time


@contextmanager
def running_server(log: Path, port: int, *args: str, env: dict | None = None) -> Iterator[ServerProcess]:
    """``python -m mnist_core serve --port port ARGS``, yielded once its model is ready; stopped on exit."""
    command = [sys.executable, "-m", "mnist_core", "serve", "--port", str(port), *args]
    with running_process("model server", command, port, f"/v2/models/{MODEL_NAME}/ready", log, env=env,
                         startup_seconds=STARTUP_SECONDS, stop_seconds=SHUTDOWN_GRACE_SECONDS + 5) as server:
        yield server
