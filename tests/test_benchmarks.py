"""The benchmark script runs and prints its table. Speed is judged by the benchmark itself,
never asserted here: a test that times code fails on a busy machine for no fault of the code."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_bench_help_names_its_options():
    result = run(BENCH / "bench.py", "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--quick", "--datasets", "--batch-sizes", "--hidden", "--epochs",
                   "--repeats", "--one-thread"):
        assert option in result.stdout


@pytest.fixture(scope="module")
def quick_output():
    result = run(BENCH / "bench.py", "--quick")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quick_run_prints_one_row_with_both_libraries(quick_output):
    rows = [line for line in quick_output.splitlines() if line.startswith("| mnist-5k")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[2:5] == ["128", "64", "2"]  # batch, hidden, epochs
    numpy_acc, torch_acc = (float(c.rstrip("%")) for c in cells[5:7])
    assert numpy_acc > 50 and torch_acc > 50  # 2 epochs of Adam learn the digits
    numpy_s, torch_s, ratio = (float(c) for c in cells[8:11])
    assert numpy_s > 0 and torch_s > 0
    assert ratio == pytest.approx(torch_s / numpy_s, rel=0.01)


def test_quick_run_states_machine_peak_and_memory(quick_output):
    assert re.search(r"^Machine: .+ cores; Python .+ NumPy .+ PyTorch ", quick_output, re.M)
    assert "FLOPs per training sample (forward + backward matrix products): 204,544" \
        in quick_output
    assert re.search(r"Peak resident memory: .* \d+ MiB; .* \d+ MiB", quick_output)


def test_peak_memory_script_prints_mebibytes():
    result = run(BENCH / "peak_memory.py", "mnist-5k")
    assert result.returncode == 0, result.stderr
    assert 10 < float(result.stdout) < 1024
