"""The companion's training loop against what a user would pick instead, for ``bench.py``.

Every variant trains the book's network (784 -> H -> 10, ReLU, mean softmax cross-entropy) with
Adam as ``torch.optim.Adam`` defines it (learning rate 1e-3, betas 0.9 and 0.999, eps 1e-8),
from the same initial weights (``companion.init.init_params``), on the same batches
(``companion.train.epoch_orders``: one permutation an epoch, batches of ``batch_size`` rows
gathered with ``X[batch]``, the last one shorter), the same number of steps, and reports the
seconds of each epoch's training steps, as ``train.train`` and ``twin.train_twin`` do:

=============  ===================================================================================
numpy          the companion: ``companion.train.train``
numpy-flat     the companion's loop (``train.train_step``), but Adam on one flat buffer: the
               parameters become views into one array, the gradients are copied into another,
               and ``optim.Adam`` makes one pass per line over all 50,890 numbers, not four
numpy-tuned    a hand-tuned NumPy loop: one flat parameter buffer, every array preallocated and
               written with ``out=``, no allocation per step
torch          the PyTorch twin: ``companion.twin.train_twin`` (``torch.optim.Adam``'s defaults)
torch-fused    the twin's loop with ``torch.optim.Adam(fused=True)``: Adam in one kernel
torch-compile  ``torch.compile`` of the whole step (forward, ``torch.autograd.grad``,
               ``Adam.step()``), compiled before the timing, once per batch shape
jax            ``jax.jit`` of the whole step (gather, forward, ``jax.grad``, optax's Adam), with
               the parameters and Adam's state donated to it; needs ``jax`` and ``optax``
=============  ===================================================================================

``time_variants`` trains them in turns, as ``twin.time_both`` does for two, and ``parity``
checks that they compute the same thing: in float64, a few steps from the same weights must
give the companion's parameters to 1e-12 of the largest (they agree to about 1e-15).
"""

import math
import os
import re
import resource
import time

import numpy as np
import torch
from torch import nn

from companion import twin
from companion.optim import Adam
from companion.train import epoch_orders, evaluate, train, train_step

TORCH_COMPILE_OPTIONS = dict(dynamic=False)   # one graph per batch shape, no symbolic sizes


def cpu_counters():
    """(busy CPU seconds of the whole machine, of this process and its children, wall time)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle
    except (OSError, ValueError):
        busy = float("nan")
    own = sum(getattr(resource.getrusage(who), f) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    return busy, own, time.perf_counter()


def others_share(before, after):
    """Share of the machine's CPU time used by other processes between two ``cpu_counters``."""
    busy, own, wall = (b - a for a, b in zip(before, after))
    return max(0.0, (busy - own) / (wall * os.cpu_count()))   # all CPUs, as /proc/stat


def pin_to_one_core():
    """Pin every thread of this process, and so the threads they start, to one CPU; return it
    (None where the system cannot). XLA runs a jitted step on threads of its own even when told
    to use one thread for its operations, and could overlap them with Python's dispatch on a
    second core: pinned, every variant gets the same single core."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:   # a thread that has just ended
            pass
    return cpu


# --- what each library computes with -------------------------------------------------------

def numpy_blas():
    """NumPy's BLAS: library, version, kernel architecture and threads, read by threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS ? (install threadpoolctl to read it)"
    for info in threadpool_info():
        if info["user_api"] == "blas" and "numpy" in info["filepath"]:
            name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(
                info["internal_api"], info["internal_api"])
            version = ".".join((info.get("version") or "?").split(".")[:3])
            arch = info.get("architecture") or info.get("threading_layer") or "?"
            return f"{name} {version} {arch}, {threads(info['num_threads'])}"
    return "BLAS ? (threadpoolctl found none in NumPy)"


def torch_blas(compiled=False):
    """PyTorch's BLAS (MKL on x86 wheels), its CPU kernels' instruction set and its threads."""
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version (\S+?)-", config)
    other = re.search(r"BLAS_INFO=(\w+)", config)
    blas = f"MKL {mkl.group(1)}" if mkl else other.group(1) if other else "BLAS ?"
    text = f"{blas}, ATen {torch.backends.cpu.get_cpu_capability()}"
    if compiled:
        try:
            from torch._inductor.cpu_vec_isa import pick_vec_isa
            text += f" + Inductor C++ {pick_vec_isa() or 'scalar'}"
        except ImportError:
            text += " + Inductor C++"
    return f"{text}, {threads(torch.get_num_threads())}"


