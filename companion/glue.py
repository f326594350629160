"""``glue``: store a computed value for the book's prose, wherever the notebook runs.

The website is built with myst-nb, whose ``glue(name, value, display=False)`` stores a value that
the text then shows with ``{glue:text}`name```. Colab and a bare Jupyter have no myst-nb: there
this stand-in shows the value only when ``display=True``, as myst-nb would in the notebook.
"""

try:
    from myst_nb import glue
except ImportError:
    from IPython.display import display as _display

    def glue(name, variable, display=True):
        """Show ``variable`` if ``display``; ``name`` is what the book's text refers to."""
        if display:
            _display(variable)

__all__ = ["glue"]
