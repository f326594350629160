"""The same network in PyTorch: ``Linear(D, H) - ReLU - Linear(H, C)``, trained on logits.

``nn.CrossEntropyLoss`` applies log-softmax itself, so the model ends at the logits Z2; a
softmax layer before it would apply softmax twice. ``nn.Linear`` computes ``x @ weight.T +
bias`` with ``weight`` of shape ``(out, in)``: our ``W1`` ``(D, H)`` is ``weight.T``.
Only this module needs ``torch``.
"""

import time
from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

try:
    import torch
    from torch import nn
except ModuleNotFoundError as error:
    if error.name != "torch":
        raise
    raise ModuleNotFoundError(
        "companion.twin needs PyTorch, which is not installed here. Install it with the "
        'companion: pip install "companion[torch]" (or pip install torch; on Colab it is '
        "already there).", name="torch") from error

from companion.train import (
    EarlyStopping,
    check_training_inputs,
    epoch_orders,
    evaluate,
    history_frame,
    train,
)


def default_device():
    """"cuda" when a GPU is available, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def to_torch(params, device=None):
    """A ``nn.Sequential`` holding a copy of ``params`` (same dtype), on ``device``."""
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    model.to(device=device or default_device(), dtype=torch.from_numpy(params["W1"]).dtype)
    with torch.no_grad():
        for layer, i in ((model[0], 1), (model[2], 2)):
            layer.weight.copy_(torch.from_numpy(params[f"W{i}"].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[f"b{i}"]))
    return model


def from_torch(model):
    """The model's parameters as a NumPy dict ``{"W1", "b1", "W2", "b2"}`` (transposed back)."""
    out = {}
    for layer, i in ((model[0], 1), (model[2], 2)):
        out[f"W{i}"] = layer.weight.detach().cpu().numpy().T.copy()
        out[f"b{i}"] = layer.bias.detach().cpu().numpy().copy()
    return out


def torch_optimizer(name, model, learning_rate, weight_decay=0.0, fused=False):
    """The ``torch.optim`` twin of ``companion.optim.make_optimizer(name, learning_rate)``.

    ``weight_decay`` applies to the weights only, as in ``train``: the biases are then in a
    second parameter group without it. torch's SGD and Adam add ``weight_decay * W`` to the
    gradient (the L2 penalty); AdamW decays the weights directly (decoupled). ``fused=True``
    picks the fused implementation, which all of them have: the same update, done by one
    call for all parameters instead of a few operations on each tensor.
    """
    groups = model.parameters() if not weight_decay else [
        {"params": [model[0].weight, model[2].weight], "weight_decay": weight_decay},
        {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0}]
    fused = True if fused else None  # None, not False: False would also turn off foreach
    if name == "sgd":
        return torch.optim.SGD(groups, lr=learning_rate, fused=fused)
    if name == "momentum":
        return torch.optim.SGD(groups, lr=learning_rate, momentum=0.9, fused=fused)
    if name == "adam":
        return torch.optim.Adam(groups, lr=learning_rate, fused=fused)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=learning_rate, fused=fused)
    raise ValueError(f"unknown optimizer {name!r}; choose one of sgd, momentum, adam, adamw")


