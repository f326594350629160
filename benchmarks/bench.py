"""NumPy versus PyTorch and JAX on the CPU: the companion's network and its rivals, one run.

Two tables. The first, with each library's default threads: for each dataset and batch size,
``companion.twin.time_both`` (the function the book's PyTorch chapter uses) trains the NumPy
network and its PyTorch twin from the same initial weights, on the same batches, with the same
optimizer (Adam, learning rate 1e-3), taking turns; it keeps the median seconds per epoch of
each and their ratio, and the table adds test accuracies and the NumPy trainer's GFLOP/s.

The second, with one thread each, in a child process: on the last dataset, every way of
training in ``variants.py`` (the companion, Adam on a flat buffer, a hand-tuned NumPy loop, the
twin, the twin with fused Adam, torch.compile of the whole step, JAX jit of the whole step when
jax is installed) in turns, from the same weights on the same batches; microseconds per step,
compile time apart. A float64 check first shows that all of them compute the same updates.

Every row names the library that does the arithmetic, its kernels and its threads. Below come
the machine, the float32 peak assumed and the peak resident memory.

    python benchmarks/bench.py --native-blas  # the full tables (about 7 minutes on 2 idle cores)
    python benchmarks/bench.py --quick        # a smoke run on the embedded sample (seconds)

``--native-blas`` unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the run, so that OpenBLAS
picks its kernels for the CPU as it would on a user's machine; the output says which. ``--ghz``
sets the clock of the float32 peak; ``--write-readme`` also writes the tables into README.md
and benchmarks/README.md. benchmarks/README.md explains what is measured and how.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from peak_memory import peak_rss_mib
from variants import (
    VARIANTS,
    cpu_counters,
    numpy_blas,
    others_share,
    parity,
    pin_to_one_core,
    time_variants,
    torch_blas,
)

from companion import data, init, twin

EPOCHS = {"mnist-5k": 20, "mnist": 5, "fashion-mnist": 5}
D, C = 784, 10
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")   # set on the project's machines
UNSET = "BENCH_UNSET_BLAS_ENV"                          # what --native-blas unset, for the output
ONE_THREAD_ENV = dict(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
QUICK_SKIPS = ("torch-compile",)   # compiling takes half a minute: not in a smoke run
ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- bench.py: begin (written by python benchmarks/bench.py --write-readme) -->"
END = "<!-- bench.py: end -->"


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Train the companion's NumPy network and its PyTorch twin on the same data, "
        "weights, batches and optimizer; then, one thread each, every variant (fused Adam, "
        "torch.compile, JAX, hand-tuned NumPy) in turns. Prints accuracy and time of each and "
        "their ratios, measured in the same run.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: embedded sample, batch 128, 2 epochs, 1 repeat, no "
                   "torch.compile")
    p.add_argument("--datasets", nargs="+", default=["mnist-5k", "fashion-mnist"],
                   choices=data.DATASETS, help="default: mnist-5k fashion-mnist")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 128, 512],
                   help="default: 32 128 512")
    p.add_argument("--hidden", type=int, default=64, help="hidden units H (default 64)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per training run (default: 20 on mnist-5k, 5 on the full sets)")
    p.add_argument("--repeats", type=int, default=4,
                   help="training runs of each variant per row, taking turns; even, so each "
                   "goes first and last equally often (default 4)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and of the batch order (default 0)")
    p.add_argument("--one-thread", choices=["none", "last", "all"], default="last",
                   help="the one-thread table, every variant in turns, in a child process: for "
                   "the last dataset only (default), all, or none")
    p.add_argument("--no-default-threads", action="store_true",
                   help="leave out the default-threads table (NumPy against the twin)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not pin the one-thread table's process to one core (XLA's own "
                   "threads may then take a second one)")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=None,
                   help="variants of the one-thread table (default: all; numpy is always "
                   "first, the reference of the ratios): " + ", ".join(VARIANTS))
    p.add_argument("--native-blas", action="store_true",
                   help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this run, so that "
                   "OpenBLAS picks its kernels for this CPU (tests and CI keep them)")
    p.add_argument("--ghz", type=float, default=None,
                   help="clock (GHz) assumed for the float32 peak (default: /proc/cpuinfo's "
                   "cpu MHz)")
    p.add_argument("--write-readme", action="store_true",
                   help="also write the tables between the bench.py markers of README.md and "
                   "benchmarks/README.md")
    p.add_argument("--rows-json", help=argparse.SUPPRESS)   # child mode: write rows, no table
    args = p.parse_args(argv)
    if args.quick:
        args.datasets, args.batch_sizes, args.epochs, args.repeats = ["mnist-5k"], [128], 2, 1
    if args.variants is None:
        args.variants = [k for k in VARIANTS if not (args.quick and k in QUICK_SKIPS)]
    args.variants = ["numpy"] + [k for k in VARIANTS if k in args.variants and k != "numpy"]
    if args.write_readme and (args.quick or args.no_default_threads or args.no_pin
                              or args.one_thread == "none"):
        p.error("--write-readme writes both full tables: leave out --quick, "
                "--no-default-threads, --no-pin and --one-thread none")
    return args


def flops_per_sample(H):
    """Multiply-adds x 2 of one sample's forward and backward pass (matrix products only).

    forward  X @ W1 (2DH), A1 @ W2 (2HC); backward A1.T @ dZ2 (2HC), dZ2 @ W2.T (2HC),
    X.T @ dZ1 (2DH). No dX is needed. Not counted: bias, ReLU, softmax and mask, about
    5H + 8C = 400 flops a sample (0.2%), and Adam's 12 flops a parameter a step, 12 x 50,890 / B
    a sample (0.6% at batch 512, 9% at batch 32).
    """
    return 4 * D * H + 6 * H * C


def measure_rows(args):
    """Default threads: one dict per (dataset, batch size), NumPy against the twin."""
    rows = []
    blas = f"{numpy_blas()} / {torch_blas()}"
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
                             blas=blas, batch=batch_size, hidden=args.hidden, epochs=epochs,
                             others=others, gflops=gflops, **r))
            print(f"  {name} batch {batch_size}: numpy {r['numpy']:.3f} s, torch "
                  f"{r['torch']:.3f} s, ratio {r['ratio']:.2f}, other processes {others:.0%}, "
                  f"peak memory so far {peak_rss_mib():.0f} MiB",
                  file=sys.stderr, flush=True)
    return rows


def measure_variants(args):
    """One thread each (the child process): the float64 check, then one dict per (dataset,
    batch size, variant), all variants in turns."""
    rows, skipped, cpu = [], {}, None if args.no_pin else pin_to_one_core()
    for key in args.variants:
        reason = VARIANTS[key]().missing()
        if reason:
            skipped[key] = reason
    checked, first_compile = {}, {}
    for name in args.datasets:
        d = data.load(name)
        epochs = args.epochs or EPOCHS[name]
        for key in args.variants if not checked else []:   # one variant at a time, timed
            params = init.init_params(np.random.default_rng(args.seed), H=args.hidden)
            start = time.perf_counter()
            checked.update(parity([key], params, d.X_train, d.y_train))
            if VARIANTS[key].compiles:
                first_compile[key] = time.perf_counter() - start
        for batch_size in args.batch_sizes:
            params = init.init_params(np.random.default_rng(args.seed), H=args.hidden)
            out = time_variants(args.variants, params, d.X_train, d.y_train, batch_size,
                                epochs, args.repeats, args.seed, X_test=d.X_test,
                                y_test=d.y_test)
            for key, r in out.items():
                rows.append(dict(dataset=name, n_train=len(d.X_train), n_test=len(d.X_test),
                                 batch=batch_size, hidden=args.hidden, epochs=epochs, key=key,
                                 **r))
            print(f"  {name} batch {batch_size}, one thread each: " + ", ".join(
                f"{k} {r['us_per_step']:.0f} us" for k, r in out.items()),
                file=sys.stderr, flush=True)
    return dict(rows=rows, skipped=skipped, parity=checked, first_compile=first_compile,
                peak_rss=peak_rss_mib(), cpu=cpu)


def one_thread_run(args, datasets):
    """``measure_variants`` in a child process whose BLAS, PyTorch and XLA use one thread each
    (thread pools are sized when the libraries load, hence a fresh process), with an empty
    compiler cache for torch.compile, so that its compile time is a first compile's."""
    cache = tempfile.mkdtemp(prefix="bench-inductor-")
    env = dict(os.environ, **ONE_THREAD_ENV, TORCHINDUCTOR_CACHE_DIR=cache,
               XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " " + XLA_ONE_THREAD).strip())
    out = os.path.join(cache, "rows.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--rows-json", out, "--datasets",
           *datasets, "--batch-sizes", *map(str, args.batch_sizes), "--hidden",
           str(args.hidden), "--repeats", str(args.repeats), "--seed", str(args.seed),
           "--variants", *args.variants] + (["--no-pin"] if args.no_pin else [])
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    try:
        subprocess.run(cmd, env=env, check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def numpy_peak_memory(name, hidden, seed):
    """Peak resident memory (MiB) of a NumPy-only run on ``name`` (load, 1 epoch at batch 32,
    validation, test), measured by ``peak_memory.py`` in a fresh process without PyTorch."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peak_memory.py")
    cmd = [sys.executable, script, name, "--hidden", str(hidden), "--seed", str(seed)]
    return float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def cpu_info():
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return {}
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_peak(ghz=None):
    """(peak float32 GFLOP/s of all cores, of one core, an explanation), from /proc/cpuinfo.

    Two FMA units a core (Intel since Haswell, AMD since Zen 2), each doing 8 float32 lanes
    (AVX2) or 16 (AVX-512), 2 flops per lane (a multiply and an add), at ``ghz`` or else the
    clock the kernel reports ("cpu MHz"; in a virtual machine, the host's nominal clock, which
    the cores may exceed when they boost). AMD's Zen 4 (family 25 with AVX-512) runs AVX-512
    instructions on its two 256-bit FMA units, in two halves: 8 lanes a unit, as AVX2.
    """
    fields = cpu_info()
    if not fields:
        return None, None, "no /proc/cpuinfo: peak unknown"
    flags = fields.get("flags", "").split()
    clock = ghz or float(fields.get("cpu MHz", "nan")) / 1e3
    zen4 = fields.get("vendor_id") == "AuthenticAMD" and fields.get("cpu family") == "25"
    lanes = 16 if "avx512f" in flags and not zen4 else 8 if "avx2" in flags else 4
    per_lane = 2 if "fma" in flags else 1
    units, cores = 2, len(os.sched_getaffinity(0))
    core = units * lanes * per_lane * clock
    isa = ("avx512f" if lanes == 16 else "avx2" if lanes == 8 else "sse") + (
        " + fma" if per_lane == 2 else "")
    if zen4 and "avx512f" in flags:
        isa += "; AVX-512 runs on 256-bit units in AMD family 25"
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
    """One line: CPU model, family and model numbers, cores, Python and library versions."""
    fields = cpu_info()
    model = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:
        model += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    try:
        import jax
        jax_version = f"JAX {jax.__version__}"
    except ImportError:
        jax_version = "JAX not installed"
    return (f"{model}, {len(os.sched_getaffinity(0))} cores; Python "
            f"{platform.python_version()}, NumPy {np.__version__}, PyTorch {torch.__version__}, "
            f"{jax_version}")


def blas_environment():
    """What OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were for this run, in words."""
    unset = os.environ.get(UNSET)
    kept = [f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ]
    if unset:
        return (f"{unset} unset for this run (--native-blas): OpenBLAS chose its kernels for "
                "this CPU")
    if kept:
        return f"{' '.join(kept)} set in the environment and kept (--native-blas unsets it)"
    return f"{' and '.join(BLAS_ENV)} not set: OpenBLAS chose its kernels for this CPU"


def table(rows):
    """The default-threads rows as a Markdown table."""
    head = ("| data (train / test) | NumPy's BLAS / PyTorch's (kernels, threads) | batch "
            "| hidden | epochs | test acc. NumPy | test acc. PyTorch | gap (pp) | s/epoch NumPy "
            "| s/epoch PyTorch | PyTorch / NumPy | NumPy GFLOP/s | others' CPU |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} ({r['n_train']:,} / {r['n_test']:,}) | {r['blas']} "
            f"| {r['batch']} | {r['hidden']} | {r['epochs']} | {100 * r['numpy_acc']:.2f}% "
            f"| {100 * r['torch_acc']:.2f}% | {100 * (r['numpy_acc'] - r['torch_acc']):+.2f} "
            f"| {r['numpy']:.4g} | {r['torch']:.4g} | {r['ratio']:.2f} | {r['gflops']:.1f} "
            f"| {r['others']:.0%} |")
    return "\n".join(lines)


def variants_table(rows):
    """The one-thread rows, one a variant, as a Markdown table."""
    head = ("| data (train / test) | batch | variant | library (kernels, threads) | epochs "
            "| test acc. | gap to companion (pp) | µs/step | s/epoch | time / companion "
            "| compile (s) | cores used | others' CPU |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    acc = {(r["dataset"], r["batch"]): r["test_acc"] for r in rows if r["key"] == "numpy"}
    for r in rows:
        gap = 100 * (r["test_acc"] - acc[r["dataset"], r["batch"]])
        lines.append(
            f"| {r['dataset']} ({r['n_train']:,} / {r['n_test']:,}) | {r['batch']} "
            f"| {r['label']} | {r['blas']} | {r['epochs']} | {100 * r['test_acc']:.2f}% "
            f"| {gap:+.2f} | {r['us_per_step']:.0f} | {r['seconds']:.4g} | {r['ratio']:.2f} "
            f"| {r['compile_seconds']:.1f} | {r['cores']:.2f} | {r['others']:.0%} |")
    return "\n".join(lines)


def pivot(rows, dataset):
    """Microseconds per step of each variant (rows) at each batch size (columns) on
    ``dataset``, with the time relative to the companion's in brackets."""
    rows = [r for r in rows if r["dataset"] == dataset]
    batches = sorted({r["batch"] for r in rows})
    labels = list(dict.fromkeys(r["label"] for r in rows))
    cell = {(r["label"], r["batch"]): r for r in rows}
    lines = ["| µs per training step (time / companion's) | "
             + " | ".join(f"batch {b}" for b in batches) + " |",
             "|---|" + "---|" * len(batches)]
    for label in labels:
        values = []
        for b in batches:
            r = cell.get((label, b))
            values.append("" if r is None else f"{r['us_per_step']:.0f}" if r["key"] == "numpy"
                          else f"{r['us_per_step']:.0f} ({r['ratio']:.2f})")
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def compile_times(rows):
    """'torch.compile 31.2 s at batch 32, ...; JAX ...': the compile times, in words."""
    parts = []
    for key, name in (("torch-compile", "torch.compile"), ("jax", "JAX jit")):
        times = [f"{r['compile_seconds']:.1f} s at batch {r['batch']}" for r in rows
                 if r["key"] == key]
        if times:
            parts.append(f"{name} {', '.join(times)}")
    return "; ".join(parts)


def write_section(path, text):
    """Replace what lies between the bench.py markers of the file at ``path`` by ``text``."""
    content = path.read_text()
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{path}: no bench.py markers ({BEGIN} ... {END}) to write between")
    head, rest = content.split(BEGIN, 1)
    path.write_text(head + BEGIN + "\n" + text.strip("\n") + "\n" + END
                    + rest.split(END, 1)[1])


def fill(text, indent=""):
    """A paragraph wrapped at the repository's line length (99), words and `code` unbroken;
    its later lines start with ``indent`` (two spaces for a Markdown list item)."""
    return textwrap.fill(text, width=99, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def verdicts(rows, one_rows):
    """What the tables say, in sentences computed from them: written under the tables, so that
    no number or comparison in the README is typed by hand."""
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        these = sorted((r for r in rows if r["dataset"] == dataset), key=lambda r: r["batch"])
        small, large = these[0], these[-1]
        gap = max(abs(r["numpy_acc"] - r["torch_acc"]) for r in these)
        same = (f"differ by at most {100 * gap:.2f} points" if round(100 * gap, 2) else
                "are the same")
        out.append(fill(
            f"- {dataset}, default threads: an epoch of the PyTorch twin takes "
            f"{small['ratio']:.2f} times as long as the companion's at batch {small['batch']} "
            f"and {large['ratio']:.2f} times at batch {large['batch']}; their test accuracies "
            f"{same}.", indent="  "))
    by_key = {}
    for r in one_rows:
        by_key.setdefault((r["dataset"], r["batch"]), {})[r["key"]] = r
    for (dataset, batch), cell in by_key.items():
        others = [r for key, r in cell.items() if key != "numpy"]
        torch_rows = [r for r in others if r["key"].startswith("torch")]
        # faster: by more than 5%, beyond the drift of timings from one turn to the next
        faster = sorted((r for r in others if r["ratio"] < 0.95), key=lambda r: r["ratio"])
        close = [r for r in others if 0.95 <= r["ratio"] <= 1.05]
        words = [f"- {dataset}, batch {batch}, one thread each:"]
        if torch_rows:
            slowest_torch = min(torch_rows, key=lambda r: r["ratio"])
            words.append(
                "the companion is faster than every PyTorch variant, compiled or not (the "
                f"closest, {slowest_torch['label']}, takes {slowest_torch['ratio']:.2f} times "
                "as long)" if slowest_torch["ratio"] > 1 else
                "the companion is not faster than every PyTorch variant")
        if faster:
            words.append("; faster than the companion by more than 5% (time ratio in "
                         "brackets): " + ", ".join(f"{r['label']} ({r['ratio']:.2f})"
                                                   for r in faster))
        else:
            words.append("; nothing measured here is faster than the companion by more than 5%")
        if close:
            words.append("; within 5% of it: " + ", ".join(
                f"{r['label']} ({r['ratio']:.2f})" for r in close))
        words.append(".")
        out.append(fill(" ".join(words).replace(" ;", ";").replace(" .", "."), indent="  "))
    return "\n".join(out)


def readme_section(command, rows, one, args, load, others_max):
    """The README's part: command, machine and kernels, both tables."""
    intro = fill(
        f"Printed by that command (load average {load[0]:.2f} at the start, {load[1]:.2f} at "
        f"the end; other processes took at most {others_max:.0%} of the CPU during any row): "
        f"{machine()}. {blas_environment()}. Seconds per epoch are medians over "
        f"{args.repeats} training runs of each library, taken in turns; test accuracies are "
        "means over the same runs. Default threads, the companion against its PyTorch twin:")
    text = f"```bash\n{command}\n```\n\n{intro}\n\n{table(rows)}\n"
    core = "on one core" if one.get("cpu") is not None else "not pinned to a core"
    for dataset in dict.fromkeys(r["dataset"] for r in one["rows"]):
        intro = fill(
            f"One thread each, {core}, on {dataset}, every way of training in turns "
            "(`benchmarks/variants.py`); each row's library, kernels and threads are in "
            "`benchmarks/README.md`. Compilation is not in the steps: "
            f"{compile_times(one['rows']) or 'no compiler ran'}.")
        text += f"\n{intro}\n\n{pivot(one['rows'], dataset)}\n"
    said = verdicts(rows, one["rows"])
    if said:
        text += f"\nWhat these tables say (sentences written by the same command):\n\n{said}\n"
    return text


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    present = {k: os.environ[k] for k in BLAS_ENV if k in os.environ}
    if args.native_blas and present and not args.rows_json:   # libraries read them at load
        env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
        env[UNSET] = " ".join(f"{k}={v}" for k, v in present.items())
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv], env)
    if args.rows_json:
        with open(args.rows_json, "w") as f:
            json.dump(measure_variants(args), f)
        return
    start, load_start = time.perf_counter(), os.getloadavg()
    rows = [] if args.no_default_threads else measure_rows(args)
    one = dict(rows=[], skipped={}, parity={}, first_compile={}, peak_rss=None, cpu=None)
    if args.one_thread != "none":
        one = one_thread_run(args, args.datasets[-1:] if args.one_thread == "last"
                             else args.datasets)
    for key in QUICK_SKIPS:
        if args.quick and key not in args.variants:
            one["skipped"][key] = "left out of --quick (compiling takes half a minute)"
    rss_both = peak_rss_mib()
    rss_numpy = numpy_peak_memory(args.datasets[-1], args.hidden, args.seed)
    peak, core_peak, how = cpu_peak(args.ghz)
    gemm = gemm_gflops()
    load = (load_start[0], os.getloadavg()[0])
    command = " ".join(["python benchmarks/bench.py",
                        *(a for a in argv if a != "--write-readme")])
    out = [f"Command: {command}", f"Machine: {machine()}",
           f"OpenBLAS: {blas_environment()}",
           f"Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}; total "
           f"{time.perf_counter() - start:.0f} s", "",
           "Default threads: the companion (NumPy) against its PyTorch twin, "
           "companion.twin.time_both", "", table(rows) if rows else "(left out)"]
    if one["rows"]:
        out += ["", ("One thread each, on one core: every variant in turns, "
                     f"benchmarks/variants.py; the process pinned to CPU {one['cpu']}")
                if one["cpu"] is not None else ("One thread each, the process not pinned "
                                                "to a core: every variant in turns, "
                                                "benchmarks/variants.py"),
                "", variants_table(one["rows"])]
        for dataset in dict.fromkeys(r["dataset"] for r in one["rows"]):
            out += ["", pivot(one["rows"], dataset)]
        out += ["", "Compile time, not in the steps (an empty compiler cache, the compiler "
                f"already loaded): {compile_times(one['rows']) or 'none'}"]
        if one["first_compile"]:
            out.append("The float64 check came first: " + ", ".join(
                f"{k} {s:.1f} s" for k, s in one["first_compile"].items()) + " (the process's "
                "first compile, loading the compiler, and 20 steps)")
    for key, why in one["skipped"].items():
        out.append(f"Skipped {key}: {why}")
    bad = [k for k, d in one["parity"].items() if not d < 1e-12]
    if one["parity"]:
        out += ["", "Same computation: after 20 steps at batch 32 in float64 from the same "
                "weights, each variant's parameters differ from the companion's by at most "
                + ", ".join(f"{k} {d:.1e}" for k, d in one["parity"].items())
                + " (relative to the largest parameter; "
                + ("all below 1e-12, float64 rounding)" if not bad else
                   f"NOT the same update: {', '.join(bad)})")]
    out += [
        "",
        "others' CPU: the share of the machine's CPU time that other processes used while the "
        "row ran; above a few % they compete for the cores, and multi-threaded timings suffer "
        "most. cores used: this process's CPU time / wall time while the variant ran (training "
        "and its evaluations): 1.00 is one core kept busy.",
        f"Seconds per epoch: median over {args.repeats} training runs x the epochs of each, "
        "training steps only; the variants take turns (forward order, then reversed). Test "
        f"accuracy: mean over the {args.repeats} runs (run r shuffles with seed {args.seed} + "
        "r, the same for all). Optimizer Adam(lr=1e-3), torch.optim.Adam's update and defaults.",
        f"FLOPs per training sample (forward + backward matrix products): "
        f"{flops_per_sample(args.hidden):,}",
        f"Assumed float32 peak: {how}" if peak else how,
        f"NumPy float32 2048 x 2048 matrix product here, default threads: {gemm:.0f} GFLOP/s"]
    if peak and gemm > peak:
        out.append("  (above the assumed peak: the cores run faster than the clock assumed; "
                   "pass --ghz with the CPU's boost clock)")
    for r in rows:
        if r["batch"] == max(args.batch_sizes) and peak:
            out.append(f"  {r['dataset']}, batch {r['batch']}: {r['gflops']:.1f} GFLOP/s = "
                       f"{100 * r['gflops'] / peak:.1f}% of the peak, "
                       f"{100 * r['gflops'] / gemm:.0f}% of the 2048 x 2048 product's rate")
    out.append(f"Peak resident memory: NumPy-only run on {args.datasets[-1]} (load, train 1 "
               f"epoch, validate, test) {rss_numpy:.0f} MiB; the default-threads table's "
               f"process (NumPy and PyTorch) {rss_both:.0f} MiB" + (
                   f"; the one-thread table's (all variants) {one['peak_rss']:.0f} MiB"
                   if one["peak_rss"] else ""))
    report = "\n".join(out)
    print(report)
    if args.write_readme:
        others_max = max([r["others"] for r in rows + one["rows"]], default=0.0)
        write_section(ROOT / "README.md",
                      readme_section(command, rows, one, args, load, others_max))
        write_section(ROOT / "benchmarks" / "README.md", f"```\n{report}\n```")
        print("\nWrote README.md and benchmarks/README.md", file=sys.stderr)
    if bad:
        raise SystemExit(f"variants that do not compute the companion's update: {bad}")


if __name__ == "__main__":
    main()