def jax_blas():
    """XLA's CPU backend, jaxlib's version and its threads (one when XLA_FLAGS pins them)."""
    import jaxlib
    flags = os.environ.get("XLA_FLAGS", "")
    pinned = "--xla_cpu_multi_thread_eigen=false" in flags and \
        "intra_op_parallelism_threads=1" in flags
    return f"XLA CPU (jaxlib {jaxlib.__version__}), " + (
        "1 thread (XLA_FLAGS)" if pinned else "default threads")


def threads(n):
    return f"{n} thread" + ("s" if n != 1 else "")


# --- the variants ----------------------------------------------------------------------------

class Variant:
    """A way of training the network. ``prepare`` once per batch size (compilers compile
    there, and ``compile_seconds`` records it), then ``train`` once per repeat."""

    key = label = ""
    compiles = False         # True: ``prepare`` compiles, and ``compile_seconds`` says how long
    compile_seconds = 0.0

    def missing(self):
        """None if the variant can run here, else why not."""
        return None

    def describe(self):
        """The library doing the arithmetic, its kernels and its threads."""
        return numpy_blas()

    def prepare(self, params, X, y, batch_size, learning_rate):
        pass

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        """Train a copy of ``params``; return ``(trained params as NumPy arrays, [seconds of
        each epoch's training steps])``."""
        raise NotImplementedError


class CompanionNumPy(Variant):
    key, label = "numpy", "companion (NumPy)"

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        trained, history = train(params, X, y, learning_rate=learning_rate,
                                 batch_size=batch_size, epochs=epochs, seed=seed, progress=False)
        return trained, list(history["seconds"])


class FlatAdam(Adam):
    """``optim.Adam`` on one flat buffer. At the first step the parameters are copied into one
    array and ``params``' entries replaced by views into it; each step copies the gradients
    into a second flat array and runs Adam's passes once over all numbers, not once a key."""

    flat = None

    def step(self, params, grads):
        if self.flat is None:
            self.flat = np.concatenate([p.ravel() for p in params.values()])
            self.grad, offset = np.empty_like(self.flat), 0
            for k, p in list(params.items()):
                params[k] = self.flat[offset:offset + p.size].reshape(p.shape)
                offset += p.size
        np.concatenate([grads[k].ravel() for k in params], out=self.grad)
        super().step({"all": self.flat}, {"all": self.grad})


class CompanionFlatAdam(Variant):
    key, label = "numpy-flat", "companion, Adam on a flat buffer"
    eps = 1e-8

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        params, opt, seconds = {k: v.copy() for k, v in params.items()}, FlatAdam(
            learning_rate, eps=self.eps), []
        for order in epoch_orders(len(X), epochs, seed):   # train.train's timed loop
            start = time.perf_counter()
            for i in range(0, len(X), batch_size):
                batch = order[i:i + batch_size]
                train_step(params, X[batch], y[batch], opt)
            seconds.append(time.perf_counter() - start)
        return {k: v.copy() for k, v in params.items()}, seconds


