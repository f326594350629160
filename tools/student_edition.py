"""Build the student edition of the book: the website with every solution hidden, and copies of
the chapter notebooks with the solution cells removed.

    python tools/student_edition.py site        # -> _build/student/_build/html/index.html
    python tools/student_edition.py notebooks   # -> student/*.ipynb

Solutions are written with sphinx-exercise (``{solution-start}`` ... ``{solution-end}``), and
every cell of a solution carries the cell tag ``solution``. Both editions drop those cells with
nbconvert's ``TagRemovePreprocessor``. (Sphinx's ``hide_solutions = True`` is set for the site
as well, but alone it cannot hide gated solutions: sphinx-exercise issue #89.)

The student notebooks lose every output. The student site is built from a copy of the book
with the committed outputs, without re-executing, except that the output of each graded check
(a cell calling ``checks.check_...``) is removed: it would show the solution's ``PASS``.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", "_build", "student", ".pytest_cache", "*.egg-info")


def student_copy(nb, keep_outputs):
    """The notebook without its ``solution`` cells; outputs kept only where harmless."""
    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    nb, _ = remove.preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code" and (not keep_outputs or "checks.check_" in cell.source):
            cell.outputs, cell.execution_count = [], None
    return nb


def write_notebooks(out=ROOT / "student"):
    """Write each chapter without its ``solution`` cells and without outputs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = student_copy(nbformat.read(path, as_version=4), keep_outputs=False)
        nbformat.write(nb, out / path.name)
        written.append(out / path.name)
    return written


def build_site(out=ROOT / "_build" / "student"):
    """Build the website with solutions hidden into ``out``; return the html folder."""
    source = out / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(ROOT, source, ignore=SKIP)
    for path in (source / "book").glob("*.ipynb"):
        nbformat.write(student_copy(nbformat.read(path, as_version=4), True), path)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] += " (student edition)"
    config["execute"]["execute_notebooks"] = "off"  # the committed outputs are shown
    config["sphinx"]["config"]["hide_solutions"] = True
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run(["jupyter-book", "build", str(source), "--path-output", str(out),
                    "-n", "-W", "--keep-going"], check=True)
    return out / "_build" / "html"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["site", "notebooks"])
    parser.add_argument("--out", type=Path, help="output folder (default: see above)")
    args = parser.parse_args(argv)
    if args.what == "site":
        html = build_site(*(p for p in [args.out] if p))
        print(f"student website: {html / 'index.html'}")
    else:
        written = write_notebooks(*(p for p in [args.out] if p))
        print(f"{len(written)} student notebooks in {written[0].parent if written else '-'}")


if __name__ == "__main__":
    sys.exit(main())
