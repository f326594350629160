"""Companion package of *Neural Networks from Scratch*.

A two-layer network (784 -> H -> 10, ReLU, softmax, cross-entropy) in NumPy, one concept a
module, written to be read next to the book. Samples are in rows: ``X`` is ``(N, D)``.

Modules, in the order of the chapters:
``data`` (datasets and input checks), ``init``, ``forward``, ``loss``, ``backward``,
``gradcheck``, ``optim``, ``train``, ``metrics``, ``plots`` and ``twin`` (the same network in
PyTorch; the only module that needs ``torch``).
"""

__version__ = "0.1.0"
