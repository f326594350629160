"""Cross-entropy from the logits, through log-sum-exp.

    L = (1/N) sum_n [ logsumexp(Z2[n]) - Z2[n, y[n]] ]  =  -(1/N) sum_n log A2[n, y[n]]
    dL/dZ2 = (A2 - Y) / N      with Y the one-hot labels

With L2 weight decay the training loss adds ``l2_penalty``, (lambda/2) (||W1||^2 + ||W2||^2),
whose gradient is ``lambda * W`` for each weight matrix (the biases are not decayed).

Computing ``log(softmax(Z2))`` directly gives ``log(0) = -inf`` once a probability underflows;
log-sum-exp never takes the log of a probability, so the loss stays finite.
"""

import numpy as np

from companion.forward import softmax


def logsumexp(Z):
    """``log(sum(exp(Z), axis=1))`` for Z ``(N, C)``, computed without overflow -> ``(N,)``."""
    m = Z.max(axis=1)
    return m + np.log(np.exp(Z - m[:, None]).sum(axis=1))


def cross_entropy(Z2, y):
    """Mean cross-entropy (a float) of logits Z2 ``(N, C)`` and int labels y ``(N,)``."""
    # Shifting a row of logits changes no probability; with the row's max at 0, float32 keeps
    # its precision even when logits are around 1e4.
    S = Z2 - Z2.max(axis=1, keepdims=True)
    return float(np.mean(logsumexp(S) - S[np.arange(len(y)), y]))


def cross_entropy_grad(Z2, y, A2=None):
    """``dL/dZ2 = (A2 - Y) / N``, shape ``(N, C)``; pass ``A2 = softmax(Z2)`` if you have it.

    The labels index the columns to subtract 1 from: no one-hot matrix is built.
    """
    dZ2 = softmax(Z2) if A2 is None else A2.copy()
    dZ2[np.arange(len(y)), y] -= 1
    dZ2 /= len(y)
    return dZ2


WEIGHTS = ("W1", "W2")  # what weight decay shrinks; the biases are left alone


def l2_penalty(params, weight_decay):
    """``(weight_decay / 2) * (||W1||^2 + ||W2||^2)``, a float: the loss's L2 term.

    Its gradient with respect to W1 and W2 is ``weight_decay * W``; the biases, which do not
    scale the input, are not penalized.
    """
    return 0.5 * weight_decay * sum(float(np.sum(params[k] ** 2)) for k in WEIGHTS)
