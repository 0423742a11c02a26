"""The studio's server for tests: ``streamlit run app.py`` on a loopback port, and knowing when it answers.

Users start the app themselves (the README's first command). The browser tests and the app benchmark
need a real server on an empty local store that they can start and stop; this is the one way they do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import ServerProcess, free_port, running_server

STARTUP_SECONDS = 90  # the server is up in a second or two, but a busy machine can take much longer


@contextmanager
def running_app(folder: Path, startup_seconds: float = STARTUP_SECONDS) -> Iterator[ServerProcess]:
    """The app on a free loopback port, its local store and home in ``folder``, no MinIO; stopped on exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINIO_")}
    env |= {"MNIST_STORE_DIR": str(folder / "store"), "HOME": str(folder / "home"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    with running_server("app server", command, port, "/_stcore/health", folder / "server.log", env=env,
                        startup_seconds=startup_seconds, stop_seconds=10) as server:
        yield server
