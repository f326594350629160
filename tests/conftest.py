"""Shared fixtures of the companion's tests (BLAS threads are set in the root conftest.py)."""

import pytest
from tqdm import tqdm

from companion import data

# No progress-bar monitor thread (it only tunes how often a bar redraws): mutation testing
# forks a process per mutant from one that has run the tests, and a child forked while that
# thread holds tqdm's lock waits for it forever.
tqdm.monitor_interval = 0


@pytest.fixture(scope="session")
def digits():
    """The embedded MNIST sample, split with the default seed (read-only: do not modify)."""
    return data.load("mnist-5k")

