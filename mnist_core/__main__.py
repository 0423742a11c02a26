"""Entry point for ``python -m mnist_core``."""

import os
import sys


def silence_native_logs() -> None:
    """Keep TensorFlow's C++ start-up chatter off the terminal; Python's stderr still reaches it.

    TensorFlow logs from C++ straight to file descriptor 2, ignoring ``TF_CPP_MIN_LOG_LEVEL`` for
    its first lines. Pointing fd 2 at /dev/null and ``sys.stderr`` at a copy of the original keeps
    our messages (and any genuine traceback) while dropping the noise.
    """
    if os.environ.get("MNIST_NATIVE_LOGS"):
        return
    original = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(original, "w", buffering=1)


silence_native_logs()

from mnist_core.cli import main  # noqa: E402  (after the redirect: importing TensorFlow may already log)

raise SystemExit(main())
