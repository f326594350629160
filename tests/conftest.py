"""Shared fixtures of the companion's tests (BLAS threads are set in the root conftest.py)."""

import pytest

from companion import data


@pytest.fixture(scope="session")
def digits():
    """The embedded MNIST sample, split with the default seed (read-only: do not modify)."""
    return data.load("mnist-5k")

