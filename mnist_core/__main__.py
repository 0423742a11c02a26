"""Entry point for ``python -m mnist_core``."""

from mnist_core.cli import main

raise SystemExit(main())
