"""Optimizers against torch.optim, and the NumPy network against its PyTorch twin."""

import time

import numpy as np
import pandas as pd
import pytest
import torch

from companion import init, optim, twin
from companion.train import evaluate, train

COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]

# The hyper-parameters of companion.optim's defaults, written out for torch.optim.
TORCH_OPTIMIZERS = {
    "sgd": lambda ps, lr: torch.optim.SGD(ps, lr=lr),
    "momentum": lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9),
    "adam": lambda ps, lr: torch.optim.Adam(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8),
}
# Learning rates at which 100 steps on the digits move the weights well away from the start.
LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "adam": 1e-3}


def step_both(opt, params, topt, tparams, rng, steps=20):
    """``steps`` steps of the companion's optimizer on ``params`` and of torch's on ``tparams``,
    with the same random gradients of very different sizes (as Adam's per-entry scaling must
    handle)."""
    for _ in range(steps):
        grads = {k: rng.normal(size=v.shape) * 10.0 ** rng.integers(-6, 2)
                 for k, v in params.items()}
        opt.step(params, grads)
        for k, p in tparams.items():
            p.grad = torch.from_numpy(grads[k].copy())
        topt.step()


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_optimizer_steps_match_torch_optim_on_random_gradients(name):
    rng = np.random.default_rng(0)
    shapes = {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = optim.make_optimizer(name, 0.05)
    topt = TORCH_OPTIMIZERS[name](list(tparams.values()), 0.05)
    start = {k: v.copy() for k, v in params.items()}
    step_both(opt, params, topt, tparams, rng)
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


def test_make_optimizer_passes_its_options_on():
    p, g = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    opt = optim.make_optimizer("momentum", 0.1, momentum=0.5)
    opt.step(p, g)
    opt.step(p, g)  # v = 0.5 g + g
    assert p["w"][0] == pytest.approx(1.0 - 0.1 * 0.5 - 0.1 * 1.5 * 0.5, rel=1e-15)


@pytest.mark.parametrize("make, step", [(optim.SGD, 0.01), (optim.Momentum, 0.01),
                                        (optim.Adam, 1e-3)])
def test_optimizer_default_learning_rates(make, step):
    # the first step of each moves a parameter whose gradient is 1 by its learning rate
    p = {"w": np.array([1.0])}
    make().step(p, {"w": np.array([1.0])})
    assert p["w"][0] == pytest.approx(1.0 - step, rel=1e-7)  # Adam: step * g / (|g| + eps)


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


def test_default_device_is_cuda_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert twin.default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert twin.default_device() == "cpu"


# "meta" tensors have shapes and a device but no values: on a machine without a GPU they show
# that a device argument is honoured.

def device_of(model):
    return next(model.parameters()).device.type


def test_to_torch_puts_the_model_on_the_device(monkeypatch):
    params = init.init_params(np.random.default_rng(0), 5, 4, 3)
    assert device_of(twin.to_torch(params, "meta")) == "meta"
    monkeypatch.setattr(twin, "default_device", lambda: "meta")
    assert device_of(twin.to_torch(params)) == "meta"


def test_train_twin_trains_on_the_device_it_is_given(digits, monkeypatch):
    seen = []

    def evaluate_on_meta(model, X, y):  # meta tensors hold no values to measure
        seen.append({device_of(model), X.device.type, y.device.type})
        return 0.0, 0.0

    monkeypatch.setattr(twin, "evaluate_twin", evaluate_on_meta)
    params = init.init_params(np.random.default_rng(0))
    X, y = digits.X_train[:64], digits.y_train[:64]
    model, _ = twin.train_twin(params, X, y, X[:10], y[:10], epochs=1, device="meta",
                               progress=False)
    assert device_of(model) == "meta"
    assert seen == [{"meta"}, {"meta"}]  # training set, then validation set


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_train_twin_waits_for_the_gpu_around_each_timed_epoch(digits, monkeypatch):
    calls = []
    synchronize = torch.cuda.synchronize
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: calls.append(synchronize()))
    params = init.init_params(np.random.default_rng(0))
    twin.train_twin(params, digits.X_train[:64], digits.y_train[:64], epochs=2, device="cuda",
                    progress=False)
    assert len(calls) == 4  # before and after the steps of each epoch


def test_twin_history_measures_whole_sets_after_each_epoch(digits):
    X, y = digits.X_train[:300].astype(np.float64), digits.y_train[:300]
    X_val, y_val = digits.X_val.astype(np.float64), digits.y_val
    params = init.init_params(np.random.default_rng(0), dtype=np.float64)
    model, history = twin.train_twin(params, X, y, X_val, y_val, epochs=2, progress=False)
    assert list(history.columns) == COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    last, trained = history.iloc[-1], twin.from_torch(model)
    np.testing.assert_allclose([last["train_loss"], last["train_acc"]], evaluate(trained, X, y),
                               rtol=1e-12)
    np.testing.assert_allclose([last["val_loss"], last["val_acc"]],
                               evaluate(trained, X_val, y_val), rtol=1e-12)
    _, history = twin.train_twin(params, X, y, epochs=1, progress=False)
    assert history[["val_loss", "val_acc"]].isna().all().all()
    _, history = twin.train_twin(params, X, y, epochs=0, progress=False)
    assert list(history.columns) == COLUMNS and len(history) == 0


