"""Entry point for ``python -m mnist_core``."""

from mnist_core.cli import main, silence_native_logs

silence_native_logs()
raise SystemExit(main())
