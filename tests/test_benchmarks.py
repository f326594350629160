"""The benchmark script runs and prints its tables, and its variants train the same network.

Speed is judged by the benchmark itself, never asserted here: a test that times code fails on a
busy machine for no fault of the code. What is asserted: every row is printed with the library
that computed it, its kernels and its threads; each variant computes the companion's update
(float64, a few steps: to rounding), and a variant that does not is caught; the README writer
replaces exactly its section. torch.compile is left out of the quick run (a first compile
takes half a minute); JAX runs where it is installed, and is otherwise skipped with a note.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from companion import init

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402
import variants  # noqa: E402

HAS_JAX = importlib.util.find_spec("jax") is not None and \
    importlib.util.find_spec("optax") is not None
QUICK_VARIANTS = [k for k in variants.VARIANTS if k != "torch-compile" and (
    HAS_JAX or k != "jax")]


def run(*args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env=env)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_bench_help_names_its_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--quick", "--datasets", "--batch-sizes", "--hidden", "--epochs",
                   "--repeats", "--one-thread", "--no-default-threads", "--no-pin",
                   "--variants", "--native-blas", "--ghz", "--write-readme"):
        assert option in out
    for key in variants.VARIANTS:
        assert key in out


def test_quick_leaves_out_torch_compile_and_numpy_comes_first():
    assert "torch-compile" not in bench.parse_args(["--quick"]).variants
    assert bench.parse_args([]).variants == list(variants.VARIANTS)
    assert bench.parse_args(["--variants", "jax", "torch"]).variants == ["numpy", "torch", "jax"]
    for partial in (["--quick"], ["--no-default-threads"], ["--no-pin"],
                    ["--one-thread", "none"]):
        with pytest.raises(SystemExit):
            bench.parse_args([*partial, "--write-readme"])


@pytest.fixture(scope="module")
def quick_output():
    """``--quick --native-blas`` with OPENBLAS_CORETYPE set, as on the project's machines."""
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    result = run(BENCH / "bench.py", "--quick", "--native-blas", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def kernel(**env):
    """The kernel NumPy's OpenBLAS picks in a fresh process, with nothing forcing one (the
    default) or with the environment variables given."""
    env = dict({k: v for k, v in os.environ.items() if k not in bench.BLAS_ENV}, **env)
    code = ("from threadpoolctl import threadpool_info; import numpy; print([i['architecture'] "
            "for i in threadpool_info() if 'numpy' in i['filepath']][0])")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True).stdout.strip()


def test_quick_run_prints_one_default_threads_row_with_both_libraries(quick_output):
    section = quick_output.split("One thread each")[0]
    rows = [line for line in section.splitlines() if line.startswith("| mnist-5k")]
    assert len(rows) == 1
    c = cells(rows[0])
    assert re.fullmatch(r"OpenBLAS [\d.]+ \w+, \d+ threads? / \S+ .*ATen \w+, \d+ threads?",
                        c[1]), c[1]
    assert c[2:5] == ["128", "64", "2"]  # batch, hidden, epochs
    numpy_acc, torch_acc = (float(x.rstrip("%")) for x in c[5:7])
    assert numpy_acc > 50 and torch_acc > 50  # 2 epochs of Adam learn the digits
    numpy_s, torch_s, ratio = (float(x) for x in c[8:11])
    assert numpy_s > 0 and torch_s > 0
    assert ratio == pytest.approx(torch_s / numpy_s, rel=0.01)


def test_quick_run_prints_every_variant_on_one_thread(quick_output):
    section = quick_output.split("One thread each")[1]
    assert re.match(r", on one core: .*; the process pinned to CPU \d+\n", section)
    rows = [cells(line) for line in section.splitlines() if line.startswith("| mnist-5k")]
    labels = [c[2] for c in rows]
    assert labels == [variants.VARIANTS[k].label for k in QUICK_VARIANTS]
    native = kernel()
    numpy_us = float(rows[0][7])
    for c in rows:
        assert c[1] == "128" and c[4] == "2"
        assert re.search(r", 1 thread( \(XLA_FLAGS\))?$", c[3]), c[3]  # pinned, and says so
        if c[2].startswith(("companion", "hand-tuned")):
            assert c[3] == f"OpenBLAS {c[3].split()[1]} {native}, 1 thread"
        assert float(c[5].rstrip("%")) > 50
        assert abs(float(c[6])) < 2  # same network, same batches: accuracies agree
        us, seconds, ratio = float(c[7]), float(c[8]), float(c[9])
        assert us == pytest.approx(1e6 * seconds / 32, rel=0.01)  # 4,000 / 128 = 32 steps
        assert ratio == pytest.approx(us / numpy_us, rel=0.02)
        assert 0 < float(c[11]) <= 1.05  # cores used: one core
    pivot = [cells(line) for line in section.splitlines()
             if line.startswith("| ") and len(cells(line)) == 2]
    assert pivot[0] == ["µs per training step (time / companion's)", "batch 128"]
    assert [p[0] for p in pivot[1:]] == labels