class TunedNumPy(Variant):
    """Forward, backward and Adam written into arrays allocated once, for the largest batch;
    a shorter batch uses the first rows of each. The parameters, their gradients and Adam's
    m, v and scratch are each one flat array, so Adam is 10 passes over 50,890 numbers."""

    key, label = "numpy-tuned", "hand-tuned NumPy loop"
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        (D, H), C, dtype = params["W1"].shape, params["W2"].shape[1], params["W1"].dtype
        keys = ("W1", "b1", "W2", "b2")
        flat = np.concatenate([params[k].ravel() for k in keys])
        grad, m, v, tmp = (np.zeros_like(flat) for _ in range(4))

        def views(a):
            out, offset = [], 0
            for k in keys:
                out.append(a[offset:offset + params[k].size].reshape(params[k].shape))
                offset += params[k].size
            return out

        W1, b1, W2, b2 = views(flat)
        gW1, gb1, gW2, gb2 = views(grad)
        B = batch_size
        Xb, yb, A1, mask = (np.empty((B, D), dtype), np.empty(B, y.dtype),
                            np.empty((B, H), dtype), np.empty((B, H), bool))
        dA1, Z2, rowmax, rows = (np.empty((B, H), dtype), np.empty((B, C), dtype),
                                 np.empty((B, 1), dtype), np.arange(B))
        b1_, b2_, eps, t, seconds = self.beta1, self.beta2, self.eps, 0, []
        for order in epoch_orders(len(X), epochs, seed):
            start = time.perf_counter()
            for i in range(0, len(X), B):
                batch = order[i:i + B]
                n = len(batch)
                x, a1, z2, mx = Xb[:n], A1[:n], Z2[:n], rowmax[:n]
                np.take(X, batch, axis=0, out=x)
                np.take(y, batch, out=yb[:n])
                np.matmul(x, W1, out=a1)                  # Z1, then A1 = relu(Z1) in place
                a1 += b1
                np.maximum(a1, 0, out=a1)
                np.matmul(a1, W2, out=z2)                 # Z2
                z2 += b2
                np.max(z2, axis=1, keepdims=True, out=mx)  # softmax in place
                z2 -= mx
                np.exp(z2, out=z2)
                np.sum(z2, axis=1, keepdims=True, out=mx)
                z2 /= mx
                z2[rows[:n], yb[:n]] -= 1                 # dZ2 = (A2 - Y) / n
                z2 *= 1 / n
                np.matmul(a1.T, z2, out=gW2)
                np.sum(z2, axis=0, out=gb2)
                da1 = dA1[:n]
                np.matmul(z2, W2.T, out=da1)
                np.greater(a1, 0, out=mask[:n])           # A1 > 0 exactly where Z1 > 0
                da1 *= mask[:n]
                np.matmul(x.T, da1, out=gW1)
                np.sum(da1, axis=0, out=gb1)
                t += 1                                    # Adam, as optim.Adam, on one array
                c1, c2 = 1 - b1_ ** t, 1 - b2_ ** t
                alpha, eps_hat = learning_rate * math.sqrt(c2) / c1, eps * math.sqrt(c2)
                m *= b1_
                np.multiply(grad, 1 - b1_, out=tmp)
                m += tmp
                v *= b2_
                np.multiply(grad, grad, out=tmp)
                tmp *= 1 - b2_
                v += tmp
                np.sqrt(v, out=tmp)
                tmp += eps_hat
                np.divide(m, tmp, out=tmp)
                tmp *= alpha
                flat -= tmp
            seconds.append(time.perf_counter() - start)
        return {k: a.copy() for k, a in zip(keys, views(flat))}, seconds


class TorchTwin(Variant):
    key, label = "torch", "PyTorch eager (the twin)"

    def describe(self):
        return torch_blas()

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        model, history = twin.train_twin(params, X, y, learning_rate=learning_rate,
                                         batch_size=batch_size, epochs=epochs, seed=seed,
                                         device="cpu", progress=False)
        return twin.from_torch(model), list(history["seconds"])


class TorchFused(TorchTwin):
    key, label = "torch-fused", "PyTorch eager, Adam(fused=True)"

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        model = twin.to_torch(params, "cpu")
        opt = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
        loss_fn = nn.CrossEntropyLoss()
        Xt, yt, seconds = torch.from_numpy(X), torch.from_numpy(y), []
        for order in epoch_orders(len(X), epochs, seed):   # twin.train_twin's timed loop
            start = time.perf_counter()
            order = torch.from_numpy(order)
            for i in range(0, len(X), batch_size):
                batch = order[i:i + batch_size]
                opt.zero_grad()
                loss_fn(model(Xt[batch]), yt[batch]).backward()
                opt.step()
            seconds.append(time.perf_counter() - start)
        return twin.from_torch(model), seconds


