"""Weight decay, AdamW, learning-rate schedules and early stopping (the generalization chapter):
their definitions, the gradient check, the PyTorch twin to 1e-10 in float64, bad input."""

import math

import numpy as np
import pytest
import torch
from test_optim_twin import step_both

from companion import init, loss, optim, twin
from companion.forward import forward
from companion.gradcheck import numerical_gradient, relative_error
from companion.train import EarlyStopping, evaluate, gradients, train


@pytest.fixture(scope="module")
def small(digits):
    """320 training digits in float64 (batches of 32: 10 steps an epoch) and 500 validation."""
    return (digits.X_train[:320].astype(np.float64), digits.y_train[:320],
            digits.X_val.astype(np.float64), digits.y_val)


def params64(H=64, seed=0):
    return init.init_params(np.random.default_rng(seed), H=H, dtype=np.float64)


# --- the L2 penalty and its gradient ---------------------------------------------------------

def test_l2_penalty_is_half_lambda_times_the_squared_weights_biases_excluded():
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([100.0, 100.0]),
              "W2": np.array([[3.0], [-1.0]]), "b2": np.array([7.0])}
    assert loss.l2_penalty(params, 0.1) == pytest.approx(0.05 * (1 + 4 + 9 + 1), rel=1e-15)
    assert loss.l2_penalty(params, 0.0) == 0.0


@pytest.mark.parametrize("weight_decay", [1e-3, 0.1, 3.0])
def test_gradients_with_weight_decay_pass_the_gradient_check(weight_decay):
    rng = np.random.default_rng(1)
    params = init.init_params(rng, D=12, H=7, C=4, method="xavier", dtype=np.float64)
    params["b1"] += 0.1  # away from ReLU's kink
    X, y = rng.random((5, 12)), rng.integers(0, 4, 5)

    def regularized():
        return loss.cross_entropy(forward(params, X)["Z2"], y) + loss.l2_penalty(
            params, weight_decay)

    def data_only():
        return loss.cross_entropy(forward(params, X)["Z2"], y)

    grads = gradients(params, X, y, weight_decay)
    for k in params:
        assert relative_error(grads[k], numerical_gradient(regularized, params[k])) < 1e-7, k
    for k in loss.WEIGHTS:  # the check fails when the penalty is left out of the loss
        assert relative_error(grads[k], numerical_gradient(data_only, params[k])) > 1e-4, k
    plain = gradients(params, X, y)
    for k in ("b1", "b2"):  # biases are not decayed
        np.testing.assert_array_equal(grads[k], plain[k])
    for k in loss.WEIGHTS:
        np.testing.assert_allclose(grads[k] - plain[k], weight_decay * params[k], rtol=1e-12,
                                   atol=1e-16)


def test_weight_decay_zero_changes_nothing_and_adamw_without_decay_is_adam(small):
    X, y, Xv, yv = small
    params = params64()
    kwargs = dict(X_val=Xv, y_val=yv, epochs=2, progress=False)
    default, _ = train(params, X, y, **kwargs)
    for options in (dict(weight_decay=0.0), dict(optimizer="adamw", weight_decay=0.0)):
        other, _ = train(params, X, y, **kwargs, **options)
        for k in params:
            np.testing.assert_array_equal(other[k], default[k], err_msg=f"{options} {k}")


def test_more_weight_decay_gives_smaller_weights(small):
    X, y, _, _ = small
    params = params64()
    norms = {}
    for wd in (0.0, 1e-2, 1e-1):
        trained, _ = train(params, X, y, epochs=3, progress=False, weight_decay=wd)
        norms[wd] = {k: np.linalg.norm(trained[k]) for k in params}
    for k in loss.WEIGHTS:
        assert norms[1e-1][k] < norms[1e-2][k] < norms[0.0][k], k
    assert norms[1e-1]["W1"] < 0.8 * norms[0.0]["W1"]


# --- AdamW is not Adam with L2 ---------------------------------------------------------------

