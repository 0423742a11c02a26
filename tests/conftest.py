"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def mnist_splits():
    """The real MNIST data, split as every stage splits it (``$MNIST_NPZ`` in CI)."""
    from mnist_core.data import get_data_batch

    splits, _report = get_data_batch()
    return splits
