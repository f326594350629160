"""pytest configuration for the whole project: the unit tests and nbval over the chapters.

BLAS threads. The network multiplies small matrices thousands of times; on a small machine a
multi-threaded BLAS spends more time handing out work than doing it (ten times slower here when
the machine is busy), and the thread count changes the order of float additions, hence the last
bits of results. So tests and notebook kernels (which inherit the environment) run BLAS and
PyTorch on one thread, unless the environment says otherwise, as the build does
(tools/one_thread.py). This must happen before NumPy is imported.

nbval (strict mode) compares every chapter's stored text outputs with a fresh run, except
outputs that change from run to run by nature:

- ``stderr``: progress bars (tqdm's text bar writes its rate and times there).
- widget and HTML views: tqdm's notebook bar; its text form is sanitized by nbval_sanitize.cfg.
- ``application/papermill.record/...``: values stored by ``myst_nb.glue`` for the prose
  (timings among them); the book shows them, and the cells that compute them still run.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import one_thread  # noqa: E402

one_thread.pin()

SKIP = (
    "stderr",
    "application/vnd.jupyter.widget-view+json",
    "text/html",
    "application/papermill.record/text/plain",
    "application/papermill.record/text/html",
    "application/papermill.record/image/png",
)


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += SKIP