def test_adamw_shrinks_every_weight_by_the_same_factor_adam_with_l2_does_not():
    """With no gradient from the data, AdamW multiplies the weights by (1 - lr wd) each step;
    Adam with L2 normalizes the penalty's gradient, so each weight moves by about lr."""
    W = np.array([[0.5, -0.01], [2.0, 1e-3]])
    zero = {"W1": np.zeros_like(W), "b1": np.zeros(2)}
    lr, wd, steps = 1e-2, 0.1, 5
    params = {"W1": W.copy(), "b1": np.ones(2)}
    adamw = optim.make_optimizer("adamw", lr, weight_decay=wd)
    for _ in range(steps):
        adamw.step(params, zero)
    np.testing.assert_allclose(params["W1"], W * (1 - lr * wd) ** steps, rtol=1e-14)
    np.testing.assert_array_equal(params["b1"], np.ones(2))  # biases are not decayed
    params, adam = {"W1": W.copy()}, optim.make_optimizer("adam", lr)
    adam.step(params, {"W1": wd * params["W1"]})  # L2's gradient, the data's being 0
    np.testing.assert_allclose(W - params["W1"], lr * np.sign(W), rtol=1e-3)  # eps aside


def test_adamw_defaults_are_torchs_and_adams_options_reach_its_step():
    p = {"W1": np.array([2.0])}
    optim.AdamW().step(p, {"W1": np.array([0.0])})  # no gradient: the decay alone
    assert p["W1"][0] == pytest.approx(2.0 * (1 - 1e-3 * 1e-2), rel=1e-15)  # lr, wd as torch's
    options = dict(beta1=0.5, beta2=0.6, eps=0.1)
    biases = [{"b1": np.array([1.0])} for _ in range(3)]  # not decayed: AdamW steps as Adam
    optimizers = optim.AdamW(0.1, **options), optim.Adam(0.1, **options), optim.Adam(0.1)
    for g in (1.0, 0.0, -2.0):
        for opt, b in zip(optimizers, biases):
            opt.step(b, {"b1": np.array([g])})
    assert biases[0]["b1"][0] == biases[1]["b1"][0] != pytest.approx(biases[2]["b1"][0])


def test_adamw_matches_torch_optim_adamw_on_random_gradients():
    rng = np.random.default_rng(0)
    shapes = {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = optim.make_optimizer("adamw", 0.05, weight_decay=0.3)
    topt = torch.optim.AdamW([{"params": [tparams["W1"], tparams["W2"]], "weight_decay": 0.3},
                              {"params": [tparams["b1"], tparams["b2"]], "weight_decay": 0.0}],
                             lr=0.05)
    step_both(opt, params, topt, tparams, rng)
    for k in shapes:
        np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-13,
                                   atol=1e-14, err_msg=k)


