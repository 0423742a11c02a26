"""The studio's server for tests: ``streamlit run app.py`` on a loopback port, and knowing when it answers.

Users start the app themselves (the README's first command). The browser tests and the app benchmark
need a real server on an empty local store that they can start and stop; this is the one way they do.
"""

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
from tests.support.processes import free_port

STARTUP_SECONDS = 90  # the server is up in a second or two, but a busy machine can take much longer


@dataclass(frozen=True)
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_app(folder: Path, startup_seconds: float = STARTUP_SECONDS) -> Iterator[AppServer]:
    """The app on a free loopback port, its local store and home in ``folder``, no MinIO; stopped on exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINIO_")}
    env |= {"MNIST_STORE_DIR": str(folder / "store"), "HOME": str(folder / "home"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=config.PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = AppServer(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_healthy(server, startup_seconds)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_healthy(server: AppServer, timeout: float) -> None:
    """Return once Streamlit's health endpoint says ok; raise with the server's log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the app server exited with {server.process.returncode}:\n{_log_tail(server)}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the app server did not answer within {timeout:.0f} s:\n{_log_tail(server)}")


def _log_tail(server: AppServer) -> str:
    return server.log.read_text(errors="replace")[-3000:]