class TorchCompiled(TorchTwin):
    """``torch.compile`` of one function doing the whole step. ``torch.autograd.grad`` is
    traced into the graph (``torch._dynamo.config.trace_autograd_ops``); ``Adam.step()``
    compiles into its own graph, because torch.optim breaks the graph around it on purpose.
    The model and optimizer are made once, in ``prepare``, and each training run resets them in
    place (weights copied in, Adam's step and moments zeroed), so the graphs compiled there are
    the ones timed."""

    key, label = "torch-compile", "torch.compile of the whole step"
    compiles = True
    trace_autograd_ops = True   # False: Dynamo breaks the graph at torch.autograd.grad

    def describe(self):
        return torch_blas(compiled=True)

    def prepare(self, params, X, y, batch_size, learning_rate):
        import torch._dynamo
        torch._dynamo.reset()
        torch._dynamo.config.trace_autograd_ops = self.trace_autograd_ops
        self.model = model = twin.to_torch(params, "cpu")
        self.opt = opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
        weights = list(model.parameters())

        def step(xb, yb):
            loss = nn.functional.cross_entropy(model(xb), yb)
            for p, g in zip(weights, torch.autograd.grad(loss, weights)):
                p.grad = g
            opt.step()

        self.step = torch.compile(step, **TORCH_COMPILE_OPTIONS)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        start = time.perf_counter()
        for n in sorted({batch_size, len(X) % batch_size} - {0}):   # the epoch's batch shapes
            self.step(Xt[:n], yt[:n])
        self.compile_seconds = time.perf_counter() - start

    def reset(self, params):
        with torch.no_grad():
            for p, new in zip(self.model.parameters(), twin.to_torch(params, "cpu").parameters()):
                p.copy_(new)
                p.grad = None
                for s in self.opt.state[p].values():
                    s.zero_()

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        self.reset(params)
        Xt, yt, seconds = torch.from_numpy(X), torch.from_numpy(y), []
        for order in epoch_orders(len(X), epochs, seed):
            start = time.perf_counter()
            order = torch.from_numpy(order)
            for i in range(0, len(X), batch_size):
                batch = order[i:i + batch_size]
                self.step(Xt[batch], yt[batch])
            seconds.append(time.perf_counter() - start)
        return twin.from_torch(self.model), seconds


class Jax(Variant):
    """``jax.jit`` of the whole step: the batch is gathered from the training set inside the
    step (``X[order[i:i + n]]``, the epoch's order on the device), then forward, ``jax.grad``
    and ``optax.adam``'s update, compiled once per batch shape in ``prepare``. The parameters
    and Adam's state are donated, so XLA may update them in place."""

    key, label = "jax", "JAX, jit of the whole step, optax Adam"
    compiles = True

    def missing(self):
        try:
            import jax  # noqa: F401
            import optax  # noqa: F401
        except ImportError:
            return ("jax and optax are not installed (pip install -e '.[bench]', or "
                    "pip install 'jax[cpu]' optax)")
        return None

    def describe(self):
        return jax_blas()

    def prepare(self, params, X, y, batch_size, learning_rate):
        import jax
        import jax.numpy as jnp
        import optax

        def loss(p, xb, yb):
            A1 = jax.nn.relu(xb @ p["W1"] + p["b1"])
            Z2 = A1 @ p["W2"] + p["b2"]
            return optax.losses.softmax_cross_entropy_with_integer_labels(Z2, yb).mean()

        def step(p, state, X, y, order, i, n):
            batch = jax.lax.dynamic_slice_in_dim(order, i, n)
            updates, state = self.tx.update(jax.grad(loss)(p, X[batch], y[batch]), state, p)
            return optax.apply_updates(p, updates), state

        self.tx = optax.adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8)
        self.step = jax.jit(step, static_argnames="n", donate_argnums=(0, 1))
        self.X, self.y = jax.device_put(X), jax.device_put(y.astype(np.int32))
        start = time.perf_counter()
        order = jax.device_put(np.arange(len(X), dtype=np.int32))
        for n in sorted({batch_size, len(X) % batch_size} - {0}):
            p = jax.tree.map(jnp.array, params)   # copies: the step donates them
            jax.block_until_ready(self.step(p, self.tx.init(p), self.X, self.y, order, 0, n))
        self.compile_seconds = time.perf_counter() - start

    def train(self, params, X, y, batch_size, epochs, seed, learning_rate):
        import jax
        import jax.numpy as jnp
        p = jax.tree.map(jnp.array, params)
        state, seconds = self.tx.init(p), []
        for order in epoch_orders(len(X), epochs, seed):
            start = time.perf_counter()
            order = jax.device_put(order.astype(np.int32))
            for i in range(0, len(X), batch_size):
                p, state = self.step(p, state, self.X, self.y, order, i,
                                     min(batch_size, len(X) - i))
            jax.block_until_ready(p)
            seconds.append(time.perf_counter() - start)
        return {k: np.array(v) for k, v in p.items()}, seconds


