"""Build the student edition of the book: the website with every solution hidden, and copies of
the chapter notebooks with the solution cells removed.

    python tools/student_edition.py site        # -> _build/student/_build/html/index.html
    python tools/student_edition.py notebooks   # -> student/*.ipynb

Solutions are written with sphinx-exercise (``{solution-start}`` ... ``{solution-end}``), and
every cell of a solution carries the cell tag ``solution``. The site is built with Sphinx's
``hide_solutions = True`` from the committed notebooks' outputs (no re-execution); the
notebooks go through nbconvert's ``TagRemovePreprocessor`` and lose their outputs, so that no
solution's result is left behind.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]


def build_site(out=ROOT / "_build" / "student"):
    """Build the website with solutions hidden into ``out``; return the html folder."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] += " (student edition)"
    config["execute"]["execute_notebooks"] = "off"  # the committed outputs are shown
    config["sphinx"]["config"]["hide_solutions"] = True
    out.mkdir(parents=True, exist_ok=True)
    student_config = out / "_config.yml"
    student_config.write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run(["jupyter-book", "build", str(ROOT), "--config", str(student_config),
                    "--path-output", str(out), "-n", "-W", "--keep-going"], check=True)
    return out / "_build" / "html"


def write_notebooks(out=ROOT / "student"):
    """Write each chapter without its ``solution`` cells and without outputs into ``out``."""
    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    clear = ClearOutputPreprocessor(enabled=True)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for preprocessor in (remove, clear):
            nb, _ = preprocessor.preprocess(nb, {})
        nbformat.write(nb, out / path.name)
        written.append(out / path.name)
    return written


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
