"""Optimizers: SGD, SGD with momentum, Adam, each following ``torch.optim``'s update rule.

One interface: ``opt = make_optimizer(name, learning_rate)``, then ``opt.step(params, grads)``
updates every array of ``params`` in place (same keys as ``grads``), with g the gradient:

    SGD:       p <- p - lr * g
    momentum:  v <- mu * v + g;                 p <- p - lr * v
    Adam:      m <- b1 * m + (1 - b1) * g;      v <- b2 * v + (1 - b2) * g^2
               p <- p - lr * m_hat / (sqrt(v_hat) + eps),
               m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)     (Kingma and Ba 2014)
"""

import numpy as np


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
    """Adam with bias correction, as ``torch.optim.Adam`` (no weight decay)."""

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.t, self.m, self.v = 0, {}, {}

    def step(self, params, grads):
        self.t += 1
        c1, c2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            # torch's arrangement of the same formula: lr / c1 * m / (sqrt(v) / sqrt(c2) + eps)
            params[k] -= (self.learning_rate / c1) * m / (np.sqrt(v) / np.sqrt(c2) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, learning_rate, **options):
    """An optimizer by name ("sgd", "momentum", "adam"); ``options`` go to its constructor."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if not learning_rate >= 0:
        raise ValueError(f"learning_rate must be >= 0, got {learning_rate}")
    return OPTIMIZERS[name](learning_rate, **options)