VARIANTS = {v.key: v for v in (CompanionNumPy, CompanionFlatAdam, TunedNumPy, TorchTwin,
                               TorchFused, TorchCompiled, Jax)}


# --- timing in turns, and the check that all compute the same ---------------------------------

def time_variants(keys, params, X, y, batch_size=32, epochs=1, repeats=2, seed=0,
                  learning_rate=1e-3, X_test=None, y_test=None):
    """Train each variant ``repeats`` times from ``params`` in turns (in the order of ``keys``,
    then reversed, ...); repeat r uses the batch order of ``seed + r`` for all.

    Returns one dict per key that can run here (the others are left out; ``VARIANTS[key]
    ().missing()`` says why): ``seconds`` (median seconds per epoch over all runs and epochs),
    ``us_per_step`` (that over the steps of an epoch), ``ratio`` (``seconds`` / the first
    key's), ``compile_seconds``, ``test_acc`` (mean over the runs, when X_test is given),
    ``others`` (the share of the CPU other processes took while it ran), ``cores`` (this
    process's CPU time / wall time while it ran: the threads it kept busy) and ``blas``.
    """
    variants = [VARIANTS[k]() for k in keys]
    variants = [v for v in variants if v.missing() is None]
    for v in variants:
        v.prepare(params, X, y, batch_size, learning_rate)
    times = {v.key: [] for v in variants}
    accs = {v.key: [] for v in variants}
    counters = {v.key: np.zeros(3) for v in variants}
    for r in range(repeats):
        for v in variants if r % 2 == 0 else variants[::-1]:
            before = cpu_counters()
            trained, seconds = v.train(params, X, y, batch_size, epochs, seed + r,
                                       learning_rate)
            counters[v.key] += np.subtract(cpu_counters(), before)
            times[v.key] += seconds
            if X_test is not None:
                accs[v.key].append(evaluate(trained, X_test, y_test)[1])
    steps = math.ceil(len(X) / batch_size)
    out = {}
    for v in variants:
        busy, own, wall = counters[v.key]
        seconds = float(np.median(times[v.key]))
        out[v.key] = dict(
            label=v.label, seconds=seconds, us_per_step=1e6 * seconds / steps,
            compile_seconds=v.compile_seconds, blas=v.describe(),
            test_acc=float(np.mean(accs[v.key])) if X_test is not None else None,
            others=others_share((0, 0, 0), (busy, own, wall)), cores=own / wall)
    first = out[variants[0].key]["seconds"] if variants else None
    for r in out.values():
        r["ratio"] = r["seconds"] / first
    return out


def parity(keys, params, X, y, batch_size=32, steps=20, learning_rate=1e-3):
    """Max |difference| between each variant's parameters and the companion's after ``steps``
    steps in float64 from ``params`` on the first ``steps * batch_size - batch_size // 2``
    rows of X (so the last batch is shorter): ``{key: difference}``, relative to the largest
    parameter. Float64 rounding leaves about 1e-15; a different update, 1e-5 or more."""
    n = steps * batch_size - batch_size // 2
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    X64, y = X[:n].astype(np.float64), y[:n]
    args = (batch_size, 1, 0, learning_rate)
    reference, _ = CompanionNumPy().train(p64, X64, y, *args)
    scale = max(np.abs(v).max() for v in reference.values())
    out, default_dtype = {}, torch.get_default_dtype()
    for key in keys:
        v = VARIANTS[key]()
        if v.missing() is not None:
            continue
        try:
            # torch.optim.Adam counts its steps in a tensor of the default dtype; compiled, it
            # computes the bias corrections from it, in float32 unless the default is float64.
            torch.set_default_dtype(torch.float64)
            if key == "jax":
                import jax
                with jax.enable_x64(True):
                    v.prepare(p64, X64, y, batch_size, learning_rate)
                    trained, _ = v.train(p64, X64, y, *args)
            else:
                v.prepare(p64, X64, y, batch_size, learning_rate)
                trained, _ = v.train(p64, X64, y, *args)
        finally:
            torch.set_default_dtype(default_dtype)
        diff = max(float(np.abs(trained[k] - reference[k]).max()) for k in reference)
        out[key] = diff / float(scale)
    return out
