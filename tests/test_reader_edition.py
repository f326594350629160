"""The reader edition (tools/reader_edition.py): the chapters as plain notebooks for Colab and
Binder, where MyST is not rendered.

Checked: the renderer on small examples; in every rendered chapter, no MyST syntax left, every
glued value written into the text, every figure shown with its caption, no hidden cell, no
solution's output; and each reader notebook executed end to end in a Colab-like environment (a
fresh virtual environment with Colab's kind of packages, torch included, but no myst-nb and no
companion, which the notebook's own install cell installs from a copy of this checkout).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_binder import dependency_closure
from test_book import CONFIG, REPO_URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import reader_edition as reader  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
SITE = "https://example.org/book-site/"


def glued(name, value):
    return nbformat.from_dict({"output_type": "display_data", "metadata": {"scrapbook": {
        "name": name, "mime_prefix": reader.GLUE_PREFIX}},
        "data": {reader.GLUE_PREFIX + "text/plain": repr(value)}})


@pytest.fixture
def small_book(tmp_path):
    """Two pages: a chapter with a glued number, a figure and an exercise, and a reference."""
    book = tmp_path / "book"
    book.mkdir()
    hidden = new_code_cell("glue('acc', 0.9346)\nglue('pair', '4')",
                           metadata={"tags": ["remove-cell"]})
    hidden.outputs = [glued("acc", 0.9346), glued("pair", "4")]
    figure = new_code_cell("fig", metadata={"tags": ["remove-output"]})
    figure.outputs = [nbformat.from_dict({"output_type": "display_data", "metadata": {},
                       "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}})]
    chapter = new_notebook(cells=[
        new_markdown_cell("# Training\n\nIt gets {glue:text}`acc:.1%` right; digit "
                          "**{glue:text}`pair`**. See {doc}`references` and {numref}`fig-c`."),
        hidden, figure,
        new_markdown_cell("```{glue:figure} fig_c\n:alt: A curve.\n:name: fig-c\n\n"
                          "The curve, {glue:text}`acc:.2f`.\n```"),
        new_markdown_cell("```{exercise} Predict: the loss\n:label: ex-loss\n\nPredict it.\n```"),
        new_markdown_cell("```{solution-start} ex-loss\n:class: dropdown\n```",
                          metadata={"tags": ["solution"]}),
        new_markdown_cell("It is *small*.", metadata={"tags": ["solution"]}),
        new_code_cell("def answer():\n    return 1", metadata={"tags": ["solution"]}),
        new_markdown_cell("```{solution-end}\n```", metadata={"tags": ["solution"]}),
        new_code_cell("print(answer())"),
        new_markdown_cell("1. Why?\n\n   ````{admonition} Answer\n   :class: dropdown\n"
                          "   Because {ref}`ex-loss`.\n\n   ```python\n   x = 1\n   ```\n"
                          "   ````\n\n```{note}\nA note.\n```"),
    ])
    chapter.cells[-2].outputs = [nbformat.from_dict(
        {"output_type": "stream", "name": "stdout", "text": "1\n"})]
    nbformat.write(chapter, book / "07_training.ipynb")
    (book / "references.md").write_text("# References\n\nPapers.\n")
    return book


def render_small(book, **options):
    nb = nbformat.read(book / "07_training.ipynb", as_version=4)
    return reader.Renderer(nb, "07_training", reader.Book(book, SITE), **options).render()


def markdown(nb):
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_renderer_writes_values_links_captions_and_exercises(small_book):
    nb = render_small(small_book)
    text = markdown(nb)
    assert "It gets 93.5% right; digit **4**." in text
    assert f"See [References]({SITE}book/references.html)" in text
    assert f"[Fig. 1]({SITE}book/07_training.html#fig-c)" in text
    assert '<a id="fig-c"></a>' in text and "**Fig. 1.** The curve, 0.93." in text
    assert "### Exercise 1 (Predict: the loss)" in text
    assert f"Because [Predict: the loss]({SITE}book/07_training.html#ex-loss)." in text
    assert "> **Note**\n>\n> A note." in text
    assert reader.myst_left(nb) == []


def test_renderer_folds_solutions_and_answers_and_drops_hidden_cells(small_book):
    nb = render_small(small_book)
    text = markdown(nb)
    solution = text.split("<summary>Solution</summary>")[1].split("</details>")[0]
    assert "It is *small*." in solution and "def answer():" in solution
    assert "   <details>\n   <summary>Answer</summary>" in text  # inside the list item
    assert "   ```python\n   x = 1\n   ```" in text
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == ["fig", "print(answer())"], "hidden and solution cells are not code cells"
    assert nb.cells[1].outputs[0]["data"]["image/png"], "the figure is shown"
    assert nb.cells[-2].outputs == [], "a check run on the solution shows no output"


def test_student_form_has_no_solutions_and_no_answers(small_book):
    text = markdown(render_small(small_book, solutions=False, answers=False))
    assert "### Exercise 1 (Predict: the loss)" in text
    assert "Solution" not in text and "It is *small*" not in text
    assert "Answer" not in text and "Because" not in text


def test_renderer_names_what_it_cannot_render(small_book):
    nb = nbformat.read(small_book / "07_training.ipynb", as_version=4)
    for bad, error in [("{glue:text}`missing`", KeyError), ("{doc}`nowhere`", KeyError),
                       ("```{mermaid}\ngraph\n```", ValueError), ("```{note}\nopen", ValueError)]:
        nb.cells[0].source = bad
        with pytest.raises(error):
            reader.Renderer(nb, "07_training", reader.Book(small_book, SITE)).render()


def test_site_url_is_the_configured_base_or_the_pages_address():
    config = {"repository": {"url": "https://github.com/someone/a-book"}, "html": {}}
    assert reader.site_url(config) == "https://someone.github.io/a-book/"
    config["html"]["baseurl"] = "https://book.example.org"
    assert reader.site_url(config) == "https://book.example.org/"


# --- The whole book ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("reader") / "book"
    reader.render_book(out)
    return out


ROLES = re.compile(r"\{glue:text\}`([^`:]+):?([^`]*)`")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_reader_chapter_has_no_myst_and_every_value_and_caption(rendered, path):
    from myst_nb.core.variables import format_plain_text

    source = nbformat.read(path, as_version=4)
    nb = nbformat.read(rendered / path.name, as_version=4)
    assert reader.myst_left(nb) == []
    text = markdown(nb)
    values = reader.Renderer(source, path.stem, reader.Book()).glued
    for key, fmt in ROLES.findall(markdown(source)):
        assert format_plain_text(values[key], fmt) in text, key
    figures = markdown(source).count("{glue:figure}")
    assert len(re.findall(r"\*\*Fig\. \d+\.\*\*", text)) == figures
    shown = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                for o in c.outputs)
    assert shown >= figures
    assert not any("remove-cell" in c.metadata.get("tags", []) for c in nb.cells)
    assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)


# --- Executed in a Colab-like environment -----------------------------------------------------

# What Colab has among the chapters' imports: its torch (CPU here), the notebook machinery.
COLAB_LIKE = ["numpy", "pandas", "matplotlib", "tqdm", "pooch", "threadpoolctl", "torch",
              "ipykernel", "ipywidgets", "pip"]


def link_distributions(names, site_packages):
    """Link the installed top-level files and folders of ``names`` (and of what they require)
    into site_packages: a venv with those packages, and without the others, in seconds."""
    import importlib.metadata

    for name in sorted(dependency_closure(names)):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        tops = {Path(f).parts[0] for f in dist.files or [] if Path(f).parts[0] != ".."}
        for top in tops:
            source, target = Path(dist.locate_file(top)), site_packages / top
            if source.exists() and not target.exists() and not top.endswith(".pth"):
                target.symlink_to(source)


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A Colab-like kernel: no myst-nb, no companion; the checkout to install it from."""
    tmp = tmp_path_factory.mktemp("colab")
    checkout = tmp / "checkout"
    shutil.copytree(ROOT / "companion", checkout / "companion",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, checkout / name)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    link_distributions(COLAB_LIKE, site_packages)
    python = venv / "bin" / "python"
    probe = subprocess.run([python, "-I", "-c", "import myst_nb"], capture_output=True)
    assert probe.returncode != 0, "myst-nb must not be importable in the Colab-like venv"
    kernels = tmp / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python",
        "env": {"PYTHONNOUSERSITE": "1", "PYTHONPATH": ""}}))
    return {"checkout": checkout.as_uri(), "jupyter_path": str(tmp / "jupyter"), "tmp": tmp}


