"""``companion.twin`` where PyTorch is not installed: it says how to get it.

Only ``twin`` needs torch (an optional dependency, ``companion[torch]``). Without it, importing
``twin`` raises ModuleNotFoundError with the install command, instead of a bare "No module
named 'torch'"; any other missing module is reported as it is.
"""

import importlib
import importlib.abc
import sys

import pytest


def import_twin_fresh(monkeypatch):
    monkeypatch.delitem(sys.modules, "companion.twin", raising=False)
    return importlib.import_module("companion.twin")


def test_without_torch_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what Python does for a missing module
    with pytest.raises(ModuleNotFoundError) as info:
        import_twin_fresh(monkeypatch)
    assert 'pip install "companion[torch]"' in str(info.value)
    assert info.value.name == "torch"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


class BrokenTorch(importlib.abc.MetaPathFinder):
    """A torch that is installed but misses one of its own dependencies."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            raise ModuleNotFoundError("No module named 'sympy'", name="sympy")
        return None


def test_another_missing_module_is_not_disguised_as_missing_torch(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(sys, "meta_path", [BrokenTorch(), *sys.meta_path])
    with pytest.raises(ModuleNotFoundError) as info:
        import_twin_fresh(monkeypatch)
    assert info.value.name == "sympy"
    assert "companion[torch]" not in str(info.value)


def test_with_torch_the_twin_imports(monkeypatch):
    pytest.importorskip("torch")
    assert import_twin_fresh(monkeypatch).to_torch