def test_quick_run_says_what_it_skipped_and_that_all_compute_the_same(quick_output):
    assert "Skipped torch-compile: left out of --quick" in quick_output
    if not HAS_JAX:
        assert "Skipped jax: jax and optax are not installed" in quick_output
    line = next(x for x in quick_output.splitlines() if x.startswith("Same computation"))
    found = dict(re.findall(r"([\w-]+) (\d\.\de[+-]\d\d)", line))
    assert list(found) == QUICK_VARIANTS
    assert all(float(d) < 1e-12 for d in found.values())
    assert "all below 1e-12" in line


def test_quick_run_states_machine_blas_environment_peak_and_memory(quick_output):
    assert re.search(r"^Machine: .+ cores; Python .+ NumPy .+ PyTorch .+, JAX ", quick_output,
                     re.M)
    assert "OpenBLAS: OPENBLAS_CORETYPE=Haswell unset for this run (--native-blas)" \
        in quick_output
    assert "FLOPs per training sample (forward + backward matrix products): 204,544" \
        in quick_output
    peaks = re.search(r"Peak resident memory: .* (\d+) MiB; .* (\d+) MiB; .* (\d+) MiB",
                      quick_output)
    assert peaks and all(10 < int(mib) < 2048 for mib in peaks.groups())


def test_blas_environment_says_whether_the_kernel_was_forced(monkeypatch):
    monkeypatch.delenv(bench.UNSET, raising=False)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert bench.blas_environment().startswith("OPENBLAS_CORETYPE=Haswell set in the "
                                               "environment and kept")
    for var in bench.BLAS_ENV:
        monkeypatch.delenv(var, raising=False)
    assert "not set: OpenBLAS chose its kernels" in bench.blas_environment()


def test_numpy_blas_names_the_kernel_and_threads_of_this_process():
    forced = {k: os.environ[k] for k in bench.BLAS_ENV if k in os.environ}
    threads = int(os.environ["OPENBLAS_NUM_THREADS"])   # the root conftest.py sets it
    assert re.fullmatch(rf"OpenBLAS \d+\.\d+\.\d+ {kernel(**forced)}, {threads} threads?",
                        variants.numpy_blas())
    assert kernel(OPENBLAS_CORETYPE="Haswell") == "Haswell"   # what the project's machines force


@pytest.fixture(scope="module")
def start(digits):
    return init.init_params(np.random.default_rng(0)), digits.X_train, digits.y_train


def test_variants_compute_the_companions_update(start):
    """Float64, 20 steps at batch 32, the last batch shorter: rounding apart, all equal."""
    diffs = variants.parity(QUICK_VARIANTS, *start)
    assert list(diffs) == QUICK_VARIANTS
    assert diffs["numpy"] == 0
    assert all(d < 1e-12 for d in diffs.values()), diffs


class SlowerBeta2(variants.TunedNumPy):
    """A plausible slip: the hand-tuned loop with Adam's beta2 typed as 0.99."""

    beta2 = 0.99


class LargerEps(variants.CompanionFlatAdam):
    """Another: the flat-buffer Adam with eps 1e-6 instead of 1e-8."""

    eps = 1e-6


@pytest.mark.parametrize("wrong", [SlowerBeta2, LargerEps])
def test_parity_catches_a_variant_that_computes_something_else(start, wrong, monkeypatch):
    monkeypatch.setitem(variants.VARIANTS, "wrong", wrong)
    assert variants.parity(["wrong"], *start)["wrong"] > 1e-6


@pytest.mark.skipif(HAS_JAX, reason="jax is installed here")
def test_jax_variant_says_how_to_install_it():
    assert "pip install -e '.[bench]'" in variants.Jax().missing()


def test_time_variants_takes_turns_and_reports_each(start):
    params, X, y = start
    out = variants.time_variants(["numpy", "numpy-tuned"], params, X[:512], y[:512],
                                 batch_size=100, epochs=2, repeats=2, X_test=X[:200],
                                 y_test=y[:200])
    assert list(out) == ["numpy", "numpy-tuned"]
    for r in out.values():
        assert r["us_per_step"] == pytest.approx(1e6 * r["seconds"] / 6)  # 6 steps an epoch
        assert r["test_acc"] > 0.3 and r["compile_seconds"] == 0 and r["cores"] > 0
    # the same batches from the same weights: the same trained network, the same accuracy
    assert out["numpy"]["test_acc"] == out["numpy-tuned"]["test_acc"]
    assert out["numpy"]["ratio"] == 1
    assert out["numpy-tuned"]["ratio"] == pytest.approx(
        out["numpy-tuned"]["seconds"] / out["numpy"]["seconds"])