@pytest.fixture(scope="module")
def executed_in_colab(rendered, colab):
    from nbclient import NotebookClient

    os.environ["JUPYTER_PATH"] = colab["jupyter_path"]
    repo = f"git+{REPO_URL}@{CONFIG['repository']['branch']}"
    work = colab["tmp"] / "run"
    work.mkdir()

    def run(path):
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert repo in first.source
        first.source = first.source.replace(repo, colab["checkout"])
        try:
            NotebookClient(nb, timeout=600, kernel_name="colab",
                           resources={"metadata": {"path": str(work)}}).execute()
        except Exception as err:
            return nb, err
        return nb, None

    # The first notebook installs the companion; the others then find it installed.
    paths = sorted(rendered.glob("*.ipynb"))
    results = {paths[0].name: run(paths[0])}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results.update(zip((p.name for p in paths[1:]), pool.map(run, paths[1:])))
    return results


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_reader_notebook_runs_in_a_colab_like_environment(executed_in_colab, path):
    nb, error = executed_in_colab[path.name]
    assert error is None, f"{path.stem}:\n{str(error)[-3000:]}"
    texts = json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"])
    assert "PASS" not in texts, "an unsolved exercise must not pass"
    for cell in nb.cells:
        if cell.cell_type == "code" and "checks.check_" in cell.source:
            assert "NOT YET" in json.dumps(cell.outputs), cell.source


HTML = ROOT / "_build" / "html"


@pytest.mark.skipif(not (HTML / "index.html").exists(), reason="needs the built website")
def test_figure_and_exercise_numbers_are_the_websites():
    book = reader.Book()
    for label, (doc, _) in book.labels.items():
        page = (HTML / "book" / f"{doc}.html").read_text()
        anchor = page.index(f'id="{label}"')
        number = book.numbers[label]
        # the number is in the caption: after the figure's output, an animation's long HTML
        caption = page.find("caption-number", anchor)
        caption = page.find('"caption-text"', anchor) if caption < 0 else caption
        near = page[anchor:anchor + 3000] + page[caption - 200:caption + 200]
        assert re.search(rf"{re.escape(number)}\b", near), (label, number)
