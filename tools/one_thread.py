"""One thread for NumPy's BLAS and PyTorch, in every kernel that executes a chapter.

The network multiplies small matrices thousands of times; on a small machine a multi-threaded
BLAS spends more time handing out work than doing it, and NumPy's and PyTorch's thread pools,
each sized to every core, fight over the cores when one process uses both libraries (a NumPy
epoch went from 0.3 s to 9.7 s after one PyTorch epoch on two busy cores). The thread count
also changes the order of float additions, hence the last bits of results. So the build, nbval
(``conftest.py``) and ``tools/chapters.py`` start their kernels with one thread each, unless
the environment says otherwise; the kernels inherit these variables, which the libraries read
when they load.

As a Sphinx extension (``_config.yml``: ``sphinx: local_extensions``), it sets them when the
build starts, before any chapter is executed.
"""

import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin():
    """Set each thread variable to 1 unless it is set already."""
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, "1")


def setup(app):
    pin()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
