"""Running the CLI in a child process, and finding a free port, the same way in every test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
