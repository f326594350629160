"""companion.glue: myst-nb's glue when it is installed, a stand-in where it is not (Colab)."""

import importlib
import sys

import companion.glue


def test_glue_is_myst_nbs_when_installed():
    import myst_nb

    assert companion.glue.glue is myst_nb.glue


def test_without_myst_nb_glue_shows_only_what_it_is_asked_to(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now fails
    try:
        stand_in = importlib.reload(companion.glue).glue
        stand_in("hidden", 0.123, display=False)
        stand_in("shown", 0.456)
        assert capsys.readouterr().out.strip() == "0.456"
    finally:
        monkeypatch.undo()
        importlib.reload(companion.glue)
