"""NumPy versus PyTorch on the CPU: the companion's network and its twin, measured in one run.

For each dataset and batch size, ``companion.twin.time_both`` (the function the book's PyTorch
chapter uses) trains the NumPy network and its PyTorch twin from the same initial weights, on
the same batches, with the same optimizer (Adam, learning rate 1e-3), taking turns; it keeps the
median seconds per epoch of each, and their ratio. The table adds the test accuracy of each and
the NumPy trainer's GFLOP/s; below it come the machine, the thread settings, the float32 peak
assumed and the peak resident memory.

    python benchmarks/bench.py --ghz 3.5  # the full table (about 4 minutes on 2 idle cores)
    python benchmarks/bench.py --quick    # a smoke run on the embedded sample (seconds)

``--ghz`` sets the clock of the float32 peak; without it, /proc/cpuinfo's clock is used.

benchmarks/README.md explains what is measured and how.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from peak_memory import peak_rss_mib

from companion import data, init, twin

EPOCHS = {"mnist-5k": 20, "mnist": 5, "fashion-mnist": 5}
D, C = 784, 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Train the companion's NumPy network and its PyTorch twin on the same data, "
        "weights, batches and optimizer; print accuracy and seconds per epoch of each, and the "
        "ratio PyTorch time / NumPy time, measured in the same run.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: embedded sample, batch 128, 2 epochs, 1 repeat")
    p.add_argument("--datasets", nargs="+", default=["mnist-5k", "fashion-mnist"],
                   choices=data.DATASETS, help="default: mnist-5k fashion-mnist")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 128, 512],
                   help="default: 32 128 512")
    p.add_argument("--hidden", type=int, default=64, help="hidden units H (default 64)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per training run (default: 20 on mnist-5k, 5 on the full sets)")
    p.add_argument("--repeats", type=int, default=4,
                   help="training runs of each library per row, taking turns; even, so each "
                   "goes first equally often (default 4)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and of the batch order (default 0)")
    p.add_argument("--one-thread", choices=["none", "last", "all"], default="last",
                   help="add rows with NumPy's BLAS and PyTorch on one thread each, run in a "
                   "child process: for the last dataset only (default), all, or none")
    p.add_argument("--ghz", type=float, default=None,
                   help="clock (GHz) assumed for the float32 peak (default: /proc/cpuinfo's "
                   "cpu MHz)")
    p.add_argument("--rows-json", help=argparse.SUPPRESS)   # child mode: write rows, no table
    args = p.parse_args(argv)
    if args.quick:
        args.datasets, args.batch_sizes, args.epochs, args.repeats = ["mnist-5k"], [128], 2, 1
        args.one_thread = "none"
    return args


def flops_per_sample(H):
    """Multiply-adds x 2 of one sample's forward and backward pass (matrix products only).

    forward  X @ W1 (2DH), A1 @ W2 (2HC); backward A1.T @ dZ2 (2HC), dZ2 @ W2.T (2HC),
    X.T @ dZ1 (2DH). No dX is needed. Not counted: bias, ReLU, softmax and mask, about
    5H + 8C = 400 flops a sample (0.2%), and Adam's 12 flops a parameter a step, 12 x 50,890 / B
    a sample (0.6% at batch 512, 9% at batch 32).
    """
    return 4 * D * H + 6 * H * C


def thread_settings():
    """(NumPy BLAS threads, PyTorch intra-op threads), the BLAS one read with threadpoolctl
    when it is installed, else from the environment or the BLAS default (one per core)."""
    try:
        from threadpoolctl import threadpool_info
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
                and "numpy" in i["filepath"]]
        blas_threads = str(blas[0]) if blas else "?"
    except ImportError:
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        blas_threads = env or f"{os.cpu_count()} (default, assumed)"
    return blas_threads, torch.get_num_threads()


def measure_rows(args):
    """One dict per (dataset, batch size): accuracies, seconds per epoch, ratio, GFLOP/s."""
    rows = []
    blas_threads, torch_threads = thread_settings()
    for name in args.datasets:
        d = data.load(name)  # the default split; --seed sets weights and batches
        epochs = args.epochs or EPOCHS[name]
        for batch_size in args.batch_sizes:
            params = init.init_params(np.random.default_rng(args.seed), H=args.hidden)
            before = cpu_counters()
            r = twin.time_both(params, d.X_train, d.y_train, batch_size=batch_size,
                               epochs=epochs, repeats=args.repeats, seed=args.seed,
                               device="cpu", X_test=d.X_test, y_test=d.y_test)
            others = others_share(before, cpu_counters())
            gflops = len(d.X_train) * flops_per_sample(args.hidden) / r["numpy"] / 1e9
            rows.append(dict(dataset=name, n_train=len(d.X_train), n_test=len(d.X_test),
                             threads=f"{blas_threads} / {torch_threads}", batch=batch_size,
                             hidden=args.hidden, epochs=epochs, others=others, gflops=gflops, **r))
            print(f"  {name} batch {batch_size}: numpy {r['numpy']:.3f} s, torch "
                  f"{r['torch']:.3f} s, ratio {r['ratio']:.2f}, other processes {others:.0%}, "
                  f"peak memory so far {peak_rss_mib():.0f} MiB",
                  file=sys.stderr, flush=True)
    return rows


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
    return max(0.0, (busy - own) / (wall * len(os.sched_getaffinity(0))))


def one_thread_rows(args, datasets):
    """The same rows in a child process whose BLAS and PyTorch use one thread each (the
    thread pools are sized when the libraries load, hence a fresh process)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [sys.executable, os.path.abspath(__file__), "--rows-json", out, "--datasets",
           *datasets, "--batch-sizes", *map(str, args.batch_sizes), "--hidden",
           str(args.hidden), "--repeats", str(args.repeats), "--seed", str(args.seed)]
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    subprocess.run(cmd, env=env, check=True)
    with open(out) as f:
        rows = json.load(f)
    os.remove(out)
    return rows


