"""pytest configuration for nbval (strict mode): every chapter's stored text outputs are
compared with a fresh run, except outputs that change from run to run by nature.

- ``stderr``: progress bars (tqdm's text bar writes its rate and times there).
- widget and HTML views: tqdm's notebook bar; its text form is sanitized by nbval_sanitize.cfg.
- ``application/papermill.e+...``: values stored by ``myst_nb.glue`` for the prose (timings
  among them); the book shows them, and the cells that compute them are still executed.
"""

SKIP = (
    "stderr",
    "application/vnd.jupyter.widget-view+json",
    "text/html",
    "application/papermill.e+text/plain",
    "application/papermill.e+text/html",
    "application/papermill.e+image/png",
)


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += SKIP
