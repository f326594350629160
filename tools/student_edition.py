"""Build the student edition of the book: the website without solutions, answers and the
instructors' page, and the chapters as notebooks without them.

    python tools/student_edition.py site        # -> _build/student/_build/html/index.html
    python tools/student_edition.py notebooks   # -> student/*.ipynb

The notebooks are rendered by the reader edition's renderer (tools/reader_edition.py), the one
Colab and Binder readers get, with ``solutions=False, answers=False``: plain Markdown, glued
values written in, exercises as sections; no solution, no "Check yourself" answer, and no
output under a check or a "predict, then run" cell (a check run on the solution would say PASS
under the student's empty stub). The otter-grader assignments (tools/otter_assignments.py) are
rendered by the same renderer, from the same marking of the solutions (tools/exercises.py).

The website is built from a copy of the book with the committed outputs, without re-executing:
the cells tagged ``solution`` are removed (sphinx-exercise's ``hide_solutions`` alone cannot hide
gated solutions: its issue #89), the answers of the "Check yourself" sections are removed from
the markdown, the output of every check run on a solution is removed, and the instructors' page
is left out.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reader_edition  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", "_build", "student", ".pytest_cache", "*.egg-info",
                              ".venv", "venv", "env", ".ruff_cache", "__pycache__")
INSTRUCTORS = "book/instructors"


def student_copy(nb):
    """The notebook, still in MyST, without solutions, answers and solutions' outputs."""
    solution_names, cells = set(), []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution" in tags:
            if cell.cell_type == "code":
                solution_names |= reader_edition.bound_names(cell.source)
            continue
        if cell.cell_type == "markdown":
            cell.source = reader_edition.remove_answers(cell.source)
        elif reader_edition.loaded_names(cell.source) & solution_names:
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def write_notebooks(out=ROOT / "student"):
    """Render each chapter for students into ``out``; return the written paths."""
    return reader_edition.render_book(out, solutions=False, answers=False)


def without_instructors(toc):
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"] if c.get("file") != INSTRUCTORS]
    return toc


def build_site(out=ROOT / "_build" / "student"):
    """Build the student website into ``out``; return the html folder."""
    source = out / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(ROOT, source, ignore=SKIP)
    for path in (source / "book").glob("*.ipynb"):
        nbformat.write(student_copy(nbformat.read(path, as_version=4)), path)
    (source / f"{INSTRUCTORS}.md").unlink()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (source / "_toc.yml").write_text(yaml.safe_dump(without_instructors(toc), sort_keys=False))
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