def numpy_peak_memory(name, hidden, seed):
    """Peak resident memory (MiB) of a NumPy-only run on ``name`` (load, 1 epoch at batch 32,
    validation, test), measured by ``peak_memory.py`` in a fresh process without PyTorch."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peak_memory.py")
    cmd = [sys.executable, script, name, "--hidden", str(hidden), "--seed", str(seed)]
    return float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def cpu_peak(ghz=None):
    """(peak float32 GFLOP/s of all cores, of one core, an explanation), from /proc/cpuinfo.

    Two FMA units a core (Intel since Haswell, AMD since Zen 2), each doing 8 float32 lanes
    (AVX2) or 16 (AVX-512), 2 flops per lane (a multiply and an add), at ``ghz`` or else the
    clock the kernel reports ("cpu MHz"; in a virtual machine, the host's nominal clock, which
    the cores may exceed when they boost).
    """
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return None, None, "no /proc/cpuinfo: peak unknown"
    fields = {}
    for line in info.splitlines():  # the first processor's fields
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    clock = ghz or float(fields.get("cpu MHz", "nan")) / 1e3
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    per_lane = 2 if "fma" in flags else 1
    units, cores = 2, len(os.sched_getaffinity(0))
    core = units * lanes * per_lane * clock
    isa = ("avx512f" if lanes == 16 else "avx2" if lanes == 8 else "sse") + (
        " + fma" if per_lane == 2 else "")
    source = "given by --ghz" if ghz else "reported by /proc/cpuinfo"
    return cores * core, core, (
        f"{cores} cores x {units} FMA units x {lanes} float32 lanes ({isa}) x {per_lane} flops "
        f"x {clock:.3f} GHz ({source}) = {cores * core:.0f} GFLOP/s ({core:.0f} a core)")


def gemm_gflops(n=2048, repeats=3):
    """GFLOP/s of NumPy's float32 ``A @ B`` on n x n matrices, best of ``repeats``: what the
    BLAS reaches on large products with these thread settings, a practical ceiling."""
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        A @ B
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def machine():
    """One line: CPU model, cores, Python, NumPy and PyTorch versions."""
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    return (f"{model}, {len(os.sched_getaffinity(0))} cores; Python "
            f"{platform.python_version()}, NumPy {np.__version__}, PyTorch {torch.__version__}")


def table(rows):
    """The rows as a Markdown table."""
    head = ("| data (train / test) | threads NumPy / PyTorch | batch | hidden | epochs "
            "| test acc. NumPy | test acc. PyTorch | gap (pp) | s/epoch NumPy "
            "| s/epoch PyTorch | PyTorch / NumPy | NumPy GFLOP/s | others' CPU |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} ({r['n_train']:,} / {r['n_test']:,}) | {r['threads']} "
            f"| {r['batch']} | {r['hidden']} | {r['epochs']} | {100 * r['numpy_acc']:.2f}% "
            f"| {100 * r['torch_acc']:.2f}% | {100 * (r['numpy_acc'] - r['torch_acc']):+.2f} "
            f"| {r['numpy']:.4g} | {r['torch']:.4g} | {r['ratio']:.2f} | {r['gflops']:.1f} "
            f"| {r['others']:.0%} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    start, load_start = time.perf_counter(), os.getloadavg()
    rows = measure_rows(args)
    if args.rows_json:
        with open(args.rows_json, "w") as f:
            json.dump(rows, f)
        return
    if args.one_thread != "none":
        rows += one_thread_rows(args, args.datasets[-1:] if args.one_thread == "last"
                                else args.datasets)
    rss_both = peak_rss_mib()
    rss_numpy = numpy_peak_memory(args.datasets[-1], args.hidden, args.seed)
    peak, core_peak, how = cpu_peak(args.ghz)
    print(f"Command: python benchmarks/bench.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"Machine: {machine()}")
    print(f"Load average (1 min) at start {load_start[0]:.2f}, at end "
          f"{os.getloadavg()[0]:.2f}; total {time.perf_counter() - start:.0f} s\n")
    print(table(rows))
    print("\nothers' CPU: the share of the machine's CPU time that other processes used while "
          "the row ran; above a few % they compete for the cores, and multi-threaded timings "
          "suffer most.")
    print(f"Seconds per epoch: median over {args.repeats} training runs x the epochs of "
          "each, training steps only; the two libraries take turns. Test accuracy: mean over "
          f"the {args.repeats} runs (run r shuffles with seed {args.seed} + r, the same for "
          "both). Optimizer Adam(lr=1e-3), defaults of torch.optim.Adam.")
    print(f"FLOPs per training sample (forward + backward matrix products): "
          f"{flops_per_sample(args.hidden):,}")
    print(f"Assumed float32 peak: {how}" if peak else how)
    gemm = gemm_gflops()
    print(f"NumPy float32 2048 x 2048 matrix product here, default threads: {gemm:.0f} GFLOP/s")
    if peak and gemm > peak:
        print("  (above the assumed peak: the cores run faster than the clock assumed; pass "
              "--ghz with the CPU's boost clock)")
    for r in rows:
        if r["batch"] == max(args.batch_sizes) and peak:
            if r["threads"].startswith("1 /"):  # one core, and no ceiling measured for it
                share = f"{100 * r['gflops'] / core_peak:.1f}% of one core's peak"
            else:
                share = (f"{100 * r['gflops'] / peak:.1f}% of the peak, "
                         f"{100 * r['gflops'] / gemm:.0f}% of the 2048 x 2048 product's rate")
            print(f"  {r['dataset']}, batch {r['batch']}, threads {r['threads']}: "
                  f"{r['gflops']:.1f} GFLOP/s = {share}")
    print(f"Peak resident memory: NumPy-only run on {args.datasets[-1]} (load, train 1 epoch, "
          "validate, test) "
          f"{rss_numpy:.0f} MiB; this whole benchmark (both libraries) {rss_both:.0f} MiB")


if __name__ == "__main__":
    main()
