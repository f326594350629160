"""companion.checks: what every grader guarantees, whatever the exercise.

The wrong and right answers of each exercise are in tests/catalogue.py, run by
tests/test_checks_catalogue.py. Here: a grader never raises and never hangs; the companion's
own version of the exercise is unavailable while the learner's function runs, and restored
afterwards, even when that function raises; the references agree with the companion's code.
"""

import functools
import types

import numpy as np
import pytest
from catalogue import CATALOGUE

from companion import backward as backward_module
from companion import checks, forward, gradcheck, metrics, optim, train

CHECKS = {name: check for name, (check, _, _) in CATALOGUE.items()}


def stub(*args):
    """What a learner starts from: a function with no body yet."""


@pytest.mark.parametrize("name", CHECKS)
def test_an_unfinished_crashing_or_endless_answer_gets_feedback_not_a_traceback(name):
    check = CHECKS[name]
    assert repr(check(stub)) == ("NOT YET: returns None: replace ... with your code and return "
                                 "the result")

    def crash(*args):
        raise IndexError("index 10 is out of bounds")
    feedback = check(crash)
    assert repr(feedback) == "NOT YET: your function raised IndexError: index 10 is out of bounds"

    def endless(*args):
        while True:
            try:
                sum(range(1000))
            except Exception:  # a learner's catch-all does not swallow the time limit
                pass
    feedback = check(endless, time_limit=0.2)
    assert repr(feedback) == ("NOT YET: did not finish within 0.2 s: an endless loop? (the check "
                              "stopped it)")
    assert repr(check(42)) == ("NOT YET: expects your function, got int: pass the function "
                               "itself, without calling it (no parentheses)")
    assert repr(check(None)) == ("NOT YET: got None instead of your function: is it defined, "
                                 "under the name the exercise gives, and has its cell run?")


@pytest.mark.parametrize("error, hint", [
    (ValueError("operands could not be broadcast together with shapes (3,4) (3,)"),
     " (shapes that do not line up: a sum or max over axis=1 has shape (N,); keepdims=True "
     "keeps it a column, (N, 1), which lines up with the rows)"),
    (ValueError("shapes (3,4) and (3,4) not aligned"),
     " (a matrix product whose inner sizes differ: write each array's shape next to the "
     "formula; a gradient has the shape of its variable)"),
    (NameError("name 'Z' is not defined"),
     " (a name your function uses is not defined: a typo, or a cell not run yet?)"),
    (ZeroDivisionError("division by zero"), " (a division by zero)"),
    (TypeError("broadcast"), ""),  # the word alone, in another error, gives no hint
    (KeyError("W1"), ""),
])
def test_an_error_gets_its_message_and_a_hint_where_one_helps(error, hint):
    def raises(Z):
        raise error
    feedback = checks.check_softmax(raises)
    assert repr(feedback) == f"NOT YET: your function raised {type(error).__name__}: {error}{hint}"


FORBIDDEN = {  # exercise: the companion's versions it may not call
    "he_init": [("init", "init_params")],
    "softmax": [("forward", "softmax")],
    "cross_entropy": [("loss", "cross_entropy"), ("loss", "logsumexp")],
    "backward": [("backward", "backward"), ("loss", "cross_entropy_grad")],
    "numerical_gradient": [("gradcheck", "numerical_gradient")],
    "momentum_step": [("optim", "Momentum")],
    "adam_step": [("optim", "Adam")],
    "training_loop": [("train", "train"), ("train", "train_step")],
    "accuracy": [("metrics", "accuracy")],
    "confusion_matrix": [("metrics", "confusion_matrix")],
    "kept_epoch": [("train", "EarlyStopping")],
    "to_torch": [("twin", "to_torch")],
}


def companion_names():
    import sys
    return {(name, key): value for name, module in sys.modules.items()
            if name.startswith("companion") for key, value in vars(module).items()}


