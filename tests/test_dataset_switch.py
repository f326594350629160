"""Chapter 1 invites the reader to change one line, ``DATASET = "mnist-5k"``, to train on the
full data. Every NumPy chapter must then still run end to end, and every claim it checks must
still hold (or be glued from what it computed): this test makes that change to each chapter of
the book's NumPy part and executes it on the full Fashion-MNIST (54,000 training images instead
of 4,000, and clothes instead of digits).

The chapters are executed two at a time (one BLAS thread each, two cores), in copies; the
committed notebooks are not touched.
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from companion import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import chapters  # noqa: E402

DATASET = "fashion-mnist"


def numpy_chapters():
    """The chapters of the book's first part, "The network in NumPy", from _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    part = next(p for p in toc["parts"] if "NumPy" in p["caption"])
    return [ROOT / f"{c['file']}.ipynb" for c in part["chapters"]]


CHAPTERS = numpy_chapters()
pytestmark = pytest.mark.skipif(
    not all((data.FASHION_MNIST_SYSTEM_DIR / f).exists() for f in data.FILES),
    reason="needs Debian's dataset-fashion-mnist (the first command of the README installs it)")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp(DATASET)

    def run(path):
        try:
            chapters.execute(path, out / path.name, dataset=DATASET)
        except Exception as err:  # reported by the chapter's own test below
            return err
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CHAPTERS, pool.map(run, CHAPTERS)))


def test_the_numpy_part_is_chapters_one_to_seven_at_least():
    names = [p.stem for p in CHAPTERS]
    assert names[:7] == ["01_data", "02_initialization", "03_forward", "04_loss", "05_backprop",
                         "06_updates", "07_training"]
    assert all(p.exists() for p in CHAPTERS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_and_its_claims_hold_on_the_full_data(executed, path):
    error = executed[path]
    assert error is None, f"{path.stem} with DATASET = {DATASET!r}:\n{str(error)[-3000:]}"
