"""Running the CLI in a child process, servers in child processes, and finding a free port, the same way in
every test and benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mnist_core import config


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(
    *args: str, env: dict | None = None, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """``python -m mnist_core ARGS`` in a child process, with this environment plus ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "mnist_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), **(env or {})},
    )


@dataclass(frozen=True)
class ServerProcess:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def running_server(name: str, command: list[str], port: int, ready_path: str, log: Path, *, env: dict | None,
                   startup_seconds: float, stop_seconds: float) -> Iterator[ServerProcess]:
    """``command`` (listening on ``127.0.0.1:port``) in its own process group, its output in ``log``; yielded
    once ``ready_path`` answers 200, stopped with SIGTERM (SIGKILL after ``stop_seconds``) on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=config.PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = ServerProcess(name, f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_ready(server, ready_path, startup_seconds)
        yield server
    finally:
        if process.poll() is None:  # a test may have stopped it already
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(stop_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_ready(server: ServerProcess, path: str, timeout: float) -> None:
    """Return once ``path`` answers 200; raise with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the {server.name} did not answer within {timeout:.0f} s:\n{server.log_tail()}")
