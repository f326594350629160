"""The student edition: notebooks without solutions that still run, and a website without them.

Builds into temporary folders; the website is built from the committed outputs (no execution).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = [sys.executable, str(ROOT / "tools" / "student_edition.py")]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import reader_edition  # noqa: E402


def solution_cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if "solution" in c["metadata"].get("tags", [])]


WITH_EXERCISES = [p for p in CHAPTERS if solution_cells(p)]


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    subprocess.run([*TOOL, "notebooks", "--out", str(out)], check=True)
    return out


def test_every_chapter_from_initialization_on_has_exercises():
    names = {p.stem for p in WITH_EXERCISES}
    wanted = {p.stem for p in CHAPTERS if p.stem[:2].isdigit() and p.stem >= "02"}
    assert wanted <= names, f"no exercises in {sorted(wanted - names)}"


def test_the_instructors_page_lists_every_exercise():
    page = (ROOT / "book" / "instructors.md").read_text()
    labels = {m for p in CHAPTERS for m in re.findall(r":label: (ex-[\w-]+)", p.read_text())}
    assert labels and labels == set(re.findall(r"\{ref\}`(ex-[^`]+)`", page))


def test_solutions_are_tagged_as_whole_blocks():
    for path in WITH_EXERCISES:
        sources = ["".join(c["source"]) for c in solution_cells(path)]
        starts = sum("{solution-start}" in s for s in sources)
        assert starts == sum("{solution-end}" in s for s in sources) > 0, path.name


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_student_notebook_has_no_solution_no_answer_and_no_telling_output(
        student_notebooks, path):
    student = nbformat.read(student_notebooks / path.name, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "### Exercise " in text and "{exercise}" not in text, "rendered, not MyST"
    assert "<summary>Solution</summary>" not in text
    assert "<summary>Answer</summary>" not in text
    for cell in solution_cells(path):
        source = "".join(cell["source"]).strip()
        if len(source) > 40:  # long enough to be the solution's own text
            assert source not in text
    for cell in student.cells:
        if cell.cell_type == "code" and ("checks.check_" in cell.source
                                         or "hide-output" in cell.metadata.get("tags", [])):
            assert not cell.outputs, f"an output that gives the answer away:\n{cell.source}"


@pytest.fixture(scope="module")
def reader_notebooks(tmp_path_factory):
    out = tmp_path_factory.mktemp("reader")
    reader_edition.render_book(out)
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_notebooks_run_the_code_of_the_reader_edition(student_notebooks,
                                                             reader_notebooks, path):
    """Same code cells as the reader edition, which tests/test_reader_edition.py executes in a
    Colab-like environment (where every check says NOT YET to the empty stubs)."""
    student = nbformat.read(student_notebooks / path.name, as_version=4)
    readers = nbformat.read(reader_notebooks / path.name, as_version=4)
    assert [c.source for c in student.cells if c.cell_type == "code"] == [
        c.source for c in readers.cells if c.cell_type == "code"]


def test_student_site_shows_exercises_but_no_solutions(tmp_path):
    subprocess.run([*TOOL, "site", "--out", str(tmp_path)], check=True,
                   capture_output=True)
    html = tmp_path / "_build" / "html" / "book"
    for path in WITH_EXERCISES:
        page = (html / f"{path.stem}.html").read_text()
        assert 'class="exercise' in page or "exercise admonition" in page, path.name
        assert "Solution to" not in page and "solution-start" not in page, path.name
        assert 'admonition-title">Answer<' not in page, path.name
    assert not (html / "instructors.html").exists()
    assert "instructors.html" not in (html / "intro.html").read_text()