@pytest.mark.parametrize("name", CHECKS)
def test_the_companions_version_raises_while_the_check_runs_and_is_restored(name):
    import importlib
    before = companion_names()
    seen = {}
    for module_name, attribute in FORBIDDEN[name]:
        module = importlib.import_module(f"companion.{module_name}")

        def calls_it(*args, _module=module, _attribute=attribute):
            seen[_attribute] = getattr(_module, _attribute)
            getattr(_module, _attribute)(*args)
        feedback = CHECKS[name](calls_it)
        assert not feedback.passed
        assert f"calls the companion's {module_name}.{attribute}" in feedback.message
        assert "replaced by a stand-in that raises" in feedback.message
        assert seen[attribute] is not before[(f"companion.{module_name}", attribute)]
    assert companion_names() == before, "every replaced name is restored"


def test_a_name_the_learner_imported_is_replaced_too_and_restored():
    namespace = {"np": np}
    exec("from companion.forward import softmax as sm\n"
         "def my_softmax(Z):\n    return sm(Z)\n", namespace)
    feedback = checks.check_softmax(namespace["my_softmax"])
    assert "forward.softmax" in feedback.message and namespace["sm"] is forward.softmax

    def outer():
        sm = forward.softmax
        return lambda Z: sm(Z)  # in a closure
    assert "forward.softmax" in checks.check_softmax(outer()).message


def test_a_swallowed_stand_in_is_still_reported():
    def sly(Z):
        try:
            return forward.softmax(Z)
        except BaseException:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            return E / E.sum(axis=1, keepdims=True)
    assert "forward.softmax" in checks.check_softmax(sly).message


def test_restored_after_the_learners_function_raises_or_times_out():
    original = backward_module.backward

    def raises(params, cache, y):
        assert backward_module.backward.__name__ == "forbidden", "the stand-in is in place"
        raise RuntimeError("boom")
    assert "RuntimeError: boom" in checks.check_backward(raises).message
    assert backward_module.backward is original

    def endless(*args):
        while True:
            pass
    checks.check_training_loop(endless, time_limit=0.1)
    assert train.train.__name__ == "train" and backward_module.backward is original
    import signal
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "the timer is off again"


def test_the_adam_and_momentum_references_are_the_companions_optimizers():
    rng = np.random.default_rng(3)
    p0, gs = rng.normal(size=7), rng.normal(size=(4, 7))
    for make, step in ((lambda: optim.Adam(1e-3), "adam"), (lambda: optim.Momentum(0.1, 0.9),
                                                              "momentum")):
        opt, params = make(), {"p": p0.copy()}
        p, m, v = p0.copy(), np.zeros(7), np.zeros(7)
        for t, g in enumerate(gs, start=1):
            opt.step(params, {"p": g.copy()})
            if step == "adam":
                p, m, v = checks._adam(p, g, m, v, t, 1e-3, 0.9, 0.999, 1e-8)
            else:
                p, v = checks._momentum(p, g, v, 0.1, 0.9)
        assert np.allclose(params["p"], p, rtol=1e-12, atol=1e-15), step


def test_without_pytorch_the_twin_check_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(checks, "_torch_modules", lambda: None)
    assert repr(checks.check_to_torch(lambda params: None)) == (
        "NOT YET: needs PyTorch, which is not installed here: pip install torch")


def test_the_references_are_the_companions_functions():
    assert checks._softmax is forward.softmax and checks._backward is backward_module.backward
    assert checks._numerical_gradient is gradcheck.numerical_gradient
    assert checks._EarlyStopping is train.EarlyStopping
    assert checks.check_accuracy(metrics.accuracy).message.startswith("calls the companion's")


def test_feedback_reads_pass_or_not_yet():
    assert repr(checks.Feedback(True, "done")) == "PASS: done"
    assert repr(checks.Feedback(False, "divide by N")) == "NOT YET: divide by N"


def test_pass_messages_are_the_same_for_every_right_answer():
    """The otter assignments' tests compare them: no numbers that change with the answer."""
    for name, (check, _, right) in CATALOGUE.items():
        assert len({check(fn).message for fn in right}) == 1, name