def test_write_section_replaces_only_what_lies_between_the_markers(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(f"intro\n{bench.BEGIN}\nold table\n{bench.END}\nafter\n")
    bench.write_section(path, "new table\n")
    assert path.read_text() == f"intro\n{bench.BEGIN}\nnew table\n{bench.END}\nafter\n"
    path.write_text("no markers\n")
    with pytest.raises(SystemExit, match="no bench.py markers"):
        bench.write_section(path, "x")


@pytest.mark.parametrize("name", ["README.md", "benchmarks/README.md"])
def test_the_readmes_have_the_section_the_script_writes(name):
    text = (ROOT / name).read_text()
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    assert text.index(bench.BEGIN) < text.index(bench.END)


def test_readme_section_names_command_machine_kernels_and_both_tables():
    a = dict(dataset="fashion-mnist", n_train=54000, n_test=10000, blas="OpenBLAS 0.3.31 "
             "Zen, 2 threads / MKL 2024.2, ATen AVX512, 2 threads", batch=32, hidden=64,
             epochs=5, numpy_acc=0.868, torch_acc=0.869, numpy=0.5, torch=1.5, ratio=3.0,
             gflops=20.0, others=0.01)
    one = [dict(dataset="fashion-mnist", batch=32, key=k, label=variants.VARIANTS[k].label,
                us_per_step=us, ratio=us / 160, compile_seconds=c)
           for k, us, c in (("numpy", 160, 0), ("torch-compile", 265, 31.5), ("jax", 109, 0.8))]
    args = bench.parse_args([])
    text = bench.readme_section("python benchmarks/bench.py --native-blas", [a],
                                dict(rows=one, cpu=1), args, (0.5, 0.7), 0.01)
    assert text.startswith("```bash\npython benchmarks/bench.py --native-blas\n```\n")
    words = " ".join(text.split())   # the prose is wrapped at 99 characters
    assert bench.machine() in words and bench.blas_environment() in words
    assert max(len(line) for line in text.splitlines() if not line.startswith("|")) <= 99
    assert bench.table([a]) in text
    assert "One thread each, on one core, on fashion-mnist" in text
    assert "| torch.compile of the whole step | 265 (1.66) |" in text
    assert "| JAX, jit of the whole step, optax Adam | 109 (0.68) |" in text
    assert "torch.compile 31.5 s at batch 32; JAX jit 0.8 s at batch 32" in text
    # the sentences under the tables come from the same rows
    assert ("an epoch of the PyTorch twin takes 3.00 times as long as the companion's at batch "
            "32") in words
    assert ("the companion is faster than every PyTorch variant, compiled or not (the closest, "
            "torch.compile of the whole step, takes 1.66 times as long); faster than the "
            "companion by more than 5% (time ratio in brackets): JAX, jit of the whole step, "
            "optax Adam (0.68).") in words


def test_the_verdicts_follow_the_numbers():
    one = [dict(dataset="d", batch=512, key=k, label=k, ratio=r)
           for k, r in (("numpy", 1.0), ("torch", 1.4), ("torch-compile", 0.9),
                        ("numpy-tuned", 0.97))]
    rows = [dict(dataset="d", batch=b, ratio=r, numpy_acc=0.9, torch_acc=a)
            for b, r, a in ((32, 2.5, 0.91), (512, 1.2, 0.895))]
    said = " ".join(bench.verdicts(rows, one).split())
    assert "2.50 times as long as the companion's at batch 32 and 1.20 times at batch 512" in said
    assert "differ by at most 1.00 points" in said
    assert "the companion is not faster than every PyTorch variant" in said
    assert ("faster than the companion by more than 5% (time ratio in brackets): torch-compile "
            "(0.90); within 5% of it: numpy-tuned (0.97).") in said
    one = [r for r in one if r["key"] != "torch-compile"]
    said = " ".join(bench.verdicts(rows, one).split())
    assert "nothing measured here is faster than the companion by more than 5%; within" in said
    rows[1]["torch_acc"] = 0.9
    said = " ".join(bench.verdicts(rows, one).split())
    assert "differ by at most 1.00 points" in said
    rows[0]["torch_acc"] = 0.9
    assert "their test accuracies are the same." in " ".join(bench.verdicts(rows, one).split())
