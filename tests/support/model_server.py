"""The model server for tests and benchmarks: ``python -m mnist_core serve`` on a loopback port, and knowing
when it is ready."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mnist_core import config
from mnist_core.model_server import MODEL_NAME, SHUTDOWN_GRACE_SECONDS


@dataclass(frozen=True)
class ServerProcess:
    url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_server(log: Path, port: int, *args: str, env: dict | None = None,
                   startup_seconds: float = 120) -> Iterator[ServerProcess]:
    """``python -m mnist_core serve`` on ``127.0.0.1:port``, ready when yielded; SIGTERM and wait on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnist_core", "serve", "--port", str(port), *args], cwd=config.PROJECT_ROOT,
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_ready(server, startup_seconds)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(SHUTDOWN_GRACE_SECONDS + 5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_ready(server: ServerProcess, timeout: float) -> None:
    """Return once the model answers ready; raise with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the model server exited with {server.process.returncode}:\n{log_tail(server)}")
        try:
            with urllib.request.urlopen(f"{server.url}/v2/models/{MODEL_NAME}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the model server was not ready within {timeout:.0f} s:\n{log_tail(server)}")


def log_tail(server: ServerProcess) -> str:
    return server.log.read_text(errors="replace")[-3000:]
