"""Peak resident memory of a NumPy-only training run; PyTorch is not imported.

Loads a dataset, trains the NumPy network (Adam, learning rate 1e-3) with validation after each
epoch, evaluates it on the test set, and prints the process's peak resident set size in MiB
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, or Linux's ``VmHWM``, see ``peak_rss_mib``):

    python benchmarks/peak_memory.py fashion-mnist
"""

import argparse
import resource
import sys

import numpy as np

from companion import data, init, train


def peak_rss_mib():
    """This process's peak resident set size in MiB.

    ``ru_maxrss`` (KiB on Linux, bytes on macOS) survives ``exec`` on Linux: a process started
    from a bigger one (the benchmark, with PyTorch loaded) reports at least its parent's size.
    Linux's ``VmHWM`` in ``/proc/self/status`` is the same peak, counted from the ``exec``; it
    is used where it exists.
    """
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 2**10
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(argv=None):
    p = argparse.ArgumentParser(description="Peak resident memory (MiB) of a NumPy-only run: "
                                "load, train, validate, test.")
    p.add_argument("dataset", nargs="?", default="fashion-mnist", choices=data.DATASETS)
    p.add_argument("--epochs", type=int, default=1, help="default 1")
    p.add_argument("--batch-size", type=int, default=32, help="default 32")
    p.add_argument("--hidden", type=int, default=64, help="hidden units H (default 64)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    d = data.load(args.dataset, seed=args.seed)
    params = init.init_params(np.random.default_rng(args.seed), H=args.hidden)
    params, _ = train.train(params, d.X_train, d.y_train, d.X_val, d.y_val,
                            batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                            progress=False)
    train.evaluate(params, d.X_test, d.y_test)
    print(f"{peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