# --- schedules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("epochs", [1, 2, 5, 10])
@pytest.mark.parametrize("schedule", ["step", "cosine"])
def test_scheduled_rate_follows_torch_lr_scheduler(schedule, epochs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = twin.torch_scheduler(schedule, opt, epochs)
    for epoch in range(epochs):
        assert optim.scheduled_rate(0.3, epoch, epochs, schedule) == pytest.approx(
            opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), epoch
        opt.step()
        scheduler.step()


def test_scheduled_rates_by_definition():
    assert [optim.scheduled_rate(1.0, e, 4, "step") for e in range(4)] == pytest.approx(
        [1, 1, 0.1, 0.1])
    assert [optim.scheduled_rate(1.0, e, 4, "cosine") for e in range(4)] == pytest.approx(
        [1, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2])
    assert optim.scheduled_rate(0.01, 7, 10, None) == 0.01
    assert twin.torch_scheduler(None, None, 10) is None


# --- early stopping ---------------------------------------------------------------------------

def test_early_stopping_keeps_the_epoch_of_the_lowest_validation_loss(small):
    X, y, Xv, yv = small
    params = params64()
    kwargs = dict(X_val=Xv, y_val=yv, learning_rate=3e-3, epochs=30, seed=1, progress=False)
    full_params, full = train(params, X, y, **kwargs)
    kept_params, history = train(params, X, y, patience=3, **kwargs)
    kept = history.attrs["kept_epoch"]
    assert full.attrs["kept_epoch"] == 30  # without patience, the last epoch is returned
    best = int(full.loc[full["val_loss"].idxmin(), "epoch"])
    assert kept < len(history) < 30  # it stopped early, after its best epoch
    assert len(history) == kept + 3  # three epochs without a lower validation loss
    assert kept == int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert kept <= best
    # the rows it ran are those of the full run; the kept parameters are those of epoch `kept`
    np.testing.assert_array_equal(history["val_loss"], full["val_loss"][:len(history)])
    again, _ = train(params, X, y, **dict(kwargs, epochs=kept))
    for k in params:
        np.testing.assert_array_equal(kept_params[k], again[k])
    assert evaluate(kept_params, Xv, yv)[0] == pytest.approx(history["val_loss"].min(), rel=1e-12)
    assert not np.array_equal(kept_params["W1"], full_params["W1"])


def test_early_stopping_keeps_the_first_of_equal_losses_and_waits_patience_epochs():
    snapshots = iter(range(100))  # what snapshot() returns: 0 at the start, then 1, 2, ...
    stopper = EarlyStopping(2, lambda: next(snapshots))
    assert (stopper.kept, stopper.kept_epoch, stopper.best_loss) == (0, 0, np.inf)
    stops = [stopper.stop(epoch, loss) for epoch, loss in enumerate([0.5, 0.4, 0.4, 0.45], 1)]
    assert stops == [False, False, False, True]  # epoch 4 is two past the kept epoch 2
    assert (stopper.kept, stopper.kept_epoch, stopper.best_loss) == (2, 2, 0.4)


def test_early_stopping_keeps_the_initial_parameters_when_no_epoch_has_a_loss(small):
    X, y, Xv, yv = small
    params = params64()
    with np.errstate(all="ignore"):  # a learning rate of 1e150 sends the loss to NaN
        kept_params, history = train(params, X, y, Xv, yv, optimizer="sgd",
                                     learning_rate=1e150, epochs=4, patience=2, progress=False)
    assert history["val_loss"].isna().all() and len(history) == 2
    assert history.attrs["kept_epoch"] == 0
    for k in params:
        np.testing.assert_array_equal(kept_params[k], params[k])
    _, none = train(params, X, y, Xv, yv, epochs=0, patience=2, progress=False)
    assert none.attrs["kept_epoch"] == 0 and len(none) == 0


# --- the twin, 100 steps in float64 ----------------------------------------------------------

TWIN_OPTIONS = {
    "sgd, weight decay": dict(optimizer="sgd", learning_rate=0.1, weight_decay=1e-2),
    "momentum, weight decay": dict(optimizer="momentum", learning_rate=0.01, weight_decay=1e-2),
    "adam, weight decay": dict(optimizer="adam", weight_decay=1e-2),
    "adamw": dict(optimizer="adamw", learning_rate=3e-3, weight_decay=0.5),
    "adam, step schedule": dict(optimizer="adam", learning_rate=3e-3, schedule="step"),
    "sgd, cosine schedule": dict(optimizer="sgd", learning_rate=0.2, schedule="cosine"),
    "adam, early stopping": dict(optimizer="adam", learning_rate=1e-2, patience=2),
    "all at once": dict(optimizer="adamw", learning_rate=1e-2, weight_decay=0.1,
                        schedule="cosine", patience=2),
}


@pytest.mark.parametrize("options", TWIN_OPTIONS.values(), ids=TWIN_OPTIONS.keys())
def test_numpy_and_torch_agree_to_1e_10_after_100_steps_with_each_option(small, options):
    X, y, Xv, yv = small
    params = params64()
    kwargs = dict(X_val=Xv, y_val=yv, batch_size=32, epochs=10, seed=3, progress=False)
    ours, history = train(params, X, y, **kwargs, **options)
    model, twin_history = twin.train_twin(params, X, y, device="cpu", **kwargs, **options)
    theirs = twin.from_torch(model)
    without = {k: v for k, v in options.items() if k == "optimizer" or k == "learning_rate"}
    plain, _ = train(params, X, y, **kwargs, **without)
    assert any(np.abs(ours[k] - plain[k]).max() > 1e-4 for k in params)  # the option acts
    for k in params:
        assert np.abs(ours[k] - params[k]).max() > 1e-3  # training moved the weights
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-10, err_msg=k)
    assert history.attrs["kept_epoch"] == twin_history.attrs["kept_epoch"]
    assert len(history) == len(twin_history)
    if "patience" in options:
        assert history.attrs["kept_epoch"] < len(history) < 10  # it stopped early
    else:
        assert len(history) * 10 == 100  # 100 steps
    np.testing.assert_allclose(twin_history["val_loss"], history["val_loss"], rtol=1e-10)


# --- bad input ---------------------------------------------------------------------------------