def test_twin_defaults_are_those_of_train(digits):
    X, y = digits.X_train[:64].astype(np.float64), digits.y_train[:64]
    params = init.init_params(np.random.default_rng(0), dtype=np.float64)
    ours, history = train(params, X, y, progress=False)
    model, twin_history = twin.train_twin(params, X, y, progress=False)
    assert len(twin_history) == len(history) == 20
    theirs = twin.from_torch(model)
    for k in params:
        np.testing.assert_allclose(theirs[k], ours[k], rtol=0, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("fit, desc", [(train, "training"), (twin.train_twin, "training (torch)")],
                         ids=["numpy", "torch"])
def test_progress_bar_shows_epochs_loss_and_validation_accuracy(digits, capsys, fit, desc):
    X, y = digits.X_train[:64], digits.y_train[:64]
    params = init.init_params(np.random.default_rng(0))
    _, history = fit(params, X, y, digits.X_val[:50], digits.y_val[:50], epochs=2)
    bar = capsys.readouterr().err.split("\r")[-1]  # the bar as it was left
    assert bar.startswith(f"{desc}: 100%") and " 2/2 [" in bar
    assert "epoch/s" in bar or "s/epoch" in bar
    last = history.iloc[-1]
    assert bar.rstrip().endswith(f"loss={last['train_loss']:.3f}, val_acc={last['val_acc']:.3f}]")
    fit(params, X, y, epochs=1, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["numpy", "torch"])
def test_seconds_are_the_time_spent_training(digits, fit):
    params = init.init_params(np.random.default_rng(0))
    start = time.perf_counter()
    _, history = fit(params, digits.X_train[:64], digits.y_train[:64], epochs=2,
                     progress=False)
    elapsed = time.perf_counter() - start
    assert (history["seconds"] > 0).all() and history["seconds"].sum() < elapsed


class FakeTraining:
    """Stand-ins for train and train_twin that record their calls. Run n (0, 1, ...) reports
    epoch times 10 n, 10 n + 1, ...; its model is (library, seed), whose test accuracy is
    seed / 10 for NumPy and seed / 100 for PyTorch."""

    def __init__(self, monkeypatch):
        self.calls, self.test_devices, self.data = [], [], []
        monkeypatch.setattr(twin, "train", self.fit("numpy"))
        monkeypatch.setattr(twin, "train_twin", self.fit("torch"))
        monkeypatch.setattr(twin, "evaluate", lambda model, X, y: (0.0, model[1] / 10))
        monkeypatch.setattr(twin, "evaluate_twin", self.evaluate_twin)

    def fit(self, library):
        def fake(params, X, y, **kwargs):
            n = len(self.calls)
            self.calls.append((library, kwargs))
            self.data.append((params, X, y))
            seconds = [10.0 * n + e for e in range(kwargs["epochs"])]
            return (library, kwargs["seed"]), pd.DataFrame({"seconds": seconds})
        return fake

    def evaluate_twin(self, model, X, y):
        self.test_devices.append((X.device.type, y.device.type))
        return 0.0, model[1] / 100


@pytest.mark.parametrize("threads", [None, 1])  # 1: time_both calls itself inside same_threads
def test_time_both_takes_turns_and_forwards_its_settings(monkeypatch, threads):
    fake = FakeTraining(monkeypatch)
    X, y = np.zeros((4, 3), dtype=np.float32), np.zeros(4, dtype=np.int64)
    params = {"W1": np.ones((3, 2))}
    out = twin.time_both(params, X, y, optimizer="sgd", learning_rate=0.5, batch_size=7,
                         epochs=2, repeats=3, seed=5, device="meta", X_test=X, y_test=y,
                         threads=threads)
    assert all(p is params and a is X and b is y for p, a, b in fake.data)
    settings = dict(optimizer="sgd", learning_rate=0.5, batch_size=7, epochs=2, progress=False)
    assert fake.calls == [  # NumPy first, then PyTorch first, ...; repeat r uses seed + r
        ("numpy", dict(seed=5, **settings)), ("torch", dict(seed=5, device="meta", **settings)),
        ("torch", dict(seed=6, device="meta", **settings)), ("numpy", dict(seed=6, **settings)),
        ("numpy", dict(seed=7, **settings)), ("torch", dict(seed=7, device="meta", **settings))]
    # medians over every epoch of every repeat: NumPy 0, 1, 30, 31, 40, 41; PyTorch 10, 11,
    # 20, 21, 50, 51
    assert out["numpy"] == 30.5 and out["torch"] == 20.5 and out["ratio"] == 20.5 / 30.5
    assert out["numpy_acc"] == pytest.approx(0.6) and out["torch_acc"] == pytest.approx(0.06)
    assert fake.test_devices == [("meta", "meta")] * 3


def test_time_both_defaults(monkeypatch):
    fake = FakeTraining(monkeypatch)
    X, y = np.zeros((4, 3), dtype=np.float32), np.zeros(4, dtype=np.int64)
    out = twin.time_both({}, X, y)
    settings = dict(optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=1,
                    progress=False)
    assert [(lib, kw["seed"]) for lib, kw in fake.calls] == [
        ("numpy", 0), ("torch", 0), ("torch", 1), ("numpy", 1), ("numpy", 2), ("torch", 2)]
    for lib, kwargs in fake.calls:
        device = {"device": "cpu"} if lib == "torch" else {}
        assert kwargs == dict(seed=kwargs["seed"], **settings, **device)
    assert set(out) == {"numpy", "torch", "ratio"}


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
