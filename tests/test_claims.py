"""The book says only what its outputs show.

Every statement about a computed result is backed by an ``assert`` in a hidden cell (tagged
``remove-cell``) of the chapter that makes it, so the build and nbval fail when the statement
turns false. These tests keep that mechanism in place: enough claims per chapter, bookkeeping
out of the reader's code, one notation in the math, and the test split evaluated once.
(tools/chapters.py counts the claims; CONTRIBUTING.md says how a chapter is written.)
"""

import ast
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import chapters  # noqa: E402

CHAPTERS = chapters.chapters()

# The least number of checked claims per chapter, set from the audit of every chapter's prose
# (CONTRIBUTING.md). Raise a floor when a chapter gains claims; never lower one to pass.
FLOORS = {
    "intro": 6, "01_data": 24, "02_initialization": 42, "03_forward": 36, "04_loss": 53,
    "05_backprop": 55, "06_updates": 52, "07_training": 41, "08_generalization": 40,
    "09_pytorch": 40, "10_fair_comparison": 44,
}


def notebook(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb, hidden):
    return [c for c in nb.cells if c.cell_type == "code" and chapters.is_hidden(c) == hidden]


def top_level(source):
    """The statements of a cell, not descending into function or class bodies."""
    return ast.parse(source).body


def names_loaded(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def names_bound(tree):
    bound = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
    return bound


def test_every_chapter_has_a_floor():
    assert {p.stem for p in CHAPTERS} == set(FLOORS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_checks_its_claims(path):
    found = chapters.claims(notebook(path))
    assert len(found) >= FLOORS[path.stem], (
        f"{path.stem} checks {len(found)} claims, below its floor {FLOORS[path.stem]}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_claim_says_what_it_backs(path):
    for cell in code_cells(notebook(path), hidden=True):
        for node in ast.walk(ast.parse(chapters.python_source(cell))):
            if isinstance(node, ast.Assert):
                assert isinstance(node.msg, (ast.Constant, ast.JoinedStr)), (
                    f"{path.stem}: give `assert {ast.unparse(node.test)}` a message quoting "
                    "the statement it checks")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_reader_code_holds_no_bookkeeping(path):
    """Glue calls and claim checks go in hidden cells; the reader's cells teach."""
    for cell in code_cells(notebook(path), hidden=False):
        source = chapters.python_source(cell)
        assert "glue" not in names_loaded(ast.parse(source)) | names_bound(ast.parse(source)), (
            f"{path.stem}: move glue out of the visible cell\n{source[:200]}")
        asserts = [s for s in top_level(source) if isinstance(s, ast.Assert)]
        assert not asserts, f"{path.stem}: move the claim check to a hidden cell\n{source[:200]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_hidden_cells_define_nothing_the_reader_uses(path):
    """Names the reader's code uses are defined in code the reader sees (Colab shows hidden
    cells, but the website does not)."""
    seen_visible, hidden_only = set(), set()
    for cell in [c for c in notebook(path).cells if c.cell_type == "code"]:
        tree = ast.parse(chapters.python_source(cell))
        if chapters.is_hidden(cell):
            hidden_only |= names_bound(tree) - seen_visible
        else:
            missing = (names_loaded(tree) - names_bound(tree)) & hidden_only
            assert not missing, f"{path.stem}: {sorted(missing)} defined only in a hidden cell"
            seen_visible |= names_bound(tree)
            hidden_only -= names_bound(tree)


# Math names of the network: W1, b1, Z1, A1, W2, b2, Z2, A2 and their gradients dW1, ...
# In math they are written with subscripts, $W_1$, $dZ_2$; in code, W1 and dZ2.
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
UNSUBSCRIPTED = re.compile(r"(?<![A-Za-z\\_{])d?[WbZA][12](?![0-9])")


def math_of(markdown):
    return MATH.findall(CODE.sub("", markdown))


def test_the_notation_checker_tells_the_two_forms_apart():
    assert UNSUBSCRIPTED.findall(" ".join(math_of(r"$Z2_{n,c}$ and $dW1 = X^\top dZ1$"))) == [
        "Z2", "dW1", "dZ1"]
    assert UNSUBSCRIPTED.findall(" ".join(math_of(
        r"$Z_2[n, c]$, $dW_1 = X^\top dZ_1$, `W1`, $\texttt{W1}$, $\mathbb{R}^{H}$"))) == []


@pytest.mark.parametrize("path", CHAPTERS + sorted((ROOT / "book").glob("*.md")),
                         ids=lambda p: p.stem)
def test_math_writes_the_network_with_subscripts(path):
    if path.suffix == ".ipynb":
        texts = [c.source for c in notebook(path).cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text()]
    found = sorted({m for t in texts for f in math_of(t) for m in UNSUBSCRIPTED.findall(f)})
    assert not found, f"{path.stem}: write {found} as W_1, dZ_2, ... inside math"


TEST_SPLIT = re.compile(r"\b(X_test|y_test)\b")


def test_the_test_split_is_evaluated_in_one_chapter_only():
    """Chapter 1 shows the split's shape and class counts; only one chapter evaluates a model
    on it, for the final model."""
    users = []
    for path in CHAPTERS:
        if path.stem in ("intro", "01_data"):
            continue
        source = "\n".join(c.source for c in notebook(path).cells if c.cell_type == "code")
        if TEST_SPLIT.search(source):
            users.append(path.stem)
    assert users == ["07_training"], users


def image_outputs(cells):
    return sum(1 for c in cells for o in c.get("outputs", [])
               if o.get("output_type") in ("display_data", "execute_result")
               and "image/png" in o.get("data", {}))


def glued_figures(nb):
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "application/papermill.record/image/png" in o.get("data", {}))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_figure_is_also_shown_in_the_notebook(path):
    """On the website a figure appears once, with its caption, through glue; in Jupyter, Colab
    and Binder the reader sees it under the code that draws it (output hidden on the site)."""
    nb = notebook(path)
    visible = image_outputs(code_cells(nb, hidden=False))
    assert visible >= glued_figures(nb), (
        f"{path.stem}: {glued_figures(nb)} glued figures, {visible} shown in the notebook")
    for cell in code_cells(nb, hidden=False):
        if image_outputs([cell]):
            assert "remove-output" in cell.metadata.get("tags", []), (
                f"{path.stem}: tag the cell remove-output; the site shows the glued figure\n"
                f"{cell.source[:120]}")


def test_committed_notebooks_carry_no_editor_metadata():
    for path in CHAPTERS:
        assert "jupytext" not in json.loads(path.read_text())["metadata"], path.name


def test_claims_are_the_asserts_of_hidden_cells():
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("assert 1 < 2, 'visible: not a claim'"),
        new_code_cell("%matplotlib inline\nx = 3\nassert x > 2, 'x is more than 2'\n"
                      "for k in range(2):\n    assert k < 5, 'k is small'",
                      metadata={"tags": ["remove-cell"]}),
    ])
    assert chapters.claims(nb) == ["assert x > 2, 'x is more than 2'",
                                   "assert k < 5, 'k is small'"]


def test_set_dataset_changes_the_one_dataset_line():
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('import x\nDATASET = "mnist-5k"  # or "mnist"\n')])
    assert 'DATASET = "fashion-mnist"  # or "mnist"' in chapters.set_dataset(
        nb, "fashion-mnist").cells[0].source
    for cells in ([], [new_code_cell('DATASET = "a"'), new_code_cell('DATASET = "b"')]):
        with pytest.raises(ValueError, match="exactly one"):
            chapters.set_dataset(new_notebook(cells=cells), "mnist")
