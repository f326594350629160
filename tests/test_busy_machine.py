"""Chapter 8 times NumPy against PyTorch and says which is faster, and why. Its verdict must not
depend on how busy the machine is: built on a quiet machine or on a loaded one, the chapter runs
(its claims about speed are asserted, with a margin) and says the same thing in the same words.

Here the chapter is executed while one busy process per core competes for the CPU, and the
words it glues (every glued string, numbers masked) are compared with those of the committed
notebook, executed on a quieter machine. Both libraries are pinned to one thread while timed
(``twin.time_both(..., threads=1)``), so that neither thread pool fights the other.
"""

import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import chapters  # noqa: E402

CHAPTER = ROOT / "book" / "09_pytorch.ipynb"
PREFIX = "application/papermill.record/"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


@contextmanager
def busy_cores(n):
    """Keep n cores busy with pure-Python loops while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def glued_words(nb):
    """{name: glued string with its numbers masked} of a notebook."""
    words = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            text = out.get("data", {}).get(PREFIX + "text/plain", "")
            if name and text[:1] in "'\"":
                words[name] = NUMBER.sub("#", text)
    return words


def test_busy_cores_really_loads_the_machine():
    def cpu_seconds():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[0] + fields[1] + fields[2], sum(fields)

    import time

    with busy_cores(os.cpu_count()):
        time.sleep(0.2)
        busy0, all0 = cpu_seconds()
        time.sleep(1.0)
        busy1, all1 = cpu_seconds()
    assert (busy1 - busy0) / (all1 - all0) > 0.8


def test_chapter_8_gives_the_same_verdict_on_a_busy_machine(tmp_path):
    committed = glued_words(nbformat.read(CHAPTER, as_version=4))
    assert {"ratio_512_words", "fixed_words"} <= set(committed), "the verdict's glued words"
    with busy_cores(os.cpu_count()):
        busy = chapters.execute(CHAPTER, tmp_path / CHAPTER.name)  # raises if a claim fails
    assert glued_words(busy) == committed