BAD_OPTIONS = [
    (dict(weight_decay=-1e-4), r"weight_decay must be >= 0, got -0\.0001"),
    (dict(weight_decay=float("nan")), "weight_decay must be >= 0, got nan"),
    (dict(optimizer="adamw", weight_decay=-1.0), "weight_decay must be >= 0"),
    (dict(patience=0), "patience must be a positive integer.*got 0"),
    (dict(patience=-2), "patience must be a positive integer.*got -2"),
    (dict(patience=2.5), "patience must be a positive integer.*got 2.5"),
    (dict(schedule="linear"), "unknown schedule 'linear'; choose None, 'step' or 'cosine'"),
    (dict(schedule="Cosine"), "unknown schedule 'Cosine'"),
]


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["train", "train_twin"])
@pytest.mark.parametrize("options, message", BAD_OPTIONS,
                         ids=[str(o) for o, _ in BAD_OPTIONS])
def test_bad_options_raise_value_errors_that_name_them(small, fit, options, message):
    X, y, Xv, yv = small
    with pytest.raises(ValueError, match=message):  # before any training, even of 0 epochs
        fit(params64(), X, y, Xv, yv, epochs=0, progress=False, **options)


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["train", "train_twin"])
def test_early_stopping_needs_validation_data(small, fit):
    X, y, _, _ = small
    with pytest.raises(ValueError, match=r"^early stopping \(patience\) needs validation data: "
                                         r"give X_val, y_val$"):
        fit(params64(), X, y, epochs=1, patience=3, progress=False)


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["train", "train_twin"])
def test_validation_data_and_patience_are_checked_before_training(small, fit):
    X, y, Xv, yv = small
    with pytest.raises(ValueError, match="^X has 7 features per sample, the network expects 784$"):
        fit(params64(), X, y, Xv[:, :7].copy(), yv, epochs=0, progress=False)
    _, history = fit(params64(), X, y, Xv, yv, epochs=0, patience=1, progress=False)
    assert len(history) == 0  # a patience of 1 epoch is allowed


def test_unknown_schedule_and_adamw_decay_outside_train():
    with pytest.raises(ValueError, match="unknown schedule 'warmup'"):
        optim.scheduled_rate(1e-3, 0, 5, "warmup")
    with pytest.raises(ValueError, match="weight_decay must be >= 0, got -0.1"):
        optim.make_optimizer("adamw", 1e-3, weight_decay=-0.1)


@pytest.mark.parametrize("sizes", [dict(H=0), dict(D=0), dict(C=0), dict(H=-3), dict(H=2.0)])
def test_a_layer_of_zero_or_a_bad_number_of_units_is_rejected(sizes):
    with pytest.raises(ValueError, match="D, H and C must be positive integers"):
        init.init_params(np.random.default_rng(0), **sizes)


def test_train_rejects_params_with_an_empty_hidden_layer(small):
    X, y, _, _ = small
    params = params64(H=1)
    params["W1"], params["b1"], params["W2"] = (params["W1"][:, :0], params["b1"][:0],
                                                params["W2"][:0])
    with pytest.raises(ValueError, match=r"^the hidden layer has 0 units: give it at least "
                                         r"one \(H >= 1\)$"):
        train(params, X, y, epochs=1, progress=False)


@pytest.mark.parametrize("label, message", [(10, r"0\.\.9.*to 10"), (-1, r"0\.\.9.*from -1")])
def test_evaluate_rejects_labels_outside_the_classes(small, label, message):
    X, y, _, _ = small
    bad = y.copy()
    bad[5] = label  # -1 would silently index the last class, 10 raise an IndexError
    with pytest.raises(ValueError, match=message):
        evaluate(params64(), X, bad)


def test_evaluate_checks_the_data_against_the_networks_own_sizes():
    rng = np.random.default_rng(0)
    params = init.init_params(rng, D=5, H=4, C=3, dtype=np.float64)
    X, y = rng.normal(size=(6, 5)), np.array([0, 1, 2, 0, 1, 2])
    loss_value, acc = evaluate(params, X, y)
    assert np.isfinite(loss_value) and 0 <= acc <= 1
    with pytest.raises(ValueError, match=r"^labels must be in 0\.\.2, got values from 0 to 3$"):
        evaluate(params, X, np.array([0, 1, 2, 3, 1, 2]))  # class 3 of a 3-class network
    with pytest.raises(ValueError, match="^X has 7 features per sample, the network expects 5$"):
        evaluate(params, rng.normal(size=(6, 7)), y)

