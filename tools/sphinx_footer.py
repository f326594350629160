"""Sphinx extension of the book: the companion's version and where to read what changed, in
the footer of every page.

The version is read from ``companion/__init__.py`` next to this folder (the source the book is
built from, whatever companion is installed), so it is typed in one place only.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def companion_version(root=ROOT):
    """``__version__`` of ``companion/__init__.py``, read without importing the package."""
    tree = ast.parse((root / "companion" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError("companion/__init__.py sets no __version__")


def footer(app, pagename, templatename, context, doctree):
    options = app.config.html_theme_options
    repository = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch") or "main"
    citation = f"{repository}/blob/{branch}/CITATION.cff"
    context["theme_extra_footer"] = (
        f'<p class="companion-version">Companion package version '
        f'<span class="version">{app.config.release}</span> · '
        f'<a href="{context["pathto"]("book/changelog")}">What changed</a> · '
        f'<a href="{citation}">How to cite</a></p>')


def set_version(app, config):
    config.version = config.release = companion_version()


def setup(app):
    app.connect("config-inited", set_version)
    app.connect("html-page-context", footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
