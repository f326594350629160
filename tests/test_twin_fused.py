"""The twin's fused optimizers: ``torch_optimizer(..., fused=True)`` and ``train_twin(...,
fused=True)`` run the same update as the plain ones (and as the NumPy network), in one call
for all parameters; ``fused=False`` keeps PyTorch's default implementation."""

import numpy as np
import pytest
import torch

from companion import data, init, twin
from companion.train import train

NAMES = ["sgd", "momentum", "adam"]
LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "adam": 1e-3}


@pytest.fixture(scope="module")
def digits():
    d = data.load("mnist-5k")
    return d.X_train[:300], d.y_train[:300]  # 10 steps of 32 a epoch, the last one of 12


def largest_difference(p, q):
    return max(float(np.abs(p[k] - q[k]).max()) for k in p)


@pytest.mark.parametrize("name", NAMES + ["adamw"])
def test_fused_asks_torch_for_the_fused_implementation_and_false_for_its_default(name):
    model = twin.to_torch(init.init_params(np.random.default_rng(0), 4, 3, 2), "cpu")
    assert twin.torch_optimizer(name, model, 0.01, fused=True).param_groups[0]["fused"] is True
    plain = twin.torch_optimizer(name, model, 0.01).param_groups[0]
    # None lets PyTorch choose (foreach on a GPU); an explicit False would also rule out foreach
    assert plain["fused"] is None and plain["foreach"] is None
    assert twin.torch_optimizer(name, model, 0.01, fused=False).param_groups[0]["fused"] is None


def test_the_fused_adam_step_is_one_call_for_all_parameters():
    """Counted where PyTorch dispatches its operations: plain Adam makes several calls for each
    of the four tensors, fused Adam one ``_fused_adam_`` call for all of them."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Calls(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    counts = {}
    for fused in (False, True):
        model = twin.to_torch(init.init_params(np.random.default_rng(0)), "cpu")
        opt = twin.torch_optimizer("adam", model, 1e-3, fused=fused)
        model(torch.ones(2, 784)).sum().backward()
        with Calls() as calls:
            opt.step()
        counts[fused] = [n for n in calls.names if not n.startswith("_record_function")]
    assert counts[True].count("_fused_adam_.default") == 1
    assert not any("fused" in n for n in counts[False])
    assert len(counts[False]) >= 4 * 7 > len(counts[True])


@pytest.mark.parametrize("name", NAMES)
def test_fused_twin_trains_to_the_numpy_weights_in_float64(name, digits):
    X, y = digits
    params = init.init_params(np.random.default_rng(0), dtype=np.float64)
    X = X.astype(np.float64)
    kwargs = dict(optimizer=name, learning_rate=LEARNING_RATES[name], epochs=2, progress=False)
    p_numpy, _ = train(params, X, y, **kwargs)
    model, history = twin.train_twin(params, X, y, device="cpu", fused=True, **kwargs)
    p_fused = twin.from_torch(model)
    assert largest_difference(p_numpy, params) > 1e-3  # the weights have moved
    assert largest_difference(p_numpy, p_fused) < 1e-12
    assert next(model.parameters()).dtype == torch.float64 and len(history) == 2


@pytest.mark.parametrize("name", NAMES)
def test_fused_and_plain_twins_agree_to_float32_rounding(name, digits):
    X, y = digits
    params = init.init_params(np.random.default_rng(0))
    kwargs = dict(optimizer=name, learning_rate=LEARNING_RATES[name], epochs=1, progress=False)
    p_plain = twin.from_torch(twin.train_twin(params, X, y, device="cpu", **kwargs)[0])
    p_fused = twin.from_torch(twin.train_twin(params, X, y, device="cpu", fused=True,
                                              **kwargs)[0])
    assert largest_difference(p_plain, params) > 1e-3
    for k in params:
        np.testing.assert_allclose(p_fused[k], p_plain[k], rtol=0, atol=1e-6, err_msg=k)


def test_a_wrong_update_would_be_caught(digits):
    """The float64 comparison above tells a different learning rate from the same one."""
    X, y = digits
    params = init.init_params(np.random.default_rng(0), dtype=np.float64)
    X = X.astype(np.float64)
    p_numpy, _ = train(params, X, y, learning_rate=1e-3, epochs=1, progress=False)
    model, _ = twin.train_twin(params, X, y, learning_rate=1.001e-3, epochs=1, device="cpu",
                               progress=False, fused=True)
    assert largest_difference(p_numpy, twin.from_torch(model)) > 1e-9


@pytest.mark.parametrize("fused", [True, False])
def test_train_twin_trains_with_the_implementation_asked_for(fused, monkeypatch):
    made, twin_optimizer = [], twin.torch_optimizer

    def recording(*args, **kwargs):
        made.append(twin_optimizer(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(twin, "torch_optimizer", recording)
    rng = np.random.default_rng(0)
    params = init.init_params(rng, 4, 3, 2, dtype=np.float64)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 2, 8)
    twin.train_twin(params, X, y, optimizer="adamw", weight_decay=0.1, epochs=1, batch_size=4,
                    device="cpu", progress=False, fused=fused)
    assert [opt.param_groups[0]["fused"] for opt in made] == [True if fused else None]
