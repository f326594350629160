"""Docstrings stay honest: every public function and class has one, and an array whose shape a
function's docstring gives (written ``X ``(N, D)``` or ```X`` ``(N, D)```) is a parameter of
that function or a key of the dict it returns."""

import importlib
import inspect
import pkgutil
import re

import pytest

import companion

MODULES = [importlib.import_module(f"companion.{m.name}")
           for m in pkgutil.iter_modules(companion.__path__)]
PUBLIC = [(f"{module.__name__}.{name}", obj)
          for module in MODULES
          for name, obj in vars(module).items()
          if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
          and obj.__module__ == module.__name__]
FUNCTIONS = [(name, obj) for name, obj in PUBLIC if inspect.isfunction(obj)]

# A math-style name (X, W1, Z2, X_val, b, y: a capital letter with digits or an underscore
# suffix, or a single small letter other than the article "a"), possibly in double backquotes,
# followed by a shape in double backquotes: "X ``(N, D)``", "``y`` ``(N,)``".
SHAPED_NAME = re.compile(r"(?<![\w`])(?:``)?([A-Z]\d*(?:_\w+)?|(?!a\b)[a-z]\d?)(?:``)? ``\(")
# Names a docstring may give shapes of besides the parameters: the keys of a returned dict,
# ``{"W1", "b1", "W2", "b2"}``, and the arguments of a call it describes, ``fn(Z2, y)``.
RETURNED_KEYS = re.compile(r"``\{([^}`]*)\}``")
CALL_ARGS = re.compile(r"``\w+\(([\w, ]*)\)``")


def test_the_package_is_found():
    names = {m.__name__.split(".")[1] for m in MODULES}
    assert {"data", "init", "forward", "loss", "backward", "gradcheck", "optim", "train",
            "metrics", "plots", "twin"} <= names
    assert len(FUNCTIONS) > 30


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_module_has_a_docstring(module):
    assert module.__doc__ and module.__doc__.strip()


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_every_public_function_and_class_has_a_docstring(name, obj):
    assert obj.__doc__ and len(obj.__doc__.strip()) > 10, f"{name} has no docstring"


def test_the_pattern_finds_shaped_names():
    doc = ("X ``(N, D)``, W1 ``(D, H)``, ``y`` ``(N,)``, X_val ``(M, D)``, the shape "
           "``(N, C)``, a ``(2,)`` array. Returns ``(model, history)``")
    assert SHAPED_NAME.findall(doc) == ["X", "W1", "y", "X_val"]


def unknown_shaped_names(func):
    """The names whose shape ``func``'s docstring gives but that it neither takes nor returns."""
    doc = inspect.getdoc(func) or ""
    allowed = set(inspect.signature(func).parameters)
    for keys in RETURNED_KEYS.findall(doc):
        allowed |= set(re.findall(r'"(\w+)"', keys))
    for args in CALL_ARGS.findall(doc):
        allowed |= {a.strip() for a in args.split(",")}
    return set(SHAPED_NAME.findall(doc)) - allowed


def test_a_drifted_docstring_is_caught():
    def drifted(X_batch, labels):
        """Loss of X ``(N, D)`` and y ``(N,)``; returns ``{"Z1", "Z2"}``, Z2 ``(N, C)``."""

    assert unknown_shaped_names(drifted) == {"X", "y"}


@pytest.mark.parametrize("name, func", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_documented_arrays_are_parameters(name, func):
    unknown = unknown_shaped_names(func)
    assert not unknown, f"{name}: {sorted(unknown)} not in the signature"
