"""Timing with both libraries on the same number of threads: ``twin.same_threads`` and
``time_both(threads=n)`` pin NumPy's BLAS and PyTorch while they run, and restore them after."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from companion import init, twin


def blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def two_threads():
    # Start from 2 threads in each library, whatever the environment set, to see the change.
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    with threadpool_limits(limits=2, user_api="blas"):
        yield
    torch.set_num_threads(before)


def test_same_threads_pins_both_libraries_and_restores_them(two_threads):
    assert torch.get_num_threads() == 2 and blas_threads() == {2}
    with twin.same_threads(1):
        assert torch.get_num_threads() == 1
        assert blas_threads() == {1}
    assert torch.get_num_threads() == 2 and blas_threads() == {2}


def test_same_threads_restores_after_an_error(two_threads):
    with pytest.raises(RuntimeError), twin.same_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == 2 and blas_threads() == {2}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1", None])
def test_same_threads_rejects_a_bad_count(bad):
    with pytest.raises(ValueError, match="threads"), twin.same_threads(bad):
        pass


def test_time_both_trains_both_libraries_on_the_pinned_threads(two_threads, monkeypatch):
    seen = []
    real_train, real_twin = twin.train, twin.train_twin

    def spy(real, name):
        def run(*args, **kwargs):
            seen.append((name, torch.get_num_threads(), blas_threads()))
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(twin, "train", spy(real_train, "numpy"))
    monkeypatch.setattr(twin, "train_twin", spy(real_twin, "torch"))
    rng = np.random.default_rng(0)
    X = rng.random((64, 20), dtype=np.float32)
    y = rng.integers(0, 3, 64)
    params = init.init_params(np.random.default_rng(0), D=20, H=8, C=3)
    out = twin.time_both(params, X, y, batch_size=16, repeats=2, threads=1)
    assert sorted(name for name, _, _ in seen) == ["numpy", "numpy", "torch", "torch"]
    assert all(t == 1 and b == {1} for _, t, b in seen), seen
    assert out["numpy"] > 0 and out["torch"] > 0
    assert torch.get_num_threads() == 2 and blas_threads() == {2}
