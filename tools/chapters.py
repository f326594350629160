"""Execute the book's chapters the way the tests do, and count the claims they check.

    python tools/chapters.py run book/05_backprop.ipynb        # re-execute in place, to commit
    python tools/chapters.py run --dataset fashion-mnist --out /tmp/fm book/0[1-7]*.ipynb
    python tools/chapters.py claims                            # checked claims per chapter

``run`` executes each notebook from a fresh kernel in ``book/`` with NumPy's BLAS and PyTorch on
one thread (as ``conftest.py`` sets for nbval), so that the committed outputs are the ones nbval
recomputes. ``--dataset`` first changes the chapter's one line ``DATASET = "mnist-5k"``, as a
reader following chapter 1's invitation would; with ``--out`` the executed copies go there and
the chapters are left as they are.

A *claim* is an ``assert`` statement in a code cell tagged ``remove-cell``: a check, hidden on
the website, that a statement of the prose holds for the numbers the chapter computed.
"""

import argparse
import ast
import re
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import one_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HIDDEN = "remove-cell"
DATASET_LINE = re.compile(r'^DATASET = "[^"]*"', re.M)


def chapters():
    """The chapter notebooks, in file-name order."""
    return sorted(BOOK.glob("*.ipynb"))


def is_hidden(cell):
    return HIDDEN in cell.get("metadata", {}).get("tags", [])


def python_source(cell):
    """The cell's source as plain Python: IPython's magics and shell escapes turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell["source"] if isinstance(cell["source"], str)
                                               else "".join(cell["source"]))


def claims(nb):
    """The assert statements of the notebook's hidden code cells, as source lines."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code" and is_hidden(cell):
            for node in ast.walk(ast.parse(python_source(cell))):
                if isinstance(node, ast.Assert):
                    found.append(ast.get_source_segment(python_source(cell), node))
    return found


def set_dataset(nb, dataset):
    """Change the chapter's ``DATASET = ...`` line; ValueError if it has not exactly one."""
    cells = [c for c in nb.cells if c.cell_type == "code" and DATASET_LINE.search(c.source)]
    if len(cells) != 1 or len(DATASET_LINE.findall(cells[0].source)) != 1:
        raise ValueError("the chapter must have exactly one line DATASET = \"...\"")
    cells[0].source = DATASET_LINE.sub(f'DATASET = "{dataset}"', cells[0].source)
    return nb


def execute(path, out=None, dataset=None, timeout=600):
    """Execute the notebook at ``path`` from a fresh kernel; write it to ``out`` (default: in
    place) and return it. Raises nbclient's CellExecutionError if a cell raises."""
    from nbclient import NotebookClient

    one_thread.pin()
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("jupytext", None)  # left by jupytext when a chapter was edited as text
    if dataset is not None:
        set_dataset(nb, dataset)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(BOOK)}})
    client.execute()
    nbformat.write(nb, out or path)
    return nb


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute chapters (in place unless --out)")
    run.add_argument("paths", nargs="+", type=Path)
    run.add_argument("--dataset", help='replace the line DATASET = "mnist-5k" with this one')
    run.add_argument("--out", type=Path, help="folder for the executed copies")
    sub.add_parser("claims", help="count the checked claims of every chapter")
    args = p.parse_args(argv)
    if args.command == "claims":
        for path in chapters():
            print(f"{len(claims(nbformat.read(path, as_version=4))):4d}  {path.name}")
        return 0
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for path in args.paths:
        start = time.perf_counter()
        execute(path, args.out / path.name if args.out else None, args.dataset)
        print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