def snapshot(value):
    """What a call received, to compare: arrays copied, a generator's state, no functions."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v) for v in value]
    if isinstance(value, np.random.Generator):
        return value.bit_generator.state
    return None if callable(value) else value


def same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return a == b


def recorder(answer, seen):
    """The answer, noting what each call receives; it lives in the answer's module, whose
    names of the companion a check replaces while it runs."""
    def recording(*args):
        seen.append(take(args))
        return answer(*args)
    take = snapshot
    return types.FunctionType(recording.__code__, answer.__globals__, "recording", None,
                              recording.__closure__)


@pytest.mark.parametrize("name", CHECKS)
def test_the_same_seed_draws_the_same_cases_and_another_seed_others(name):
    """The otter assignments' hidden tests grade with other seeds: reproducibly."""
    check, _, right = CATALOGUE[name]
    calls = {}
    for key, seed in (("first", 0), ("again", 0), ("other", 1)):
        calls[key] = []
        assert check(recorder(right[0], calls[key]), seed=seed).passed
    assert same(calls["first"], calls["again"])
    assert not same(calls["first"], calls["other"])


def test_close_means_within_tol_relative_and_absolute_and_never_a_non_number():
    assert checks._close(1.0 + 1.5e-6, 1.0, tol=1e-6)  # within tol + tol * |1.0|
    assert not checks._close(1.0 + 5e-6, 1.0, tol=1e-6)
    assert checks._close(5e-7, 0.0, tol=1e-6)  # the absolute part, near 0
    assert not checks._close(5e-6, 0.0, tol=1e-6)
    assert not checks._close([1.0, 2.0, 3.0], [1.0, 2.0])
    for junk in ("1.0", "abc", [None, None], {"a": 1.0}, [[1.0], [1.0, 2.0]]):
        assert not checks._close(junk, [1.0, 2.0]), junk


def test_the_backward_cases_use_every_class():
    """A case without some label could not tell a one-hot column that is wrong for it."""
    check, _, right = CATALOGUE["backward"]
    for seed in (0, 1, 2):
        seen = []
        assert check(recorder(right[0], seen), seed=seed).passed
        labels = set(np.concatenate([args[2] for args in seen]).tolist())
        assert labels == {0, 1, 2}, seed


@pytest.mark.parametrize("name", CHECKS)
def test_any_seed_an_instructor_picks_draws_a_case_a_right_answer_passes(name):
    """The hidden tests use seeds 1 and 2; an instructor may pick others (the training loop's
    case once lost its smaller last batch at seeds 4, 12, 20...)."""
    check, _, right = CATALOGUE[name]
    for seed in (4, 7, 12):
        assert check(right[0], seed=seed).passed, seed


def test_each_hand_made_loss_curve_reveals_the_mistake_it_is_there_for():
    """check_kept_epoch's first seven curves are there on purpose, whatever the seed: on each,
    the mistake named keeps another epoch (kept) or runs another number of them (ran) than
    early stopping, for some patience."""
    from catalogue import KEPT_EPOCH_WRONG, kept_epoch
    wrong = {words: fn for fn, words in KEPT_EPOCH_WRONG}
    kept, ran = slice(0, 1), slice(1, 2)
    purposes = [("stops one epoch late", ran), ("strictly lower", kept), ("past the end", ran),
                ("expected (1, 2), got (0, 2)", kept), ("since the loss last fell", ran),
                ("looks at the whole list", kept), ("past the end", ran)]
    for seed in (0, 1):
        curves = checks._loss_curves(seed)
        assert len(curves) == 7 + 12 and curves[7:] != checks._loss_curves(seed + 1)[7:]
        for curve, (words, part) in zip(curves, purposes):
            assert any(tuple(wrong[words](list(curve), patience))[part]
                       != kept_epoch(list(curve), patience)[part]
                       for patience in (1, 2, 3)), (curve, words)


def test_a_right_answer_as_a_partial_or_a_callable_object_passes():
    """Neither has the __globals__ a plain function has, where a check looks for the
    companion's names to replace."""
    _, _, right = CATALOGUE["softmax"]

    class Softmax:
        def __call__(self, Z):
            return right[0](Z)

    for answer in (functools.partial(right[0]), Softmax()):
        assert checks.check_softmax(answer).passed is True, answer


def test_an_argument_left_as_it_was_is_unchanged_nan_included():
    assert checks._same(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not checks._same(np.array([1.0, np.nan]), np.array([2.0, np.nan]))
    assert checks._same({"a": np.array([np.nan])}, {"a": np.array([np.nan])})