def torch_scheduler(schedule, opt, epochs):
    """The ``torch.optim.lr_scheduler`` twin of ``companion.optim.scheduled_rate``, or None."""
    if schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=-(-epochs // 2), gamma=0.1)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return None


def evaluate_twin(model, X, y):
    """``(loss, accuracy)`` of the model on whole tensors X ``(N, D)`` and y ``(N,)``."""
    with torch.no_grad():
        Z2 = model(X)
        loss = nn.functional.cross_entropy(Z2, y).item()
        return loss, (Z2.argmax(dim=1) == y).double().mean().item()


def train_twin(params, X, y, X_val=None, y_val=None, optimizer="adam", learning_rate=1e-3,
               batch_size=32, epochs=20, seed=0, device=None, progress=True, weight_decay=0.0,
               schedule=None, patience=None, fused=False):
    """Train the PyTorch twin from ``params`` exactly as ``companion.train.train`` does.

    Same initial weights, same batch order (``epoch_orders(N, epochs, seed)``), same update
    rule (``fused=True``: its fused implementation, see ``torch_optimizer``), same weight decay,
    schedule and early stopping. Returns ``(model, history)`` with the history in the same
    columns and ``history.attrs["kept_epoch"]``.
    """
    check_training_inputs(params, X, y, X_val, y_val, batch_size, epochs, weight_decay,
                          schedule, patience)
    if X.dtype != params["W1"].dtype:  # torch, unlike NumPy, will not mix the two
        raise ValueError(f"X is {X.dtype} but the parameters are {params['W1'].dtype}: "
                         "convert one of them with .astype")
    model = to_torch(params, device)
    dev = next(model.parameters()).device
    opt = torch_optimizer(optimizer, model, learning_rate, weight_decay, fused)
    scheduler = torch_scheduler(schedule, opt, epochs)
    stopper = patience and EarlyStopping(patience, lambda: {k: v.clone() for k, v in
                                                             model.state_dict().items()})
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X).to(dev), torch.from_numpy(y).to(dev)
    has_val = X_val is not None
    if has_val:
        Xv, yv = torch.from_numpy(X_val).to(dev), torch.from_numpy(y_val).to(dev)
    rows = []
    bar = tqdm(epoch_orders(len(X), epochs, seed), total=epochs, desc="training (torch)",
               unit="epoch", disable=not progress)
    for epoch, order in enumerate(bar, start=1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.from_numpy(order).to(dev)
        for i in range(0, len(X), batch_size):
            batch = order[i:i + batch_size]  # gathered as in train(): Xt[batch] is contiguous
            opt.zero_grad()
            loss_fn(model(Xt[batch]), yt[batch]).backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        train_loss, train_acc = evaluate_twin(model, Xt, yt)
        val_loss, val_acc = evaluate_twin(model, Xv, yv) if has_val else (np.nan,) * 2
        rows.append(dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                         val_loss=val_loss, val_acc=val_acc, seconds=seconds))
        bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
        if scheduler:
            scheduler.step()
        if stopper and stopper.stop(epoch, val_loss):
            break
    if stopper:
        model.load_state_dict(stopper.kept)
    return model, history_frame(rows, stopper)


@contextmanager
def same_threads(n):
    """Run the block with NumPy's BLAS and PyTorch's intra-op pool both on ``n`` threads.

    Two thread pools that each start one thread per core fight over the cores when their
    libraries alternate; pinned to the same count, each gets the machine it is timed on.
    """
    if not (isinstance(n, int) and n > 0):
        raise ValueError(f"threads must be a positive integer, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def time_both(params, X, y, optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=1,
              repeats=3, seed=0, device="cpu", X_test=None, y_test=None, threads=None):
    """Seconds per training epoch of the NumPy network and of its PyTorch twin, same run.

    Both train from the same ``params``, ``repeats`` times each, taking turns (NumPy first,
    then PyTorch first, ...) so that a slow moment of the machine, or a drift, hits both;
    repeat r uses the batch order of ``seed + r``, the same for both. Each keeps the median of
    its ``repeats * epochs`` epoch times (training steps only, as in the histories'
    ``seconds``). Returns ``{"numpy": s, "torch": s, "ratio": torch / numpy}``; given X_test
    ``(M, D)`` and y_test ``(M,)``, it also holds ``numpy_acc`` and ``torch_acc``, the test
    accuracies of the trained models, averaged over the repeats. ``threads=n`` pins NumPy's
    BLAS and PyTorch to n threads each while timing (``same_threads``); None keeps each
    library's own setting.
    """
    if threads is not None:
        with same_threads(threads):
            return time_both(params, X, y, optimizer=optimizer, learning_rate=learning_rate,
                             batch_size=batch_size, epochs=epochs, repeats=repeats, seed=seed,
                             device=device, X_test=X_test, y_test=y_test)
    kwargs = dict(optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
                  epochs=epochs, progress=False)
    if X_test is not None:
        Xt, yt = (torch.from_numpy(a).to(device or default_device()) for a in (X_test, y_test))
    times, accs = {"numpy": [], "torch": []}, {"numpy": [], "torch": []}
    for r in range(repeats):
        for name in ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy"):
            if name == "numpy":
                trained, history = train(params, X, y, seed=seed + r, **kwargs)
                acc = evaluate(trained, X_test, y_test)[1] if X_test is not None else None
            else:
                model, history = train_twin(params, X, y, seed=seed + r, device=device, **kwargs)
                acc = evaluate_twin(model, Xt, yt)[1] if X_test is not None else None
            times[name] += list(history["seconds"])
            accs[name].append(acc)
    out = {k: float(np.median(v)) for k, v in times.items()}
    out["ratio"] = out["torch"] / out["numpy"]
    if X_test is not None:
        out.update({f"{k}_acc": float(np.mean(v)) for k, v in accs.items()})
    return out
