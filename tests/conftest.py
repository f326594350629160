"""Shared fixtures of the companion's tests.

The tests multiply small matrices thousands of times. On a small, busy machine a multi-threaded
BLAS spends more time handing out work than doing it (10x slower here), so the tests run BLAS
and PyTorch on one thread unless the environment says otherwise. This must happen before NumPy
is imported, which is why it is the first thing in this file.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

from companion import data  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """The embedded MNIST sample, split with the default seed (read-only: do not modify)."""
    return data.load("mnist-5k")

