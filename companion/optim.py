"""Optimizers: SGD, SGD with momentum, Adam, AdamW, each following ``torch.optim``'s update rule.

One interface: ``opt = make_optimizer(name, learning_rate)``, then ``opt.step(params, grads)``
updates every array of ``params`` in place (same keys as ``grads``), with g the gradient:

    SGD:       p <- p - lr * g
    momentum:  v <- mu * v + g;                 p <- p - lr * v
    Adam:      m <- b1 * m + (1 - b1) * g;      v <- b2 * v + (1 - b2) * g^2
               p <- p - lr * m_hat / (sqrt(v_hat) + eps),
               m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)     (Kingma and Ba 2014)
    AdamW:     W <- W - lr * wd * W for W1 and W2, then Adam's step    (Loshchilov and Hutter 2019)

``scheduled_rate`` gives the learning rate of each epoch under a schedule ("step", "cosine").
"""

import math

import numpy as np

from companion.loss import WEIGHTS


class SGD:
    """Plain stochastic gradient descent."""

    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        for k, g in grads.items():
            params[k] -= self.learning_rate * g


class Momentum:
    """SGD with (heavy-ball) momentum, as ``torch.optim.SGD(momentum=mu)``: v starts at g."""

    def __init__(self, learning_rate=0.01, momentum=0.9):
        self.learning_rate, self.momentum, self.v = learning_rate, momentum, {}

    def step(self, params, grads):
        for k, g in grads.items():
            if k in self.v:
                self.v[k] *= self.momentum
                self.v[k] += g
            else:
                self.v[k] = g.copy()
            params[k] -= self.learning_rate * self.v[k]


class Adam:
    """Adam with bias correction, as ``torch.optim.Adam`` (no weight decay).

    The update is the formula above, written so that each line is one pass over the array, in
    place or with ``out=``, and makes no temporary array: ``m``, ``v`` and a scratch array
    ``buf`` of each parameter's shape are allocated at the first step and reused. Scalars are
    Python floats, so float32 arrays stay float32: a NumPy float64 scalar such as ``np.sqrt(c2)``
    would turn the whole update into float64 temporaries, several times slower.
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.t, self.m, self.v, self.buf = 0, {}, {}, {}

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        # lr * m_hat / (sqrt(v_hat) + eps) = alpha * m / (sqrt(v) + eps_hat): the bias
        # corrections move onto two scalars instead of two passes over m and v.
        alpha, eps_hat = self.learning_rate * math.sqrt(c2) / c1, self.eps * math.sqrt(c2)
        for k, g in grads.items():
            if k not in self.m:
                self.m[k], self.v[k], self.buf[k] = (np.zeros_like(g) for _ in range(3))
            m, v, buf = self.m[k], self.v[k], self.buf[k]
            m *= b1                         # m <- b1 m + (1 - b1) g
            np.multiply(g, 1 - b1, out=buf)
            m += buf
            v *= b2                         # v <- b2 v + (1 - b2) g^2
            np.multiply(g, g, out=buf)
            buf *= 1 - b2
            v += buf
            np.sqrt(v, out=buf)             # p <- p - alpha * m / (sqrt(v) + eps_hat)
            buf += eps_hat
            np.divide(m, buf, out=buf)
            buf *= alpha
            params[k] -= buf


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    Each step first shrinks W1 and W2 by the factor ``1 - lr * weight_decay``, then takes
    Adam's step with the gradient of the loss alone. Adam with an L2 penalty instead adds
    ``weight_decay * W`` to the gradient, where Adam divides it by ``sqrt(v_hat)``: weights with
    small gradients are decayed far more than weights with large ones.
    """

    def __init__(self, learning_rate=1e-3, weight_decay=1e-2, **options):
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(learning_rate, **options)
        self.weight_decay = weight_decay

    def step(self, params, grads):
        for k in grads:
            if k in WEIGHTS:  # the biases are not decayed
                params[k] *= 1 - self.learning_rate * self.weight_decay
        super().step(params, grads)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam, "adamw": AdamW}
SCHEDULES = (None, "step", "cosine")


def make_optimizer(name, learning_rate, **options):
    """An optimizer by name ("sgd", "momentum", "adam", "adamw"); ``options`` go to its
    constructor."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if not learning_rate >= 0:
        raise ValueError(f"learning_rate must be >= 0, got {learning_rate}")
    return OPTIMIZERS[name](learning_rate, **options)


def scheduled_rate(learning_rate, epoch, epochs, schedule=None):
    """The learning rate of epoch ``epoch`` (counting from 0) of ``epochs``, set at its start.

    None:     constant.
    "step":   divided by 10 halfway through, ``lr * 0.1 ** (epoch // ceil(epochs / 2))``,
              as ``torch.optim.lr_scheduler.StepLR(step_size=ceil(epochs / 2), gamma=0.1)``.
    "cosine": ``lr * (1 + cos(pi * epoch / epochs)) / 2``, from lr down towards 0, as
              ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs)``.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose None, 'step' or 'cosine'")
    if schedule == "step":
        return learning_rate * 0.1 ** (epoch // math.ceil(epochs / 2))
    if schedule == "cosine":
        return learning_rate * (1 + math.cos(math.pi * epoch / epochs)) / 2
    return learning_rate
