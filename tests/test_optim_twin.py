"""Optimizers against torch.optim, and the NumPy network against its PyTorch twin."""

import numpy as np
import pytest
import torch

from companion import init, optim, twin
from companion.train import train

# The hyper-parameters of companion.optim's defaults, written out for torch.optim.
TORCH_OPTIMIZERS = {
    "sgd": lambda ps, lr: torch.optim.SGD(ps, lr=lr),
    "momentum": lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9),
    "adam": lambda ps, lr: torch.optim.Adam(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8),
}
# Learning rates at which 100 steps on the digits move the weights well away from the start.
LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "adam": 1e-3}


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_optimizer_steps_match_torch_optim_on_random_gradients(name):
    rng = np.random.default_rng(0)
    shapes = {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = optim.make_optimizer(name, 0.05)
    topt = TORCH_OPTIMIZERS[name](list(tparams.values()), 0.05)
    start = {k: v.copy() for k, v in params.items()}
    for _ in range(20):
        # gradients of very different sizes, as Adam's per-entry scaling must handle
        grads = {k: rng.normal(size=s) * 10.0 ** rng.integers(-6, 2) for k, s in shapes.items()}
        opt.step(params, grads)
        for k, p in tparams.items():
            p.grad = torch.from_numpy(grads[k].copy())
        topt.step()
    for k in shapes:
        assert not np.allclose(params[k], start[k])
        np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-13,
                                   atol=1e-14, err_msg=k)


def test_optimizer_state_follows_its_definition():
    p, g = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    opt = optim.make_optimizer("momentum", 0.1)
    opt.step(p, g)  # v = g
    opt.step(p, g)  # v = 0.9 g + g
    assert p["w"][0] == pytest.approx(1.0 - 0.1 * 0.5 - 0.1 * 1.9 * 0.5, rel=1e-15)
    p = {"w": np.array([1.0])}
    optim.make_optimizer("adam", 0.1).step(p, g)  # first Adam step moves by lr * sign(g)
    assert p["w"][0] == pytest.approx(0.9, rel=1e-7)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_twin_optimizer_matches_make_optimizer(name):
    model = twin.to_torch(init.init_params(np.random.default_rng(0), 4, 3, 2), "cpu")
    topt = twin.torch_optimizer(name, model, 0.01)
    opt = optim.make_optimizer(name, 0.01)
    group = topt.param_groups[0]
    assert group["lr"] == opt.learning_rate
    if name == "momentum":
        assert group["momentum"] == opt.momentum
    if name == "adam":
        assert group["betas"] == (opt.beta1, opt.beta2) and group["eps"] == opt.eps


def test_to_torch_transposes_and_from_torch_transposes_back():
    params = init.init_params(np.random.default_rng(0), 5, 4, 3, method="uniform",
                              dtype=np.float64)
    model = twin.to_torch(params, "cpu")
    assert model[0].weight.shape == (4, 5) and model[0].weight.dtype == torch.float64
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), params["W1"].T)
    back = twin.from_torch(model)
    assert set(back) == set(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    X = np.random.default_rng(1).normal(size=(7, 5))
    with torch.no_grad():
        Z2 = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(Z2, np.maximum(X @ params["W1"] + params["b1"], 0)
                               @ params["W2"] + params["b2"], rtol=1e-12)


@pytest.fixture(scope="module")
def twin_batches(digits):
    """3,200 digits in float64: batches of 32 give 100 steps an epoch."""
    return digits.X_train[:3200].astype(np.float64), digits.y_train[:3200]


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_numpy_and_torch_agree_after_100_steps(twin_batches, name):
    X, y = twin_batches
    params = init.init_params(np.random.default_rng(0), dtype=np.float64)
    kwargs = dict(optimizer=name, learning_rate=LEARNING_RATES[name], batch_size=32, epochs=1,
                  seed=3, progress=False)
    ours, history = train(params, X, y, **kwargs)
    model, twin_history = twin.train_twin(params, X, y, device="cpu", **kwargs)
    theirs = twin.from_torch(model)
    for k in params:
        assert np.abs(ours[k] - params[k]).max() > 1e-3  # training moved the weights
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-5, err_msg=k)
    assert list(twin_history.columns) == list(history.columns)
    np.testing.assert_allclose(twin_history["train_loss"], history["train_loss"], rtol=1e-8)
    np.testing.assert_allclose(twin_history["train_acc"], history["train_acc"], atol=1e-12)


def test_time_both_reports_times_and_test_accuracies(twin_batches):
    X, y = twin_batches[0][:320].astype(np.float32), twin_batches[1][:320]
    params = init.init_params(np.random.default_rng(0))
    times = twin.time_both(params, X, y, repeats=1)
    assert set(times) == {"numpy", "torch", "ratio"}
    assert times["numpy"] > 0 and times["torch"] > 0
    assert times["ratio"] == pytest.approx(times["torch"] / times["numpy"])
    times = twin.time_both(params, X, y, repeats=1, X_test=X[:64], y_test=y[:64])
    assert 0 <= times["numpy_acc"] <= 1 and 0 <= times["torch_acc"] <= 1
