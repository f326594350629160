"""The book's promises: every chapter is in the table of contents, committed executed and
without errors, starts with the install cell, and its prose states no typed measurement."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        files += [c["file"] for c in part["chapters"]]
    return files


def notebooks():
    return sorted((ROOT / "book").glob("*.ipynb"))


def cells(path, kind):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


# A measured number: a percentage, a decimal with two or more places, a ratio like "2.5x",
# a duration, or a count with a thousands separator ("4,000 images": the size of a dataset,
# which changes with DATASET). Definitions (784, 64, 10, 28x28, 1e-3) do not match.
MEASURED = re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|seconds|minutes)\b|\d+(?:\.\d+)?\s?%"
                      r"|\b\d+(?:\.\d+)?\s?[x×](?![\d\w])|\b\d+\.\d{2,}\b"
                      r"|\b\d{1,3}(?:,\d{3})+\b")
# What may hold numbers: math, glue roles and directives, code, and URLs.
ALLOWED = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|\{glue[^`]*`[^`]*`|```.*?```|`[^`\n]*`"
                     r"|https?://\S+", re.S)


def typed_numbers(markdown):
    """The measured-looking numbers left in markdown once allowed places are removed."""
    return MEASURED.findall(ALLOWED.sub("", markdown))


def test_the_prose_checker_catches_typed_numbers_and_allows_glued_ones():
    assert typed_numbers("The test accuracy is 93.5%.") == ["93.5%"]
    assert typed_numbers("NumPy is 2.8x faster and the loss is 2.30.") == ["2.8x", "2.30"]
    assert typed_numbers("An epoch takes 0.05 s.") == ["0.05 s"]
    assert typed_numbers("It trains on 4,000 images, 51,000 parameters.") == ["4,000", "51,000"]
    assert typed_numbers("The accuracy is {glue:text}`acc:.1%` on 784 pixels, 28x28, "
                         "$L = 2.30$, lr 1e-3, batch 32, `91.9166` (quoted), $50{,}890$.") == []


def test_every_toc_entry_exists():
    for f in toc_files():
        assert any((ROOT / f).with_suffix(s).exists() for s in (".ipynb", ".md")), f


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_chapter_is_committed_executed_without_errors(path):
    code = [c for c in cells(path, "code") if "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "commit the notebook with its outputs"
    assert counts == sorted(counts), "cells were executed out of order"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_chapter_starts_with_the_install_cell(path):
    first = cells(path, "code")[0]
    source = "".join(first["source"])
    assert "hide-output" in first["metadata"].get("tags", [])
    assert "import companion" in source and "%pip install" in source
    assert f"git+{REPO_URL}@{CONFIG['repository']['branch']}" in source
    assert "torch" not in source.split("%pip install")[1].split("\n")[0]


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_prose_states_no_typed_measurement(path):
    found = [n for c in cells(path, "markdown") for n in typed_numbers("".join(c["source"]))]
    assert not found, f"glue these numbers instead of typing them: {found}"
